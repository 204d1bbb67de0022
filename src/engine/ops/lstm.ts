/**
 * One LSTM layer over a whole sequence as a single op (torch.nn.LSTM semantics, one layer,
 * unidirectional, zero initial state, gate order i, f, g, o):
 *
 *   a_t = x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh          [B, 4H]
 *   i, f, g, o = σ(a_i), σ(a_f), tanh(a_g), σ(a_o)
 *   c_t = f ∘ c_{t-1} + i ∘ g,   h_t = o ∘ tanh(c_t)
 *
 * Outputs h [B, T, H] and c [B, T, H]; gradients flow back from either.
 *
 * Work split. The input projection x W_ihᵀ has no recurrence, so it is one big GEMM over all
 * B·T rows before the loop; the loop (backend/lstm.ts, native/lstm.c) then does, per step, one
 * [B, H]·[H, 4H] GEMM and the fused gate kernel, with no JS in between. Backward runs BPTT the
 * same way to get dA (pre-activation gate gradients) for every step; the rest are big GEMMs
 * after the loop: dx = dA W_ih, dW_ih = dAᵀ x, dW_hh = dAᵀ h_{t-1}, db = Σ dA.
 * One op, one tape node per layer: dispatch cost is independent of T.
 */
import { ACCUMULATED, type InputGrad, defineOp, isGradEnabled, runOp } from '../autograd.js';
import { lstmKernels } from '../backend/lstm.js';
import { type Tensor, empty, pool } from '../tensor.js';

interface LstmSaved {
  /** Activated gates [B, T, 4H] (null when no tape is recorded). */
  G: Tensor | null;
}

function dims(x: Tensor, wih: Tensor, whh: Tensor, bih: Tensor, bhh: Tensor) {
  if (x.ndim !== 3) throw new Error(`lstmLayer: input must be [B, T, in], got [${x.shape}]`);
  const [B, T, I] = x.shape as [number, number, number];
  if (whh.ndim !== 2 || whh.shape[0] !== 4 * whh.shape[1]!) throw new Error(`lstmLayer: weight_hh must be [4H, H], got [${whh.shape}]`);
  const H = whh.shape[1]!;
  if (wih.ndim !== 2 || wih.shape[0] !== 4 * H || wih.shape[1] !== I) throw new Error(`lstmLayer: weight_ih must be [${4 * H}, ${I}], got [${wih.shape}]`);
  if (bih.size !== 4 * H || bhh.size !== 4 * H) throw new Error(`lstmLayer: biases must have ${4 * H} elements, got ${bih.size} and ${bhh.size}`);
  return { B, T, I, H };
}

