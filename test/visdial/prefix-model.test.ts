/**
 * The continuous prefix through the three architectures: gradient checks of the prefix projection
 * and of the prefix itself through the whole model, and the pointer adapter used by the saliency
 * and ablation analyses on image-grounded items.
 */
import { describe, expect, it } from 'vitest';
import * as E from '../../src/engine/index.js';
import { createModel } from '../../src/models/index.js';
import type { Arch, LanguageModel } from '../../src/models/types.js';
import { computeSaliency } from '../../src/analysis/saliency.js';
import { interventionTest, itemSurprisal } from '../../src/analysis/heads.js';
import { batchedSurprisal } from '../../src/analysis/surprisal.js';
import { FeatureStore } from '../../src/data/images/features.js';
import { PrefixPointerModel } from '../../src/models/prefix-model.js';
import { Rng } from '../../src/util/rng.js';
import { gradcheck, randomTensor } from '../engine/gradcheck.js';

const V = 20;
const K = 3;
const DIM = 5;
const configs: Record<Arch, Record<string, number>> = {
  gpt2: { vocab_size: V, n_positions: 16, n_embd: 8, n_layer: 2, n_head: 2, prefix_dim: DIM },
  mamba2: { vocab_size: V, hidden_size: 8, num_hidden_layers: 2, expand: 2, head_dim: 8, state_size: 4, conv_kernel: 4, chunk_size: 4, prefix_dim: DIM },
  lstm: { vocab_size: V, embedding_size: 8, hidden_size: 8, num_layers: 2, prefix_dim: DIM },
};

function model(arch: Arch, seed = 3): LanguageModel {
  const m = createModel(arch, configs[arch]);
  m.params.initialize(new Rng(seed));
  // Larger prefix weights than the init, so the prefix matters to the logits in the check.
  const w = m.params.get('prefix_proj.weight');
  const r = new Rng(seed + 1);
  for (let i = 0; i < w.data.length; i++) w.data[i] = 0.5 * r.normal();
  return m;
}

describe('prefix projection through the model', () => {
  for (const arch of ['gpt2', 'mamba2', 'lstm'] as Arch[]) {
    it(`${arch}: gradients of the logits w.r.t. the prefix and the prefix projection match finite differences`, () => {
      const m = model(arch);
      const rng = new Rng(11);
      const ids = Int32Array.from([4, 9, 2, 17, 5, 1, 12, 3]);
      const prefix = randomTensor(rng, [2, K, DIM]);
      prefix.requiresGrad = true;
      const W = m.params.get('prefix_proj.weight');
      const b = m.params.get('prefix_proj.bias');
      expect(W.requiresGrad && b.requiresGrad).toBe(true); // gradcheck skips inputs without gradients
      gradcheck((p) => m.forward({ ids, batch: 2, seq: 4, prefix: p }), [prefix, W, b], { eps: 1e-2, rtol: 5e-2, atol: 5e-3 });
      for (const x of [prefix, W, b]) expect(x.grad!.data.some((g) => Math.abs(g) > 1e-4)).toBe(true);
    });
  }

  it('the prefix changes the logits of the tokens after it, and only through prefix_proj', () => {
    for (const arch of ['gpt2', 'mamba2', 'lstm'] as Arch[]) {
      const m = model(arch);
      const ids = Int32Array.from([4, 9, 2, 17]);
      const run = (p: Float32Array) => E.noGrad(() => E.tidy(() => m.forward({ ids, batch: 1, seq: 4, prefix: E.tensor(p, [1, K, DIM]) }).toFloat32Array()));
      const a = run(new Float32Array(K * DIM).fill(0.3));
      const c = run(new Float32Array(K * DIM).fill(-0.3));
      expect(a.length).toBe((K + 4) * V);
      expect(a.some((x, i) => Math.abs(x - c[i]!) > 1e-4), arch).toBe(true);
      // With a zero projection weight every prefix looks the same.
      m.params.get('prefix_proj.weight').data.fill(0);
      const z1 = run(new Float32Array(K * DIM).fill(0.3));
      const z2 = run(new Float32Array(K * DIM).fill(-0.3));
      expect(z1).toEqual(z2);
    }
  });
});

