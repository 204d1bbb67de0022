/* Mamba-2 kernels (Dao & Gu 2024, "Transformers are SSMs", §6-7 and Listing 1):
 *
 *   ssd_chunked   the chunked SSD scan with D skip: within-chunk quadratic form (segment-sum ->
 *                 exp -> masked C Bᵀ, times X), chunk states, inter-chunk recurrence and
 *                 state-to-output, forward and backward (its VJP);
 *   ssd_pattern   the implicit attention M = L ∘ (C Bᵀ) ∘ dt over the whole sequence (T × T per
 *                 head), forward and backward, for saliency;
 *   causal_conv1d the short depthwise causal convolution (+ bias, optional SiLU), forward and
 *                 backward;
 *   gated_rmsnorm the gated RMSNorm norm(y · silu(z)) · w, forward and backward.
 *
 * Layouts (row-major, float32):
 *   x, y     [Bt, T, H, P]   inputs / outputs per head (P = head_dim)
 *   dt       [Bt, T, H]      step sizes after softplus (> 0)
 *   A, D     [H]             A < 0 (per-head scalar decay), D the skip
 *   B, C     [Bt, T, N]      input / output projections of the state (one group, shared by heads)
 *   G        [Bt, nc, Q, Q]  C_c B_cᵀ per chunk (lower triangle used), saved for backward
 *   states   [Bt, H, nc, N, P]  the state entering each chunk, saved for backward
 *
 * Threads: work is split across OpenMP threads over (batch, head) in forward and over batch in
 * backward (so the gradients of B, C, which heads share, need no atomics: deterministic for any
 * thread count); every GEMM inside runs single-threaded OpenBLAS on strided views (lda = H·P), the
 * same "split the batch, serial BLAS inside" scheme as gl_gemm_batched (engines.md §5.3).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "gl.h"
#include "napi_util.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) abort();
  return p;
}

/* Exclusive decays of one chunk: cs[l] = Σ_{r<=l} A dt_r (inclusive cumulative log-decay). */
static inline void chunk_cumsum(const float *dtc, long H, long q, float Ah, float *dts, float *cs) {
  float run = 0.0f;
  for (long l = 0; l < q; l++) {
    dts[l] = dtc[l * H];
    run += Ah * dts[l];
    cs[l] = run;
  }
}

/* ---------------------------------------------------------------------------------------------
 * Chunked SSD, forward. y = SSD(x) + D x; G and (optionally) states are written for backward.
 * ------------------------------------------------------------------------------------------- */
static void ssd_chunked_fwd(long Bt, long T, long H, long P, long N, long Q, const float *x, const float *dt,
                            const float *A, const float *Bm, const float *Cm, const float *D, float *y, float *G,
                            float *states) {
  const long nc = (T + Q - 1) / Q, HP = H * P;
  gl_blas_serial(1);
  /* 1. G = C Bᵀ per (batch, chunk): the heads share it (one group). */
#pragma omp parallel for collapse(2) schedule(static)
  for (long b = 0; b < Bt; b++)
    for (long c = 0; c < nc; c++) {
      long t0 = c * Q, q = MIN(Q, T - t0);
      gl_gemm(0, 1, (int)q, (int)q, (int)N, 1.0f, Cm + (b * T + t0) * N, (int)N, Bm + (b * T + t0) * N, (int)N, 0.0f,
              G + (b * nc + c) * Q * Q, (int)Q);
    }
#pragma omp parallel
  {
    float *cs = xmalloc(sizeof(float) * Q), *dts = xmalloc(sizeof(float) * Q);
    float *M = xmalloc(sizeof(float) * Q * Q), *Sc = xmalloc(sizeof(float) * Q * N);
    float *Hs = xmalloc(sizeof(float) * N * P);
#pragma omp for collapse(2) schedule(static)
    for (long b = 0; b < Bt; b++)
      for (long h = 0; h < H; h++) {
        const float Ah = A[h], Dh = D ? D[h] : 0.0f;
        memset(Hs, 0, sizeof(float) * N * P);
        for (long c = 0; c < nc; c++) {
          const long t0 = c * Q, q = MIN(Q, T - t0);
          const float *Xc = x + ((b * T + t0) * H + h) * P;
          float *Yc = y + ((b * T + t0) * H + h) * P;
          const float *Bc = Bm + (b * T + t0) * N, *Cc = Cm + (b * T + t0) * N, *Gc = G + (b * nc + c) * Q * Q;
          chunk_cumsum(dt + (b * T + t0) * H + h, H, q, Ah, dts, cs);
          if (states) memcpy(states + ((b * H + h) * nc + c) * N * P, Hs, sizeof(float) * N * P);
          /* 2. within-chunk (diagonal block): M[l,s] = G[l,s] exp(cs_l - cs_s) dt_s for s <= l. */
          for (long l = 0; l < q; l++) {
            float *Ml = M + l * Q;
            const float *Gl = Gc + l * Q;
            const float csl = cs[l];
            for (long s = 0; s <= l; s++) Ml[s] = Gl[s] * expf(csl - cs[s]) * dts[s];
            for (long s = l + 1; s < q; s++) Ml[s] = 0.0f;
          }
          gl_gemm(0, 0, (int)q, (int)P, (int)q, 1.0f, M, (int)Q, Xc, (int)HP, 0.0f, Yc, (int)HP);
          /* 3. state -> output: Y += diag(exp(cs)) C Hs (the state entering this chunk). */
          if (c > 0) {
            for (long l = 0; l < q; l++) {
              const float e = expf(cs[l]);
              for (long n = 0; n < N; n++) Sc[l * N + n] = e * Cc[l * N + n];
            }
            gl_gemm(0, 0, (int)q, (int)P, (int)N, 1.0f, Sc, (int)N, Hs, (int)P, 1.0f, Yc, (int)HP);
          }
          if (Dh != 0.0f)
            for (long l = 0; l < q; l++)
              for (long p = 0; p < P; p++) Yc[l * HP + p] += Dh * Xc[l * HP + p];
          /* 4. chunk state and inter-chunk recurrence: Hs = exp(cs_last) Hs + Σ_s exp(cs_last - cs_s) dt_s B_s x_sᵀ. */
          if (c < nc - 1) {
            const float last = cs[q - 1], g = expf(last);
            for (long s = 0; s < q; s++) {
              const float w = expf(last - cs[s]) * dts[s];
              for (long n = 0; n < N; n++) Sc[s * N + n] = w * Bc[s * N + n];
            }
            for (long i = 0; i < N * P; i++) Hs[i] *= g;
            gl_gemm(1, 0, (int)N, (int)P, (int)q, 1.0f, Sc, (int)N, Xc, (int)HP, 1.0f, Hs, (int)P);
          }
        }
      }
    free(cs); free(dts); free(M); free(Sc); free(Hs);
  }
  gl_blas_serial(0);
}

