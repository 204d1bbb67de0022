import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Package root: this file lives in src/io or dist/io. */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let cached: string | undefined;

/** "groundlab@0.1.0+<git sha>[-dirty]", or without the sha outside a git checkout. Recorded in every manifest. */
export function codeVersion(): string {
  if (cached) return cached;
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  let sha = '';
  try {
    sha = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: packageRoot, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: packageRoot, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    if (dirty) sha += '-dirty';
  } catch {
    sha = '';
  }
  cached = `groundlab@${pkg.version}${sha ? '+' + sha : ''}`;
  return cached;
}
