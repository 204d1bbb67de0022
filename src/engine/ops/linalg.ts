/**
 * Matrix products: matmul (activations × a 2-D weight), linear (with bias, Hugging Face Conv1D
 * layout: weight is in × out), and bmm (batched, for attention and SSD chunks). All are GEMM
 * calls; the backward GEMMs accumulate straight into parameter gradients (beta = 1).
 */
import { ACCUMULATED, type InputGrad, defineOp, run1 } from '../autograd.js';
import type { Kernels } from '../backend/kernels.js';
import { type Tensor, empty } from '../tensor.js';

interface MatmulAttrs {
  /** b is stored [N, K] (used as Bᵀ): the tied unembedding x · Wteᵀ. */
  transB: boolean;
}

function lastDim(t: Tensor): number {
  return t.shape[t.ndim - 1]!;
}

/** y[M, N] = x[M, K] · W (or Wᵀ) (+ bias broadcast over rows) */
function gemmForward(k: Kernels, x: Tensor, w: Tensor, bias: Tensor | null, transB: boolean, name: string): Tensor {
  if (w.ndim !== 2) throw new Error(`${name}: weight must be 2-D, got [${w.shape}]`);
  const K = lastDim(x);
  const [wr, wc] = w.shape as [number, number];
  const N = transB ? wr : wc;
  if ((transB ? wc : wr) !== K) throw new Error(`${name}: input [${x.shape}] does not match weight [${w.shape}]${transB ? ' (transposed)' : ''}`);
  const M = x.size / K;
  const y = empty([...x.shape.slice(0, -1), N]);
  let beta = 0;
  if (bias) {
    if (bias.size !== N) throw new Error(`${name}: bias [${bias.shape}] does not match output width ${N}`);
    // Broadcast the bias into every row (stride-0 source), then let the GEMM add onto it.
    k.stridedCopy(bias.data, 0, y.data, 0, Int32Array.of(2, M, N, 0, 1, N, 1), 0);
    beta = 1;
  }
  k.gemm(0, transB ? 1 : 0, M, N, K, 1, x.data, 0, K, w.data, 0, transB ? K : N, beta, y.data, 0, N);
  return y;
}

function gemmBackward(k: Kernels, gy: Tensor, x: Tensor, w: Tensor, transB: boolean, needX: boolean, needW: boolean, wLeaf: Tensor | null): { gx: Tensor | null; gw: InputGrad } {
  const K = lastDim(x);
  const N = lastDim(gy);
  const M = x.size / K;
  const gx = needX ? empty(x.shape) : null;
  const target = needW ? (wLeaf ?? empty(w.shape)) : null;
  const beta = wLeaf ? 1 : 0;
  // gx = gy · Wᵀ  (or gy · W when W was used transposed)
  const dx = gx ? ([0, transB ? 0 : 1, M, K, N, 1, gy.data, 0, N, w.data, 0, transB ? K : N, 0, gx.data, 0, K] as const) : null;
  // gW[N,K] = gyᵀ x  (transB)  or  gW[K,N] = xᵀ gy
  const dw = target
    ? transB
      ? ([1, 0, N, K, M, 1, gy.data, 0, N, x.data, 0, K, beta, target.data, 0, K] as const)
      : ([1, 0, K, N, M, 1, x.data, 0, K, gy.data, 0, N, beta, target.data, 0, N] as const)
    : null;
  // Both products at once (native: one per core when that pays; same arithmetic as two gemm calls).
  if (dx && dw && k.gemmPair) k.gemmPair(...dx, ...dw);
  else {
    if (dx) k.gemm(...dx);
    if (dw) k.gemm(...dw);
  }
  const gw: InputGrad = target ? (wLeaf ? ACCUMULATED : target) : null;
  return { gx, gw };
}

const matmulOp = defineOp<MatmulAttrs, void>({
  name: 'matmul',
  forward(k, [x, w], { transB }) {
    return { outputs: [gemmForward(k, x!, w!, null, transB, 'matmul')] };
  },
  backward(k, [gy], { inputs: [x, w], needsGrad, leafGrad }, { transB }) {
    const { gx, gw } = gemmBackward(k, gy!, x!, w!, transB, needsGrad[0]!, needsGrad[1]!, needsGrad[1] ? leafGrad(1) : null);
    return [gx, gw];
  },
});

