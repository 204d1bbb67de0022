/* GEMM: Debian's OpenBLAS when available (cblas_sgemm), else a blocked C loop.
 *
 * Batched GEMM (attention scores, SSD chunks) splits the *batch* across OpenMP threads with
 * OpenBLAS forced single-threaded inside: for many small products this is ~1.7x faster than
 * letting OpenBLAS thread each small GEMM (measured in ../shared/notes/engines.md).
 */
#include "gl.h"
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#ifdef GL_HAVE_OPENBLAS
#include <cblas.h>
int gl_have_openblas(void) { return 1; }
#else
int gl_have_openblas(void) { return 0; }
#endif

int gl_threads = 1;

/* GEMM split (default on; GROUNDLAB_GEMM_SPLIT=0 or gemmSplit(0) restores OpenBLAS's own threading).
 * At the cpu preset's shapes (K or N = 128..512, M = 4096) single-threaded OpenBLAS runs at ~93% of
 * its square-GEMM speed, but its own 2-thread split was measured slower than 1 thread on this
 * 2-core machine under load (bench/workers/gemm-shapes.ts). So OpenBLAS stays single-threaded and
 * gl_gemm splits C's longer side in two (or gl_threads) on our OpenMP team, one plain
 * single-threaded sgemm per part. Each element of C still gets the whole K reduction in one sgemm. */
static int gemm_split = -1;

static int split_on(void) {
  if (gemm_split < 0) {
    const char *e = getenv("GROUNDLAB_GEMM_SPLIT");
    gemm_split = !(e && e[0] == '0');
  }
  return gemm_split;
}

/* OpenBLAS's thread count outside our own parallel loops. */
static int blas_threads(void) { return split_on() ? 1 : gl_threads; }

int gl_gemm_split(int on) {
  int was = split_on();
  if (on >= 0) {
    gemm_split = on ? 1 : 0;
#ifdef GL_HAVE_OPENBLAS
    openblas_set_num_threads(blas_threads());
#endif
  }
  return was;
}

void gl_set_threads(int n) {
  if (n < 1) n = 1;
  gl_threads = n;
  omp_set_num_threads(n);
#ifdef GL_HAVE_OPENBLAS
  openblas_set_num_threads(blas_threads());
#endif
}

/* Kernels that run their own OpenMP loop around gl_gemm calls (ssd.c, lstm.c, attention.c) switch
 * BLAS to one thread for the loop (serial = 1) and back afterwards (serial = 0). */
static int blas_serial_depth = 0;

void gl_blas_serial(int serial) {
  blas_serial_depth = serial ? 1 : 0;
#ifdef GL_HAVE_OPENBLAS
  openblas_set_num_threads(serial ? 1 : blas_threads());
#else
  (void)serial;
#endif
}

#ifndef GL_HAVE_OPENBLAS
/* Fallback: C[i,j] = beta*C + alpha*sum_k A(i,k) B(k,j); i-k-j order so the inner loop vectorises. */
static inline float at(const float *X, int trans, int ld, int r, int c) { return trans ? X[(long)c * ld + r] : X[(long)r * ld + c]; }

static void gemm_fallback(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                          const float *B, int ldb, float beta, float *C, int ldc, int parallel) {
#pragma omp parallel for schedule(static) if (parallel && (long)M * N * K > 262144)
  for (int i = 0; i < M; i++) {
    float *c = C + (long)i * ldc;
    if (beta == 0.0f) memset(c, 0, sizeof(float) * N);
    else if (beta != 1.0f) for (int j = 0; j < N; j++) c[j] *= beta;
    for (int k = 0; k < K; k++) {
      float a = alpha * at(A, ta, lda, i, k);
      if (!tb) {
        const float *b = B + (long)k * ldb;
#pragma omp simd
        for (int j = 0; j < N; j++) c[j] += a * b[j];
      } else {
        for (int j = 0; j < N; j++) c[j] += a * B[(long)j * ldb + k];
      }
    }
  }
}
#endif

#ifdef GL_HAVE_OPENBLAS
static inline void sgemm1(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                          float beta, float *C, int ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb,
              beta, C, ldc);
}

/* Same results as before the split. OpenBLAS's single-threaded and threaded drivers cut a long K
 * into different chunks (C accumulates chunk by chunk, so the chunking decides the rounding):
 * measured here, split-vs-threaded products differed exactly when K > 640 and K is not a multiple
 * of 512, which is what OpenBLAS 0.3.21's level3_thread.c rule gives with SGEMM Q = 320 (the
 * SkylakeX/Cooperlake kernels): chunks of Q while at least 2Q remain, then two halves (rem+1)/2.
 * So a product that the old code gave to threaded OpenBLAS (more than 2^18 multiply-adds, OpenBLAS's
 * own single-thread cutoff) is computed as single-threaded sgemm calls over those same K chunks,
 * each at most Q long (one block inside sgemm). Tested against GROUNDLAB_GEMM_SPLIT=0 in
 * test/engine/speed-equivalence.test.ts; on CPUs with another Q the equality is not guaranteed. */