/* ---------------------------------------------------------------------------------------------
 * Chunked SSD, backward: from dy, the gradients of x, dt, A, B, C, D (all overwritten).
 * Per batch item, heads in turn, chunks in reverse with the state gradient carried backwards.
 * ------------------------------------------------------------------------------------------- */
static void ssd_chunked_bwd(long Bt, long T, long H, long P, long N, long Q, const float *x, const float *dt,
                            const float *A, const float *Bm, const float *Cm, const float *D, const float *G,
                            const float *states, const float *dy, float *dx, float *ddt, float *dA, float *dB,
                            float *dC, float *dD) {
  const long nc = (T + Q - 1) / Q, HP = H * P;
  double *dApart = xmalloc(sizeof(double) * Bt * H), *dDpart = xmalloc(sizeof(double) * Bt * H);
  gl_blas_serial(1);
#pragma omp parallel
  {
    float *cs = xmalloc(sizeof(float) * Q), *dts = xmalloc(sizeof(float) * Q), *E = xmalloc(sizeof(float) * Q);
    float *dcs = xmalloc(sizeof(float) * Q), *ws = xmalloc(sizeof(float) * Q), *eb = xmalloc(sizeof(float) * Q);
    float *Ld = xmalloc(sizeof(float) * Q * Q), *M = xmalloc(sizeof(float) * Q * Q), *dM = xmalloc(sizeof(float) * Q * Q);
    float *Sc = xmalloc(sizeof(float) * Q * N), *dS = xmalloc(sizeof(float) * Q * N);
    float *dH = xmalloc(sizeof(float) * N * P), *dHc = xmalloc(sizeof(float) * N * P);
    float *dGs = xmalloc(sizeof(float) * nc * Q * Q);
#pragma omp for schedule(static)
    for (long b = 0; b < Bt; b++) {
      memset(dGs, 0, sizeof(float) * nc * Q * Q);
      for (long t = 0; t < T; t++) for (long h = 0; h < H; h++) ddt[(b * T + t) * H + h] = 0.0f;
      memset(dB + b * T * N, 0, sizeof(float) * T * N);
      memset(dC + b * T * N, 0, sizeof(float) * T * N);
      for (long h = 0; h < H; h++) {
        const float Ah = A[h], Dh = D ? D[h] : 0.0f;
        double dAacc = 0.0, dDacc = 0.0;
        memset(dH, 0, sizeof(float) * N * P);
        for (long c = nc - 1; c >= 0; c--) {
          const long t0 = c * Q, q = MIN(Q, T - t0);
          const float *Xc = x + ((b * T + t0) * H + h) * P, *dYc = dy + ((b * T + t0) * H + h) * P;
          float *dXc = dx + ((b * T + t0) * H + h) * P, *ddtc = ddt + (b * T + t0) * H + h;
          const float *Bc = Bm + (b * T + t0) * N, *Cc = Cm + (b * T + t0) * N, *Gc = G + (b * nc + c) * Q * Q;
          const float *Hc = states + ((b * H + h) * nc + c) * N * P;
          float *dBc = dB + (b * T + t0) * N, *dCc = dC + (b * T + t0) * N, *dGc = dGs + c * Q * Q;
          chunk_cumsum(dt + (b * T + t0) * H + h, H, q, Ah, dts, cs);
          for (long l = 0; l < q; l++) {
            E[l] = expf(cs[l]);
            dcs[l] = 0.0f;
            for (long s = 0; s <= l; s++) {
              const float e = expf(cs[l] - cs[s]);
              Ld[l * Q + s] = e;
              M[l * Q + s] = Gc[l * Q + s] * e * dts[s];
            }
            for (long s = l + 1; s < q; s++) M[l * Q + s] = 0.0f;
          }
          /* Within-chunk: Y = M X  =>  dX = Mᵀ dY, dM = dY Xᵀ. */
          gl_gemm(1, 0, (int)q, (int)P, (int)q, 1.0f, M, (int)Q, dYc, (int)HP, 0.0f, dXc, (int)HP);
          gl_gemm(0, 1, (int)q, (int)q, (int)P, 1.0f, dYc, (int)HP, Xc, (int)HP, 0.0f, dM, (int)Q);
          for (long l = 0; l < q; l++) {
            for (long s = 0; s <= l; s++) {
              const float dm = dM[l * Q + s], e = Ld[l * Q + s];
              dGc[l * Q + s] += dm * e * dts[s];     /* -> C and B, after all heads */
              const float w = dm * M[l * Q + s];     /* d(segment sum) */
              dcs[l] += w;
              dcs[s] -= w;
              ddtc[s * H] += dm * Gc[l * Q + s] * e; /* dt_s as the input scale */
            }
          }
          /* D skip. */
          for (long l = 0; l < q; l++)
            for (long p = 0; p < P; p++) {
              dDacc += (double)dYc[l * HP + p] * Xc[l * HP + p];
              dXc[l * HP + p] += Dh * dYc[l * HP + p];
            }
          /* State -> output: Y += diag(E) C Hc. */
          if (c > 0) {
            gl_gemm(0, 1, (int)q, (int)N, (int)P, 1.0f, dYc, (int)HP, Hc, (int)P, 0.0f, dS, (int)N); /* dY Hcᵀ */
            for (long l = 0; l < q; l++) {
              float de = 0.0f;
              for (long n = 0; n < N; n++) {
                dCc[l * N + n] += E[l] * dS[l * N + n];
                de += Cc[l * N + n] * dS[l * N + n];
                Sc[l * N + n] = E[l] * Cc[l * N + n];
              }
              dcs[l] += de * E[l];
            }
            gl_gemm(1, 0, (int)N, (int)P, (int)q, 1.0f, Sc, (int)N, dYc, (int)HP, 0.0f, dHc, (int)P); /* (E C)ᵀ dY */
          }
          /* State update: H_next = g Hc + Σ_s w_s B_s x_sᵀ, with dH the gradient of H_next. */
          if (c < nc - 1) {
            const float last = cs[q - 1], g = expf(last);
            for (long s = 0; s < q; s++) {
              eb[s] = expf(last - cs[s]);
              ws[s] = eb[s] * dts[s];
              for (long n = 0; n < N; n++) Sc[s * N + n] = ws[s] * Bc[s * N + n];
            }
            gl_gemm(0, 0, (int)q, (int)P, (int)N, 1.0f, Sc, (int)N, dH, (int)P, 1.0f, dXc, (int)HP); /* dX += (w B) dH */
            gl_gemm(0, 1, (int)q, (int)N, (int)P, 1.0f, Xc, (int)HP, dH, (int)P, 0.0f, dS, (int)N); /* X dHᵀ */
            float dlast = 0.0f;
            for (long s = 0; s < q; s++) {
              float dw = 0.0f;
              for (long n = 0; n < N; n++) {
                dw += Bc[s * N + n] * dS[s * N + n];
                dBc[s * N + n] += ws[s] * dS[s * N + n];
              }
              ddtc[s * H] += dw * eb[s];
              dlast += dw * ws[s];
              dcs[s] -= dw * ws[s];
            }
            float dg = 0.0f;
            for (long i = 0; i < N * P; i++) dg += dH[i] * Hc[i];
            dcs[q - 1] += dlast + dg * g;
            if (c > 0)
              for (long i = 0; i < N * P; i++) dHc[i] += g * dH[i];
          }
          /* cs = cumsum(A dt): reverse cumulative sum back to A and dt. */
          float run = 0.0f;
          for (long l = q - 1; l >= 0; l--) {
            run += dcs[l];
            ddtc[l * H] += Ah * run;
            dAacc += (double)dts[l] * run;
          }
          if (c > 0) {
            float *tmp = dH;
            dH = dHc;
            dHc = tmp;
          }
        }
        dApart[b * H + h] = dAacc;
        dDpart[b * H + h] = dDacc;
      }
      /* G = C Bᵀ is shared by the heads: dC += dG B, dB += dGᵀ C, with dG summed over heads. */
      for (long c = 0; c < nc; c++) {
        const long t0 = c * Q, q = MIN(Q, T - t0);
        gl_gemm(0, 0, (int)q, (int)N, (int)q, 1.0f, dGs + c * Q * Q, (int)Q, Bm + (b * T + t0) * N, (int)N, 1.0f,
                dC + (b * T + t0) * N, (int)N);
        gl_gemm(1, 0, (int)q, (int)N, (int)q, 1.0f, dGs + c * Q * Q, (int)Q, Cm + (b * T + t0) * N, (int)N, 1.0f,
                dB + (b * T + t0) * N, (int)N);
      }
    }
    free(cs); free(dts); free(E); free(dcs); free(ws); free(eb); free(Ld); free(M); free(dM);
    free(Sc); free(dS); free(dH); free(dHc); free(dGs);
  }
  gl_blas_serial(0);
  for (long h = 0; h < H; h++) {
    double a = 0.0, d = 0.0;
    for (long b = 0; b < Bt; b++) {
      a += dApart[b * H + h];
      d += dDpart[b * H + h];
    }
    dA[h] = (float)a;
    if (dD) dD[h] = (float)d;
  }
  free(dApart);
  free(dDpart);
}

