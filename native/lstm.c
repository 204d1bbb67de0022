/* LSTM kernels: the whole time loop of one layer, forward and backward (BPTT), in one call.
 *
 * Layout (batch-major, as the model's activations):
 *   G   [B, T, 4H]  gates, order i, f, g, o (torch.nn.LSTM). Forward: in = x_t W_ihᵀ for every t
 *                   (one big GEMM done by the caller), out = the activated gates, kept for backward.
 *   Hs  [B, T, H]   hidden states h_t (the layer's output)
 *   Cs  [B, T, H]   cell states c_t
 *   whh [4H, H]     recurrent weight W_hh (torch layout), bias [4H] = b_ih + b_hh
 *
 * Per time step: one GEMM  G_t += h_{t-1} W_hhᵀ  ([B, H] · [H, 4H], strided rows, ldc = T·4H),
 * then the fused gate kernel
 *   i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o);  c_t = f∘c_{t-1} + i∘g;  h_t = o∘tanh(c_t)
 * with h_{-1} = c_{-1} = 0. Backward per step (reverse): the gate kernel's VJP, then
 * dh_{t-1} = dA_t W_hh ([B, 4H] · [4H, H]). The weight gradients are not needed inside the loop:
 * the caller gets them from dA with big GEMMs afterwards.
 *
 * Threads (OpenBLAS single-threaded inside every mode but serial):
 *   batch   (default) rows are independent sequences, so each thread runs the whole loop on
 *           its share of the batch: no synchronisation at all between steps;
 *   hidden  the hidden units are split over threads inside one OpenMP region that lives for the
 *           whole loop, with a spin-then-yield barrier per step (for batches too small to split);
 *   serial  one thread, OpenBLAS threads each step's GEMM (1 thread, or no OpenBLAS).
 * GROUNDLAB_LSTM_MODE=batch|hidden|serial overrides the choice (benchmarks). Results are deterministic
 * for a fixed thread count.
 */
#include <math.h>
#include <omp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include "gl.h"
#include "napi_util.h"

static inline float sigm(float x) { return 1.0f / (1.0f + expf(-x)); }

/* The gate kernels are transcendental-bound: 512-bit vectors (libmvec's 16-lane expf/tanhf)
 * make them ~1.5x faster than gcc's default 256-bit choice on AVX-512 machines. */
#if defined(__AVX512F__)
#define GATE_ATTR __attribute__((target("prefer-vector-width=512")))
#else
#define GATE_ATTR
#endif

/* Gate kernel of one step for batch rows [0, B) and hidden units [j0, j1).
 * a = G + b*ldg: the x-projection of row b (columns q*H + j), overwritten with the activated
 * gates; ex (row stride lde, columns q*hw + (j - j0)) is the recurrent term h_{t-1} W_hhᵀ when it
 * was computed into a scratch (NULL when it was accumulated into G directly or t = 0).
 * cprev: c_{t-1} with row stride ldcp (ldcp = 0 and a zero row for t = 0). */
GATE_ATTR static void gates_fwd(long B, long H, long j0, long j1, float *G, long ldg, const float *ex, long lde, const float *bias,
                                const float *cprev, long ldcp, float *h, float *c, long ldhc) {
  const long hw = j1 - j0;
  /* One pass per row (bias and recurrent term folded into the activation loop: ~25% faster than
     a separate bias pass at H = 160). */
#define GATE_BODY(AI, AF, AG, AO)                                                        \
  {                                                                                      \
    float i = sigm(AI), f = sigm(AF), g = tanhf(AG), o = sigm(AO);                       \
    float cc = f * cp[j] + i * g;                                                        \
    a[j] = i;                                                                            \
    a[H + j] = f;                                                                        \
    a[2 * H + j] = g;                                                                    \
    a[3 * H + j] = o;                                                                    \
    cb[j] = cc;                                                                          \
    hb[j] = o * tanhf(cc);                                                               \
  }
  for (long b = 0; b < B; b++) {
    float *a = G + b * ldg;
    const float *cp = cprev + b * ldcp;
    float *hb = h + b * ldhc, *cb = c + b * ldhc;
    if (ex) {
      const float *e = ex + b * lde - j0;
#pragma omp simd
      for (long j = j0; j < j1; j++)
        GATE_BODY(a[j] + bias[j] + e[j], a[H + j] + bias[H + j] + e[hw + j], a[2 * H + j] + bias[2 * H + j] + e[2 * hw + j],
                  a[3 * H + j] + bias[3 * H + j] + e[3 * hw + j])
    } else {
#pragma omp simd
      for (long j = j0; j < j1; j++) GATE_BODY(a[j] + bias[j], a[H + j] + bias[H + j], a[2 * H + j] + bias[2 * H + j], a[3 * H + j] + bias[3 * H + j])
    }
  }
#undef GATE_BODY
}

