/**
 * Native kernels against the TypeScript reference, on sizes large enough to take the OpenMP
 * paths (> 32k elements) and on awkward ones (odd widths, offsets, transposes).
 */
import { describe, expect, it } from 'vitest';
import { BinaryOp, UnaryOp, loadNativeKernels, referenceKernels as R, type Kernels } from '../../src/engine/backend/index.js';
import { Rng } from '../../src/util/rng.js';

const N = loadNativeKernels();

function rand(rng: Rng, n: number, scale = 1, offset = 0): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = offset + scale * rng.normal();
  return a;
}

function close(a: Float32Array, b: Float32Array, tol = 1e-4, label = ''): void {
  expect(a.length, label).toBe(b.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!));
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  expect(worst, `${label} worst relative error at ${at}: ${a[at]} vs ${b[at]}`).toBeLessThanOrEqual(tol);
}

/** Runs the same kernel call on both backends with copies of the buffers; compares every output. */
function both(bufs: Float32Array[], call: (k: Kernels, b: Float32Array[]) => unknown, tol = 1e-4, label = ''): void {
  const a = bufs.map((b) => b.slice());
  const b = bufs.map((x) => x.slice());
  const ra = call(R, a);
  const rb = call(N!, b);
  a.forEach((x, i) => close(b[i]!, x, tol, `${label} buffer ${i}`));
  if (Array.isArray(ra)) (ra as number[]).forEach((v, i) => expect(Math.abs((rb as number[])[i]! - v) / (1 + Math.abs(v))).toBeLessThan(tol));
  else if (typeof ra === 'number') expect(Math.abs((rb as number) - ra) / (1 + Math.abs(ra))).toBeLessThan(tol);
}