/* ---------------------------------------------------------------------------------------------
 * Implicit attention over the whole sequence: M[b,h,t,s] = (C_t·B_s) exp(Σ_{r=s+1..t} A_h dt_r) dt_s
 * for s <= t, else 0; so y = M x + D x. The segment sum is accumulated directly (no difference of
 * two long cumulative sums), as in the stable `segsum` of ssd_minimal.py.
 * ------------------------------------------------------------------------------------------- */
static void ssd_pattern_fwd(long Bt, long T, long H, long N, const float *Bm, const float *Cm, const float *dt,
                            const float *A, float *M) {
  float *G = xmalloc(sizeof(float) * Bt * T * T);
  gl_blas_serial(1);
#pragma omp parallel for schedule(static)
  for (long b = 0; b < Bt; b++)
    gl_gemm(0, 1, (int)T, (int)T, (int)N, 1.0f, Cm + b * T * N, (int)N, Bm + b * T * N, (int)N, 0.0f, G + b * T * T, (int)T);
  gl_blas_serial(0);
#pragma omp parallel for collapse(2) schedule(static)
  for (long b = 0; b < Bt; b++)
    for (long h = 0; h < H; h++) {
      const float Ah = A[h];
      const float *dtb = dt + b * T * H + h, *Gb = G + b * T * T;
      float *Mh = M + (b * H + h) * T * T;
      for (long t = 0; t < T; t++) {
        float *row = Mh + t * T;
        float seg = 0.0f;
        row[t] = Gb[t * T + t] * dtb[t * H];
        for (long s = t - 1; s >= 0; s--) {
          seg += Ah * dtb[(s + 1) * H];
          row[s] = Gb[t * T + s] * expf(seg) * dtb[s * H];
        }
        for (long s = t + 1; s < T; s++) row[s] = 0.0f;
      }
    }
  free(G);
}

