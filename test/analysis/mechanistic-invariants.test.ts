/**
 * Invariants of the mechanistic suite on every architecture (small random models, exact
 * identities or finite differences):
 *   - ablating no heads changes nothing; ablating every head of a layer equals removing that
 *     layer's attention (mixer) output;
 *   - the logit lens at the last layer is the model's output; a tuned lens initialised to the
 *     identity reproduces the final distribution at the last layer;
 *   - the saliency |A ⊙ ∂L/∂A| read from the hooks equals A times a finite-difference derivative
 *     of the target's surprisal with respect to that attention entry (GPT-2 attention, Mamba-2's
 *     implicit attention), and the LSTM's gradient × input equals the directional derivative
 *     along the input itself.
 */
import { describe, expect, it } from 'vitest';
import * as E from '../../src/engine/index.js';
import { ablationHooks, itemSurprisal } from '../../src/analysis/heads.js';
import { lensSurprisal, TunedLens } from '../../src/analysis/lens.js';
import { computeSaliency } from '../../src/analysis/saliency.js';
import { createModel, type LanguageModel } from '../../src/models/index.js';
import { Rng } from '../../src/util/rng.js';

const V = 24;
function model(arch: 'gpt2' | 'mamba2' | 'lstm', seed = 3): LanguageModel {
  const cfg: Record<string, Record<string, number>> = {
    gpt2: { vocab_size: V, n_embd: 16, n_layer: 2, n_head: 2, n_positions: 32 },
    mamba2: { vocab_size: V, hidden_size: 16, num_hidden_layers: 2, expand: 2, head_dim: 8, state_size: 4, conv_kernel: 4, chunk_size: 8 },
    lstm: { vocab_size: V, embedding_size: 16, hidden_size: 12, num_layers: 2 },
  };
  const m = createModel(arch, cfg[arch]!);
  m.params.initialize(new Rng(seed));
  // Larger weights than the training initialisation, so attention is far from uniform and effects are visible.
  for (const [name, p] of m.params.params) if (p.shape.length === 2 && !name.includes('wpe')) for (let i = 0; i < p.data.length; i++) p.data[i]! *= 4;
  return m;
}

const rng = new Rng(11);
const items = Array.from({ length: 6 }, () => {
  const n = 5 + rng.int(8);
  const context = Array.from({ length: n }, () => 3 + rng.int(V - 3));
  return { context, target: 3 + rng.int(V - 3), envPositions: [1, 2] };
});

function lossWith(m: LanguageModel, ctx: number[], target: number, hooks: E.Hook[]): number {
  return E.noGrad(() =>
    E.tidy(() => {
      const logits = E.withHooks(hooks, () => m.forward({ ids: Int32Array.from(ctx), batch: 1, seq: ctx.length }, { logitRows: Int32Array.of(ctx.length - 1) }));
      return E.crossEntropy(logits, Int32Array.of(target)).item();
    }),
  );
}

