/** The per-checkpoint cache (study/cache.ts): a part counts only under the same key and checkpoint hash. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointCache } from '../../src/study/cache.js';

const dir = mkdtempSync(join(tmpdir(), 'groundlab-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CheckpointCache', () => {
  const cache = new CheckpointCache(dir);
  const key = { format: 1, items: 'corpus', max_len: 64 };

  it('returns what was written under the same key and sha, at step_NNNNNN.json', () => {
    const part = cache.write('saliency', 200, key, 'abc', 1.5, { rows: [1, 2] });
    expect(cache.path('saliency', 200)).toBe(join(dir, 'saliency', 'step_000200.json'));
    expect(cache.read('saliency', 200, { ...key }, 'abc')).toEqual(part);
    expect(Object.keys(part)).toEqual(['key', 'checkpoint_sha256', 'seconds', 'computed_at', 'result']);
  });

  it('misses on another key, another checkpoint hash, another stage or step, and a torn file', () => {
    cache.write('lens', 400, key, 'abc', 1, { ok: true });
    expect(cache.read('lens', 400, { ...key, max_len: 32 }, 'abc')).toBeNull();
    expect(cache.read('lens', 400, key, 'abd')).toBeNull();
    expect(cache.read('heads', 400, key, 'abc')).toBeNull();
    expect(cache.read('lens', 600, key, 'abc')).toBeNull();
    writeFileSync(cache.path('lens', 400), '{"key": ');
    expect(cache.read('lens', 400, key, 'abc')).toBeNull();
  });
});
