/**
 * Engine benchmark (issue: engine, GPT-2 and trainer): training-step time of the small GPT-2
 * (4 layers, d_model 256, 4 heads, context 128, vocab 5000, tied, batch 16) in groundlab and in
 * PyTorch in the same run, on 2 threads and on 1 thread; and GEMM GFLOP/s against numpy on the
 * same OpenBLAS. Needs Debian's python3-torch (apt-get install -y python3-torch python3-numpy).
 */
import { pyPeer, requireTorch, table, threadEnv, tsWorker } from './lib.js';

const steps = process.env.BENCH_STEPS ?? '12';
requireTorch('engine');
const rows: (string | number)[][] = [];
for (const threads of [2, 1]) {
  const env = threadEnv(threads);
  const ours = tsWorker('workers/gpt2-step.ts', ['--steps', steps], env);
  const torch = pyPeer('peers/gpt2_step_torch.py', ['--threads', String(threads), '--steps', steps], env);
  rows.push([`GPT-2 step, ${threads} thread${threads > 1 ? 's' : ''} (ms)`, ours.median_ms, torch.median_ms, torch.median_ms / ours.median_ms]);
}
console.log('\nTraining step, median after 2 warm-up steps (lower is better; ratio > 1: groundlab faster)');
console.log(table(rows, ['measure', 'groundlab', 'PyTorch', 'speed-up']));

const env2 = threadEnv(2);
const ours = tsWorker('workers/gemm.ts', ['256', '512', '1024'], env2);
const numpy = pyPeer('peers/gemm_numpy.py', ['256', '512', '1024'], env2);
console.log('\nSquare GEMM on 2 threads (GFLOP/s, higher is better)');
console.log(table(['256', '512', '1024'].map((n) => [n, ours[n], numpy[n], `${((100 * ours[n]) / numpy[n]).toFixed(0)}%`]), ['n', 'groundlab', 'numpy', 'groundlab / numpy']));
