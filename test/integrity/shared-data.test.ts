/** Real-data tests fail loudly without the shared data (no silent skip); GROUNDLAB_SHARED_DATA points elsewhere. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

describe('shared test data', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('a missing directory is an error naming the path and GROUNDLAB_SHARED_DATA', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'gl-noshared-'));
    vi.stubEnv('GROUNDLAB_SHARED_DATA', empty);
    vi.resetModules();
    const { sharedData, SHARED_DATA } = await import('../helpers/shared-data.js');
    expect(SHARED_DATA).toBe(empty);
    expect(() => sharedData('childes')).toThrow(`shared test data missing: ${join(empty, 'childes')} does not exist`);
    expect(() => sharedData('childes')).toThrow(/GROUNDLAB_SHARED_DATA/);
    expect(sharedData()).toBe(empty);
  });

  it('the real-data suites use the helper, not skipIf (a grep guard)', async () => {
    const { readFileSync } = await import('node:fs');
    for (const f of ['test/data/real-data.test.ts', 'test/visdial/helpers.ts', 'test/visdial/readers.test.ts']) {
      const text = readFileSync(f, 'utf8');
      expect(text, f).toContain('sharedData(');
      expect(text, f).not.toMatch(/skipIf\(!HAVE_DATA\)|existsSync\(CHILDES\)/);
    }
  });
});
