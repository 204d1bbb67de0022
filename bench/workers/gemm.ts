/** groundlab GEMM GFLOP/s (native addon → OpenBLAS) at square sizes, same method as the numpy peer. */
import { loadNativeKernels } from '../../src/engine/backend/native.js';

const k = loadNativeKernels();
if (!k) throw new Error('native addon not built');
const sizes = process.argv.slice(2).map(Number);
const out: Record<string, number> = {};
for (const n of sizes.length ? sizes : [256, 512, 1024]) {
  const a = Float32Array.from({ length: n * n }, () => Math.random());
  const b = Float32Array.from({ length: n * n }, () => Math.random());
  const c = new Float32Array(n * n);
  k.gemm(0, 0, n, n, n, 1, a, 0, n, b, 0, n, 0, c, 0, n);
  const reps = Math.max(3, Math.floor(2e9 / (2 * n ** 3)));
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    for (let i = 0; i < reps; i++) k.gemm(0, 0, n, n, n, 1, a, 0, n, b, 0, n, 0, c, 0, n);
    best = Math.min(best, (performance.now() - t) / 1000 / reps);
  }
  out[String(n)] = (2 * n ** 3) / best / 1e9;
}
console.log(JSON.stringify(out));