/* VJP of the gate kernel at one step for hidden units [j0, j1): dA (pre-activation gradients)
 * and the carried dc (in: dc_{t+1}∘f_{t+1}, out: dc_t∘f_t). dh_t = dHs_t + dhrec (the recurrent
 * gradient from step t+1). Optional inputs come with a row stride: stride 0 and a zero row when
 * absent (no gradient reached that output, or t = 0 / T-1). */
GATE_ATTR static void gates_bwd(long B, long H, long j0, long j1, const float *G, long ldg, const float *c, long ldc_, const float *cprev,
                      long ldcp, const float *dHs, long lddh, const float *dCs, long lddc, const float *dhrec, long ldrec, float *dc,
                      float *dA, long ldda) {
  for (long b = 0; b < B; b++) {
    const float *a = G + b * ldg;
    const float *cb = c + b * ldc_, *cp = cprev + b * ldcp;
    const float *dh1 = dHs + b * lddh, *dc1 = dCs + b * lddc, *dh2 = dhrec + b * ldrec;
    float *dcb = dc + b * H;
    float *d = dA + b * ldda;
#pragma omp simd
    for (long j = j0; j < j1; j++) {
      float i = a[j], f = a[H + j], g = a[2 * H + j], o = a[3 * H + j];
      float dh = dh1[j] + dh2[j];
      float tc = tanhf(cb[j]);
      float dcc = dcb[j] + dc1[j] + dh * o * (1.0f - tc * tc);
      d[j] = dcc * g * i * (1.0f - i);
      d[H + j] = dcc * cp[j] * f * (1.0f - f);
      d[2 * H + j] = dcc * i * (1.0f - g * g);
      d[3 * H + j] = dh * tc * o * (1.0f - o);
      dcb[j] = dcc * f;
    }
  }
}

/* ---- thread control ---------------------------------------------------------------------- */

/* OpenBLAS is linked into the addon when available; these are weak so the addon still loads
 * (falling back to gl_gemm) when it is not. */
extern void openblas_set_num_threads(int) __attribute__((weak));

typedef struct {
  volatile int count;
  volatile int gen;
} spin_barrier;

/* Generation barrier: spins for about the length of one step (both threads run the same loop,
 * so the wait is normally a few µs), then yields the core, in case another process holds it. */
static void barrier_wait(spin_barrier *bar, int n, int *local_gen) {
  int g = *local_gen;
  if (__atomic_add_fetch(&bar->count, 1, __ATOMIC_ACQ_REL) == n) {
    __atomic_store_n(&bar->count, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&bar->gen, g + 1, __ATOMIC_RELEASE);
  } else {
    long spins = 0;
    while (__atomic_load_n(&bar->gen, __ATOMIC_ACQUIRE) == g) {
      if (++spins < 2000) __builtin_ia32_pause();
      else sched_yield();
    }
  }
  *local_gen = g + 1;
}

enum { MODE_SERIAL = 0, MODE_BATCH = 1, MODE_HIDDEN = 2 };

/* How to use the threads for the time loop (see the header). Batch split needs no barrier, but
 * every thread streams all of W_hh each step: fine while W_hh stays in a core's L2 (H <= 256) or
 * the per-thread GEMMs are tall enough to amortise it; otherwise split the hidden units, if a
 * step has enough work (>= 1M multiply-adds) to pay for a barrier: on a busy machine a barrier
 * wait can cost tens of µs when the other thread is descheduled.
 * GROUNDLAB_LSTM_MODE=serial|batch|hidden overrides the choice (benchmarks, tests). */
