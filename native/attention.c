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
#include "gl.h"
#include "napi_util.h"

/* Row r of a causal T × T block attends to columns j <= r: k_softmax with causal_t = T, offset 0. */
static void softmax_causal_block(float *P, long T, float scale) {
  for (long r = 0; r < T; r++) {
    float *yr = P + r * T;
    long valid = r + 1;
    float mx = -3.0e38f;
    for (long j = 0; j < valid; j++) mx = yr[j] > mx ? yr[j] : mx;
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (long j = 0; j < valid; j++) {
      float e = expf((yr[j] - mx) * scale);
      yr[j] = e;
      s += e;
    }
    float inv = valid > 0 ? 1.0f / s : 0.0f;
#pragma omp simd
    for (long j = 0; j < valid; j++) yr[j] *= inv;
    for (long j = valid; j < T; j++) yr[j] = 0.0f;
  }
}

/* dP (in) → dS (out, in place) = scale · P ∘ (dP - Σ_j dP∘P): k_softmax_bwd's loop. */
static void softmax_bwd_block(const float *P, float *dP, long T, float scale) {
  for (long r = 0; r < T; r++) {
    const float *yr = P + r * T;
    float *gr = dP + r * T;
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (long j = 0; j < T; j++) s += yr[j] * gr[j];
#pragma omp simd
    for (long j = 0; j < T; j++) gr[j] = scale * yr[j] * (gr[j] - s);
  }
}

void gl_attention_fwd(long B, long T, long H, long D, float scale, const float *qkv, float *P, float *z) {
  const long d = H * D, ld = 3 * d;
  gl_blas_serial(1);
#pragma omp parallel for schedule(static) if (gl_threads > 1)
  for (long bh = 0; bh < B * H; bh++) {
    const long b = bh / H, h = bh % H;
    const float *q = qkv + b * T * ld + h * D, *k = q + d, *v = q + 2 * d;
    float *Pb = P + bh * T * T;
    gl_gemm(0, 1, (int)T, (int)T, (int)D, 1.0f, q, (int)ld, k, (int)ld, 0.0f, Pb, (int)T);
    softmax_causal_block(Pb, T, scale);
    gl_gemm(0, 0, (int)T, (int)D, (int)T, 1.0f, Pb, (int)T, v, (int)ld, 0.0f, z + b * T * d + h * D, (int)d);
  }
  gl_blas_serial(0);
}

/* dqkv is fully written (no accumulation). Returns 0, or -1 when scratch could not be allocated. */
int gl_attention_bwd(long B, long T, long H, long D, float scale, const float *qkv, const float *P, const float *dz, float *dqkv) {
  const long d = H * D, ld = 3 * d;
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
      gl_gemm(0, 1, (int)T, (int)T, (int)D, 1.0f, dzb, (int)d, v, (int)ld, 0.0f, dP, (int)T); /* dP = dz vᵀ */
      gl_gemm(1, 0, (int)T, (int)D, (int)T, 1.0f, Pb, (int)T, dzb, (int)d, 0.0f, dv, (int)ld); /* dv = Pᵀ dz */
      softmax_bwd_block(Pb, dP, T, scale);                                                 /* dP → dS */
      gl_gemm(0, 0, (int)T, (int)D, (int)T, 1.0f, dP, (int)T, k, (int)ld, 0.0f, dq, (int)ld);  /* dq = dS k */
      gl_gemm(1, 0, (int)T, (int)D, (int)T, 1.0f, dP, (int)T, q, (int)ld, 0.0f, dk, (int)ld);  /* dk = dSᵀ q */
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
