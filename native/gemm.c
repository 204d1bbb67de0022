/* GEMM: Debian's OpenBLAS when available (cblas_sgemm), else a blocked C loop.
 *
 * Batched GEMM (attention scores, SSD chunks) splits the *batch* across OpenMP threads with
 * OpenBLAS forced single-threaded inside: for many small products this is ~1.7x faster than
 * letting OpenBLAS thread each small GEMM (measured in ../shared/notes/engines.md).
 */
#include "gl.h"
#include <omp.h>
#include <string.h>

#ifdef GL_HAVE_OPENBLAS
#include <cblas.h>
int gl_have_openblas(void) { return 1; }
#else
int gl_have_openblas(void) { return 0; }
#endif

int gl_threads = 1;

void gl_set_threads(int n) {
  if (n < 1) n = 1;
  gl_threads = n;
  omp_set_num_threads(n);
#ifdef GL_HAVE_OPENBLAS
  openblas_set_num_threads(n);
#endif
}

/* Kernels that run their own OpenMP loop around gl_gemm calls (ssd.c) switch BLAS to one thread
 * for the loop (serial = 1) and back to gl_threads afterwards (serial = 0). */
void gl_blas_serial(int serial) {
#ifdef GL_HAVE_OPENBLAS
  openblas_set_num_threads(serial ? 1 : gl_threads);
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
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb,
              beta, C, ldc);
#else
  gemm_fallback(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, 1);
#endif
}

void gl_gemm_batched(int batch, int ta, int tb, int M, int N, int K, float alpha,
                     const float *A, long sA, int lda, const float *B, long sB, int ldb,
                     float beta, float *C, long sC, int ldc) {
  if (batch <= 0) return;
  long work = (long)M * N * K;
  /* Small products: one single-threaded GEMM per batch item, items spread over threads. */
  if (gl_threads > 1 && batch >= gl_threads && work < (1L << 22)) {
#ifdef GL_HAVE_OPENBLAS
    openblas_set_num_threads(1);
#endif
#pragma omp parallel for schedule(static)
    for (int b = 0; b < batch; b++) {
#ifdef GL_HAVE_OPENBLAS
      cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha,
                  A + b * sA, lda, B + b * sB, ldb, beta, C + b * sC, ldc);
#else
      gemm_fallback(ta, tb, M, N, K, alpha, A + b * sA, lda, B + b * sB, ldb, beta, C + b * sC, ldc, 0);
#endif
    }
#ifdef GL_HAVE_OPENBLAS
    openblas_set_num_threads(gl_threads);
#endif
    return;
  }
  for (int b = 0; b < batch; b++)
    gl_gemm(ta, tb, M, N, K, alpha, A + b * sA, lda, B + b * sB, ldb, beta, C + b * sC, ldc);
}
