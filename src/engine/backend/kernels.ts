/**
 * The kernel interface: every compute primitive the engine needs, implemented twice:
 * by the native addon (native/*.c: OpenBLAS GEMM, vectorised C, OpenMP) and by a pure
 * TypeScript reference (reference.ts) that the tests check the native kernels against.
 *
 * Conventions: row-major float32 buffers; `acc` flags add into the output instead of
 * overwriting it; integer index buffers are Int32Array. Signatures match native/addon.c.
 */
export type F32 = Float32Array;

export enum BinaryOp {
  Add = 0,
  Sub = 1,
  Mul = 2,
  Div = 3,
}

export enum UnaryOp {
  Gelu = 0, // GPT-2's tanh approximation ("gelu_new")
  Silu = 1,
  Sigmoid = 2,
  Tanh = 3,
  Exp = 4,
  Softplus = 5,
  Relu = 6,
  Log = 7,
  Square = 8,
  Neg = 9,
}

/** gemm's arguments, twice (gemmPair). */
type GemmArgs1 = [ta: number, tb: number, M: number, N: number, K: number, alpha: number, A: F32, aOff: number, lda: number, B: F32, bOff: number, ldb: number, beta: number, C: F32, cOff: number, ldc: number];
export type GemmArgs = [...GemmArgs1, ...GemmArgs1];

export interface Kernels {
  readonly name: 'native' | 'reference';
  setThreads(n: number): void;
  getThreads(): number;
  hasOpenBLAS(): boolean;
  /** Native only: our split of large GEMMs over the threads (1 on, 0 off: OpenBLAS threads them; -1 query). Returns the previous setting. */
  gemmSplit?(on: number): number;
  /** C[cOff..] = alpha * op(A) op(B) + beta * C, op(A) is M×K, op(B) is K×N, leading dims lda/ldb/ldc. */
  gemm(ta: number, tb: number, M: number, N: number, K: number, alpha: number, A: F32, aOff: number, lda: number, B: F32, bOff: number, ldb: number, beta: number, C: F32, cOff: number, ldc: number): void;
  /** Native only: two independent gemms (16 arguments each, as gemm's), run concurrently when that pays (a backward's ∂x and ∂W). */
  gemmPair?(...args: GemmArgs): void;
  /** `batch` independent gemms with element strides sA, sB, sC between the matrices. */
  gemmBatched(batch: number, ta: number, tb: number, M: number, N: number, K: number, alpha: number, A: F32, aOff: number, sA: number, lda: number, B: F32, bOff: number, sB: number, ldb: number, beta: number, C: F32, cOff: number, sC: number, ldc: number): void;
  fill(x: F32, v: number): void;
  copy(src: F32, dst: F32): void;
  /** out[i] = a[i] op b[i % b.length] */
  binary(op: BinaryOp, a: F32, b: F32, out: F32): void;
  /** Gradients of binary: da (length a) and db (length b, summed over broadcast rows); either may be null. */
  binaryBwd(op: BinaryOp, a: F32, b: F32, dy: F32, da: F32 | null, db: F32 | null, accA: number, accB: number): void;
  /** out = a*x + b*y */
  axpby(x: F32, y: F32, out: F32, a: number, b: number): void;
  /** out = x*mul + add */
  affine(x: F32, out: F32, mul: number, add: number): void;
  unary(op: UnaryOp, x: F32, y: F32): void;
  /** dx (+)= dy * f'(x), with y = f(x) */
  unaryBwd(op: UnaryOp, x: F32, y: F32, dy: F32, dx: F32, acc: number): void;
  /** Row softmax of scale*x; causalT > 0 masks column j > (row % causalT) + causalOff to exactly 0. */
  softmax(x: F32, y: F32, cols: number, scale: number, causalT: number, causalOff: number): void;
  softmaxBwd(y: F32, dy: F32, dx: F32, cols: number, scale: number, acc: number): void;
  logSoftmax(x: F32, y: F32, cols: number): void;
  logSoftmaxBwd(y: F32, dy: F32, dx: F32, cols: number, acc: number): void;
  /** Per-row -log softmax(logits)[target] into losses; optional fused gradient gradScale*(p - onehot). Returns [sum, count] over rows whose target != ignore. */
  crossEntropy(logits: F32, targets: Int32Array, losses: F32, dlogits: F32 | null, V: number, gradScale: number, ignore: number): [number, number];
  layerNorm(x: F32, g: F32, b: F32, y: F32, mean: F32, rstd: F32, cols: number, eps: number): void;
  layerNormBwd(x: F32, g: F32, mean: F32, rstd: F32, dy: F32, dx: F32 | null, dg: F32 | null, db: F32 | null, cols: number, accDx: number): void;
  rmsNorm(x: F32, g: F32, y: F32, rstd: F32, cols: number, eps: number): void;
  rmsNormBwd(x: F32, g: F32, rstd: F32, dy: F32, dx: F32 | null, dg: F32 | null, cols: number, accDx: number): void;
  embedding(ids: Int32Array, table: F32, out: F32, dim: number): void;
  /** dtable += scatter-add of dout rows at ids */
  embeddingBwd(ids: Int32Array, dout: F32, dtable: F32, dim: number): void;
  /** dst[dstOff + idx·dstride] (+)= src[srcOff + idx·sstride]; spec = [nd, ...shape, ...sstride, ...dstride] */
  stridedCopy(src: F32, srcOff: number, dst: F32, dstOff: number, spec: Int32Array, acc: number): void;
  sum(x: F32): number;
  sumSquares(x: F32): number;
  dot(a: F32, b: F32): number;
  /** out[j] (+)= Σ_o x[o, j], inner = out.length */
  sumOuter(x: F32, out: F32, acc: number): void;
  /** out[o] (+)= Σ_j x[o, j], outer = out.length */
  sumInner(x: F32, out: F32, acc: number): void;
  adamw(p: F32, g: F32, m: F32, v: F32, lr: number, b1: number, b2: number, eps: number, wd: number, bc1: number, bc2: number): void;
  /** Inclusive cumulative sum along rows of length cols (reverse: from the end). */
  cumsum(x: F32, y: F32, cols: number, reverse: number, acc: number): void;
}
