/* groundlab native kernels: shared declarations.
 *
 * Every kernel works on contiguous float32 (or int32 index) buffers passed from JS as typed
 * arrays (zero copy: N-API hands us the data pointer already offset by byteOffset).
 * Shapes are passed as plain integers; the TypeScript side owns shapes, strides and views.
 */
#ifndef GL_H
#define GL_H

#include <stddef.h>
#include <stdint.h>

/* Threads used by OpenMP loops and by OpenBLAS. */
extern int gl_threads;
void gl_set_threads(int n);

/* Below this many elements an elementwise loop stays on one thread (fork/join costs ~1-2 us). */
#define GL_PAR_MIN 32768

/* ---- gemm.c ---- row-major C = alpha * op(A) op(B) + beta * C */
void gl_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
             const float *B, int ldb, float beta, float *C, int ldc);
/* One gemm's arguments (pointers already offset). */
typedef struct {
  int ta, tb, M, N, K;
  float alpha;
  const float *A;
  int lda;
  const float *B;
  int ldb;
  float beta;
  float *C;
  int ldc;
} GlGemm;
/* Two independent products (a backward's ∂input and ∂weight): on 2 threads each runs whole on its
 * own core (single-threaded OpenBLAS), one fork/join for both; otherwise one after the other. */
void gl_gemm_pair(const GlGemm *a, const GlGemm *b);
void gl_gemm_batched(int batch, int ta, int tb, int M, int N, int K, float alpha,
                     const float *A, long sA, int lda, const float *B, long sB, int ldb,
                     float beta, float *C, long sC, int ldc);
int gl_have_openblas(void);
/* BLAS single-threaded (1) or back to gl_threads (0), around a caller's own OpenMP loop of gl_gemm calls. */
void gl_blas_serial(int serial);
/* Our own split of large GEMMs over gl_threads, single-threaded OpenBLAS per part: on (1), off (0),
 * or query (-1); returns the previous setting. Default from GROUNDLAB_GEMM_SPLIT (on unless "0"). */
int gl_gemm_split(int on);

/* ---- kernels.c ---- (compiled with -ffast-math for vectorised expf/tanhf) */
enum { GL_ADD = 0, GL_SUB = 1, GL_MUL = 2, GL_DIV = 3 };
enum { GL_GELU = 0, GL_SILU = 1, GL_SIGMOID = 2, GL_TANH = 3, GL_EXP = 4, GL_SOFTPLUS = 5, GL_RELU = 6, GL_LOG = 7, GL_SQUARE = 8, GL_NEG = 9 };

void k_fill(float *x, long n, float v);
void k_copy(const float *src, float *dst, long n);
void k_binary(int op, const float *a, const float *b, float *out, long n, long inner);
void k_binary_bwd(int op, const float *a, const float *b, const float *dy, float *da, float *db,
                  long n, long inner, int acc_a, int acc_b);
void k_axpby(const float *x, const float *y, float *out, long n, float a, float b);
void k_add_scalar(const float *x, float *out, long n, float s, float mul);
void k_unary(int op, const float *x, float *y, long n);
void k_unary_bwd(int op, const float *x, const float *y, const float *dy, float *dx, long n, int acc);
void k_softmax(const float *x, float *y, long rows, long cols, float scale, long causal_t, long causal_off);
void k_softmax_bwd(const float *y, const float *dy, float *dx, long rows, long cols, float scale, int acc);
void k_log_softmax(const float *x, float *y, long rows, long cols);
void k_log_softmax_bwd(const float *y, const float *dy, float *dx, long rows, long cols, int acc);
double k_cross_entropy(const float *logits, const int32_t *targets, float *losses, float *dlogits,
                       long rows, long V, float grad_scale, int32_t ignore, long *count);
void k_layernorm(const float *x, const float *g, const float *b, float *y, float *mean, float *rstd,
                 long rows, long cols, float eps);
void k_layernorm_bwd(const float *x, const float *g, const float *mean, const float *rstd, const float *dy,
                     float *dx, float *dg, float *db, long rows, long cols, int acc_dx);
void k_rmsnorm(const float *x, const float *g, float *y, float *rstd, long rows, long cols, float eps);
void k_rmsnorm_bwd(const float *x, const float *g, const float *rstd, const float *dy, float *dx, float *dg,
                   long rows, long cols, int acc_dx);
void k_embedding(const int32_t *ids, long n, const float *table, long vocab, float *out, long dim);
void k_embedding_bwd(const int32_t *ids, long n, const float *dout, float *dtable, long vocab, long dim);
void k_strided_copy(const float *src, float *dst, int nd, const long *shape, const long *sstride,
                    const long *dstride, int acc);
double k_sum(const float *x, long n);
double k_sum_squares(const float *x, long n);
double k_dot(const float *a, const float *b, long n);
void k_sum_outer(const float *x, float *out, long outer, long inner, int acc);
void k_sum_inner(const float *x, float *out, long outer, long inner, int acc);
void k_adamw(float *p, const float *g, float *m, float *v, long n, float lr, float b1, float b2, float eps,
             float wd, float bc1, float bc2);
void k_cumsum(const float *x, float *y, long rows, long cols, int reverse, int acc);

#endif
