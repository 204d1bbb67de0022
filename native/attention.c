/* Fused causal self-attention (GPT-2 layout), forward and backward, one call each.
 *
 * Reads q, k, v straight from the c_attn output qkv [B, T, 3d] (columns [q | k | v], head h at
 * h·D within each), writes z in [B, T, H, D] (= [B, T, d], c_proj's input), and keeps the
 * attention pattern P [B, H, T, T] for backward. Per (b, h) block, on one thread with OpenBLAS
 * single-threaded: S = q kᵀ, P = causal softmax(scale·S) in place, z = P v. Backward per block:
 * dP = dz vᵀ, dv = Pᵀ dz, dS = scale·P∘(dP - rowsum(dP∘P)), dq = dS k, dk = dSᵀ q.
 *
 * The explicit path (permute, bmm, softmax, bmm, permute as separate ops) runs the same GEMMs
 * per block (gl_gemm_batched also runs one single-threaded GEMM per (b, h) at these sizes) and
 * the same softmax arithmetic (the loops below are k_softmax's and k_softmax_bwd's, compiled with
 * the same flags): it saves the permute copies, the split, five op dispatches and their
 * fork/joins. Equality with the explicit path is tested (test/engine/attention.test.ts).
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "gl.h"
#include "napi_util.h"
#include "softmax_row.h"

/* Row r of a causal T × T block attends to columns j <= r (k_softmax with causal_t = T, offset 0). */
static void softmax_causal_block(float *P, long T, float scale) {
  for (long r = 0; r < T; r++) gl_softmax_row(P + r * T, P + r * T, T, r + 1, scale);
}

/* dP (in) → dS (out, in place) = scale · P ∘ (dP - Σ_j dP∘P), as k_softmax_bwd. */
static void softmax_bwd_block(const float *P, float *dP, long T, float scale) {
  for (long r = 0; r < T; r++) gl_softmax_bwd_row(P + r * T, dP + r * T, dP + r * T, T, scale, 0);
}

/* Causal blocking: rows are taken in blocks of attn_block; a block of query rows [r0, r1) needs
 * keys [0, r1) only, so the zero upper triangle is skipped blockwise (at T = 128 and blocks of 64,
 * a quarter of the GEMM work). Skipped terms are exact zeros (P = 0 there), so every sum keeps its
 * nonzero terms in the same order (equality with the explicit path is tested).
 * GROUNDLAB_ATTN_BLOCK overrides the block (0: no blocking). */
static long attn_block(long T) {
  static long blk = -1;
  if (blk < 0) {
    const char *e = getenv("GROUNDLAB_ATTN_BLOCK");
    blk = e ? atol(e) : 64;
  }
  return blk > 0 && blk < T ? blk : T;
}

void gl_attention_fwd(long B, long T, long H, long D, float scale, const float *qkv, float *P, float *z) {
  const long d = H * D, ld = 3 * d, blk = attn_block(T);
  gl_blas_serial(1);
#pragma omp parallel for schedule(static) if (gl_threads > 1)
  for (long bh = 0; bh < B * H; bh++) {
    const long b = bh / H, h = bh % H;
    const float *q = qkv + b * T * ld + h * D, *k = q + d, *v = q + 2 * d;
    float *Pb = P + bh * T * T, *zb = z + b * T * d + h * D;
    for (long r0 = 0; r0 < T; r0 += blk) {
      const long r1 = r0 + blk < T ? r0 + blk : T;
      gl_gemm(0, 1, (int)(r1 - r0), (int)r1, (int)D, 1.0f, q + r0 * ld, (int)ld, k, (int)ld, 0.0f, Pb + r0 * T, (int)T);
    }
    softmax_causal_block(Pb, T, scale); /* reads only columns j <= r, writes the zeros above */
    for (long r0 = 0; r0 < T; r0 += blk) {
      const long r1 = r0 + blk < T ? r0 + blk : T;
      gl_gemm(0, 0, (int)(r1 - r0), (int)D, (int)r1, 1.0f, Pb + r0 * T, (int)T, v, (int)ld, 0.0f, zb + r0 * d, (int)d);
    }
  }
  gl_blas_serial(0);
}