describe.skipIf(!N)('native kernels match the reference', () => {
  const rng = new Rng(42);

  it('uses OpenBLAS and all cores', () => {
    expect(N!.hasOpenBLAS()).toBe(true);
    expect(N!.getThreads()).toBeGreaterThanOrEqual(1);
  });

  it('gemm in all transpose combinations, with offsets, alpha and beta', () => {
    for (const [ta, tb] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) {
      const M = 37, Nn = 29, K = 45;
      const lda = (ta ? M : K) + 3, ldb = (tb ? K : Nn) + 2, ldc = Nn + 1;
      const A = rand(rng, 5 + (ta ? K : M) * lda), B = rand(rng, 7 + (tb ? Nn : K) * ldb), C = rand(rng, 2 + M * ldc);
      both([A, B, C], (k, [a, b, c]) => k.gemm(ta, tb, M, Nn, K, 0.7, a!, 5, lda, b!, 7, ldb, 0.3, c!, 2, ldc), 1e-4, `gemm ${ta}${tb}`);
    }
  });

  it('batched gemm (threads split the batch) in all transpose combinations', () => {
    for (const [ta, tb] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) {
      const batch = 9, M = 16, Nn = 12, K = 8;
      const A = rand(rng, batch * M * K), B = rand(rng, batch * K * Nn), C = rand(rng, batch * M * Nn);
      both([A, B, C], (k, [a, b, c]) => k.gemmBatched(batch, ta, tb, M, Nn, K, 1, a!, 0, M * K, ta ? M : K, b!, 0, K * Nn, tb ? K : Nn, 0, c!, 0, M * Nn, Nn), 1e-4, `bmm ${ta}${tb}`);
    }
  });

  it('binary ops, same shape and broadcast, forward and backward', () => {
    const n = 70_000, inner = 350;
    for (const op of [BinaryOp.Add, BinaryOp.Sub, BinaryOp.Mul, BinaryOp.Div]) {
      for (const bl of [n, inner]) {
        const a = rand(rng, n), b = rand(rng, bl, 0.2, 2), out = new Float32Array(n), dy = rand(rng, n), da = rand(rng, n), db = rand(rng, bl);
        both([a, b, out], (k, [x, y, o]) => k.binary(op, x!, y!, o!), 1e-5, `binary ${op}`);
        both([a, b, dy, da, db], (k, [x, y, g, gx, gb]) => k.binaryBwd(op, x!, y!, g!, gx!, gb!, 1, 1), 1e-4, `binaryBwd ${op} ${bl}`);
      }
    }
  });

  it('unary ops forward and backward', () => {
    const n = 50_000;
    for (const op of [UnaryOp.Gelu, UnaryOp.Silu, UnaryOp.Sigmoid, UnaryOp.Tanh, UnaryOp.Exp, UnaryOp.Softplus, UnaryOp.Relu, UnaryOp.Log, UnaryOp.Square, UnaryOp.Neg]) {
      const x = op === UnaryOp.Log ? rand(rng, n, 0.3, 2) : rand(rng, n, 2);
      const y = new Float32Array(n);
      R.unary(op, x, y);
      both([x, new Float32Array(n)], (k, [a, b]) => k.unary(op, a!, b!), 1e-5, `unary ${op}`);
      both([x, y, rand(rng, n), rand(rng, n)], (k, [a, b, g, d]) => k.unaryBwd(op, a!, b!, g!, d!, 1), 1e-4, `unaryBwd ${op}`);
    }
  });

  it('softmax (plain and causal), log-softmax and their backward passes', () => {
    const T = 40, rows = 3 * 4 * T;
    const x = rand(rng, rows * T, 3), dy = rand(rng, rows * T);
    both([x, new Float32Array(rows * T)], (k, [a, b]) => k.softmax(a!, b!, T, 0.125, T, 0), 1e-5, 'causal softmax');
    both([x, new Float32Array(rows * T)], (k, [a, b]) => k.softmax(a!, b!, T, 1, 0, 0), 1e-5, 'softmax');
    const y = new Float32Array(rows * T);
    R.softmax(x, y, T, 0.125, T, 0);
    both([y, dy, rand(rng, rows * T)], (k, [a, g, d]) => k.softmaxBwd(a!, g!, d!, T, 0.125, 0), 1e-5, 'softmaxBwd');
    both([x, new Float32Array(rows * T)], (k, [a, b]) => k.logSoftmax(a!, b!, T), 1e-5, 'logSoftmax');
    R.logSoftmax(x, y, T);
    both([y, dy, rand(rng, rows * T)], (k, [a, g, d]) => k.logSoftmaxBwd(a!, g!, d!, T, 1), 1e-5, 'logSoftmaxBwd');
  });

  it('cross-entropy with fused gradient and ignored rows', () => {
    const rows = 300, V = 517;
    const logits = rand(rng, rows * V, 2);
    const t = Int32Array.from({ length: rows }, (_, i) => (i % 17 === 0 ? -100 : (i * 31) % V));
    both([logits, new Float32Array(rows), new Float32Array(rows * V)], (k, [l, loss, d]) => k.crossEntropy(l!, t, loss!, d!, V, 0.01, -100), 1e-5, 'xent');
  });

  it('layer norm and RMS norm, forward and backward', () => {
    const rows = 200, cols = 260;
    const x = rand(rng, rows * cols, 2, 0.5), g = rand(rng, cols, 0.3, 1), b = rand(rng, cols), dy = rand(rng, rows * cols);
    const y = new Float32Array(rows * cols), mean = new Float32Array(rows), rstd = new Float32Array(rows);
    both([x, g, b, y, mean, rstd], (k, [a, gg, bb, yy, m, r]) => k.layerNorm(a!, gg!, bb!, yy!, m!, r!, cols, 1e-5), 1e-5, 'layerNorm');
    R.layerNorm(x, g, b, y, mean, rstd, cols, 1e-5);
    both([x, g, mean, rstd, dy, new Float32Array(rows * cols), new Float32Array(cols), new Float32Array(cols)], (k, [a, gg, m, r, d, dx, dg, db]) => k.layerNormBwd(a!, gg!, m!, r!, d!, dx!, dg!, db!, cols, 0), 1e-4, 'layerNormBwd');
    both([x, g, y, rstd], (k, [a, gg, yy, r]) => k.rmsNorm(a!, gg!, yy!, r!, cols, 1e-5), 1e-5, 'rmsNorm');
    R.rmsNorm(x, g, y, rstd, cols, 1e-5);
    both([x, g, rstd, dy, new Float32Array(rows * cols), new Float32Array(cols)], (k, [a, gg, r, d, dx, dg]) => k.rmsNormBwd(a!, gg!, r!, d!, dx!, dg!, cols, 0), 1e-4, 'rmsNormBwd');
  });

  it('embedding gather and scatter-add', () => {
    const V = 300, dim = 130, n = 700;
    const ids = Int32Array.from({ length: n }, (_, i) => (i * 7919) % V);
    both([rand(rng, V * dim), new Float32Array(n * dim)], (k, [t, o]) => k.embedding(ids, t!, o!, dim), 0, 'embedding');
    both([rand(rng, n * dim), rand(rng, V * dim)], (k, [g, t]) => k.embeddingBwd(ids, g!, t!, dim), 1e-5, 'embeddingBwd');
  });

  it('strided copy (permute, broadcast, accumulate)', () => {
    const [a, b, c, d] = [4, 50, 6, 33];
    const src = rand(rng, a * b * c * d);
    // (a,b,c,d) -> (a,c,b,d)
    const spec = Int32Array.of(4, a, c, b, d, b * c * d, d, c * d, 1, c * b * d, b * d, d, 1);
    both([src, new Float32Array(a * b * c * d)], (k, [s, o]) => k.stridedCopy(s!, 0, o!, 0, spec, 0), 0, 'permute');
    both([src, rand(rng, a * b * c * d)], (k, [s, o]) => k.stridedCopy(s!, 0, o!, 0, spec, 1), 1e-6, 'permute acc');
    const bias = rand(rng, d);
    both([bias, new Float32Array(1000 * d)], (k, [s, o]) => k.stridedCopy(s!, 0, o!, 0, Int32Array.of(2, 1000, d, 0, 1, d, 1), 0), 0, 'broadcast');
  });

  it('reductions, AdamW and cumsum', () => {
    const n = 123_457;
    const x = rand(rng, n), y = rand(rng, n);
    both([x], (k, [a]) => k.sum(a!), 1e-6, 'sum');
    both([x], (k, [a]) => k.sumSquares(a!), 1e-6, 'sumSquares');
    both([x, y], (k, [a, b]) => k.dot(a!, b!), 1e-6, 'dot');
    const rows = 401, cols = 300;
    const m = rand(rng, rows * cols);
    both([m, rand(rng, cols)], (k, [a, o]) => k.sumOuter(a!, o!, 1), 1e-5, 'sumOuter');
    both([m, rand(rng, rows)], (k, [a, o]) => k.sumInner(a!, o!, 0), 1e-5, 'sumInner');
    both([rand(rng, n), rand(rng, n), rand(rng, n, 0.1), rand(rng, n, 0.01, 0.02)], (k, [p, g, mm, vv]) => k.adamw(p!, g!, mm!, vv!, 1e-3, 0.9, 0.999, 1e-8, 0.01, 0.19, 0.0199), 1e-5, 'adamw');
    both([m, new Float32Array(rows * cols)], (k, [a, o]) => k.cumsum(a!, o!, cols, 0, 0), 1e-4, 'cumsum');
    both([m, rand(rng, rows * cols)], (k, [a, o]) => k.cumsum(a!, o!, cols, 1, 1), 1e-4, 'cumsum reverse acc');
  });

  it('rejects buffers that are too small instead of corrupting memory', () => {
    expect(() => N!.gemm(0, 0, 4, 4, 4, 1, new Float32Array(15), 0, 4, new Float32Array(16), 0, 4, 0, new Float32Array(16), 0, 4)).toThrow(/A too small/);
    expect(() => N!.binary(BinaryOp.Add, new Float32Array(10), new Float32Array(3), new Float32Array(10))).toThrow(/shapes/);
    expect(() => N!.stridedCopy(new Float32Array(4), 0, new Float32Array(4), 0, Int32Array.of(1, 5, 1, 1), 0)).toThrow(/out of bounds/);
  });

  it('reductions are deterministic run to run', () => {
    const x = rand(rng, 1_000_003);
    const a = N!.sum(x);
    for (let i = 0; i < 5; i++) expect(N!.sum(x)).toBe(a);
  });
});