describe.each(['gpt2', 'mamba2'] as const)('%s heads', (arch) => {
  const m = model(arch);
  const outName = (l: number) => (arch === 'gpt2' ? `blocks.${l}.hook_attn_out` : `blocks.${l}.hook_mixer_out`);

  it('ablating no heads changes nothing', () => {
    expect(itemSurprisal(m, items, ablationHooks(m, []))).toEqual(itemSurprisal(m, items));
  });

  it('ablating every head of a layer equals removing that layer’s attention output', () => {
    for (let l = 0; l < m.nLayers; l++) {
      const all = Array.from({ length: m.nHeads }, (_, head) => ({ layer: l, head }));
      const a = itemSurprisal(m, items, ablationHooks(m, all));
      // GPT-2's c_proj has a bias: what is left of the attention output is that bias. Mamba-2's out_proj has none.
      const bias = arch === 'gpt2' ? m.params.get(`transformer.h.${l}.attn.c_proj.bias`) : null;
      const b = itemSurprisal(m, items, [{ name: outName(l), forward: (t) => (bias ? E.add(E.mul(t, E.zeros([t.shape[2]!])), bias) : E.mul(t, E.zeros([t.shape[2]!]))) }]);
      items.forEach((_, i) => expect(a[i]).toBeCloseTo(b[i]!, 5));
      expect(a).not.toEqual(itemSurprisal(m, items));
    }
  });

  it('saliency equals A · ∂L/∂A by finite differences on the prediction row', () => {
    const it0 = items[3]!;
    const n = it0.context.length;
    const q = n - 1;
    const pat = (l: number) => (arch === 'gpt2' ? `blocks.${l}.attn.pattern` : `blocks.${l}.mixer.pattern`);
    for (const [layer, head] of [[0, 0], [1, m.nHeads - 1]] as const) {
      const { maps } = computeSaliency(m, [it0], { mapOf: { layer, head } });
      const map = maps![0]!;
      let checked = 0;
      for (let j = 0; j <= q; j++) {
        let a = 0;
        const bump = (eps: number): E.Hook => ({
          name: pat(layer),
          forward: (A) => {
            const T = A.shape[2]!;
            const c = E.tensor(Float32Array.from(A.data), [...A.shape]);
            const o = ((0 * m.nHeads + head) * T + q) * T + j;
            a = A.data[o]!;
            c.data[o]! += eps;
            return c;
          },
        });
        const eps = 3e-3;
        const d = (lossWith(m, it0.context, it0.target, [bump(eps)]) - lossWith(m, it0.context, it0.target, [bump(-eps)])) / (2 * eps);
        const expected = Math.abs(a * d);
        expect(Math.abs(map[q * n + j]! - expected)).toBeLessThan(2e-3 * Math.max(1, expected));
        if (expected > 1e-3) checked++;
      }
      expect(checked).toBeGreaterThan(0); // not a vacuous comparison of zeros
    }
  });
});

describe('LSTM saliency', () => {
  const m = model('lstm');
  it('gradient × input equals the directional derivative along the input', () => {
    const it0 = items[2]!;
    const n = it0.context.length;
    for (const layer of [0, 1]) {
      const { maps, rows } = computeSaliency(m, [it0], { mapOf: { layer, head: -1 } });
      expect(rows.filter((r) => r.layer === layer)).toHaveLength(1); // one layer-level row, no heads
      const map = maps![0]!;
      expect(map.length).toBe(n);
      for (const j of [0, 2, n - 1]) {
        const scaled = (s: number): E.Hook => ({
          name: `blocks.${layer}.hook_resid_pre`,
          forward: (x) => {
            const d = x.shape[2]!;
            const c = E.tensor(Float32Array.from(x.data), [...x.shape]);
            for (let k = 0; k < d; k++) c.data[j * d + k]! *= 1 + s;
            return c;
          },
        });
        const eps = 3e-3;
        const deriv = (lossWith(m, it0.context, it0.target, [scaled(eps)]) - lossWith(m, it0.context, it0.target, [scaled(-eps)])) / (2 * eps);
        expect(Math.abs(map[j]! - Math.abs(deriv))).toBeLessThan(2e-3 * Math.max(1, Math.abs(deriv)));
      }
    }
  });
});

describe.each(['gpt2', 'mamba2', 'lstm'] as const)('%s lenses', (arch) => {
  const m = model(arch, 5);
  const L = m.nLayers;
  const direct = items.map((it) => lossWith(m, it.context, it.target, []));

  it('the logit lens at the last layer is the model output', () => {
    const s = lensSurprisal(m, null, items, { batchSize: 4 });
    items.forEach((_, i) => expect(s[L - 1]![i]).toBeCloseTo(direct[i]!, 4));
  });

  it('a tuned lens initialised to the identity reproduces the final distribution at the last layer', () => {
    const s = lensSurprisal(m, TunedLens.forModel(m), items);
    items.forEach((_, i) => expect(s[L - 1]![i]).toBeCloseTo(direct[i]!, 4));
    // ... and equals the logit lens at every layer before any training.
    const logit = lensSurprisal(m, null, items);
    for (let l = 0; l < L; l++) items.forEach((_, i) => expect(s[l]![i]).toBeCloseTo(logit[l]![i]!, 4));
  });
});
