/**
 * Mamba-2 ops (Dao & Gu 2024), each one kernel forward and one backward (backend/ssd.ts):
 *
 *   ssdChunked    y = SSD(x; dt, A, B, C) + D x by the chunked algorithm (§7, Listing 1): the
 *                 fast path used in training; never materialises the T × T matrix.
 *   ssdPattern    the implicit attention M [Bt, H, T, T] with y = M x + D x (§3-4: the SSD
 *                 layer as a semiseparable matrix), for saliency and hooks.
 *   causalConv1d  depthwise causal convolution over time (+ bias, optional fused SiLU).
 *   gatedRmsNorm  Mamba-2's gated RMSNorm, rmsnorm(y · silu(z)) · w, fused (one pass each way).
 *
 * Shapes: x [Bt, T, H, P], dt [Bt, T, H] (after softplus), A [H] (negative), B, C [Bt, T, N]
 * (one group, shared by the heads), D [H].
 */
import { defineOp, isGradEnabled, run1 } from '../autograd.js';
import { ssdKernels } from '../backend/ssd.js';
import { type Tensor, empty } from '../tensor.js';

function dims(x: Tensor, dt: Tensor, A: Tensor, B: Tensor, C: Tensor, name: string) {
  if (x.ndim !== 4) throw new Error(`${name}: x must be [batch, T, heads, head_dim], got [${x.shape}]`);
  const [Bt, T, H, P] = x.shape as [number, number, number, number];
  const N = B.shape[B.ndim - 1]!;
  const ok = dt.ndim === 3 && dt.shape[0] === Bt && dt.shape[1] === T && dt.shape[2] === H && A.size === H && B.ndim === 3 && B.shape[0] === Bt && B.shape[1] === T && C.ndim === 3 && C.shape[0] === Bt && C.shape[1] === T && C.shape[2] === N;
  if (!ok) throw new Error(`${name}: shapes do not fit x [${x.shape}]: dt [${dt.shape}] (want [${Bt}, ${T}, ${H}]), A [${A.shape}] (want [${H}]), B [${B.shape}], C [${C.shape}] (want [${Bt}, ${T}, N])`);
  return { Bt, T, H, P, N };
}

// ---- chunked SSD ----
interface ChunkedSaved {
  G: Tensor;
  states: Tensor | null;
}

const ssdChunkedOp = defineOp<{ chunk: number }, ChunkedSaved>({
  name: 'ssdChunked',
  forward(_k, [x, dt, A, B, C, D], { chunk }) {
    const { Bt, T, H, P, N } = dims(x!, dt!, A!, B!, C!, 'ssdChunked');
    if (D!.size !== H) throw new Error(`ssdChunked: D must have ${H} elements, got [${D!.shape}]`);
    const Q = chunk;
    const nc = Math.ceil(T / Q);
    const y = empty(x!.shape);
    const G = empty([Bt, nc, Q, Q]);
    const needStates = isGradEnabled() && [x, dt, A, B, C, D].some((t) => t!.requiresGrad);
    const states = needStates ? empty([Bt, H, nc, N, P]) : null;
    ssdKernels().ssdChunkedFwd(Bt, T, H, P, N, Q, x!.data, dt!.data, A!.data, B!.data, C!.data, D!.data, y.data, G.data, states?.data ?? null);
    return { outputs: [y], saved: { G, states } };
  },
  backward(_k, [gy], { inputs: [x, dt, A, B, C, D], saved }, { chunk }) {
    const { Bt, T, H, P, N } = dims(x!, dt!, A!, B!, C!, 'ssdChunked');
    const dx = empty(x!.shape);
    const ddt = empty(dt!.shape);
    const dA = empty(A!.shape);
    const dB = empty(B!.shape);
    const dC = empty(C!.shape);
    const dD = empty(D!.shape);
    ssdKernels().ssdChunkedBwd(Bt, T, H, P, N, chunk, x!.data, dt!.data, A!.data, B!.data, C!.data, D!.data, saved.G.data, saved.states!.data, gy!.data, dx.data, ddt.data, dA.data, dB.data, dC.data, dD.data);
    return [dx, ddt, dA, dB, dC, dD];
  },
});

