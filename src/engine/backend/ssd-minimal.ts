/**
 * The Mamba-2 SSD scan in a few readable lines, after `ssd_minimal_discrete` of the reference
 * implementation (state-spaces/mamba, mamba_ssm/modules/ssd_minimal.py; Dao & Gu 2024, §6-7,
 * Listing 1). For reading and for checking the fast kernels (ssd.ts, native/ssd.c), which follow
 * the same four steps with GEMMs, float32 and a backward pass; not used by the models.
 *
 * Glossary (one group of B/C shared by all heads, as in our models)
 *   Bt batch   T time   H heads   P channels per head   N state size   Q chunk length
 *   x  [Bt, T, H, P] input      dt [Bt, T, H] step sizes Δ > 0     A [H] decay rates < 0
 *   B, C [Bt, T, N] input / output projections of the state         D [H] skip
 * The recurrence it computes, per head: h_t = exp(A Δ_t) h_{t-1} + Δ_t B_t x_tᵀ (h: N × P),
 * y_t = C_t h_t + D x_t. With a_t = A Δ_t and its running sum within a chunk, acs:
 *   1. within each chunk:  y_l  = Σ_{s<=l} (C_l·B_s) exp(acs_l - acs_s) Δ_s x_s
 *   2. each chunk's state: S_c  = Σ_s B_s exp(acs_last - acs_s) Δ_s x_sᵀ           (N × P)
 *   3. across chunks:      in_0 = 0, in_{c+1} = exp(acs_last of c) in_c + S_c      (state entering c+1)
 *   4. from the past:      y_l += exp(acs_l) C_l · in_c
 * Float64 throughout; returns y [Bt, T, H, P].
 */
export function ssdMinimal(
  dims: { Bt: number; T: number; H: number; P: number; N: number; Q: number },
  x: ArrayLike<number>, dt: ArrayLike<number>, A: ArrayLike<number>, B: ArrayLike<number>, C: ArrayLike<number>, D: ArrayLike<number> | null,
): Float64Array {
  const { Bt, T, H, P, N, Q } = dims;
  const y = new Float64Array(Bt * T * H * P);
  const X = (b: number, t: number, h: number, p: number) => x[((b * T + t) * H + h) * P + p]!;
  const dot = (b: number, t: number, s: number) => { let v = 0; for (let n = 0; n < N; n++) v += C[(b * T + t) * N + n]! * B[(b * T + s) * N + n]!; return v; }; // C_t·B_s
  for (let b = 0; b < Bt; b++) {
    for (let h = 0; h < H; h++) {
      const stateIn = new Float64Array(N * P); // in_c: the state entering the current chunk
      for (let t0 = 0; t0 < T; t0 += Q) {
        const q = Math.min(Q, T - t0);
        const d = (l: number) => dt[(b * T + t0 + l) * H + h]!; // Δ at chunk position l
        const acs = new Float64Array(q); // running sum of a = A Δ within the chunk
        for (let l = 0, run = 0; l < q; l++) acs[l] = run += A[h]! * d(l);
        for (let l = 0; l < q; l++) {
          for (let p = 0; p < P; p++) {
            let v = 0;
            for (let s = 0; s <= l; s++) v += dot(b, t0 + l, t0 + s) * Math.exp(acs[l]! - acs[s]!) * d(s) * X(b, t0 + s, h, p); // step 1
            for (let n = 0; n < N; n++) v += Math.exp(acs[l]!) * C[(b * T + t0 + l) * N + n]! * stateIn[n * P + p]!; // step 4
            y[((b * T + t0 + l) * H + h) * P + p] = v + (D ? D[h]! * X(b, t0 + l, h, p) : 0);
          }
        }
        // Steps 2 and 3: decay the entering state over the chunk, add what the chunk wrote.
        const last = acs[q - 1]!;
        for (let n = 0; n < N; n++) {
          for (let p = 0; p < P; p++) {
            let s = Math.exp(last) * stateIn[n * P + p]!;
            for (let l = 0; l < q; l++) s += B[(b * T + t0 + l) * N + n]! * Math.exp(last - acs[l]!) * d(l) * X(b, t0 + l, h, p);
            stateIn[n * P + p] = s;
          }
        }
      }
    }
  }
  return y;
}