const lstmLayerOp = defineOp<void, LstmSaved>({
  name: 'lstmLayer',
  forward(k, inputs) {
    const [x, wih, whh, bih, bhh] = inputs as [Tensor, Tensor, Tensor, Tensor, Tensor];
    const { B, T, I, H } = dims(x, wih, whh, bih, bhh);
    const G = empty([B, T, 4 * H]); // [B, T, 4H]
    k.gemm(0, 1, B * T, 4 * H, I, 1, x.data, 0, I, wih.data, 0, I, 0, G.data, 0, 4 * H); // x W_ihᵀ, all steps at once
    const bias = pool.take(4 * H);
    k.binary(0, bih.data, bhh.data, bias); // b_ih + b_hh
    const h = empty([B, T, H]);
    const c = empty([B, T, H]);
    lstmKernels().lstmForward(B, T, H, G.data, whh.data, bias, h.data, c.data);
    pool.give(bias);
    const taped = isGradEnabled() && inputs.some((t) => t.requiresGrad);
    if (!taped) G.dispose();
    return { outputs: [h, c], saved: { G: taped ? G : null } };
  },
  backward(k, [gh, gc], { inputs, outputs, saved, needsGrad, leafGrad }) {
    const [x, wih, whh] = inputs as [Tensor, Tensor, Tensor, Tensor, Tensor];
    const [h, c] = outputs as [Tensor, Tensor];
    const { B, T, I, H } = dims(x, wih, whh, inputs[3]!, inputs[4]!);
    const G4 = 4 * H;
    const BT = B * T;
    const dA = empty([B, T, G4]); // ∂L/∂a_t for every step
    const work = pool.take(2 * B * H);
    lstmKernels().lstmBackward(B, T, H, saved.G!.data, c.data, whh.data, gh ? gh.data : null, gc ? gc.data : null, dA.data, work);
    pool.give(work);

    /** Writes a weight/bias gradient into the leaf's .grad (beta 1) or into a fresh tensor. */
    const weightGrad = (i: number, fill: (out: Float32Array, beta: number) => void): InputGrad => {
      if (!needsGrad[i]) return null;
      const leaf = leafGrad(i);
      const out = leaf ?? empty(inputs[i]!.shape);
      fill(out.data, leaf ? 1 : 0);
      return leaf ? ACCUMULATED : out;
    };
    let gx: InputGrad = null;
    let gwih: InputGrad = null;
    if (needsGrad[0] && needsGrad[1] && k.gemmPair) {
      // dx = dA · W_ih and dW_ih (+)= dAᵀ · x at once (native: one per core; same arithmetic as two gemm calls)
      const t = empty(x.shape);
      gwih = weightGrad(1, (out, beta) => k.gemmPair!(0, 0, BT, I, G4, 1, dA.data, 0, G4, wih.data, 0, I, 0, t.data, 0, I, 1, 0, G4, I, BT, 1, dA.data, 0, G4, x.data, 0, I, beta, out, 0, I));
      gx = t;
    } else {
      if (needsGrad[0]) {
        const t = empty(x.shape);
        k.gemm(0, 0, BT, I, G4, 1, dA.data, 0, G4, wih.data, 0, I, 0, t.data, 0, I); // dx = dA · W_ih
        gx = t;
      }
      gwih = weightGrad(1, (out, beta) => k.gemm(1, 0, G4, I, BT, 1, dA.data, 0, G4, x.data, 0, I, beta, out, 0, I)); // dAᵀ · x
    }
    const gwhh = weightGrad(2, (out, beta) => {
      // dW_hh = Σ_t dA_tᵀ h_{t-1}: one GEMM against h shifted one step later (h_{-1} = 0).
      const hprev = pool.take(BT * H);
      for (let b = 0; b < B; b++) {
        const row = b * T * H;
        hprev.fill(0, row, row + H);
        hprev.set(h.data.subarray(row, row + (T - 1) * H), row + H);
      }
      k.gemm(1, 0, G4, H, BT, 1, dA.data, 0, G4, hprev, 0, H, beta, out, 0, H);
      pool.give(hprev);
    });
    let gb: Float32Array | null = null; // Σ over the B·T rows of dA: the gradient of both biases
    if (needsGrad[3] || needsGrad[4]) {
      gb = pool.take(G4);
      k.sumOuter(dA.data, gb, 0);
    }
    const sums = gb;
    const biasGrad = (i: number): InputGrad =>
      weightGrad(i, (out, beta) => {
        if (beta) k.binary(0, out, sums!, out);
        else out.set(sums!);
      });
    const gbih = biasGrad(3);
    const gbhh = biasGrad(4);
    if (gb) pool.give(gb);
    return [gx, gwih, gwhh, gbih, gbhh];
  },
});

/**
 * One unidirectional LSTM layer over x [B, T, in] with torch.nn.LSTM's parameters
 * weight_ih [4H, in], weight_hh [4H, H], bias_ih [4H], bias_hh [4H]. Returns [h, c], each [B, T, H].
 */
export function lstmLayer(x: Tensor, weightIh: Tensor, weightHh: Tensor, biasIh: Tensor, biasHh: Tensor): [Tensor, Tensor] {
  const [h, c] = runOp(lstmLayerOp, [x, weightIh, weightHh, biasIh, biasHh], undefined);
  return [h!, c!];
}