static void ssd_pattern_bwd(long Bt, long T, long H, long N, const float *Bm, const float *Cm, const float *dt,
                            const float *A, const float *dM, float *dB, float *dC, float *ddt, float *dA) {
  double *dApart = xmalloc(sizeof(double) * Bt * H);
  gl_blas_serial(1);
#pragma omp parallel
  {
    float *G = xmalloc(sizeof(float) * T * T), *dG = xmalloc(sizeof(float) * T * T);
    float *W = xmalloc(sizeof(float) * T), *da = xmalloc(sizeof(float) * T);
#pragma omp for schedule(static)
    for (long b = 0; b < Bt; b++) {
      gl_gemm(0, 1, (int)T, (int)T, (int)N, 1.0f, Cm + b * T * N, (int)N, Bm + b * T * N, (int)N, 0.0f, G, (int)T);
      memset(dG, 0, sizeof(float) * T * T);
      for (long t = 0; t < T; t++) for (long h = 0; h < H; h++) ddt[(b * T + t) * H + h] = 0.0f;
      for (long h = 0; h < H; h++) {
        const float Ah = A[h];
        const float *dtb = dt + b * T * H + h, *dMh = dM + (b * H + h) * T * T;
        float *ddtb = ddt + b * T * H + h;
        memset(da, 0, sizeof(float) * T);
        for (long t = 0; t < T; t++) {
          float seg = 0.0f;
          for (long s = t; s >= 0; s--) {
            if (s < t) seg += Ah * dtb[(s + 1) * H];
            const float L = expf(seg), dm = dMh[t * T + s], ds = dtb[s * H];
            dG[t * T + s] += dm * L * ds;
            ddtb[s * H] += dm * G[t * T + s] * L;
            W[s] = dm * G[t * T + s] * L * ds; /* gradient of seg[t, s] */
          }
          /* seg[t, s] = Σ_{r=s+1..t} a_r  =>  da_r += Σ_{s<r} W[t, s] for r <= t. */
          float pre = 0.0f;
          for (long r = 0; r <= t; r++) {
            da[r] += pre;
            pre += W[r];
          }
        }
        double acc = 0.0;
        for (long r = 0; r < T; r++) {
          ddtb[r * H] += Ah * da[r];
          acc += (double)dtb[r * H] * da[r];
        }
        dApart[b * H + h] = acc;
      }
      gl_gemm(0, 0, (int)T, (int)N, (int)T, 1.0f, dG, (int)T, Bm + b * T * N, (int)N, 0.0f, dC + b * T * N, (int)N);
      gl_gemm(1, 0, (int)T, (int)N, (int)T, 1.0f, dG, (int)T, Cm + b * T * N, (int)N, 0.0f, dB + b * T * N, (int)N);
    }
    free(G); free(dG); free(W); free(da);
  }
  gl_blas_serial(0);
  for (long h = 0; h < H; h++) {
    double a = 0.0;
    for (long b = 0; b < Bt; b++) a += dApart[b * H + h];
    dA[h] = (float)a;
  }
  free(dApart);
}

/* ---------------------------------------------------------------------------------------------
 * Depthwise causal conv over time on [Bt, T, Cn] (weights [Cn, 1, K] as torch's Conv1d with
 * groups = Cn and padding K-1, keeping the first T outputs): u[t,c] = bias[c] + Σ_k w[c,k] x[t+k-K+1,c];
 * y = silu(u) when act = 1 (u saved for backward), else y = u.
 * ------------------------------------------------------------------------------------------- */
static void causal_conv1d_fwd(long Bt, long T, long Cn, long K, const float *x, const float *w, const float *bias,
                              float *y, float *u, int act) {
  float *wT = xmalloc(sizeof(float) * K * Cn); /* [K, Cn]: the inner loop runs over channels */
  for (long c = 0; c < Cn; c++) for (long k = 0; k < K; k++) wT[k * Cn + c] = w[c * K + k];
#pragma omp parallel for collapse(2) schedule(static) if (Bt * T * Cn > GL_PAR_MIN)
  for (long b = 0; b < Bt; b++)
    for (long t = 0; t < T; t++) {
      float *yr = y + (b * T + t) * Cn;
      for (long c = 0; c < Cn; c++) yr[c] = bias ? bias[c] : 0.0f;
      for (long k = 0; k < K; k++) {
        const long ti = t + k - (K - 1);
        if (ti < 0) continue;
        const float *xr = x + (b * T + ti) * Cn, *wk = wT + k * Cn;
        for (long c = 0; c < Cn; c++) yr[c] += wk[c] * xr[c];
      }
      if (act) {
        float *ur = u ? u + (b * T + t) * Cn : NULL;
        for (long c = 0; c < Cn; c++) {
          const float v = yr[c];
          if (ur) ur[c] = v;
          yr[c] = v / (1.0f + expf(-v));
        }
      }
    }
  free(wT);
}