/* dqkv is fully written (no accumulation). Returns 0, or -1 when scratch could not be allocated. */
int gl_attention_bwd(long B, long T, long H, long D, float scale, const float *qkv, const float *P, const float *dz, float *dqkv) {
  const long d = H * D, ld = 3 * d, blk = attn_block(T);
  int failed = 0;
  gl_blas_serial(1);
#pragma omp parallel if (gl_threads > 1)
  {
    float *dP = malloc(sizeof(float) * T * T);
    if (!dP) {
#pragma omp atomic write
      failed = 1;
    }
#pragma omp for schedule(static)
    for (long bh = 0; bh < B * H; bh++) {
      if (!dP) continue;
      const long b = bh / H, h = bh % H;
      const float *q = qkv + b * T * ld + h * D, *k = q + d, *v = q + 2 * d;
      const float *Pb = P + bh * T * T, *dzb = dz + b * T * d + h * D;
      float *dq = dqkv + b * T * ld + h * D, *dk = dq + d, *dv = dq + 2 * d;
      for (long r0 = 0; r0 < T; r0 += blk) { /* dP = dz vᵀ on the causal blocks; zeros elsewhere (P is 0 there) */
        const long r1 = r0 + blk < T ? r0 + blk : T;
        gl_gemm(0, 1, (int)(r1 - r0), (int)r1, (int)D, 1.0f, dzb + r0 * d, (int)d, v, (int)ld, 0.0f, dP + r0 * T, (int)T);
        if (r1 < T)
          for (long r = r0; r < r1; r++) memset(dP + r * T + r1, 0, sizeof(float) * (T - r1));
      }
      for (long c0 = 0; c0 < T; c0 += blk) { /* dv = Pᵀ dz: keys [c0, c1) are seen by queries r >= c0 only */
        const long c1 = c0 + blk < T ? c0 + blk : T;
        gl_gemm(1, 0, (int)(c1 - c0), (int)D, (int)(T - c0), 1.0f, Pb + c0 * T + c0, (int)T, dzb + c0 * d, (int)d, 0.0f, dv + c0 * ld, (int)ld);
      }
      softmax_bwd_block(Pb, dP, T, scale); /* dP → dS */
      for (long r0 = 0; r0 < T; r0 += blk) { /* dq = dS k */
        const long r1 = r0 + blk < T ? r0 + blk : T;
        gl_gemm(0, 0, (int)(r1 - r0), (int)D, (int)r1, 1.0f, dP + r0 * T, (int)T, k, (int)ld, 0.0f, dq + r0 * ld, (int)ld);
      }
      for (long c0 = 0; c0 < T; c0 += blk) { /* dk = dSᵀ q */
        const long c1 = c0 + blk < T ? c0 + blk : T;
        gl_gemm(1, 0, (int)(c1 - c0), (int)D, (int)(T - c0), 1.0f, dP + c0 * T + c0, (int)T, q + c0 * ld, (int)ld, 0.0f, dk + c0 * ld, (int)ld);
      }
    }
    free(dP);
  }
  gl_blas_serial(0);
  return failed ? -1 : 0;
}

/* attentionForward(B, T, H, D, scale, qkv, P, z) */
FN(attentionForward) {
  ARGS(8);
  long B = LNG(env, argv[0]), T = LNG(env, argv[1]), H = LNG(env, argv[2]), D = LNG(env, argv[3]);
  float scale = (float)NUM(env, argv[4]);
  size_t nqkv, nP, nz;
  float *qkv = F32(env, argv[5], &nqkv), *P = F32(env, argv[6], &nP), *z = F32(env, argv[7], &nz);
  FAILED();
  CHECK(B >= 0 && T > 0 && H > 0 && D > 0, "attentionForward: bad dimensions");
  CHECK((long)nqkv == B * T * 3 * H * D && (long)nP == B * H * T * T && (long)nz == B * T * H * D, "attentionForward: buffer sizes do not match B, T, H, D");
  gl_attention_fwd(B, T, H, D, scale, qkv, P, z);
  return NULL;
}

/* attentionBackward(B, T, H, D, scale, qkv, P, dz, dqkv) */
FN(attentionBackward) {
  ARGS(9);
  long B = LNG(env, argv[0]), T = LNG(env, argv[1]), H = LNG(env, argv[2]), D = LNG(env, argv[3]);
  float scale = (float)NUM(env, argv[4]);
  size_t nqkv, nP, ndz, nd;
  float *qkv = F32(env, argv[5], &nqkv), *P = F32(env, argv[6], &nP), *dz = F32(env, argv[7], &ndz), *dqkv = F32(env, argv[8], &nd);
  FAILED();
  CHECK(B >= 0 && T > 0 && H > 0 && D > 0, "attentionBackward: bad dimensions");
  CHECK((long)nqkv == B * T * 3 * H * D && (long)nP == B * H * T * T && (long)ndz == B * T * H * D && nd == nqkv, "attentionBackward: buffer sizes do not match B, T, H, D");
  CHECK(gl_attention_bwd(B, T, H, D, scale, qkv, P, dz, dqkv) == 0, "attentionBackward: out of memory for scratch");
  return NULL;
}

void gl_register_attention(napi_env env, napi_value exports) {
  DEFINE_EXPORTS(env, exports, EXPORT(attentionForward), EXPORT(attentionBackward));
}
