/**
 * Times, alone, the matrix products of one training step of a `cpu`-preset model (bench/workers/cpu-flops.ts)
 * through the same native GEMM entry points the engine uses (gl_gemm, gl_gemm_batched), best of
 * `--reps` runs per shape. Prints one JSON line: total ms of the step's GEMMs, its GFLOP, GFLOP/s,
 * and a 1024³ square GEMM's GFLOP/s for reference.
 */
import { parseArgs } from 'node:util';
import { loadNativeKernels } from '../../src/engine/backend/native.js';
import { type Gemm, gemmFlops, stepGemms } from './cpu-flops.js';

const { values } = parseArgs({ options: { model: { type: 'string', default: 'gpt2' }, reps: { type: 'string', default: '3' } } });
const k = loadNativeKernels();
if (!k) throw new Error('gemm-shapes: native addon not built (npm ci)');
const reps = Number(values.reps);
const buf = (n: number) => Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);

function timeGemm(g: Gemm): number {
  const aSize = g.M * g.K, bSize = g.K * g.N, cSize = g.M * g.N;
  const A = buf(aSize * g.batch), Bm = buf(bSize * g.batch), C = new Float32Array(cSize * g.batch);
  const lda = g.ta ? g.M : g.K, ldb = g.tb ? g.K : g.N;
  const run = () =>
    g.batch === 1 ? k!.gemm(g.ta, g.tb, g.M, g.N, g.K, 1, A, 0, lda, Bm, 0, ldb, 0, C, 0, g.N) : k!.gemmBatched(g.batch, g.ta, g.tb, g.M, g.N, g.K, 1, A, 0, aSize, lda, Bm, 0, bSize, ldb, 0, C, 0, cSize, g.N);
  run();
  // One timed pass = as many calls as the step makes (up to 64; the LSTM's 512 tiny products are timed 64 at a time and scaled).
  const calls = Math.min(g.count, 64);
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) run();
    best = Math.min(best, (performance.now() - t0) / calls);
  }
  return best * g.count;
}

const gemms = stepGemms(values.model!);
let ms = 0, flops = 0;
const parts: Record<string, number> = {};
for (const g of gemms) {
  const t = timeGemm(g);
  ms += t;
  flops += gemmFlops(g);
  parts[g.what] = t;
}
const n = 1024;
const sq = timeGemm({ batch: 1, ta: 0, tb: 0, M: n, N: n, K: n, count: 4, what: 'square' }) / 4;
console.log(JSON.stringify({ model: values.model, gemm_ms: ms, gflop: flops / 1e9, gflops: flops / 1e6 / ms, square1024_gflops: (2 * n ** 3) / 1e6 / sq, parts }));