/**
 * Chunked SSD with D skip: y[b,t,h] = Σ_{s<=t} (C_t·B_s) exp(Σ_{r=s+1..t} A_h dt_r) dt_s x[b,s,h] + D_h x[b,t,h].
 * x [Bt, T, H, P], dt [Bt, T, H], A [H], B, C [Bt, T, N], D [H] → y [Bt, T, H, P]. T need not be a
 * multiple of `chunk` (the last chunk is shorter; nothing is padded).
 */
export function ssdChunked(x: Tensor, dt: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor, opts: { chunk: number }): Tensor {
  if (!Number.isInteger(opts.chunk) || opts.chunk < 1) throw new Error(`ssdChunked: chunk must be a positive integer, got ${opts.chunk}`);
  return run1(ssdChunkedOp, [x, dt, A, B, C, D], { chunk: opts.chunk });
}

// ---- implicit attention ----
const ssdPatternOp = defineOp<void, void>({
  name: 'ssdPattern',
  forward(_k, [dt, A, B, C]) {
    const [Bt, T, H] = dt!.shape as [number, number, number];
    const N = B!.shape[2]!;
    const M = empty([Bt, H, T, T]);
    ssdKernels().ssdPatternFwd(Bt, T, H, N, B!.data, C!.data, dt!.data, A!.data, M.data);
    return { outputs: [M] };
  },
  backward(_k, [gM], { inputs: [dt, A, B, C] }) {
    const [Bt, T, H] = dt!.shape as [number, number, number];
    const N = B!.shape[2]!;
    const ddt = empty(dt!.shape);
    const dA = empty(A!.shape);
    const dB = empty(B!.shape);
    const dC = empty(C!.shape);
    ssdKernels().ssdPatternBwd(Bt, T, H, N, B!.data, C!.data, dt!.data, A!.data, gM!.data, dB.data, dC.data, ddt.data, dA.data);
    return [ddt, dA, dB, dC];
  },
});

/**
 * The SSD's implicit attention (its semiseparable matrix), per head:
 * M[b,h,t,s] = (C_t·B_s) · exp(Σ_{r=s+1..t} A_h dt_r) · dt_s for s <= t, and 0 above the diagonal,
 * so that ssdChunked(x, ...) = M · x + D x. dt [Bt, T, H], A [H], B, C [Bt, T, N] → [Bt, H, T, T].
 */
export function ssdPattern(dt: Tensor, A: Tensor, B: Tensor, C: Tensor): Tensor {
  if (dt.ndim !== 3 || A.size !== dt.shape[2] || B.ndim !== 3 || C.ndim !== 3 || B.shape[0] !== dt.shape[0] || B.shape[1] !== dt.shape[1] || C.shape.some((d, i) => d !== B.shape[i])) {
    throw new Error(`ssdPattern: dt [${dt.shape}], A [${A.shape}], B [${B.shape}], C [${C.shape}] do not fit ([Bt, T, H], [H], [Bt, T, N], [Bt, T, N])`);
  }
  return run1(ssdPatternOp, [dt, A, B, C], undefined);
}

