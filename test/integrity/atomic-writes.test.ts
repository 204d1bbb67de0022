/**
 * Atomic writes: every output file goes through src/util/files.ts (writeFileAtomic and the
 * writers built on it; appendLines for the two append-only logs, whose readers drop a torn last
 * line). A grep guard keeps it so, and the helper itself never leaves a torn file.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dropTornLine, writeFileAtomic } from '../../src/util/files.js';

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Files allowed to call the raw fs write APIs, and why. */
const ALLOWED: Record<string, string> = {
  'src/util/files.ts': 'the atomic helpers themselves',
  'src/util/lock.ts': 'writes a private temp file that is hard-linked into place (atomic: link fails if the lock exists)',
};
const RAW_WRITE = /\b(writeFileSync|appendFileSync|createWriteStream|copyFileSync|cpSync|writeFile|appendFile)\s*\(|openSync\([^)]*['"](w|a)\+?['"]/;

describe('atomic writes', () => {
  it('no module outside src/util/files.ts writes files with the raw fs APIs (grep guard)', () => {
    const offenders: string[] = [];
    for (const f of tsFiles('src')) {
      if (ALLOWED[f.replace(/\\/g, '/')]) continue;
      readFileSync(f, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (RAW_WRITE.test(line) && !/^\s*(\/\/|\*)/.test(line)) offenders.push(`${f}:${i + 1}: ${line.trim()}`);
        });
    }
    // Mutation check: an appendFileSync(...) left in src/train/trainer.ts is listed here.
    expect(offenders).toEqual([]);
  });

  it('writeFileAtomic leaves no temp file and replaces the content whole; dropTornLine drops a cut row', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gl-atomic-'));
    const p = join(dir, 'sub', 'table.csv');
    writeFileAtomic(p, 'a,b\n1,2\n');
    writeFileAtomic(p, [new TextEncoder().encode('a,b\n'), new TextEncoder().encode('3,4\n')]);
    expect(readFileSync(p, 'utf8')).toBe('a,b\n3,4\n');
    expect(readdirSync(join(dir, 'sub'))).toEqual(['table.csv']);
    expect(dropTornLine('a,b\n1,2\n15')).toBe('a,b\n1,2\n');
    expect(dropTornLine('a,b\n1,2\n')).toBe('a,b\n1,2\n');
  });
});
