/* One row of the (scaled, optionally causal) softmax and of its backward: shared by the row kernels
 * (kernels.c k_softmax / k_softmax_bwd) and the fused attention (attention.c), so the fused path
 * does exactly the explicit path's arithmetic (their bitwise equality is tested). */
#ifndef GL_SOFTMAX_ROW_H
#define GL_SOFTMAX_ROW_H
#include <math.h>

/* y[j] = softmax(scale * x)[j] over the first `valid` columns; columns valid..cols-1 get exactly 0.
 * x and y may be the same row. */
static inline void gl_softmax_row(const float *xr, float *yr, long cols, long valid, float scale) {
  float mx = -3.0e38f;
  for (long j = 0; j < valid; j++) mx = xr[j] > mx ? xr[j] : mx;
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (long j = 0; j < valid; j++) {
    float e = expf((xr[j] - mx) * scale);
    yr[j] = e;
    s += e;
  }
  float inv = valid > 0 ? 1.0f / s : 0.0f;
#pragma omp simd
  for (long j = 0; j < valid; j++) yr[j] *= inv;
  for (long j = valid; j < cols; j++) yr[j] = 0.0f;
}

/* dx = scale · y ∘ (dy − Σ_j dy∘y) for one row (added to dx when acc); dx may be dy. */
static inline void gl_softmax_bwd_row(const float *yr, const float *gr, float *dr, long cols, float scale, int acc) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (long j = 0; j < cols; j++) s += yr[j] * gr[j];
  if (acc) {
#pragma omp simd
    for (long j = 0; j < cols; j++) dr[j] += scale * yr[j] * (gr[j] - s);
  } else {
#pragma omp simd
    for (long j = 0; j < cols; j++) dr[j] = scale * yr[j] * (gr[j] - s);
  }
}
#endif