static void causal_conv1d_bwd(long Bt, long T, long Cn, long K, const float *x, const float *w, const float *u,
                              const float *dy, float *du, float *dx, float *dw, float *db, int act) {
  float *wT = xmalloc(sizeof(float) * K * Cn);
  for (long c = 0; c < Cn; c++) for (long k = 0; k < K; k++) wT[k * Cn + c] = w[c * K + k];
  /* Per batch item: du (SiLU'), dx, and that item's partial sums of dw, db; the partials are then
   * added in batch order, so the result does not depend on the thread count. */
  float *part = (dw || db) ? xmalloc(sizeof(float) * Bt * (K + 1) * Cn) : NULL;
#pragma omp parallel for schedule(static) if (Bt * T * Cn > GL_PAR_MIN)
  for (long b = 0; b < Bt; b++) {
    const float *g = dy + b * T * Cn;
    if (act) {
      float *dub = du + b * T * Cn;
      const float *ub = u + b * T * Cn;
      for (long i = 0; i < T * Cn; i++) {
        const float v = ub[i], s = 1.0f / (1.0f + expf(-v));
        dub[i] = g[i] * s * (1.0f + v * (1.0f - s));
      }
      g = dub;
    }
    const float *xb = x + b * T * Cn;
    if (dx) {
      float *dxb = dx + b * T * Cn;
      for (long t = 0; t < T; t++) {
        float *xr = dxb + t * Cn;
        for (long c = 0; c < Cn; c++) xr[c] = 0.0f;
        for (long k = 0; k < K; k++) {
          const long to = t - k + (K - 1); /* the output that read x[t] through tap k */
          if (to >= T) continue;
          const float *gr = g + to * Cn, *wk = wT + k * Cn;
          for (long c = 0; c < Cn; c++) xr[c] += wk[c] * gr[c];
        }
      }
    }
    if (part) {
      float *pw = part + b * (K + 1) * Cn, *pb = pw + K * Cn;
      memset(pw, 0, sizeof(float) * (K + 1) * Cn);
      for (long t = 0; t < T; t++) {
        const float *gr = g + t * Cn;
        for (long c = 0; c < Cn; c++) pb[c] += gr[c];
        for (long k = 0; k < K; k++) {
          const long ti = t + k - (K - 1);
          if (ti < 0) continue;
          const float *xr = xb + ti * Cn;
          float *pk = pw + k * Cn;
          for (long c = 0; c < Cn; c++) pk[c] += gr[c] * xr[c];
        }
      }
    }
  }
  if (part) {
    for (long c = 0; c < Cn; c++) {
      for (long k = 0; k <= K; k++) {
        double acc = 0.0;
        for (long b = 0; b < Bt; b++) acc += part[(b * (K + 1) + k) * Cn + c];
        if (k < K) { if (dw) dw[c * K + k] = (float)acc; }
        else if (db) db[c] = (float)acc;
      }
    }
    free(part);
  }
  free(wT);
}

/* ---------------------------------------------------------------------------------------------
 * Gated RMSNorm of Mamba-2 (HF MambaRMSNormGated, norm_before_gate = False):
 *   g = y · silu(z),  out = w · g / sqrt(mean(g²) + eps)   over rows of `cols` channels.
 * Backward with r = 1/rms and v = dout · w:  dg = r (v - g r² mean(v g)),  dy = dg silu(z),
 * dz = dg y silu'(z),  dw = Σ_rows dout g r (row blocks of fixed size, summed in order).
 * ------------------------------------------------------------------------------------------- */
#define GRN_BLOCK 64
static void gated_rmsnorm_fwd(long rows, long cols, const float *y, const float *z, const float *w, float eps, float *out,
                              float *rstd) {
#pragma omp parallel for schedule(static) if (rows * cols > GL_PAR_MIN)
  for (long r = 0; r < rows; r++) {
    const float *yr = y + r * cols, *zr = z + r * cols;
    float *o = out + r * cols;
    float ss = 0.0f;
    for (long c = 0; c < cols; c++) {
      const float g = yr[c] * zr[c] / (1.0f + expf(-zr[c]));
      o[c] = g;
      ss += g * g;
    }
    const float rs = 1.0f / sqrtf(ss / (float)cols + eps);
    if (rstd) rstd[r] = rs;
    for (long c = 0; c < cols; c++) o[c] = o[c] * rs * w[c];
  }
}

