/**
 * Mamba-2 kernels (native/ssd.c) and their TypeScript reference: the chunked SSD scan, the
 * implicit-attention matrix, the depthwise causal convolution and the gated RMSNorm, each with
 * its backward.
 *
 * Layouts (row-major float32), as in native/ssd.c:
 *   x, y [Bt, T, H, P]   dt [Bt, T, H]   A, D [H]   B, C [Bt, T, N]
 *   G [Bt, nc, Q, Q] (C_c B_cᵀ per chunk)   states [Bt, H, nc, N, P] (state entering chunk c)
 *
 * The reference mirrors the native algorithm step by step (same chunking, same order of the
 * four SSD steps) with the reference GEMM, so the two can be compared buffer by buffer; it is
 * selected whenever the engine runs on the reference kernels (`kernels().name`). The algorithm
 * itself, in a few readable lines without GEMMs or chunk buffers, is ssd-minimal.ts (tested
 * against both).
 */
import { kernels } from './index.js';
import type { F32 } from './kernels.js';
import { loadNativeKernels } from './native.js';
import { referenceKernels } from './reference.js';

export interface SsdKernels {
  readonly name: 'native' | 'reference';
  /** y = SSD(x) + D x with chunk length Q; writes G, and states when given (for backward). */
  ssdChunkedFwd(Bt: number, T: number, H: number, P: number, N: number, Q: number, x: F32, dt: F32, A: F32, B: F32, C: F32, D: F32 | null, y: F32, G: F32, states: F32 | null): void;
  /** Gradients of x, dt, A, B, C, D from dy (all overwritten). */
  ssdChunkedBwd(Bt: number, T: number, H: number, P: number, N: number, Q: number, x: F32, dt: F32, A: F32, B: F32, C: F32, D: F32 | null, G: F32, states: F32, dy: F32, dx: F32, ddt: F32, dA: F32, dB: F32, dC: F32, dD: F32 | null): void;
  /** M [Bt, H, T, T]: M[t,s] = C_t·B_s · exp(Σ_{r=s+1..t} A dt_r) · dt_s for s <= t, else 0. */
  ssdPatternFwd(Bt: number, T: number, H: number, N: number, B: F32, C: F32, dt: F32, A: F32, M: F32): void;
  ssdPatternBwd(Bt: number, T: number, H: number, N: number, B: F32, C: F32, dt: F32, A: F32, dM: F32, dB: F32, dC: F32, ddt: F32, dA: F32): void;
  /** y[t,c] = act(bias[c] + Σ_k w[c,k] x[t+k-K+1, c]) on [Bt, T, Cn]; act 1 = SiLU (pre-activation into u). */
  causalConv1dFwd(Bt: number, T: number, Cn: number, K: number, x: F32, w: F32, bias: F32 | null, y: F32, u: F32 | null, act: number): void;
  causalConv1dBwd(Bt: number, T: number, Cn: number, K: number, x: F32, w: F32, u: F32 | null, dy: F32, du: F32 | null, dx: F32 | null, dw: F32 | null, db: F32 | null, act: number): void;
  /** out = w · g / sqrt(mean(g²) + eps) per row of `cols`, g = y · silu(z); 1/rms into rstd when given. */
  gatedRmsNormFwd(rows: number, cols: number, y: F32, z: F32, w: F32, eps: number, out: F32, rstd: F32 | null): void;
  gatedRmsNormBwd(rows: number, cols: number, y: F32, z: F32, w: F32, rstd: F32, dout: F32, dy: F32 | null, dz: F32 | null, dw: F32 | null): void;
}

const gemm = referenceKernels.gemm;

function chunkCumsum(dt: F32, off: number, H: number, q: number, Ah: number, dts: Float64Array, cs: Float64Array): void {
  let run = 0;
  for (let l = 0; l < q; l++) {
    dts[l] = dt[off + l * H]!;
    run += Ah * dts[l]!;
    cs[l] = run;
  }
}