static int loop_mode(long B, long H, int *nt_out) {
  int nt = gl_threads, mode;
  if (B >= nt && (B / nt >= 8 || 16 * H * H <= (1L << 20))) mode = MODE_BATCH;
  else if (H >= 16L * nt && 4 * B * H * H >= (1L << 20)) mode = MODE_HIDDEN;
  else mode = B >= 2 ? MODE_BATCH : MODE_SERIAL; /* too little work per step to pay for a barrier */
  const char *e = getenv("GROUNDLAB_LSTM_MODE");
  if (e && e[0] == 's') mode = MODE_SERIAL;
  else if (e && e[0] == 'b') mode = MODE_BATCH;
  else if (e && e[0] == 'h') mode = MODE_HIDDEN;
  if (mode == MODE_BATCH && nt > B) nt = (int)B;
  if (mode == MODE_HIDDEN && nt > H / 16) nt = (int)(H / 16);
  /* Without OpenBLAS, gl_gemm threads itself: keep the loop serial. */
  if (nt <= 1 || !openblas_set_num_threads) mode = MODE_SERIAL;
  *nt_out = mode == MODE_SERIAL ? 1 : nt;
  return mode;
}

/* Units of thread p: [H*p/nt, H*(p+1)/nt), rounded to multiples of 8 for aligned vector work. */
static long unit_start(long H, int p, int nt) {
  if (p == 0) return 0;
  if (p == nt) return H;
  long s = (H * p / nt + 4) / 8 * 8;
  return s;
}

/* ---- prefetch ------------------------------------------------------------------------------ */

/* The rows a step touches are T·4H floats apart (batch-major buffers, one page or more per row),
 * which the hardware prefetchers do not follow. In the backward loop, prefetching the next
 * step's gates, states and gradients (~200 KB at B = 32, H = 160) just before a step's GEMM, so
 * they land in L2 while it runs, saves ~6% per step; in the forward loop it measured slower. */
static inline void prefetch_rows(const float *p, long rows, long ld, long n, int write) {
  for (long r = 0; r < rows; r++) {
    const char *q = (const char *)(p + r * ld);
    for (long off = 0; off < n * 4; off += 64) {
      if (write) __builtin_prefetch(q + off, 1, 3);
      else __builtin_prefetch(q + off, 0, 3);
    }
  }
}

/* ---- GEMM shapes ------------------------------------------------------------------------- */

/* C[M, N] (+)= A[M, K] · B[K, N], both untransposed. Measured with this machine's OpenBLAS
 * 0.3.21 (Cooperlake kernels) at the LSTM's shapes: NN is 1.3-3x faster than NT for skinny A
 * (so the forward uses a transposed copy of W_hh), and below ~24 rows blocks of 4 rows take the
 * small-matrix path without packing: [16 x 160]·[160 x 640] in 31 µs instead of 38 µs. Above
 * H = 256 every call packs B anyway, so blocking would only repeat that. */