static void gated_rmsnorm_bwd(long rows, long cols, const float *y, const float *z, const float *w, const float *rstd,
                              const float *dout, float *dy, float *dz, float *dw) {
  const long nblk = (rows + GRN_BLOCK - 1) / GRN_BLOCK;
  float *part = dw ? xmalloc(sizeof(float) * nblk * cols) : NULL;
#pragma omp parallel
  {
    float *gbuf = xmalloc(sizeof(float) * cols), *sbuf = xmalloc(sizeof(float) * cols);
#pragma omp for schedule(static)
    for (long blk = 0; blk < nblk; blk++) {
      float *pw = part ? part + blk * cols : NULL;
      if (pw) memset(pw, 0, sizeof(float) * cols);
      const long r1 = MIN(rows, (blk + 1) * GRN_BLOCK);
      for (long r = blk * GRN_BLOCK; r < r1; r++) {
        const float *yr = y + r * cols, *zr = z + r * cols, *dr = dout + r * cols;
        const float rs = rstd[r];
        float dot = 0.0f;
        for (long c = 0; c < cols; c++) {
          const float s = 1.0f / (1.0f + expf(-zr[c]));
          sbuf[c] = s;
          gbuf[c] = yr[c] * zr[c] * s;
          dot += dr[c] * w[c] * gbuf[c];
          if (pw) pw[c] += dr[c] * gbuf[c] * rs;
        }
        const float m = dot / (float)cols * rs * rs;
        for (long c = 0; c < cols; c++) {
          const float dg = rs * (dr[c] * w[c] - gbuf[c] * m), s = sbuf[c], zc = zr[c];
          if (dy) dy[r * cols + c] = dg * zc * s;
          if (dz) dz[r * cols + c] = dg * yr[c] * s * (1.0f + zc * (1.0f - s));
        }
      }
    }
    free(gbuf);
    free(sbuf);
  }
  if (part) {
    for (long c = 0; c < cols; c++) {
      double acc = 0.0;
      for (long blk = 0; blk < nblk; blk++) acc += part[blk * cols + c];
      dw[c] = (float)acc;
    }
    free(part);
  }
}

/* ---------------------------------------------------------------------------------------------
 * N-API bindings (sizes checked so a TypeScript bug throws instead of corrupting memory).
 * ------------------------------------------------------------------------------------------- */
#define NEED(ptr, len, want, msg) CHECK((ptr) != NULL && (long)(len) == (long)(want), msg)
#define NEED_OPT(ptr, len, want, msg) CHECK((ptr) == NULL || (long)(len) == (long)(want), msg)

/* ssdChunkedFwd(Bt, T, H, P, N, Q, x, dt, A, B, C, D|null, y, G, states|null) */
FN(ssdChunkedFwd) {
  ARGS(15);
  long Bt = LNG(env, argv[0]), T = LNG(env, argv[1]), H = LNG(env, argv[2]), P = LNG(env, argv[3]), N = LNG(env, argv[4]), Q = LNG(env, argv[5]);
  CHECK(Bt > 0 && T > 0 && H > 0 && P > 0 && N > 0 && Q > 0, "ssdChunkedFwd: bad dimensions");
  size_t lx, ldt, lA, lB, lC, lD, ly, lG, lS;
  float *x = F32(env, argv[6], &lx), *dt = F32(env, argv[7], &ldt), *A = F32(env, argv[8], &lA), *Bm = F32(env, argv[9], &lB),
        *Cm = F32(env, argv[10], &lC), *D = F32opt(env, argv[11], &lD), *y = F32(env, argv[12], &ly), *G = F32(env, argv[13], &lG),
        *S = F32opt(env, argv[14], &lS);
  FAILED();
  long nc = (T + Q - 1) / Q;
  NEED(x, lx, Bt * T * H * P, "ssdChunkedFwd: x size");
  NEED(dt, ldt, Bt * T * H, "ssdChunkedFwd: dt size");
  NEED(A, lA, H, "ssdChunkedFwd: A size");
  NEED(Bm, lB, Bt * T * N, "ssdChunkedFwd: B size");
  NEED(Cm, lC, Bt * T * N, "ssdChunkedFwd: C size");
  NEED_OPT(D, lD, H, "ssdChunkedFwd: D size");
  NEED(y, ly, Bt * T * H * P, "ssdChunkedFwd: y size");
  NEED(G, lG, Bt * nc * Q * Q, "ssdChunkedFwd: G size");
  NEED_OPT(S, lS, Bt * H * nc * N * P, "ssdChunkedFwd: states size");
  ssd_chunked_fwd(Bt, T, H, P, N, Q, x, dt, A, Bm, Cm, D, y, G, S);
  return NULL;
}

/* ssdChunkedBwd(Bt, T, H, P, N, Q, x, dt, A, B, C, D|null, G, states, dy, dx, ddt, dA, dB, dC, dD|null) */
FN(ssdChunkedBwd) {
  ARGS(21);
  long Bt = LNG(env, argv[0]), T = LNG(env, argv[1]), H = LNG(env, argv[2]), P = LNG(env, argv[3]), N = LNG(env, argv[4]), Q = LNG(env, argv[5]);
  CHECK(Bt > 0 && T > 0 && H > 0 && P > 0 && N > 0 && Q > 0, "ssdChunkedBwd: bad dimensions");
  size_t l[15];
  float *x = F32(env, argv[6], &l[0]), *dt = F32(env, argv[7], &l[1]), *A = F32(env, argv[8], &l[2]), *Bm = F32(env, argv[9], &l[3]),
        *Cm = F32(env, argv[10], &l[4]), *D = F32opt(env, argv[11], &l[5]), *G = F32(env, argv[12], &l[6]), *S = F32(env, argv[13], &l[7]),
        *dy = F32(env, argv[14], &l[8]), *dx = F32(env, argv[15], &l[9]), *ddt = F32(env, argv[16], &l[10]), *dA = F32(env, argv[17], &l[11]),
        *dB = F32(env, argv[18], &l[12]), *dC = F32(env, argv[19], &l[13]), *dD = F32opt(env, argv[20], &l[14]);
  FAILED();
  long nc = (T + Q - 1) / Q, nx = Bt * T * H * P, nbc = Bt * T * N;
  NEED(x, l[0], nx, "ssdChunkedBwd: x size");
  NEED(dt, l[1], Bt * T * H, "ssdChunkedBwd: dt size");
  NEED(A, l[2], H, "ssdChunkedBwd: A size");
  NEED(Bm, l[3], nbc, "ssdChunkedBwd: B size");
  NEED(Cm, l[4], nbc, "ssdChunkedBwd: C size");
  NEED_OPT(D, l[5], H, "ssdChunkedBwd: D size");
  NEED(G, l[6], Bt * nc * Q * Q, "ssdChunkedBwd: G size");
  NEED(S, l[7], Bt * H * nc * N * P, "ssdChunkedBwd: states size");
  NEED(dy, l[8], nx, "ssdChunkedBwd: dy size");
  NEED(dx, l[9], nx, "ssdChunkedBwd: dx size");
  NEED(ddt, l[10], Bt * T * H, "ssdChunkedBwd: ddt size");
  NEED(dA, l[11], H, "ssdChunkedBwd: dA size");
  NEED(dB, l[12], nbc, "ssdChunkedBwd: dB size");
  NEED(dC, l[13], nbc, "ssdChunkedBwd: dC size");
  NEED_OPT(dD, l[14], H, "ssdChunkedBwd: dD size");
  ssd_chunked_bwd(Bt, T, H, P, N, Q, x, dt, A, Bm, Cm, D, G, S, dy, dx, ddt, dA, dB, dC, dD);
  return NULL;
}