describe('batched surprisal with a prefix', () => {
  it('equals one forward per sequence, whatever the batching and padding', () => {
    const m = model('gpt2');
    const rng = new Rng(5);
    const contexts = [[4, 5, 6], [7], [8, 9, 10, 11, 12], [13, 14]];
    const targets = [3, 4, 5, 6];
    const prefixes = contexts.map(() => Float32Array.from({ length: K * DIM }, () => rng.normal()));
    const got = batchedSurprisal(
      m,
      {
        count: 4,
        length: (i) => contexts[i]!.length,
        write: (i, dst, off) => dst.set(contexts[i]!, off),
        target: (i) => targets[i]!,
        prefix: { k: K, dim: DIM, write: (i, dst, off) => dst.set(prefixes[i]!, off) },
      },
      { batchTokens: 24, padMultiple: 4 },
    );
    for (let i = 0; i < 4; i++) {
      const want = E.noGrad(() =>
        E.tidy(() => {
          const logits = m.forward({ ids: Int32Array.from(contexts[i]!), batch: 1, seq: contexts[i]!.length, prefix: E.tensor(prefixes[i]!, [1, K, DIM]) });
          const last = E.narrow(E.reshape(logits, [K + contexts[i]!.length, V]), 0, K + contexts[i]!.length - 1, 1);
          return E.crossEntropy(last, Int32Array.of(targets[i]!), { reduction: 'none' }).item();
        }),
      );
      expect(got[i]).toBeCloseTo(want, 4);
    }
  });
});

describe('PrefixPointerModel (saliency and ablation on image-grounded items)', () => {
  const features = new Map([
    ['11', Float32Array.from({ length: K * DIM }, (_, i) => Math.sin(i))],
    ['22', Float32Array.from({ length: K * DIM }, (_, i) => Math.cos(3 * i))],
  ]);
  const store = FeatureStore.fromMap(features, K, DIM);

  it('scores a pointer context exactly like the prefixed input, and saliency sees the prefix positions as ENV', () => {
    for (const arch of ['gpt2', 'mamba2', 'lstm'] as Arch[]) {
      const m = model(arch);
      const pm = new PrefixPointerModel(m, store);
      const items = [
        { context: pm.pointerContext('11', [4, 5, 6]), target: 7, envPositions: pm.envPositions() },
        { context: pm.pointerContext('22', [8, 9]), target: 10, envPositions: pm.envPositions() },
      ];
      expect(items[0]!.context.slice(0, K)).toEqual([V, V, V]);
      const direct = [
        { img: '11', ids: [4, 5, 6], t: 7 },
        { img: '22', ids: [8, 9], t: 10 },
      ].map(({ img, ids, t }) =>
        E.noGrad(() =>
          E.tidy(() => {
            const logits = m.forward({ ids: Int32Array.from(ids), batch: 1, seq: ids.length, prefix: E.tensor(store.get(img), [1, K, DIM]) });
            const last = E.narrow(E.reshape(logits, [K + ids.length, V]), 0, K + ids.length - 1, 1);
            return E.crossEntropy(last, Int32Array.of(t), { reduction: 'none' }).item();
          }),
        ),
      );
      const s = itemSurprisal(pm, items);
      expect(s[0]).toBeCloseTo(direct[0]!, 4);
      expect(s[1]).toBeCloseTo(direct[1]!, 4);
      const sal = computeSaliency(pm, items, { batchSize: 2 });
      expect(sal.surprisal[0]).toBeCloseTo(direct[0]!, 4);
      const layerRows = sal.rows.filter((r) => r.head === -1);
      expect(layerRows.length).toBe(2 * m.nLayers);
      for (const r of layerRows) {
        expect(r.envShare).toBeGreaterThan(0);
        expect(r.envShare).toBeLessThanOrEqual(1 + 1e-9);
      }
    }
  });

  it('ablation runs on pointer contexts (GPT-2 heads)', () => {
    const pm = new PrefixPointerModel(model('gpt2'), store);
    const items = [pm.pointerContext('11', [4, 5, 6]), pm.pointerContext('22', [8, 9]), pm.pointerContext('11', [3])].map((context, i) => ({ context, target: 7 + i }));
    const r = interventionTest(pm, items, [{ layer: 1, head: 0 }], { draws: 2, seed: 1 });
    expect(r.perItem.original.length).toBe(3);
    expect(Number.isFinite(r.intervened)).toBe(true);
    expect(r.intervened).not.toBe(r.original);
  });
});