#define GL_BLAS_Q 320
static void sgemm_threaded_chunks(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                                  int ldb, float beta, float *C, int ldc) {
  if (K <= GL_BLAS_Q) {
    sgemm1(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  for (int ls = 0; ls < K;) {
    const int rem = K - ls;
    const int kl = rem >= 2 * GL_BLAS_Q ? GL_BLAS_Q : rem > GL_BLAS_Q ? (rem + 1) / 2 : rem;
    sgemm1(ta, tb, M, N, kl, alpha, A + (ta ? (long)ls * lda : (long)ls), lda, B + (tb ? (long)ls : (long)ls * ldb), ldb, beta,
           C, ldc);
    beta = 1.0f;
    ls += kl;
  }
}

/* Whether the old code (OpenBLAS at gl_threads) would have run this product threaded. */
static inline int was_threaded(int M, int N, int K) { return gl_threads > 1 && (double)M * N * K > 262144.0; }
#endif

void gl_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
             const float *B, int ldb, float beta, float *C, int ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0) {
    for (int i = 0; i < M; i++) for (int j = 0; j < N; j++) C[(long)i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[(long)i * ldc + j];
    return;
  }
#ifdef GL_HAVE_OPENBLAS
  const int nt = gl_threads;
  /* Inside our own parallel loops (and kernels that made BLAS serial) OpenBLAS was and is single-threaded. */
  if (!split_on() || nt <= 1 || omp_in_parallel() || blas_serial_depth > 0 || !was_threaded(M, N, K)) {
    sgemm1(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  /* Below ~1M multiply-adds (~10 us on one core) a fork/join costs more than it saves. */
  if ((double)M * N * K < (double)(1 << 20)) {
    sgemm_threaded_chunks(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  const int byRows = M >= N;
  const int len = byRows ? M : N;
#pragma omp parallel num_threads(nt)
  {
    const int p = omp_get_thread_num(), np = omp_get_num_threads();
    /* Parts aligned to 16 rows/columns (OpenBLAS's register-block multiple) so tails stay rare. */
    const int lo = (int)(((long)len * p / np) & ~15L), hi = p == np - 1 ? len : (int)(((long)len * (p + 1) / np) & ~15L);
    if (hi > lo) {
      if (byRows)
        sgemm_threaded_chunks(ta, tb, hi - lo, N, K, alpha, A + (ta ? (long)lo : (long)lo * lda), lda, B, ldb, beta,
                              C + (long)lo * ldc, ldc);
      else
        sgemm_threaded_chunks(ta, tb, M, hi - lo, K, alpha, A, lda, B + (tb ? (long)lo * ldb : (long)lo), ldb, beta, C + lo, ldc);
    }
  }
#else
  gemm_fallback(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, 1);
#endif
}

static void gemm_run(const GlGemm *g) {
  gl_gemm(g->ta, g->tb, g->M, g->N, g->K, g->alpha, g->A, g->lda, g->B, g->ldb, g->beta, g->C, g->ldc);
}

void gl_gemm_pair(const GlGemm *a, const GlGemm *b) {
  /* Worth it when both are big and similar: a backward's ∂x and ∂W have equal FLOPs. With more
   * than 2 threads, or a lopsided pair, each product is split over all threads instead. */
  double wa = (double)a->M * a->N * a->K, wb = (double)b->M * b->N * b->K;
#ifdef GL_HAVE_OPENBLAS
  if (gl_threads == 2 && split_on() && !omp_in_parallel() && blas_serial_depth == 0 && wa >= (double)(1 << 20) &&
      wb >= (double)(1 << 20) && wa < 3 * wb && wb < 3 * wa) {
#pragma omp parallel num_threads(2)
    {
      const int p = omp_get_thread_num(), np = omp_get_num_threads();
      for (int i = 0; i < 2; i++) {
        const GlGemm *g = i == 0 ? a : b;
        if (np < 2 || p == i) sgemm_threaded_chunks(g->ta, g->tb, g->M, g->N, g->K, g->alpha, g->A, g->lda, g->B, g->ldb, g->beta, g->C, g->ldc);
      }
    }
    return;
  }
#endif
  (void)wa;
  (void)wb;
  gemm_run(a);
  gemm_run(b);
}

void gl_gemm_batched(int batch, int ta, int tb, int M, int N, int K, float alpha,
                     const float *A, long sA, int lda, const float *B, long sB, int ldb,
                     float beta, float *C, long sC, int ldc) {
  if (batch <= 0) return;
  long work = (long)M * N * K;
  /* Small products: one single-threaded GEMM per batch item, items spread over threads. */
  if (gl_threads > 1 && batch >= gl_threads && work < (1L << 22)) {
    gl_blas_serial(1);
#pragma omp parallel for schedule(static)
    for (int b = 0; b < batch; b++) {
#ifdef GL_HAVE_OPENBLAS
      cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha,
                  A + b * sA, lda, B + b * sB, ldb, beta, C + b * sC, ldc);
#else
      gemm_fallback(ta, tb, M, N, K, alpha, A + b * sA, lda, B + b * sB, ldb, beta, C + b * sC, ldc, 0);
#endif
    }
    gl_blas_serial(0);
    return;
  }
  for (int b = 0; b < batch; b++)
    gl_gemm(ta, tb, M, N, K, alpha, A + b * sA, lda, B + b * sB, ldb, beta, C + b * sC, ldc);
}
