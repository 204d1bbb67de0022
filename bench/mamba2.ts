/**
 * Mamba-2 benchmark (issue 6): training-step time of our Mamba-2 against a plain PyTorch Mamba-2
 * whose SSD is the paper's chunked minimal reference (ssd_minimal.py, einsums), in the same run,
 * same sizes, same threads. Sizes as the cpu preset: 4 layers, d_model 128, expand 4 (8 heads of
 * 64), state 32, chunk 64, context 128, vocab 5000, tied; batch 16 and 32. Needs Debian's
 * python3-torch. BENCH_STEPS (default 12) steps per run, median after 2 warm-up steps;
 * BENCH_REPEATS (default 1) repeats each pair and reports the median of the medians. Both wall
 * time and process CPU time (all threads) are printed: on a shared machine the CPU time is the
 * steadier measure of work, the wall time the one a user waits for.
 */
import { median, pyPeer, requireTorch, table, threadEnv, tsWorker } from './lib.js';

const steps = process.env.BENCH_STEPS ?? '12';
const repeats = Number(process.env.BENCH_REPEATS ?? '1');
requireTorch('mamba2');
const rows: (string | number)[][] = [];
for (const batch of ['16', '32']) {
  for (const threads of [2, 1]) {
    const env = threadEnv(threads);
    const ours: { median_ms: number; cpu_median_ms: number }[] = [];
    const torch: { median_ms: number; cpu_median_ms: number }[] = [];
    for (let r = 0; r < repeats; r++) {
      ours.push(tsWorker('workers/mamba2-step.ts', ['--steps', steps, '--batch', batch], env));
      torch.push(pyPeer('peers/mamba2_step_torch.py', ['--threads', String(threads), '--steps', steps, '--batch', batch], env));
    }
    const [a, b] = [median(ours.map((o) => o.median_ms)), median(torch.map((o) => o.median_ms))];
    const [ac, bc] = [median(ours.map((o) => o.cpu_median_ms)), median(torch.map((o) => o.cpu_median_ms))];
    rows.push([`batch ${batch}, ${threads} thread${threads > 1 ? 's' : ''}`, a, b, b / a, ac, bc, bc / ac]);
  }
}
console.log('\nMamba-2 training step (cpu-preset sizes), median after 2 warm-up steps, ms (lower is better; ratio > 1: groundlab faster)');
console.log(table(rows, ['measure', 'groundlab wall', 'PyTorch wall', 'speed-up', 'groundlab CPU', 'PyTorch CPU', 'CPU ratio']));