const linearOp = defineOp<void, void>({
  name: 'linear',
  forward(k, [x, w, b]) {
    return { outputs: [gemmForward(k, x!, w!, b!, false, 'linear')] };
  },
  backward(k, [gy], { inputs: [x, w, b], needsGrad, leafGrad }) {
    const { gx, gw } = gemmBackward(k, gy!, x!, w!, false, needsGrad[0]!, needsGrad[1]!, needsGrad[1] ? leafGrad(1) : null);
    let gb: InputGrad = null;
    if (needsGrad[2]) {
      const leaf = leafGrad(2);
      const target = leaf ?? empty(b!.shape);
      k.sumOuter(gy!.data, target.data, leaf ? 1 : 0);
      gb = leaf ? ACCUMULATED : target;
    }
    return [gx, gw, gb];
  },
});

/** x[..., K] · w[K, N] → [..., N]; with transB, w is [N, K] and x · wᵀ is computed. */
export function matmul(x: Tensor, w: Tensor, opts: { transB?: boolean } = {}): Tensor {
  return run1(matmulOp, [x, w], { transB: opts.transB ?? false });
}

/** x[..., in] · w[in, out] + b[out] (Hugging Face Conv1D layout). */
export function linear(x: Tensor, w: Tensor, b?: Tensor): Tensor {
  return b ? run1(linearOp, [x, w, b], undefined) : run1(matmulOp, [x, w], { transB: false });
}

interface BmmAttrs {
  transA: boolean;
  transB: boolean;
}

function bmmDims(a: Tensor, b: Tensor, transA: boolean, transB: boolean) {
  if (a.ndim < 3 || b.ndim < 3) throw new Error(`bmm: inputs must have a batch dimension, got [${a.shape}] and [${b.shape}]`);
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const batch = a.size / (ar * ac);
  if (b.size / (br * bc) !== batch) throw new Error(`bmm: batch sizes differ: [${a.shape}] vs [${b.shape}]`);
  const M = transA ? ac : ar;
  const K = transA ? ar : ac;
  const N = transB ? br : bc;
  if ((transB ? bc : br) !== K) throw new Error(`bmm: inner dimensions differ: [${a.shape}]${transA ? 'ᵀ' : ''} · [${b.shape}]${transB ? 'ᵀ' : ''}`);
  return { batch, M, N, K, ar, ac, br, bc };
}

const bmmOp = defineOp<BmmAttrs, void>({
  name: 'bmm',
  forward(k, [a, b], { transA, transB }) {
    const { batch, M, N, K, ar, ac, br, bc } = bmmDims(a!, b!, transA, transB);
    const y = empty([...a!.shape.slice(0, -2), M, N]);
    k.gemmBatched(batch, +transA, +transB, M, N, K, 1, a!.data, 0, ar * ac, ac, b!.data, 0, br * bc, bc, 0, y.data, 0, M * N, N);
    return { outputs: [y] };
  },
  backward(k, [gy], { inputs: [a, b], needsGrad }, { transA, transB }) {
    const { batch, M, N, K, ar, ac, br, bc } = bmmDims(a!, b!, transA, transB);
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (needsGrad[0]) {
      ga = empty(a!.shape);
      // op(A) = gy · op(B)ᵀ ; if A is stored transposed, A = op(B) · gyᵀ
      if (!transA) k.gemmBatched(batch, 0, transB ? 0 : 1, M, K, N, 1, gy!.data, 0, M * N, N, b!.data, 0, br * bc, bc, 0, ga.data, 0, ar * ac, ac);
      else k.gemmBatched(batch, transB ? 1 : 0, 1, K, M, N, 1, b!.data, 0, br * bc, bc, gy!.data, 0, M * N, N, 0, ga.data, 0, ar * ac, ac);
    }
    if (needsGrad[1]) {
      gb = empty(b!.shape);
      // op(B) = op(A)ᵀ · gy ; if B is stored transposed, B = gyᵀ · op(A)
      if (!transB) k.gemmBatched(batch, transA ? 0 : 1, 0, K, N, M, 1, a!.data, 0, ar * ac, ac, gy!.data, 0, M * N, N, 0, gb.data, 0, br * bc, bc);
      else k.gemmBatched(batch, 1, transA ? 1 : 0, N, K, M, 1, gy!.data, 0, M * N, N, a!.data, 0, ar * ac, ac, 0, gb.data, 0, br * bc, bc);
    }
    return [ga, gb];
  },
});

/** Batched product over leading dims: a[..., M, K] · b[..., K, N] (each optionally stored transposed). */
export function bmm(a: Tensor, b: Tensor, opts: { transA?: boolean; transB?: boolean } = {}): Tensor {
  return run1(bmmOp, [a, b], { transA: opts.transA ?? false, transB: opts.transB ?? false });
}
