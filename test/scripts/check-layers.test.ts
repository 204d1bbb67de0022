/**
 * The layering check (scripts/check-layers.mjs) on src/ itself, and on a copy of src/ with a planted
 * upward import and a planted cycle, which it must report.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const script = join(__dirname, '..', '..', 'scripts', 'check-layers.mjs');
const src = join(__dirname, '..', '..', 'src');
const tmp = mkdtempSync(join(tmpdir(), 'groundlab-layers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function check(dir: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [script, dir], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

function copyOfSrc(name: string): string {
  const dir = join(tmp, name);
  cpSync(src, dir, { recursive: true });
  return dir;
}

describe('scripts/check-layers.mjs', () => {
  it('passes on src/', () => {
    const out = execFileSync(process.execPath, [script, src], { encoding: 'utf8' });
    expect(out).toMatch(/layers and cycles clean/);
  });

  it('fails on an import from a lower layer to a higher one', () => {
    const dir = copyOfSrc('upward');
    appendFileSync(join(dir, 'engine', 'tensor.ts'), "\nimport { reproduce } from '../study/reproduce.js';\nvoid reproduce;\n");
    const r = check(dir);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/engine\/tensor\.ts:\d+: upward import of study\/reproduce\.ts \(engine may not import study\)/);
  });

  it('ignores a type-only upward import', () => {
    const dir = copyOfSrc('typeonly');
    appendFileSync(join(dir, 'engine', 'tensor.ts'), "\nimport type { ReproduceOptions } from '../study/reproduce.js';\nexport type { ReproduceOptions };\n");
    expect(check(dir).status).toBe(0);
  });

  it('fails on an import cycle inside one layer', () => {
    const dir = copyOfSrc('cycle');
    // report/html.ts is imported by report/study-report.ts; importing it back closes a cycle.
    appendFileSync(join(dir, 'report', 'html.ts'), "\nimport { writeStudyReport } from './study-report.js';\nvoid writeStudyReport;\n");
    const r = check(dir);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/import cycle: .*report\/html\.ts.*report\/study-report\.ts/);
  });
});
