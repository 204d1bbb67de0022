/* Elementwise, row and reduction kernels (forward and backward).
 *
 * Compiled with -ffast-math so gcc vectorises expf/tanhf/logf through glibc's libmvec.
 * Consequences we respect: no kernel relies on inf/nan arithmetic (masked softmax entries are
 * skipped by loop bounds, never set to -inf), and NaN checks happen in JS on returned values.
 *
 * Reductions are deterministic for a given thread count: every parallel reduction either
 * partitions the *output* across threads (each output summed in a fixed order) or combines
 * per-thread partials in thread order. No OpenMP `reduction` clauses (their combine order is
 * unspecified for floats).
 */
#include "softmax_row.h"
#include "gl.h"
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define PAR_IF(n) if ((n) > GL_PAR_MIN)

/* Splits [0, n) into gl_threads contiguous ranges; range t is [*lo, *hi). */
static inline void split_range(long n, int t, int nt, long *lo, long *hi) {
  long base = n / nt, rem = n % nt;
  *lo = t * base + (t < rem ? t : rem);
  *hi = *lo + base + (t < rem ? 1 : 0);
}

void k_fill(float *x, long n, float v) {
#pragma omp parallel for simd PAR_IF(n) schedule(static)
  for (long i = 0; i < n; i++) x[i] = v;
}

