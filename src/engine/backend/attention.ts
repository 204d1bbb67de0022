/**
 * Fused causal self-attention kernels (native/attention.c): scores, causal softmax and values per
 * (batch, head) block, read straight from c_attn's output, in one call forward and one backward.
 *
 * Layout: qkv [B, T, 3d] (columns [q | k | v], head h at columns h·D of each), z [B, T, H, D],
 * pattern P [B, H, T, T] (kept for backward; masked entries exactly 0).
 *
 * Two implementations with one signature: the native addon's, and the TypeScript reference below
 * (the same steps through the reference GEMM), which the tests check the native one against.
 */
import { kernels } from './index.js';
import { referenceKernels as R } from './reference.js';

export interface AttentionKernels {
  /** z and P from qkv; scale multiplies the scores inside the softmax (1/√D). */
  attentionForward(B: number, T: number, H: number, D: number, scale: number, qkv: Float32Array, P: Float32Array, z: Float32Array): void;
  /** dqkv (overwritten) from dz, given the forward's qkv and P. */
  attentionBackward(B: number, T: number, H: number, D: number, scale: number, qkv: Float32Array, P: Float32Array, dz: Float32Array, dqkv: Float32Array): void;
}

export const referenceAttentionKernels: AttentionKernels = {
  attentionForward(B, T, H, D, scale, qkv, P, z) {
    const d = H * D, ld = 3 * d;
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        const q = b * T * ld + h * D, pb = (b * H + h) * T * T;
        R.gemm(0, 1, T, T, D, 1, qkv, q, ld, qkv, q + d, ld, 0, P, pb, T);
        R.softmax(P.subarray(pb, pb + T * T), P.subarray(pb, pb + T * T), T, scale, T, 0);
        R.gemm(0, 0, T, D, T, 1, P, pb, T, qkv, q + 2 * d, ld, 0, z, b * T * d + h * D, d);
      }
    }
  },
  attentionBackward(B, T, H, D, scale, qkv, P, dz, dqkv) {
    const d = H * D, ld = 3 * d;
    const dP = new Float32Array(T * T);
    const dS = new Float32Array(T * T);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        const q = b * T * ld + h * D, pb = (b * H + h) * T * T, zb = b * T * d + h * D;
        R.gemm(0, 1, T, T, D, 1, dz, zb, d, qkv, q + 2 * d, ld, 0, dP, 0, T); // dP = dz vᵀ
        R.gemm(1, 0, T, D, T, 1, P, pb, T, dz, zb, d, 0, dqkv, q + 2 * d, ld); // dv = Pᵀ dz
        R.softmaxBwd(P.subarray(pb, pb + T * T), dP, dS, T, scale, 0);
        R.gemm(0, 0, T, D, T, 1, dS, 0, T, qkv, q + d, ld, 0, dqkv, q, ld); // dq = dS k
        R.gemm(1, 0, T, D, T, 1, dS, 0, T, qkv, q, ld, 0, dqkv, q + d, ld); // dk = dSᵀ q
      }
    }
  },
};

/** The attention kernels of the active backend. */
export function attentionKernels(): AttentionKernels {
  const k = kernels();
  if (k.name === 'reference') return referenceAttentionKernels;
  const native = k as unknown as Partial<AttentionKernels>;
  if (typeof native.attentionForward !== 'function' || typeof native.attentionBackward !== 'function') {
    throw new Error('groundlab: the native addon has no attention kernels (rebuild it: npm rebuild)');
  }
  return native as AttentionKernels;
}