/* ssdPatternFwd(Bt, T, H, N, B, C, dt, A, M) */
FN(ssdPatternFwd) {
  ARGS(9);
  long Bt = LNG(env, argv[0]), T = LNG(env, argv[1]), H = LNG(env, argv[2]), N = LNG(env, argv[3]);
  CHECK(Bt > 0 && T > 0 && H > 0 && N > 0, "ssdPatternFwd: bad dimensions");
  size_t lB, lC, ldt, lA, lM;
  float *Bm = F32(env, argv[4], &lB), *Cm = F32(env, argv[5], &lC), *dt = F32(env, argv[6], &ldt), *A = F32(env, argv[7], &lA), *M = F32(env, argv[8], &lM);
  FAILED();
  NEED(Bm, lB, Bt * T * N, "ssdPatternFwd: B size");
  NEED(Cm, lC, Bt * T * N, "ssdPatternFwd: C size");
  NEED(dt, ldt, Bt * T * H, "ssdPatternFwd: dt size");
  NEED(A, lA, H, "ssdPatternFwd: A size");
  NEED(M, lM, Bt * H * T * T, "ssdPatternFwd: M size");
  ssd_pattern_fwd(Bt, T, H, N, Bm, Cm, dt, A, M);
  return NULL;
}

/* ssdPatternBwd(Bt, T, H, N, B, C, dt, A, dM, dB, dC, ddt, dA) */
FN(ssdPatternBwd) {
  ARGS(13);
  long Bt = LNG(env, argv[0]), T = LNG(env, argv[1]), H = LNG(env, argv[2]), N = LNG(env, argv[3]);
  CHECK(Bt > 0 && T > 0 && H > 0 && N > 0, "ssdPatternBwd: bad dimensions");
  size_t l[9];
  float *Bm = F32(env, argv[4], &l[0]), *Cm = F32(env, argv[5], &l[1]), *dt = F32(env, argv[6], &l[2]), *A = F32(env, argv[7], &l[3]),
        *dM = F32(env, argv[8], &l[4]), *dB = F32(env, argv[9], &l[5]), *dC = F32(env, argv[10], &l[6]), *ddt = F32(env, argv[11], &l[7]),
        *dA = F32(env, argv[12], &l[8]);
  FAILED();
  NEED(Bm, l[0], Bt * T * N, "ssdPatternBwd: B size");
  NEED(Cm, l[1], Bt * T * N, "ssdPatternBwd: C size");
  NEED(dt, l[2], Bt * T * H, "ssdPatternBwd: dt size");
  NEED(A, l[3], H, "ssdPatternBwd: A size");
  NEED(dM, l[4], Bt * H * T * T, "ssdPatternBwd: dM size");
  NEED(dB, l[5], Bt * T * N, "ssdPatternBwd: dB size");
  NEED(dC, l[6], Bt * T * N, "ssdPatternBwd: dC size");
  NEED(ddt, l[7], Bt * T * H, "ssdPatternBwd: ddt size");
  NEED(dA, l[8], H, "ssdPatternBwd: dA size");
  ssd_pattern_bwd(Bt, T, H, N, Bm, Cm, dt, A, dM, dB, dC, ddt, dA);
  return NULL;
}

/* causalConv1dFwd(Bt, T, Cn, K, x, w, bias|null, y, u|null, act) */
FN(causalConv1dFwd) {
  ARGS(10);
  long Bt = LNG(env, argv[0]), T = LNG(env, argv[1]), Cn = LNG(env, argv[2]), K = LNG(env, argv[3]);
  CHECK(Bt > 0 && T > 0 && Cn > 0 && K > 0 && K <= 16, "causalConv1dFwd: bad dimensions (kernel width 1..16)");
  size_t lx, lw, lb, ly, lu;
  float *x = F32(env, argv[4], &lx), *w = F32(env, argv[5], &lw), *bias = F32opt(env, argv[6], &lb), *y = F32(env, argv[7], &ly), *u = F32opt(env, argv[8], &lu);
  FAILED();
  int act = (int)LNG(env, argv[9]);
  NEED(x, lx, Bt * T * Cn, "causalConv1dFwd: x size");
  NEED(w, lw, Cn * K, "causalConv1dFwd: w size");
  NEED_OPT(bias, lb, Cn, "causalConv1dFwd: bias size");
  NEED(y, ly, Bt * T * Cn, "causalConv1dFwd: y size");
  NEED_OPT(u, lu, Bt * T * Cn, "causalConv1dFwd: u size");
  causal_conv1d_fwd(Bt, T, Cn, K, x, w, bias, y, u, act);
  return NULL;
}