static void gemm_nn_rows(long M, long N, long K, long H, const float *A, long lda, const float *B, long ldb, float beta, float *C, long ldc) {
  if (M >= 24 || H > 256) {
    gl_gemm(0, 0, (int)M, (int)N, (int)K, 1.0f, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
    return;
  }
  for (long m0 = 0; m0 < M; m0 += 4) {
    long mb = M - m0 < 4 ? M - m0 : 4;
    gl_gemm(0, 0, (int)mb, (int)N, (int)K, 1.0f, A + m0 * lda, (int)lda, B, (int)ldb, beta, C + m0 * ldc, (int)ldc);
  }
}

/* Wt[k, q*w + j] = W[q*H + j0 + j, k]: the transpose of W_hh's rows for units [j0, j0 + w) of
 * each gate, [H, 4w] (the whole transpose for j0 = 0, w = H). */
static void transpose_gate_rows(const float *W, long H, long j0, long w, float *Wt) {
  for (int q = 0; q < 4; q++)
    for (long j = 0; j < w; j++) {
      const float *row = W + (q * H + j0 + j) * H;
      for (long k = 0; k < H; k++) Wt[k * 4 * w + q * w + j] = row[k];
    }
}

/* ---- forward ----------------------------------------------------------------------------- */

/* The serial loop over rows [0, B) of the given (offset) buffers; whhT = W_hhᵀ [H, 4H]. */
static void fwd_rows(long B, long T, long H, float *G, const float *whhT, const float *bias, float *Hs, float *Cs, const float *zero) {
  const long G4 = 4 * H, ldg = T * G4, ldh = T * H;
  for (long t = 0; t < T; t++) {
    if (t > 0) gemm_nn_rows(B, G4, H, H, Hs + (t - 1) * H, ldh, whhT, G4, 1.0f, G + t * G4, ldg); /* += h_{t-1} W_hhᵀ */
    gates_fwd(B, H, 0, H, G + t * G4, ldg, NULL, 0, bias, t > 0 ? Cs + (t - 1) * H : zero, t > 0 ? ldh : 0, Hs + t * H, Cs + t * H, ldh);
  }
}

void gl_lstm_fwd(long B, long T, long H, float *G, const float *whh, const float *bias, float *Hs, float *Cs) {
  const long G4 = 4 * H, ldg = T * G4, ldh = T * H;
  float *zero = calloc((size_t)H, sizeof(float));
  int nt;
  int mode = loop_mode(B, H, &nt);
  float *whhT = mode == MODE_HIDDEN ? NULL : malloc(sizeof(float) * G4 * H);
  if (whhT) transpose_gate_rows(whh, H, 0, H, whhT);
  if (mode == MODE_SERIAL) {
    fwd_rows(B, T, H, G, whhT, bias, Hs, Cs, zero);
  } else if (mode == MODE_BATCH) {
    /* Rows are independent sequences: each thread runs the whole loop on its share of them. */
    gl_blas_serial(1);
#pragma omp parallel num_threads(nt)
    {
      int p = omp_get_thread_num();
      long b0 = B * p / nt, b1 = B * (p + 1) / nt;
      fwd_rows(b1 - b0, T, H, G + b0 * ldg, whhT, bias, Hs + b0 * ldh, Cs + b0 * ldh, zero);
    }
    gl_blas_serial(0);
  } else {
    /* Per thread: the transpose of its rows of W_hh, [H, 4*hw] (gate q of units [j0, j1) in
     * columns q*hw..), and a scratch [B, 4*hw] for h_{t-1} · W_pᵀ. One barrier per step: the GEMM
     * of step t reads every column of h_{t-1}; each thread writes only its own columns of h_t,
     * c_t and G_t. */
    long maxw = 0;
    for (int p = 0; p < nt; p++) {
      long w = unit_start(H, p + 1, nt) - unit_start(H, p, nt);
      if (w > maxw) maxw = w;
    }
    float *wp = malloc(sizeof(float) * (size_t)nt * 4 * maxw * H);
    float *scratch = malloc(sizeof(float) * (size_t)nt * B * 4 * maxw);
    spin_barrier bar = {0, 0};
    gl_blas_serial(1);
#pragma omp parallel num_threads(nt)
    {
      int p = omp_get_thread_num(), lg = 0;
      long j0 = unit_start(H, p, nt), j1 = unit_start(H, p + 1, nt), hw = j1 - j0;
      float *W = wp + (size_t)p * 4 * maxw * H, *S = scratch + (size_t)p * B * 4 * maxw;
      transpose_gate_rows(whh, H, j0, hw, W);
      for (long t = 0; t < T; t++) {
        if (t > 0) {
          gemm_nn_rows(B, 4 * hw, H, H, Hs + (t - 1) * H, ldh, W, 4 * hw, 0.0f, S, 4 * hw);
          gates_fwd(B, H, j0, j1, G + t * G4, ldg, S, 4 * hw, bias, Cs + (t - 1) * H, ldh, Hs + t * H, Cs + t * H, ldh);
        } else {
          gates_fwd(B, H, j0, j1, G, ldg, NULL, 0, bias, zero, 0, Hs, Cs, ldh);
        }
        if (t + 1 < T) barrier_wait(&bar, nt, &lg);
      }
    }
    gl_blas_serial(0);
    free(wp);
    free(scratch);
  }
  free(whhT);
  free(zero);
}

/* ---- backward ---------------------------------------------------------------------------- */

/* dA [B, T, 4H] = gradients of the gate pre-activations, from dHs / dCs (either may be NULL:
 * no gradient reached that output). work: 2*B*H floats (carried dc, recurrent dh). */
/* The serial BPTT loop over rows [0, B) of the given (offset) buffers; dc, dhrec: [B, H]. */
static void bwd_rows(long B, long T, long H, const float *G, const float *Cs, const float *whh, const float *dHs, const float *dCs, float *dA,
                     float *dc, float *dhrec, const float *zero) {
  const long G4 = 4 * H, ldg = T * G4, ldh = T * H;
  memset(dc, 0, sizeof(float) * B * H);
  for (long t = T - 1; t >= 0; t--) {
    gates_bwd(B, H, 0, H, G + t * G4, ldg, Cs + t * H, ldh, t > 0 ? Cs + (t - 1) * H : zero, t > 0 ? ldh : 0, dHs ? dHs + t * H : zero,
              dHs ? ldh : 0, dCs ? dCs + t * H : zero, dCs ? ldh : 0, t < T - 1 ? dhrec : zero, t < T - 1 ? H : 0, dc, dA + t * G4, ldg);
    if (t > 0) {
      prefetch_rows(G + (t - 1) * G4, B, ldg, G4, 0); /* for step t-1 */
      prefetch_rows(dA + (t - 1) * G4, B, ldg, G4, 1);
      if (t > 1) prefetch_rows(Cs + (t - 2) * H, B, ldh, H, 0);
      if (dHs) prefetch_rows(dHs + (t - 1) * H, B, ldh, H, 0);
      if (dCs) prefetch_rows(dCs + (t - 1) * H, B, ldh, H, 0);
      gemm_nn_rows(B, H, G4, H, dA + t * G4, ldg, whh, H, 0.0f, dhrec, H); /* dA_t · W_hh */
    }
  }
}

/* dA [B, T, 4H] = gradients of the gate pre-activations, from dHs / dCs (either may be NULL:
 * no gradient reached that output). work: 2*B*H floats (carried dc, recurrent dh). */
void gl_lstm_bwd(long B, long T, long H, const float *G, const float *Cs, const float *whh, const float *dHs, const float *dCs,
                 float *dA, float *work) {
  const long G4 = 4 * H, ldg = T * G4, ldh = T * H;
  float *dc = work, *dhrec = work + B * H;
  float *zero = calloc((size_t)H, sizeof(float));
  int nt;
  int mode = loop_mode(B, H, &nt);
  if (mode == MODE_SERIAL) {
    bwd_rows(B, T, H, G, Cs, whh, dHs, dCs, dA, dc, dhrec, zero);
  } else if (mode == MODE_BATCH) {
    gl_blas_serial(1);
#pragma omp parallel num_threads(nt)
    {
      int p = omp_get_thread_num();
      long b0 = B * p / nt, b1 = B * (p + 1) / nt;
      bwd_rows(b1 - b0, T, H, G + b0 * ldg, Cs + b0 * ldh, whh, dHs ? dHs + b0 * ldh : NULL, dCs ? dCs + b0 * ldh : NULL, dA + b0 * ldg,
               dc + b0 * H, dhrec + b0 * H, zero);
    }
    gl_blas_serial(0);
  } else {
    /* Thread p owns hidden units [j0, j1): its gate kernel writes dA_t[:, q*H + j0..j1) and reads
     * dhrec[:, j0..j1), which its own GEMM computed, dhrec[:, j0..j1) = dA_t · W_hh[:, j0..j1).
     * That GEMM reads every column of dA_t, hence one barrier between the gate kernel and it. */
    memset(dc, 0, sizeof(float) * B * H);
    const long lddh = dHs ? ldh : 0, lddc = dCs ? ldh : 0;
    spin_barrier bar = {0, 0};
    gl_blas_serial(1);
#pragma omp parallel num_threads(nt)
    {
      int p = omp_get_thread_num(), lg = 0;
      long j0 = unit_start(H, p, nt), j1 = unit_start(H, p + 1, nt);
      for (long t = T - 1; t >= 0; t--) {
        gates_bwd(B, H, j0, j1, G + t * G4, ldg, Cs + t * H, ldh, t > 0 ? Cs + (t - 1) * H : zero, t > 0 ? ldh : 0, dHs ? dHs + t * H : zero,
                  lddh, dCs ? dCs + t * H : zero, lddc, t < T - 1 ? dhrec : zero, t < T - 1 ? H : 0, dc, dA + t * G4, ldg);
        if (t == 0) break;
        barrier_wait(&bar, nt, &lg);
        gemm_nn_rows(B, j1 - j0, G4, H, dA + t * G4, ldg, whh + j0, H, 0.0f, dhrec + j0, H);
      }
    }
    gl_blas_serial(0);
  }
  free(zero);
}

/* ---- bindings ---------------------------------------------------------------------------- */

/* lstmForward(B, T, H, G, whh, bias, Hs, Cs) */
FN(lstmForward) {
  ARGS(8);
  long B = LNG(env, argv[0]), T = LNG(env, argv[1]), H = LNG(env, argv[2]);
  size_t lg, lw, lb, lh, lc;
  float *G = F32(env, argv[3], &lg), *whh = F32(env, argv[4], &lw), *bias = F32(env, argv[5], &lb), *Hs = F32(env, argv[6], &lh),
        *Cs = F32(env, argv[7], &lc);
  FAILED();
  CHECK(B >= 0 && T >= 0 && H > 0, "lstmForward: bad dimensions");
  CHECK((long)lg == B * T * 4 * H && (long)lw == 4 * H * H && (long)lb == 4 * H && (long)lh == B * T * H && (long)lc == B * T * H,
        "lstmForward: buffer sizes do not match B, T, H");
  if (B > 0 && T > 0) gl_lstm_fwd(B, T, H, G, whh, bias, Hs, Cs);
  return NULL;
}

/* lstmBackward(B, T, H, G, Cs, whh, dHs | null, dCs | null, dA, work) */
FN(lstmBackward) {
  ARGS(10);
  long B = LNG(env, argv[0]), T = LNG(env, argv[1]), H = LNG(env, argv[2]);
  size_t lg, lc, lw, ldh, ldc, lda, lwk;
  float *G = F32(env, argv[3], &lg), *Cs = F32(env, argv[4], &lc), *whh = F32(env, argv[5], &lw);
  FAILED();
  float *dHs = F32opt(env, argv[6], &ldh);
  FAILED();
  float *dCs = F32opt(env, argv[7], &ldc);
  FAILED();
  float *dA = F32(env, argv[8], &lda), *work = F32(env, argv[9], &lwk);
  FAILED();
  CHECK(B >= 0 && T >= 0 && H > 0, "lstmBackward: bad dimensions");
  CHECK((long)lg == B * T * 4 * H && (long)lc == B * T * H && (long)lw == 4 * H * H && (long)lda == B * T * 4 * H && (long)lwk >= 2 * B * H,
        "lstmBackward: buffer sizes do not match B, T, H");
  CHECK((!dHs || (long)ldh == B * T * H) && (!dCs || (long)ldc == B * T * H), "lstmBackward: output gradients do not match B, T, H");
  if (B > 0 && T > 0) gl_lstm_bwd(B, T, H, G, Cs, whh, dHs, dCs, dA, work);
  return NULL;
}

void gl_register_lstm(napi_env env, napi_value exports) {
  DEFINE_EXPORTS(env, exports, EXPORT(lstmForward), EXPORT(lstmBackward));
}
