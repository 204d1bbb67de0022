/**
 * LSTM benchmark (issue 6): training-step time of groundlab's LSTM language model against
 * torch.nn.LSTM in the same run: the cpu preset's sizes (embedding 128, hidden 160, 4 layers,
 * tied unembedding with a 160→128 projection), vocabulary 5000, context 128, batch 32, AdamW and
 * gradient clipping, on 2 threads and on 1 (OPENBLAS_NUM_THREADS=1 as well, so both are truly
 * single-threaded). Rounds alternate groundlab and PyTorch so background load hits both alike;
 * the table shows the median over rounds of each side's median step time (and the best round).
 * On a busy machine wall times mean little; the process CPU time per step (all threads) of the
 * 1-thread runs is then the steadier comparison, and is printed too.
 * Needs Debian's python3-torch (apt-get install -y python3-torch python3-numpy).
 *
 *   npx tsx bench/lstm.ts            BENCH_STEPS=12 BENCH_ROUNDS=3 BENCH_BATCH=32
 */
import { availableParallelism, loadavg } from 'node:os';
import { median, pyPeer, requireTorch, table, threadEnv, tsWorker } from './lib.js';

const steps = process.env.BENCH_STEPS ?? '12';
const rounds = Number(process.env.BENCH_ROUNDS ?? '3');
const batch = process.env.BENCH_BATCH ?? '32';
const sizes = ['--vocab', '5000', '--ctx', '128', '--embed', '128', '--hidden', '160', '--layers', '4', '--batch', batch];
requireTorch('lstm');
const rows: (string | number)[][] = [];
let params = 0;
for (const threads of [2, 1]) {
  const env = threadEnv(threads);
  const ours: number[] = [];
  const torch: number[] = [];
  const oursCpu: number[] = [];
  const torchCpu: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const o = tsWorker('workers/lstm-step.ts', ['--steps', steps, ...sizes], env);
    const p = pyPeer('peers/lstm_step_torch.py', ['--threads', String(threads), '--steps', steps, ...sizes], env);
    if (o.params !== p.params) throw new Error(`parameter counts differ: groundlab ${o.params}, PyTorch ${p.params}`);
    params = o.params;
    ours.push(o.median_ms);
    torch.push(p.median_ms);
    oursCpu.push(o.median_cpu_ms);
    torchCpu.push(p.median_cpu_ms);
  }
  const a = median(ours);
  const b = median(torch);
  const bestA = Math.min(...ours);
  const bestB = Math.min(...torch);
  rows.push([`LSTM step, ${threads} thread${threads > 1 ? 's' : ''} (ms)`, a, b, b / a, bestA, bestB, bestB / bestA]);
  rows.push([`  CPU time per step, ${threads} thread${threads > 1 ? 's' : ''} (ms)`, median(oursCpu), median(torchCpu), median(torchCpu) / median(oursCpu), Math.min(...oursCpu), Math.min(...torchCpu), Math.min(...torchCpu) / Math.min(...oursCpu)]);
  console.error(`lstm bench, ${threads} thread(s), per round (ms): groundlab ${ours.map((x) => x.toFixed(0)).join(' ')} | PyTorch ${torch.map((x) => x.toFixed(0)).join(' ')}`);
}
console.log(`\nload average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')} (on ${availableParallelism()} cores)`);
console.log(`LSTM LM training step (E 128, H 160, 4 layers, V 5000, T 128, B ${batch}, ${params.toLocaleString('en')} params): median after 2 warm-up steps, median of ${rounds} rounds (lower is better; speed-up > 1: groundlab faster)`);
console.log(table(rows, ['measure', 'groundlab', 'torch.nn.LSTM', 'speed-up', 'best groundlab', 'best torch', 'best speed-up']));