void k_copy(const float *src, float *dst, long n) {
  if (n < 4 * GL_PAR_MIN) {
    memmove(dst, src, sizeof(float) * n);
    return;
  }
#pragma omp parallel
  {
    long lo, hi;
    split_range(n, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
    memcpy(dst + lo, src + lo, sizeof(float) * (hi - lo));
  }
}

/* out[i] = a[i] op b[i % inner]  (inner == n: same shape; inner < n: b broadcast over leading dims) */
void k_binary(int op, const float *a, const float *b, float *out, long n, long inner) {
  if (inner == n) {
    switch (op) {
    case GL_ADD:
#pragma omp parallel for simd PAR_IF(n) schedule(static)
      for (long i = 0; i < n; i++) out[i] = a[i] + b[i];
      break;
    case GL_SUB:
#pragma omp parallel for simd PAR_IF(n) schedule(static)
      for (long i = 0; i < n; i++) out[i] = a[i] - b[i];
      break;
    case GL_MUL:
#pragma omp parallel for simd PAR_IF(n) schedule(static)
      for (long i = 0; i < n; i++) out[i] = a[i] * b[i];
      break;
    default:
#pragma omp parallel for simd PAR_IF(n) schedule(static)
      for (long i = 0; i < n; i++) out[i] = a[i] / b[i];
    }
    return;
  }
  long outer = n / inner;
#pragma omp parallel for PAR_IF(n) schedule(static)
  for (long o = 0; o < outer; o++) {
    const float *ar = a + o * inner;
    float *yr = out + o * inner;
    switch (op) {
    case GL_ADD:
#pragma omp simd
      for (long j = 0; j < inner; j++) yr[j] = ar[j] + b[j];
      break;
    case GL_SUB:
#pragma omp simd
      for (long j = 0; j < inner; j++) yr[j] = ar[j] - b[j];
      break;
    case GL_MUL:
#pragma omp simd
      for (long j = 0; j < inner; j++) yr[j] = ar[j] * b[j];
      break;
    default:
#pragma omp simd
      for (long j = 0; j < inner; j++) yr[j] = ar[j] / b[j];
    }
  }
}

/* Gradient of k_binary. da has n elements, db has `inner` (summed over the broadcast dims).
 * Either may be NULL. acc_*: add into the output instead of overwriting. */
void k_binary_bwd(int op, const float *a, const float *b, const float *dy, float *da, float *db,
                  long n, long inner, int acc_a, int acc_b) {
  if (da) {
    long outer = n / inner;
#pragma omp parallel for PAR_IF(n) schedule(static)
    for (long o = 0; o < outer; o++) {
      const float *g = dy + o * inner;
      float *d = da + o * inner;
      const float *brow = b; /* same shape: outer == 1; broadcast: the same b row for every o */
      for (long j = 0; j < inner; j++) {
        float v;
        switch (op) {
        case GL_ADD: case GL_SUB: v = g[j]; break;
        case GL_MUL: v = g[j] * brow[j]; break;
        default: v = g[j] / brow[j];
        }
        d[j] = acc_a ? d[j] + v : v;
      }
    }
  }
  if (db) {
    long outer = n / inner;
    /* Partition the db entries across threads; each sums over `outer` in order (deterministic). */
#pragma omp parallel PAR_IF(n)
    {
      long lo, hi;
      split_range(inner, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
      for (long j = lo; j < hi; j++) {
        double s = 0.0;
        for (long o = 0; o < outer; o++) {
          long i = o * inner + j;
          switch (op) {
          case GL_ADD: s += dy[i]; break;
          case GL_SUB: s -= dy[i]; break;
          case GL_MUL: s += (double)dy[i] * a[i]; break;
          default: { double bj = b[j]; s -= (double)dy[i] * a[i] / (bj * bj); }
          }
        }
        db[j] = acc_b ? db[j] + (float)s : (float)s;
      }
    }
  }
}

void k_axpby(const float *x, const float *y, float *out, long n, float a, float b) {
#pragma omp parallel for simd PAR_IF(n) schedule(static)
  for (long i = 0; i < n; i++) out[i] = a * x[i] + b * y[i];
}

/* out = x * mul + s */
void k_add_scalar(const float *x, float *out, long n, float s, float mul) {
#pragma omp parallel for simd PAR_IF(n) schedule(static)
  for (long i = 0; i < n; i++) out[i] = x[i] * mul + s;
}

#define GELU_C 0.7978845608028654f /* sqrt(2/pi) */
#define GELU_A 0.044715f

void k_unary(int op, const float *x, float *y, long n) {
  switch (op) {
  case GL_GELU:
#pragma omp parallel for simd if (n > 4096) schedule(static)
    for (long i = 0; i < n; i++) {
      float v = x[i];
      y[i] = 0.5f * v * (1.0f + tanhf(GELU_C * (v + GELU_A * v * v * v)));
    }
    break;
  case GL_SILU:
#pragma omp parallel for simd if (n > 4096) schedule(static)
    for (long i = 0; i < n; i++) y[i] = x[i] / (1.0f + expf(-x[i]));
    break;
  case GL_SIGMOID:
#pragma omp parallel for simd if (n > 4096) schedule(static)
    for (long i = 0; i < n; i++) y[i] = 1.0f / (1.0f + expf(-x[i]));
    break;
  case GL_TANH:
#pragma omp parallel for simd if (n > 4096) schedule(static)
    for (long i = 0; i < n; i++) y[i] = tanhf(x[i]);
    break;
  case GL_EXP:
#pragma omp parallel for simd if (n > 4096) schedule(static)
    for (long i = 0; i < n; i++) y[i] = expf(x[i]);
    break;
  case GL_SOFTPLUS:
#pragma omp parallel for simd if (n > 4096) schedule(static)
    for (long i = 0; i < n; i++) y[i] = x[i] > 20.0f ? x[i] : log1pf(expf(x[i]));
    break;
  case GL_RELU:
#pragma omp parallel for simd PAR_IF(n) schedule(static)
    for (long i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
    break;
  case GL_LOG:
#pragma omp parallel for simd if (n > 4096) schedule(static)
    for (long i = 0; i < n; i++) y[i] = logf(x[i]);
    break;
  case GL_SQUARE:
#pragma omp parallel for simd PAR_IF(n) schedule(static)
    for (long i = 0; i < n; i++) y[i] = x[i] * x[i];
    break;
  default: /* GL_NEG */
#pragma omp parallel for simd PAR_IF(n) schedule(static)
    for (long i = 0; i < n; i++) y[i] = -x[i];
  }
}

/* dx (+)= dy * f'(x); y = f(x) is passed for ops whose derivative is cheapest from the output.
 * One loop per op (a switch inside the loop would stop gcc from vectorising tanhf/expf). */
#define UNARY_BWD_LOOP(EXPR)                                                     \
  if (acc) {                                                                     \
    _Pragma("omp parallel for simd if (n > 4096) schedule(static)")             \
    for (long i = 0; i < n; i++) dx[i] += dy[i] * (EXPR);                        \
  } else {                                                                       \
    _Pragma("omp parallel for simd if (n > 4096) schedule(static)")             \
    for (long i = 0; i < n; i++) dx[i] = dy[i] * (EXPR);                         \
  }

static inline float gelu_grad(float v) {
  float t = tanhf(GELU_C * (v + GELU_A * v * v * v));
  return 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * GELU_C * (1.0f + 3.0f * GELU_A * v * v);
}
static inline float silu_grad(float v) {
  float s = 1.0f / (1.0f + expf(-v));
  return s * (1.0f + v * (1.0f - s));
}

void k_unary_bwd(int op, const float *x, const float *y, const float *dy, float *dx, long n, int acc) {
  switch (op) {
  case GL_GELU: UNARY_BWD_LOOP(gelu_grad(x[i])) break;
  case GL_SILU: UNARY_BWD_LOOP(silu_grad(x[i])) break;
  case GL_SIGMOID: UNARY_BWD_LOOP(y[i] * (1.0f - y[i])) break;
  case GL_TANH: UNARY_BWD_LOOP(1.0f - y[i] * y[i]) break;
  case GL_EXP: UNARY_BWD_LOOP(y[i]) break;
  case GL_SOFTPLUS: UNARY_BWD_LOOP(1.0f / (1.0f + expf(-x[i]))) break;
  case GL_RELU: UNARY_BWD_LOOP(x[i] > 0.0f ? 1.0f : 0.0f) break;
  case GL_LOG: UNARY_BWD_LOOP(1.0f / x[i]) break;
  case GL_SQUARE: UNARY_BWD_LOOP(2.0f * x[i]) break;
  default: UNARY_BWD_LOOP(-1.0f)
  }
}

/* Row softmax of scale*x. With causal_t > 0, row r is query position q = r % causal_t + causal_off
 * and only columns j <= q take part; the others get exactly 0. */
void k_softmax(const float *x, float *y, long rows, long cols, float scale, long causal_t, long causal_off) {
#pragma omp parallel for PAR_IF(rows * cols) schedule(static)
  for (long r = 0; r < rows; r++) {
    long valid = cols;
    if (causal_t > 0) {
      valid = r % causal_t + causal_off + 1;
      if (valid > cols) valid = cols;
      if (valid < 0) valid = 0;
    }
    gl_softmax_row(x + r * cols, y + r * cols, cols, valid, scale);
  }
}

void k_softmax_bwd(const float *y, const float *dy, float *dx, long rows, long cols, float scale, int acc) {
#pragma omp parallel for PAR_IF(rows * cols) schedule(static)
  for (long r = 0; r < rows; r++) gl_softmax_bwd_row(y + r * cols, dy + r * cols, dx + r * cols, cols, scale, acc);
}

void k_log_softmax(const float *x, float *y, long rows, long cols) {
#pragma omp parallel for PAR_IF(rows * cols) schedule(static)
  for (long r = 0; r < rows; r++) {
    const float *xr = x + r * cols;
    float *yr = y + r * cols;
    float mx = -3.0e38f;
    for (long j = 0; j < cols; j++) mx = xr[j] > mx ? xr[j] : mx;
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (long j = 0; j < cols; j++) s += expf(xr[j] - mx);
    float lse = mx + logf(s);
#pragma omp simd
    for (long j = 0; j < cols; j++) yr[j] = xr[j] - lse;
  }
}

/* y = log_softmax(x): dx = dy - exp(y) * sum(dy) */
void k_log_softmax_bwd(const float *y, const float *dy, float *dx, long rows, long cols, int acc) {
#pragma omp parallel for PAR_IF(rows * cols) schedule(static)
  for (long r = 0; r < rows; r++) {
    const float *yr = y + r * cols, *gr = dy + r * cols;
    float *dr = dx + r * cols;
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (long j = 0; j < cols; j++) s += gr[j];
    if (acc) {
#pragma omp simd
      for (long j = 0; j < cols; j++) dr[j] += gr[j] - expf(yr[j]) * s;
    } else {
#pragma omp simd
      for (long j = 0; j < cols; j++) dr[j] = gr[j] - expf(yr[j]) * s;
    }
  }
}

/* Per-row -log softmax(logits)[target]. Rows whose target == ignore get loss 0 (and zero gradient).
 * If dlogits != NULL it receives grad_scale * (softmax - onehot) in the same pass.
 * Returns the summed loss of counted rows (in a fixed order) and their number in *count. */
double k_cross_entropy(const float *logits, const int32_t *targets, float *losses, float *dlogits,
                       long rows, long V, float grad_scale, int32_t ignore, long *count) {
#pragma omp parallel for PAR_IF(rows * V) schedule(static)
  for (long r = 0; r < rows; r++) {
    const float *xr = logits + r * V;
    int32_t t = targets[r];
    if (t == ignore || t < 0 || t >= V) {
      losses[r] = 0.0f;
      if (dlogits) memset(dlogits + r * V, 0, sizeof(float) * V);
      continue;
    }
    float mx = -3.0e38f;
    for (long j = 0; j < V; j++) mx = xr[j] > mx ? xr[j] : mx;
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (long j = 0; j < V; j++) s += expf(xr[j] - mx);
    float lse = mx + logf(s);
    losses[r] = lse - xr[t];
    if (dlogits) {
      float *dr = dlogits + r * V;
#pragma omp simd
      for (long j = 0; j < V; j++) dr[j] = grad_scale * expf(xr[j] - lse);
      dr[t] -= grad_scale;
    }
  }
  double total = 0.0;
  long c = 0;
  for (long r = 0; r < rows; r++) {
    int32_t t = targets[r];
    if (t == ignore || t < 0 || t >= V) continue;
    total += losses[r];
    c++;
  }
  *count = c;
  return total;
}

void k_layernorm(const float *x, const float *g, const float *b, float *y, float *mean, float *rstd,
                 long rows, long cols, float eps) {
#pragma omp parallel for PAR_IF(rows * cols) schedule(static)
  for (long r = 0; r < rows; r++) {
    const float *xr = x + r * cols;
    float *yr = y + r * cols;
    float m = 0.0f;
#pragma omp simd reduction(+ : m)
    for (long j = 0; j < cols; j++) m += xr[j];
    m /= cols;
    float v = 0.0f;
#pragma omp simd reduction(+ : v)
    for (long j = 0; j < cols; j++) v += (xr[j] - m) * (xr[j] - m);
    v /= cols;
    float rs = 1.0f / sqrtf(v + eps);
    mean[r] = m;
    rstd[r] = rs;
#pragma omp simd
    for (long j = 0; j < cols; j++) yr[j] = (xr[j] - m) * rs * g[j] + b[j];
  }
}

/* dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dy * g.
 * dg = sum_r dy * xhat, db = sum_r dy (overwritten; partitioned by column: deterministic). */
void k_layernorm_bwd(const float *x, const float *g, const float *mean, const float *rstd, const float *dy,
                     float *dx, float *dg, float *db, long rows, long cols, int acc_dx) {
  if (dx) {
#pragma omp parallel for PAR_IF(rows * cols) schedule(static)
    for (long r = 0; r < rows; r++) {
      const float *xr = x + r * cols, *gr = dy + r * cols;
      float *dr = dx + r * cols;
      float m = mean[r], rs = rstd[r];
      float s1 = 0.0f, s2 = 0.0f;
#pragma omp simd reduction(+ : s1, s2)
      for (long j = 0; j < cols; j++) {
        float dxh = gr[j] * g[j];
        s1 += dxh;
        s2 += dxh * (xr[j] - m) * rs;
      }
      s1 /= cols;
      s2 /= cols;
#pragma omp simd
      for (long j = 0; j < cols; j++) {
        float xh = (xr[j] - m) * rs;
        float v = rs * (gr[j] * g[j] - s1 - xh * s2);
        dr[j] = acc_dx ? dr[j] + v : v;
      }
    }
  }
  if (dg || db) {
#pragma omp parallel PAR_IF(rows * cols)
    {
      long lo, hi;
      split_range(cols, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
      if (hi > lo) {
        float *sg = calloc(hi - lo, sizeof(float)), *sb = calloc(hi - lo, sizeof(float));
        for (long r = 0; r < rows; r++) {
          const float *xr = x + r * cols, *gr = dy + r * cols;
          float m = mean[r], rs = rstd[r];
#pragma omp simd
          for (long j = lo; j < hi; j++) {
            sg[j - lo] += gr[j] * (xr[j] - m) * rs;
            sb[j - lo] += gr[j];
          }
        }
        for (long j = lo; j < hi; j++) {
          if (dg) dg[j] = sg[j - lo];
          if (db) db[j] = sb[j - lo];
        }
        free(sg);
        free(sb);
      }
    }
  }
}

void k_rmsnorm(const float *x, const float *g, float *y, float *rstd, long rows, long cols, float eps) {
#pragma omp parallel for PAR_IF(rows * cols) schedule(static)
  for (long r = 0; r < rows; r++) {
    const float *xr = x + r * cols;
    float *yr = y + r * cols;
    float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
    for (long j = 0; j < cols; j++) ss += xr[j] * xr[j];
    float rs = 1.0f / sqrtf(ss / cols + eps);
    rstd[r] = rs;
#pragma omp simd
    for (long j = 0; j < cols; j++) yr[j] = xr[j] * rs * g[j];
  }
}

/* y = x * rstd * g, rstd = (mean(x^2)+eps)^-1/2: dx = rstd * (dy*g - xhat * mean(dy*g*xhat)), dg = sum_r dy*xhat */
void k_rmsnorm_bwd(const float *x, const float *g, const float *rstd, const float *dy, float *dx, float *dg,
                   long rows, long cols, int acc_dx) {
  if (dx) {
#pragma omp parallel for PAR_IF(rows * cols) schedule(static)
    for (long r = 0; r < rows; r++) {
      const float *xr = x + r * cols, *gr = dy + r * cols;
      float *dr = dx + r * cols;
      float rs = rstd[r];
      float s = 0.0f;
#pragma omp simd reduction(+ : s)
      for (long j = 0; j < cols; j++) s += gr[j] * g[j] * xr[j] * rs;
      s /= cols;
#pragma omp simd
      for (long j = 0; j < cols; j++) {
        float v = rs * (gr[j] * g[j] - xr[j] * rs * s);
        dr[j] = acc_dx ? dr[j] + v : v;
      }
    }
  }
  if (dg) {
#pragma omp parallel PAR_IF(rows * cols)
    {
      long lo, hi;
      split_range(cols, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
      if (hi > lo) {
        float *sg = calloc(hi - lo, sizeof(float));
        for (long r = 0; r < rows; r++) {
          const float *xr = x + r * cols, *gr = dy + r * cols;
          float rs = rstd[r];
#pragma omp simd
          for (long j = lo; j < hi; j++) sg[j - lo] += gr[j] * xr[j] * rs;
        }
        for (long j = lo; j < hi; j++) dg[j] = sg[j - lo];
        free(sg);
      }
    }
  }
}

void k_embedding(const int32_t *ids, long n, const float *table, long vocab, float *out, long dim) {
#pragma omp parallel for PAR_IF(n * dim) schedule(static)
  for (long i = 0; i < n; i++) {
    int32_t id = ids[i];
    if (id < 0 || id >= vocab) memset(out + i * dim, 0, sizeof(float) * dim);
    else memcpy(out + i * dim, table + (long)id * dim, sizeof(float) * dim);
  }
}

/* dtable[id] += dout[i]; columns are partitioned across threads so no two threads touch the
 * same address and every sum runs in index order (deterministic). */
void k_embedding_bwd(const int32_t *ids, long n, const float *dout, float *dtable, long vocab, long dim) {
#pragma omp parallel PAR_IF(n * dim)
  {
    long lo, hi;
    split_range(dim, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
    for (long i = 0; i < n; i++) {
      int32_t id = ids[i];
      if (id < 0 || id >= vocab) continue;
      float *d = dtable + (long)id * dim;
      const float *g = dout + i * dim;
#pragma omp simd
      for (long j = lo; j < hi; j++) d[j] += g[j];
    }
  }
}

/* dst[idx . dstride] (+)= src[idx . sstride] over all idx < shape (nd <= 8). Permutes, slices,
 * concatenations and their gradients are all this one kernel. */
void k_strided_copy(const float *src, float *dst, int nd, const long *shape, const long *sstride,
                    const long *dstride, int acc) {
  if (nd == 0) {
    dst[0] = acc ? dst[0] + src[0] : src[0];
    return;
  }
  long inner = shape[nd - 1], si = sstride[nd - 1], di = dstride[nd - 1];
  long outer = 1;
  for (int d = 0; d < nd - 1; d++) outer *= shape[d];
#pragma omp parallel for PAR_IF(outer * inner) schedule(static)
  for (long o = 0; o < outer; o++) {
    long rem = o, so = 0, dof = 0;
    for (int d = nd - 2; d >= 0; d--) {
      long c = rem % shape[d];
      rem /= shape[d];
      so += c * sstride[d];
      dof += c * dstride[d];
    }
    const float *s = src + so;
    float *t = dst + dof;
    if (si == 1 && di == 1) {
      if (acc) {
#pragma omp simd
        for (long j = 0; j < inner; j++) t[j] += s[j];
      } else {
        memcpy(t, s, sizeof(float) * inner);
      }
    } else if (acc) {
      for (long j = 0; j < inner; j++) t[j * di] += s[j * si];
    } else {
      for (long j = 0; j < inner; j++) t[j * di] = s[j * si];
    }
  }
}

/* Sum in double over per-thread contiguous ranges, combined in thread order. */
#define DET_REDUCE(n, EXPR)                                                      \
  double partial[256] = {0};                                                     \
  int used = 1;                                                                  \
  _Pragma("omp parallel if (n > 32768)") {                                           \
    int t = omp_get_thread_num(), nt = omp_get_num_threads();                   \
    if (t == 0) used = nt;                                                       \
    long lo, hi;                                                                 \
    split_range(n, t, nt, &lo, &hi);                                             \
    double s = 0.0;                                                              \
    for (long i = lo; i < hi; i++) s += (EXPR);                                  \
    if (t < 256) partial[t] = s;                                                 \
  }                                                                              \
  double total = 0.0;                                                            \
  for (int t = 0; t < used && t < 256; t++) total += partial[t];                 \
  return total;

double k_sum(const float *x, long n) { DET_REDUCE(n, (double)x[i]) }
double k_sum_squares(const float *x, long n) { DET_REDUCE(n, (double)x[i] * x[i]) }
double k_dot(const float *a, const float *b, long n) { DET_REDUCE(n, (double)a[i] * b[i]) }

/* out[j] (+)= sum_o x[o*inner + j] */
void k_sum_outer(const float *x, float *out, long outer, long inner, int acc) {
#pragma omp parallel PAR_IF(outer * inner)
  {
    long lo, hi;
    split_range(inner, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
    if (hi > lo) {
      double *s = calloc(hi - lo, sizeof(double));
      for (long o = 0; o < outer; o++) {
        const float *xr = x + o * inner;
        for (long j = lo; j < hi; j++) s[j - lo] += xr[j];
      }
      for (long j = lo; j < hi; j++) out[j] = acc ? out[j] + (float)s[j - lo] : (float)s[j - lo];
      free(s);
    }
  }
}

/* out[o] (+)= sum_j x[o*inner + j] */
void k_sum_inner(const float *x, float *out, long outer, long inner, int acc) {
#pragma omp parallel for PAR_IF(outer * inner) schedule(static)
  for (long o = 0; o < outer; o++) {
    const float *xr = x + o * inner;
    double s = 0.0;
    for (long j = 0; j < inner; j++) s += xr[j];
    out[o] = acc ? out[o] + (float)s : (float)s;
  }
}

/* PyTorch's AdamW: p -= lr*wd*p; m,v EMAs; p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps). */
void k_adamw(float *p, const float *g, float *m, float *v, long n, float lr, float b1, float b2, float eps,
             float wd, float bc1, float bc2) {
  float step = lr / bc1, sq = 1.0f / sqrtf(bc2), decay = 1.0f - lr * wd;
#pragma omp parallel for simd PAR_IF(n) schedule(static)
  for (long i = 0; i < n; i++) {
    float gi = g[i];
    float mi = b1 * m[i] + (1.0f - b1) * gi;
    float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * decay - step * mi / (sqrtf(vi) * sq + eps);
  }
}

/* Inclusive cumulative sum along rows (reverse: from the end). */
void k_cumsum(const float *x, float *y, long rows, long cols, int reverse, int acc) {
#pragma omp parallel for PAR_IF(rows * cols) schedule(static)
  for (long r = 0; r < rows; r++) {
    const float *xr = x + r * cols;
    float *yr = y + r * cols;
    float s = 0.0f;
    if (!reverse) {
      for (long j = 0; j < cols; j++) {
        s += xr[j];
        yr[j] = acc ? yr[j] + s : s;
      }
    } else {
      for (long j = cols - 1; j >= 0; j--) {
        s += xr[j];
        yr[j] = acc ? yr[j] + s : s;
      }
    }
  }
}