/* causalConv1dBwd(Bt, T, Cn, K, x, w, u|null, dy, du|null, dx|null, dw|null, db|null, act) */
FN(causalConv1dBwd) {
  ARGS(13);
  long Bt = LNG(env, argv[0]), T = LNG(env, argv[1]), Cn = LNG(env, argv[2]), K = LNG(env, argv[3]);
  CHECK(Bt > 0 && T > 0 && Cn > 0 && K > 0 && K <= 16, "causalConv1dBwd: bad dimensions (kernel width 1..16)");
  size_t l[8];
  float *x = F32(env, argv[4], &l[0]), *w = F32(env, argv[5], &l[1]), *u = F32opt(env, argv[6], &l[2]), *dy = F32(env, argv[7], &l[3]),
        *du = F32opt(env, argv[8], &l[4]), *dx = F32opt(env, argv[9], &l[5]), *dw = F32opt(env, argv[10], &l[6]), *db = F32opt(env, argv[11], &l[7]);
  FAILED();
  int act = (int)LNG(env, argv[12]);
  long n = Bt * T * Cn;
  NEED(x, l[0], n, "causalConv1dBwd: x size");
  NEED(w, l[1], Cn * K, "causalConv1dBwd: w size");
  NEED(dy, l[3], n, "causalConv1dBwd: dy size");
  if (act) {
    NEED(u, l[2], n, "causalConv1dBwd: u size");
    NEED(du, l[4], n, "causalConv1dBwd: du size");
  }
  NEED_OPT(dx, l[5], n, "causalConv1dBwd: dx size");
  NEED_OPT(dw, l[6], Cn * K, "causalConv1dBwd: dw size");
  NEED_OPT(db, l[7], Cn, "causalConv1dBwd: db size");
  causal_conv1d_bwd(Bt, T, Cn, K, x, w, u, dy, du, dx, dw, db, act);
  return NULL;
}

/* gatedRmsNormFwd(rows, cols, y, z, w, eps, out, rstd|null) */
FN(gatedRmsNormFwd) {
  ARGS(8);
  long rows = LNG(env, argv[0]), cols = LNG(env, argv[1]);
  CHECK(rows > 0 && cols > 0, "gatedRmsNormFwd: bad dimensions");
  size_t ly, lz, lw, lo, lr;
  float *y = F32(env, argv[2], &ly), *z = F32(env, argv[3], &lz), *w = F32(env, argv[4], &lw), *o = F32(env, argv[6], &lo), *rs = F32opt(env, argv[7], &lr);
  FAILED();
  NEED(y, ly, rows * cols, "gatedRmsNormFwd: y size");
  NEED(z, lz, rows * cols, "gatedRmsNormFwd: z size");
  NEED(w, lw, cols, "gatedRmsNormFwd: w size");
  NEED(o, lo, rows * cols, "gatedRmsNormFwd: out size");
  NEED_OPT(rs, lr, rows, "gatedRmsNormFwd: rstd size");
  gated_rmsnorm_fwd(rows, cols, y, z, w, (float)NUM(env, argv[5]), o, rs);
  return NULL;
}

/* gatedRmsNormBwd(rows, cols, y, z, w, rstd, dout, dy|null, dz|null, dw|null) */
FN(gatedRmsNormBwd) {
  ARGS(10);
  long rows = LNG(env, argv[0]), cols = LNG(env, argv[1]);
  CHECK(rows > 0 && cols > 0, "gatedRmsNormBwd: bad dimensions");
  size_t l[8];
  float *y = F32(env, argv[2], &l[0]), *z = F32(env, argv[3], &l[1]), *w = F32(env, argv[4], &l[2]), *rs = F32(env, argv[5], &l[3]),
        *d = F32(env, argv[6], &l[4]), *dy = F32opt(env, argv[7], &l[5]), *dz = F32opt(env, argv[8], &l[6]), *dw = F32opt(env, argv[9], &l[7]);
  FAILED();
  NEED(y, l[0], rows * cols, "gatedRmsNormBwd: y size");
  NEED(z, l[1], rows * cols, "gatedRmsNormBwd: z size");
  NEED(w, l[2], cols, "gatedRmsNormBwd: w size");
  NEED(rs, l[3], rows, "gatedRmsNormBwd: rstd size");
  NEED(d, l[4], rows * cols, "gatedRmsNormBwd: dout size");
  NEED_OPT(dy, l[5], rows * cols, "gatedRmsNormBwd: dy size");
  NEED_OPT(dz, l[6], rows * cols, "gatedRmsNormBwd: dz size");
  NEED_OPT(dw, l[7], cols, "gatedRmsNormBwd: dw size");
  gated_rmsnorm_bwd(rows, cols, y, z, w, rs, d, dy, dz, dw);
  return NULL;
}

void gl_register_ssd(napi_env env, napi_value exports) {
  DEFINE_EXPORTS(env, exports, EXPORT(ssdChunkedFwd), EXPORT(ssdChunkedBwd), EXPORT(ssdPatternFwd), EXPORT(ssdPatternBwd),
                 EXPORT(causalConv1dFwd), EXPORT(causalConv1dBwd), EXPORT(gatedRmsNormFwd), EXPORT(gatedRmsNormBwd));
}
