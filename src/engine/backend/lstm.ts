/**
 * LSTM kernels: the time loop of one layer, forward and backward (BPTT), as one call each, so a
 * sequence of T steps costs one dispatch instead of T (native/lstm.c; a step's GEMM takes only
 * ~50-150 µs, so per-step dispatch from JS would be a large share of it).
 *
 * Layout (batch-major, like the model's activations; gate order i, f, g, o as torch.nn.LSTM):
 *   G   [B, T, 4H]   forward in: x_t W_ihᵀ for every t (without biases); out: activated gates
 *   Hs  [B, T, H]    hidden states h_t;   Cs [B, T, H] cell states c_t;   h_{-1} = c_{-1} = 0
 *   whh [4H, H]      recurrent weight;    bias [4H] = b_ih + b_hh
 *   dA  [B, T, 4H]   backward out: gradients of the gate pre-activations
 *
 * Two implementations with one signature: the native addon's, and the TypeScript reference
 * below (written for clarity, float64 accumulation in the GEMMs), which the tests check the
 * native one against. The active one follows the active backend (kernels().name).
 */
import { kernels } from './index.js';
import { referenceKernels } from './reference.js';

export interface LstmKernels {
  /** Runs the recurrence: fills G (activated gates), Hs, Cs. */
  lstmForward(B: number, T: number, H: number, G: Float32Array, whh: Float32Array, bias: Float32Array, Hs: Float32Array, Cs: Float32Array): void;
  /**
   * BPTT through the gates and the recurrent GEMM: dA from the output gradients dHs, dCs (null:
   * no gradient reached that output). work: scratch of at least 2·B·H floats.
   */
  lstmBackward(B: number, T: number, H: number, G: Float32Array, Cs: Float32Array, whh: Float32Array, dHs: Float32Array | null, dCs: Float32Array | null, dA: Float32Array, work: Float32Array): void;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export const referenceLstmKernels: LstmKernels = {
  lstmForward(B, T, H, G, whh, bias, Hs, Cs) {
    const G4 = 4 * H;
    for (let t = 0; t < T; t++) {
      // a_t += h_{t-1} · W_hhᵀ (rows b at stride T·4H)
      if (t > 0) referenceKernels.gemm(0, 1, B, G4, H, 1, Hs, (t - 1) * H, T * H, whh, 0, H, 1, G, t * G4, T * G4);
      for (let b = 0; b < B; b++) {
        const a = (b * T + t) * G4;
        const s = (b * T + t) * H;
        for (let j = 0; j < H; j++) {
          const i = sigmoid(G[a + j]! + bias[j]!);
          const f = sigmoid(G[a + H + j]! + bias[H + j]!);
          const g = Math.tanh(G[a + 2 * H + j]! + bias[2 * H + j]!);
          const o = sigmoid(G[a + 3 * H + j]! + bias[3 * H + j]!);
          const c = (t > 0 ? f * Cs[s - H + j]! : 0) + i * g;
          G[a + j] = i;
          G[a + H + j] = f;
          G[a + 2 * H + j] = g;
          G[a + 3 * H + j] = o;
          Cs[s + j] = c;
          Hs[s + j] = o * Math.tanh(c);
        }
      }
    }
  },

  lstmBackward(B, T, H, G, Cs, whh, dHs, dCs, dA, work) {
    const G4 = 4 * H;
    const dc = work.subarray(0, B * H).fill(0); // dc_{t+1} ∘ f_{t+1}, carried backwards
    const dhrec = work.subarray(B * H, 2 * B * H).fill(0); // dA_{t+1} · W_hh
    for (let t = T - 1; t >= 0; t--) {
      for (let b = 0; b < B; b++) {
        const a = (b * T + t) * G4;
        const s = (b * T + t) * H;
        for (let j = 0; j < H; j++) {
          const i = G[a + j]!, f = G[a + H + j]!, g = G[a + 2 * H + j]!, o = G[a + 3 * H + j]!;
          const dh = (dHs ? dHs[s + j]! : 0) + dhrec[b * H + j]!;
          const tc = Math.tanh(Cs[s + j]!);
          const dcc = dc[b * H + j]! + (dCs ? dCs[s + j]! : 0) + dh * o * (1 - tc * tc);
          const cprev = t > 0 ? Cs[s - H + j]! : 0;
          dA[a + j] = dcc * g * i * (1 - i);
          dA[a + H + j] = dcc * cprev * f * (1 - f);
          dA[a + 2 * H + j] = dcc * i * (1 - g * g);
          dA[a + 3 * H + j] = dh * tc * o * (1 - o);
          dc[b * H + j] = dcc * f;
        }
      }
      // dh_{t-1} (through the recurrence) = dA_t · W_hh
      if (t > 0) referenceKernels.gemm(0, 0, B, H, G4, 1, dA, t * G4, T * G4, whh, 0, H, 0, dhrec, 0, H);
    }
  },
};

/** The LSTM kernels of the active backend. */
export function lstmKernels(): LstmKernels {
  const k = kernels();
  if (k.name === 'reference') return referenceLstmKernels;
  const native = k as unknown as Partial<LstmKernels>;
  if (typeof native.lstmForward !== 'function' || typeof native.lstmBackward !== 'function') {
    throw new Error('groundlab: the native addon has no LSTM kernels (rebuild it: npm rebuild)');
  }
  return native as LstmKernels;
}