// ---- depthwise causal convolution ----
const causalConvOp = defineOp<{ silu: boolean }, { u: Tensor | null }>({
  name: 'causalConv1d',
  forward(_k, [x, w, b], { silu }) {
    const [Bt, T, Cn] = x!.shape as [number, number, number];
    const K = w!.shape[w!.ndim - 1]!;
    const y = empty(x!.shape);
    const u = silu && isGradEnabled() && [x, w, b].some((t) => t!.requiresGrad) ? empty(x!.shape) : null;
    ssdKernels().causalConv1dFwd(Bt, T, Cn, K, x!.data, w!.data, b!.data, y.data, u?.data ?? null, silu ? 1 : 0);
    return { outputs: [y], saved: { u } };
  },
  backward(_k, [gy], { inputs: [x, w, b], saved, needsGrad }, { silu }) {
    const [Bt, T, Cn] = x!.shape as [number, number, number];
    const K = w!.shape[w!.ndim - 1]!;
    const du = silu ? empty(x!.shape) : null;
    const dx = needsGrad[0] ? empty(x!.shape) : null;
    const dw = needsGrad[1] ? empty(w!.shape) : null;
    const db = needsGrad[2] ? empty(b!.shape) : null;
    ssdKernels().causalConv1dBwd(Bt, T, Cn, K, x!.data, w!.data, saved.u?.data ?? null, gy!.data, du?.data ?? null, dx?.data ?? null, dw?.data ?? null, db?.data ?? null, silu ? 1 : 0);
    return [dx, dw, db];
  },
});

/**
 * Depthwise causal convolution over time, torch's Conv1d(groups = channels, padding = K-1) truncated
 * to the first T outputs: y[b,t,c] = act(bias[c] + Σ_k w[c,0,k] · x[b, t+k-K+1, c]).
 * x [Bt, T, Cn], w [Cn, 1, K] (Hugging Face conv1d.weight layout), bias [Cn]; act SiLU or none.
 */
export function causalConv1d(x: Tensor, w: Tensor, bias: Tensor, opts: { activation?: 'silu' | 'none' } = {}): Tensor {
  const K = w.shape[w.ndim - 1]!;
  if (x.ndim !== 3 || w.size !== x.shape[2]! * K || bias.size !== x.shape[2] || K > 16) {
    throw new Error(`causalConv1d: x [${x.shape}] must be [batch, T, channels] with w [channels, 1, K <= 16] and bias [channels]; got w [${w.shape}], bias [${bias.shape}]`);
  }
  return run1(causalConvOp, [x, w, bias], { silu: (opts.activation ?? 'silu') === 'silu' });
}

// ---- gated RMSNorm ----
const gatedRmsNormOp = defineOp<{ eps: number }, { rstd: Tensor }>({
  name: 'gatedRmsNorm',
  forward(_k, [y, z, w], { eps }) {
    const cols = w!.size;
    const rows = y!.size / cols;
    const out = empty(y!.shape);
    const rstd = empty([rows]);
    ssdKernels().gatedRmsNormFwd(rows, cols, y!.data, z!.data, w!.data, eps, out.data, rstd.data);
    return { outputs: [out], saved: { rstd } };
  },
  backward(_k, [gout], { inputs: [y, z, w], saved, needsGrad }) {
    const cols = w!.size;
    const rows = y!.size / cols;
    const dy = needsGrad[0] ? empty(y!.shape) : null;
    const dz = needsGrad[1] ? empty(z!.shape) : null;
    const dw = needsGrad[2] ? empty(w!.shape) : null;
    ssdKernels().gatedRmsNormBwd(rows, cols, y!.data, z!.data, w!.data, saved.rstd.data, gout!.data, dy?.data ?? null, dz?.data ?? null, dw?.data ?? null);
    return [dy, dz, dw];
  },
});

/**
 * Mamba-2's gated RMSNorm (HF MambaRMSNormGated, norm_before_gate = False): with g = y · silu(z),
 * out = w · g / sqrt(mean(g²) + eps) over the last dim. y, z [..., n], w [n].
 */
export function gatedRmsNorm(y: Tensor, z: Tensor, w: Tensor, eps = 1e-5): Tensor {
  const n = y.shape[y.ndim - 1]!;
  if (z.size !== y.size || z.shape[z.ndim - 1] !== n || w.size !== n) throw new Error(`gatedRmsNorm: y [${y.shape}], z [${z.shape}] and w [${w.shape}] do not fit ([..., n], [..., n], [n])`);
  return run1(gatedRmsNormOp, [y, z, w], { eps });
}
