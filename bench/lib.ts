/** Helpers for benchmarks: run a worker in a child process with controlled threads, parse its JSON line, print tables. */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDir = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(benchDir, '..');
export const PYTHON = '/usr/bin/python3';

/** Environment for a fair run at `threads`: both sides use OpenBLAS, PASSIVE OpenMP waits, the same thread count. */
export function threadEnv(threads: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    OMP_WAIT_POLICY: 'PASSIVE',
    OMP_NUM_THREADS: String(threads),
    OPENBLAS_NUM_THREADS: String(threads),
    GROUNDLAB_THREADS: String(threads),
    GROUNDLAB_QUIET: '1',
  };
}

export function runJson<T = any>(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30 * 60_000): T {
  const out = execFileSync(cmd, args, { cwd: repoRoot, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) throw new Error(`${cmd} ${args.join(' ')} printed no JSON:\n${out}`);
  return JSON.parse(line) as T;
}

export function tsWorker(script: string, args: string[], env: NodeJS.ProcessEnv): any {
  return runJson(process.execPath, ['--import', 'tsx', join(benchDir, script), ...args], env);
}

export function pyPeer(script: string, args: string[], env: NodeJS.ProcessEnv): any {
  return runJson(PYTHON, [join(benchDir, script), ...args], env);
}

export function hasTorch(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import torch, numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Exits (status 1) with an install hint when the PyTorch peers cannot run; `bench` names the benchmark in the message. */
export function requireTorch(bench: string): void {
  if (hasTorch()) return;
  console.error(`${bench} bench: PyTorch peer unavailable: apt-get install -y python3-torch python3-numpy`);
  process.exit(1);
}

/** The benchmark's scratch folder (.bench-tmp/<name> in the repository), created if missing. */
export function benchTmp(name: string): string {
  const dir = join(repoRoot, '.bench-tmp', name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Median (the upper one for an even count), without reordering `xs`. */
export function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

export function table(rows: (string | number)[][], header: string[]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i]).length)));
  return cells.map((r, j) => r.map((c, i) => String(c).padStart(widths[i]!)).join('  ') + (j === 0 ? '\n' + widths.map((w) => '-'.repeat(w)).join('  ') : '')).join('\n');
}

export function fmt(x: number): string {
  return Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2);
}
