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
void gl_blas_serial(int serial) {
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

void gl_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
             const float *B, int ldb, float beta, float *C, int ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0) {
    for (int i = 0; i < M; i++) for (int j = 0; j < N; j++) C[(long)i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[(long)i * ldc + j];
    return;
  }
#ifdef GL_HAVE_OPENBLAS
  const int nt = gl_threads;
  /* Below ~1M multiply-adds (~10 us on one core) a fork/join costs more than it saves. */
  if (nt > 1 && split_on() && (double)M * N * K >= (double)(1 << 20) && !omp_in_parallel()) {
    const int byRows = M >= N;
    const int len = byRows ? M : N;
#pragma omp parallel num_threads(nt)
    {
      const int p = omp_get_thread_num(), np = omp_get_num_threads();
      /* Parts aligned to 16 rows/columns (OpenBLAS's register-block multiple) so tails stay rare. */
      const int lo = (int)(((long)len * p / np) & ~15L), hi = p == np - 1 ? len : (int)(((long)len * (p + 1) / np) & ~15L);
      if (hi > lo) {
        if (byRows)
          cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, hi - lo, N, K, alpha,
                      A + (ta ? (long)lo : (long)lo * lda), lda, B, ldb, beta, C + (long)lo * ldc, ldc);
        else
          cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, hi - lo, K, alpha, A, lda,
                      B + (tb ? (long)lo * ldb : (long)lo), ldb, beta, C + lo, ldc);
      }
    }
    return;
  }
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb,
              beta, C, ldc);
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
  if (gl_threads == 2 && split_on() && !omp_in_parallel() && wa >= (double)(1 << 20) && wb >= (double)(1 << 20) && wa < 3 * wb && wb < 3 * wa) {
#pragma omp parallel num_threads(2)
    {
      /* gl_gemm inside a parallel region runs one single-threaded sgemm (OpenBLAS is 1-threaded while split is on). */
      if (omp_get_num_threads() < 2) {
        gemm_run(a);
        gemm_run(b);
      } else {
        gemm_run(omp_get_thread_num() == 0 ? a : b);
      }
    }
    return;
  }
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