export const referenceSsdKernels: SsdKernels = {
  name: 'reference',

  ssdChunkedFwd(Bt, T, H, P, N, Q, x, dt, A, Bm, Cm, D, y, G, states) {
    const nc = Math.ceil(T / Q);
    const HP = H * P;
    for (let b = 0; b < Bt; b++) {
      for (let c = 0; c < nc; c++) {
        const t0 = c * Q;
        const q = Math.min(Q, T - t0);
        gemm(0, 1, q, q, N, 1, Cm, (b * T + t0) * N, N, Bm, (b * T + t0) * N, N, 0, G, (b * nc + c) * Q * Q, Q);
      }
    }
    const cs = new Float64Array(Q);
    const dts = new Float64Array(Q);
    const M = new Float32Array(Q * Q);
    const Sc = new Float32Array(Q * N);
    const Hs = new Float32Array(N * P);
    for (let b = 0; b < Bt; b++) {
      for (let h = 0; h < H; h++) {
        const Ah = A[h]!;
        const Dh = D ? D[h]! : 0;
        Hs.fill(0);
        for (let c = 0; c < nc; c++) {
          const t0 = c * Q;
          const q = Math.min(Q, T - t0);
          const xo = ((b * T + t0) * H + h) * P;
          const bo = (b * T + t0) * N;
          const go = (b * nc + c) * Q * Q;
          chunkCumsum(dt, (b * T + t0) * H + h, H, q, Ah, dts, cs);
          if (states) states.set(Hs, ((b * H + h) * nc + c) * N * P);
          // Within the chunk: M = G ∘ exp(segsum) ∘ dt_s (lower triangle), Y = M X.
          M.fill(0);
          for (let l = 0; l < q; l++) for (let s = 0; s <= l; s++) M[l * Q + s] = G[go + l * Q + s]! * Math.exp(cs[l]! - cs[s]!) * dts[s]!;
          gemm(0, 0, q, P, q, 1, M, 0, Q, x, xo, HP, 0, y, xo, HP);
          // State -> output.
          if (c > 0) {
            for (let l = 0; l < q; l++) for (let n = 0; n < N; n++) Sc[l * N + n] = Math.exp(cs[l]!) * Cm[bo + l * N + n]!;
            gemm(0, 0, q, P, N, 1, Sc, 0, N, Hs, 0, P, 1, y, xo, HP);
          }
          if (Dh !== 0) for (let l = 0; l < q; l++) for (let p = 0; p < P; p++) y[xo + l * HP + p] += Dh * x[xo + l * HP + p]!;
          // Chunk state and the inter-chunk recurrence.
          if (c < nc - 1) {
            const last = cs[q - 1]!;
            for (let s = 0; s < q; s++) {
              const w = Math.exp(last - cs[s]!) * dts[s]!;
              for (let n = 0; n < N; n++) Sc[s * N + n] = w * Bm[bo + s * N + n]!;
            }
            const g = Math.exp(last);
            for (let i = 0; i < N * P; i++) Hs[i] *= g;
            gemm(1, 0, N, P, q, 1, Sc, 0, N, x, xo, HP, 1, Hs, 0, P);
          }
        }
      }
    }
  },

  ssdChunkedBwd(Bt, T, H, P, N, Q, x, dt, A, Bm, Cm, D, G, states, dy, dx, ddt, dA, dB, dC, dD) {
    const nc = Math.ceil(T / Q);
    const HP = H * P;
    ddt.fill(0);
    dB.fill(0);
    dC.fill(0);
    const dAacc = new Float64Array(H);
    const dDacc = new Float64Array(H);
    const cs = new Float64Array(Q);
    const dts = new Float64Array(Q);
    const dcs = new Float64Array(Q);
    const E = new Float64Array(Q);
    const Ld = new Float32Array(Q * Q);
    const M = new Float32Array(Q * Q);
    const dM = new Float32Array(Q * Q);
    const Sc = new Float32Array(Q * N);
    const dS = new Float32Array(Q * N);
    let dH = new Float32Array(N * P);
    let dHc = new Float32Array(N * P);
    const dGs = new Float32Array(nc * Q * Q);
    for (let b = 0; b < Bt; b++) {
      dGs.fill(0);
      for (let h = 0; h < H; h++) {
        const Ah = A[h]!;
        const Dh = D ? D[h]! : 0;
        dH.fill(0);
        for (let c = nc - 1; c >= 0; c--) {
          const t0 = c * Q;
          const q = Math.min(Q, T - t0);
          const xo = ((b * T + t0) * H + h) * P;
          const to = (b * T + t0) * H + h;
          const bo = (b * T + t0) * N;
          const go = (b * nc + c) * Q * Q;
          const so = ((b * H + h) * nc + c) * N * P;
          chunkCumsum(dt, to, H, q, Ah, dts, cs);
          M.fill(0);
          for (let l = 0; l < q; l++) {
            E[l] = Math.exp(cs[l]!);
            dcs[l] = 0;
            for (let s = 0; s <= l; s++) {
              const e = Math.exp(cs[l]! - cs[s]!);
              Ld[l * Q + s] = e;
              M[l * Q + s] = G[go + l * Q + s]! * e * dts[s]!;
            }
          }
          gemm(1, 0, q, P, q, 1, M, 0, Q, dy, xo, HP, 0, dx, xo, HP);
          gemm(0, 1, q, q, P, 1, dy, xo, HP, x, xo, HP, 0, dM, 0, Q);
          for (let l = 0; l < q; l++) {
            for (let s = 0; s <= l; s++) {
              const dm = dM[l * Q + s]!;
              const e = Ld[l * Q + s]!;
              dGs[c * Q * Q + l * Q + s] += dm * e * dts[s]!;
              const w = dm * M[l * Q + s]!;
              dcs[l] += w;
              dcs[s] -= w;
              ddt[to + s * H] += dm * G[go + l * Q + s]! * e;
            }
          }
          for (let l = 0; l < q; l++) {
            for (let p = 0; p < P; p++) {
              const i = xo + l * HP + p;
              dDacc[h] += dy[i]! * x[i]!;
              dx[i] += Dh * dy[i]!;
            }
          }
          if (c > 0) {
            gemm(0, 1, q, N, P, 1, dy, xo, HP, states, so, P, 0, dS, 0, N);
            for (let l = 0; l < q; l++) {
              let de = 0;
              for (let n = 0; n < N; n++) {
                dC[bo + l * N + n] += E[l]! * dS[l * N + n]!;
                de += Cm[bo + l * N + n]! * dS[l * N + n]!;
                Sc[l * N + n] = E[l]! * Cm[bo + l * N + n]!;
              }
              dcs[l] += de * E[l]!;
            }
            gemm(1, 0, N, P, q, 1, Sc, 0, N, dy, xo, HP, 0, dHc, 0, P);
          }
          if (c < nc - 1) {
            const last = cs[q - 1]!;
            const g = Math.exp(last);
            const eb = new Float64Array(q);
            const ws = new Float64Array(q);
            for (let s = 0; s < q; s++) {
              eb[s] = Math.exp(last - cs[s]!);
              ws[s] = eb[s]! * dts[s]!;
              for (let n = 0; n < N; n++) Sc[s * N + n] = ws[s]! * Bm[bo + s * N + n]!;
            }
            gemm(0, 0, q, P, N, 1, Sc, 0, N, dH, 0, P, 1, dx, xo, HP);
            gemm(0, 1, q, N, P, 1, x, xo, HP, dH, 0, P, 0, dS, 0, N);
            let dlast = 0;
            for (let s = 0; s < q; s++) {
              let dw = 0;
              for (let n = 0; n < N; n++) {
                dw += Bm[bo + s * N + n]! * dS[s * N + n]!;
                dB[bo + s * N + n] += ws[s]! * dS[s * N + n]!;
              }
              ddt[to + s * H] += dw * eb[s]!;
              dlast += dw * ws[s]!;
              dcs[s] -= dw * ws[s]!;
            }
            let dg = 0;
            for (let i = 0; i < N * P; i++) dg += dH[i]! * states[so + i]!;
            dcs[q - 1] += dlast + dg * g;
            if (c > 0) for (let i = 0; i < N * P; i++) dHc[i] += g * dH[i]!;
          }
          let run = 0;
          for (let l = q - 1; l >= 0; l--) {
            run += dcs[l]!;
            ddt[to + l * H] += Ah * run;
            dAacc[h] += dts[l]! * run;
          }
          if (c > 0) [dH, dHc] = [dHc, dH];
        }
      }
      for (let c = 0; c < nc; c++) {
        const t0 = c * Q;
        const q = Math.min(Q, T - t0);
        const bo = (b * T + t0) * N;
        gemm(0, 0, q, N, q, 1, dGs, c * Q * Q, Q, Bm, bo, N, 1, dC, bo, N);
        gemm(1, 0, q, N, q, 1, dGs, c * Q * Q, Q, Cm, bo, N, 1, dB, bo, N);
      }
    }
    for (let h = 0; h < H; h++) {
      dA[h] = dAacc[h]!;
      if (dD) dD[h] = dDacc[h]!;
    }
  },

  ssdPatternFwd(Bt, T, H, N, Bm, Cm, dt, A, M) {
    const G = new Float32Array(T * T);
    for (let b = 0; b < Bt; b++) {
      gemm(0, 1, T, T, N, 1, Cm, b * T * N, N, Bm, b * T * N, N, 0, G, 0, T);
      for (let h = 0; h < H; h++) {
        const Ah = A[h]!;
        const o = (b * H + h) * T * T;
        const d = (t: number) => dt[(b * T + t) * H + h]!;
        for (let t = 0; t < T; t++) {
          let seg = 0;
          M[o + t * T + t] = G[t * T + t]! * d(t);
          for (let s = t - 1; s >= 0; s--) {
            seg += Ah * d(s + 1);
            M[o + t * T + s] = G[t * T + s]! * Math.exp(seg) * d(s);
          }
          for (let s = t + 1; s < T; s++) M[o + t * T + s] = 0;
        }
      }
    }
  },

  ssdPatternBwd(Bt, T, H, N, Bm, Cm, dt, A, dM, dB, dC, ddt, dA) {
    const G = new Float32Array(T * T);
    const dG = new Float32Array(T * T);
    const W = new Float64Array(T);
    const da = new Float64Array(T);
    const dAacc = new Float64Array(H);
    ddt.fill(0);
    for (let b = 0; b < Bt; b++) {
      gemm(0, 1, T, T, N, 1, Cm, b * T * N, N, Bm, b * T * N, N, 0, G, 0, T);
      dG.fill(0);
      for (let h = 0; h < H; h++) {
        const Ah = A[h]!;
        const o = (b * H + h) * T * T;
        const di = (t: number) => (b * T + t) * H + h;
        da.fill(0);
        for (let t = 0; t < T; t++) {
          let seg = 0;
          for (let s = t; s >= 0; s--) {
            if (s < t) seg += Ah * dt[di(s + 1)]!;
            const L = Math.exp(seg);
            const dm = dM[o + t * T + s]!;
            const ds = dt[di(s)]!;
            dG[t * T + s] += dm * L * ds;
            ddt[di(s)] += dm * G[t * T + s]! * L;
            W[s] = dm * G[t * T + s]! * L * ds;
          }
          let pre = 0;
          for (let r = 0; r <= t; r++) {
            da[r] += pre;
            pre += W[r]!;
          }
        }
        for (let r = 0; r < T; r++) {
          ddt[di(r)] += Ah * da[r]!;
          dAacc[h] += dt[di(r)]! * da[r]!;
        }
      }
      gemm(0, 0, T, N, T, 1, dG, 0, T, Bm, b * T * N, N, 0, dC, b * T * N, N);
      gemm(1, 0, T, N, T, 1, dG, 0, T, Cm, b * T * N, N, 0, dB, b * T * N, N);
    }
    for (let h = 0; h < H; h++) dA[h] = dAacc[h]!;
  },

  causalConv1dFwd(Bt, T, Cn, K, x, w, bias, y, u, act) {
    for (let b = 0; b < Bt; b++) {
      for (let t = 0; t < T; t++) {
        for (let c = 0; c < Cn; c++) {
          let acc = bias ? bias[c]! : 0;
          for (let k = 0; k < K; k++) {
            const ti = t + k - (K - 1);
            if (ti >= 0) acc += w[c * K + k]! * x[(b * T + ti) * Cn + c]!;
          }
          const i = (b * T + t) * Cn + c;
          if (act) {
            if (u) u[i] = acc;
            y[i] = acc / (1 + Math.exp(-acc));
          } else y[i] = acc;
        }
      }
    }
  },

  causalConv1dBwd(Bt, T, Cn, K, x, w, u, dy, du, dx, dw, db, act) {
    let g = dy;
    if (act) {
      for (let i = 0; i < dy.length; i++) {
        const v = u![i]!;
        const s = 1 / (1 + Math.exp(-v));
        du![i] = dy[i]! * s * (1 + v * (1 - s));
      }
      g = du!;
    }
    if (dx) {
      for (let b = 0; b < Bt; b++) {
        for (let t = 0; t < T; t++) {
          for (let c = 0; c < Cn; c++) {
            let acc = 0;
            for (let k = 0; k < K; k++) {
              const to = t - k + (K - 1);
              if (to < T) acc += w[c * K + k]! * g[(b * T + to) * Cn + c]!;
            }
            dx[(b * T + t) * Cn + c] = acc;
          }
        }
      }
    }
    for (let c = 0; c < Cn; c++) {
      let sb = 0;
      const sw = new Float64Array(K);
      for (let b = 0; b < Bt; b++) {
        for (let t = 0; t < T; t++) {
          const gv = g[(b * T + t) * Cn + c]!;
          sb += gv;
          for (let k = 0; k < K; k++) {
            const ti = t + k - (K - 1);
            if (ti >= 0) sw[k] += gv * x[(b * T + ti) * Cn + c]!;
          }
        }
      }
      if (db) db[c] = sb;
      if (dw) for (let k = 0; k < K; k++) dw[c * K + k] = sw[k]!;
    }
  },

  gatedRmsNormFwd(rows, cols, y, z, w, eps, out, rstd) {
    for (let r = 0; r < rows; r++) {
      let ss = 0;
      for (let c = 0; c < cols; c++) {
        const i = r * cols + c;
        const g = (y[i]! * z[i]!) / (1 + Math.exp(-z[i]!));
        out[i] = g;
        ss += g * g;
      }
      const rs = 1 / Math.sqrt(ss / cols + eps);
      if (rstd) rstd[r] = rs;
      for (let c = 0; c < cols; c++) out[r * cols + c] = out[r * cols + c]! * rs * w[c]!;
    }
  },

  gatedRmsNormBwd(rows, cols, y, z, w, rstd, dout, dy, dz, dw) {
    const acc = new Float64Array(cols);
    const g = new Float64Array(cols);
    const sg = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      const rs = rstd[r]!;
      let dot = 0;
      for (let c = 0; c < cols; c++) {
        const i = r * cols + c;
        sg[c] = 1 / (1 + Math.exp(-z[i]!));
        g[c] = y[i]! * z[i]! * sg[c]!;
        dot += dout[i]! * w[c]! * g[c]!;
        acc[c] += dout[i]! * g[c]! * rs;
      }
      const m = (dot / cols) * rs * rs;
      for (let c = 0; c < cols; c++) {
        const i = r * cols + c;
        const dg = rs * (dout[i]! * w[c]! - g[c]! * m);
        const s = sg[c]!;
        if (dy) dy[i] = dg * z[i]! * s;
        if (dz) dz[i] = dg * y[i]! * s * (1 + z[i]! * (1 - s));
      }
    }
    if (dw) for (let c = 0; c < cols; c++) dw[c] = acc[c]!;
  },
};

let nativeSsd: SsdKernels | null | undefined;

/** The native SSD kernels (the addon's exports), or null when the addon is not built. */
export function loadNativeSsdKernels(): SsdKernels | null {
  if (nativeSsd !== undefined) return nativeSsd;
  const k = loadNativeKernels() as unknown as Partial<SsdKernels> | null;
  nativeSsd = k && typeof k.ssdChunkedFwd === 'function' ? (Object.assign(Object.create(null), k, { name: 'native' as const }) as SsdKernels) : null;
  return nativeSsd;
}

/** The SSD kernels matching the engine's active backend. */
export function ssdKernels(): SsdKernels {
  if (kernels().name === 'native') {
    const k = loadNativeSsdKernels();
    if (k) return k;
  }
  return referenceSsdKernels;
}
