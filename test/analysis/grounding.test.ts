/**
 * Grounding information gain on a hand-built model whose probabilities are known in closed form,
 * so G is checked exactly (up to float32 logits), independent of batching and padding.
 */
import { describe, expect, it } from 'vitest';
import type { EvalItem } from '../../src/data/contract.js';
import * as E from '../../src/engine/index.js';
import type { LanguageModel, ModelInput, ForwardOptions } from '../../src/models/types.js';
import { prepareItems, summariseGains, wordGains } from '../../src/analysis/grounding.js';
import { batchedSurprisal, evaluateItems, surprisalOf } from '../../src/analysis/surprisal.js';
import { bootstrapCI } from '../../src/analysis/stats.js';

// Vocabulary: 0 <pad>, 1 <unk>, 2 <doc>, 3 <MOT>, 4..6 a/b/c<ENV>, 7..9 a/b/c<LAN>, 10 look<LAN>.
const V = 11;
const ENV = { a: 4, b: 5, c: 6 } as const;
const LAN = { a: 7, b: 8, c: 9 } as const;
const K = 3; // each ENV token seen so far adds K to the weight of its LAN word

/**
 * p(w | tokens[0..t]) ∝ 1 + K·(number of ENV tokens of w's word in tokens[0..t]). Causal by
 * construction (only positions ≤ t count), so right padding never changes a row.
 */
function toyWeights(tokens: ArrayLike<number>, upto: number): number[] {
  const w = new Array<number>(V).fill(1);
  for (let i = 0; i <= upto; i++) {
    const t = tokens[i]!;
    if (t >= 4 && t <= 6) w[t + 3]! += K;
  }
  return w;
}
const expectedSurprisal = (ctx: number[], target: number) => {
  const w = toyWeights(ctx, ctx.length - 1);
  return -Math.log(w[target]! / w.reduce((a, b) => a + b, 0));
};

class ToyModel {
  readonly arch = 'gpt2' as const;
  readonly config = {};
  readonly nLayers = 1;
  readonly nHeads = 1;
  readonly dModel = 4;
  readonly vocabSize = V;
  calls = 0;
  forward(input: ModelInput, opts: ForwardOptions = {}): E.Tensor {
    this.calls++;
    const { ids, batch, seq } = input;
    const rows = opts.logitRows ?? Int32Array.from({ length: batch * seq }, (_, i) => i);
    const out = new Float32Array(rows.length * V);
    rows.forEach((flat, r) => {
      const b = Math.floor(flat / seq);
      const t = flat % seq;
      const w = toyWeights(ids.subarray(b * seq, (b + 1) * seq), t);
      for (let v = 0; v < V; v++) out[r * V + v] = Math.log(w[v]!);
    });
    return E.tensor(out, [rows.length, V]);
  }
}
const toy = () => new ToyModel() as unknown as LanguageModel & ToyModel;

function item(id: string, word: 'a' | 'b' | 'c', context: number[], swap: number[], mismatches: ('a' | 'b' | 'c')[], kind: 'corpus' | 'template' = 'corpus'): EvalItem {
  return {
    id,
    word,
    source: { kind, file: 'x.cha', line: 1 },
    context,
    target: LAN[word],
    env_positions: context.flatMap((t, i) => (t >= 4 && t <= 6 ? [i] : [])),
    swap_positions: swap,
    mismatches: mismatches.map((u) => ({ word: u, env_id: ENV[u] })),
  };
}

const items: EvalItem[] = [
  // a: "<MOT> a<ENV> <MOT> look<LAN>", one swap position
  item('a/0', 'a', [3, ENV.a, 3, 10], [1], ['b', 'c']),
  // a with a distractor c<ENV> and two a<ENV> (both swapped)
  item('a/1', 'a', [3, ENV.a, ENV.c, ENV.a, 3, 10, 10], [1, 3], ['b']),
  // b: a longer context
  item('b/0', 'b', [2, 3, 10, 10, 3, ENV.b, 3, 10, 10, 10, 10, 10], [5], ['a', 'c']),
  item('c/0', 'c', [3, ENV.c, 3], [1], ['a', 'b'], 'template'),
];

function swapped(it: EvalItem, u: number): number[] {
  const c = it.context.slice();
  for (const p of it.swap_positions) c[p] = u;
  return c;
}

describe('batched surprisal', () => {
  it('equals -ln p at the last real position, whatever the batch size and padding', () => {
    const contexts = items.flatMap((it) => [it.context, ...it.mismatches.map((m) => swapped(it, m.env_id))]);
    const targets = items.flatMap((it) => new Array(1 + it.mismatches.length).fill(it.target) as number[]);
    const want = contexts.map((c, i) => expectedSurprisal(c, targets[i]!));
    for (const opts of [{}, { batchTokens: 1 }, { batchTokens: 16, padMultiple: 1 }, { batchTokens: 1000, padMultiple: 32 }]) {
      const m = toy();
      const got = surprisalOf(m, contexts, targets, opts);
      got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 5));
    }
  });

  it('batches sequences into few forward passes and reports progress', () => {
    const m = toy();
    const n = 200;
    const seen: number[] = [];
    const s = batchedSurprisal(
      m,
      { count: n, length: (i) => 1 + (i % 13), write: (i, dst, off) => dst.fill(3, off, off + 1 + (i % 13)), target: () => 10 },
      { batchTokens: 4096, onProgress: (d) => seen.push(d) },
    );
    expect(s.every((x) => Math.abs(x - Math.log(V)) < 1e-5)).toBe(true);
    expect(m.calls).toBe(4); // four padded lengths (4, 8, 12, 16), each one batch
    expect(seen[seen.length - 1]).toBe(n);
  });

  it('rejects an empty context', () => {
    expect(() => surprisalOf(toy(), [[]], [7])).toThrow(/empty/);
  });
});

describe('grounding information gain', () => {
  it('G(v) is exact on a model with known probabilities', () => {
    const { prepared, skipped } = prepareItems(items, 64);
    expect(skipped).toEqual([]);
    const results = evaluateItems(toy(), prepared, { batchTokens: 24 });
    // Per item: matched and each mismatched surprisal match the closed form.
    for (const r of results) {
      expect(r.matched).toBeCloseTo(expectedSurprisal(r.item.context, r.item.target), 5);
      r.item.mismatches.forEach((m, k) => expect(r.mismatched[k]).toBeCloseTo(expectedSurprisal(swapped(r.item, m.env_id), r.item.target), 5));
    }
    // Item a/0: weights a=4 (1 + 3), Σ = 11 + 3 = 14 matched; mismatched: a=1, Σ = 14 → G_item = ln 4.
    expect(results[0]!.mismatched[0]! - results[0]!.matched).toBeCloseTo(Math.log(4), 5);
    // Item a/1: two a<ENV> and a c<ENV>: matched a = 7, Σ = 11 + 9 = 20; mismatched a = 1 → ln 7.
    expect(results[1]!.mismatched[0]! - results[1]!.matched).toBeCloseTo(Math.log(7), 5);

    const words = wordGains(results.filter((r) => r.item.source.kind === 'corpus'));
    expect(words.map((w) => w.word)).toEqual(['a', 'b']);
    const a = words[0]!;
    expect(a.n_items).toBe(2);
    // G(a) = mean over items of (mean over u of s(u) − s(v)) = (ln 4 + ln 7) / 2.
    expect(a.G).toBeCloseTo((Math.log(4) + Math.log(7)) / 2, 5);
    expect(a.matched).toBeCloseTo((Math.log(14 / 4) + Math.log(20 / 7)) / 2, 5);
    expect(a.mismatched - a.matched).toBeCloseTo(a.G, 12);
    expect(words[1]!.G).toBeCloseTo(Math.log(4), 5);
  });

  it('truncates long contexts on the left and skips items whose swaps were cut away', () => {
    const long = item('a/long', 'a', [3, ENV.a, 3, 10, 10, 10, 10, 10], [1], ['b']);
    const gone = item('a/gone', 'a', [ENV.a, 3, 10, 10, 10, 10, 10, 10], [0], ['b']);
    const { prepared, skipped } = prepareItems([long, gone, { ...long, id: 'x', mismatches: [] }], 7);
    expect(prepared.map((p) => p.item.id)).toEqual(['a/long']);
    expect(Array.from(prepared[0]!.context)).toEqual([ENV.a, 3, 10, 10, 10, 10, 10]);
    expect(Array.from(prepared[0]!.swap)).toEqual([0]);
    expect(prepared[0]!.truncated).toBe(1);
    expect(skipped.map((s) => s.id)).toEqual(['a/gone', 'x']);
  });

  it('summary: means over words, bootstrap interval and Wilcoxon over words match known values', () => {
    // Differences mm − m = [0.5, 1.2, −0.3, 2.0, 0.8, 1.5, 0.1, 0.9]: scipy.stats.wilcoxon gives W = 2, p = 0.0234375.
    const d = [0.5, 1.2, -0.3, 2.0, 0.8, 1.5, 0.1, 0.9];
    const words = d.map((g, i) => ({ matched: 5 + i, mismatched: 5 + i + g, G: g, n_items: 2 }));
    const s = summariseGains(words, { bootstrapSeed: 7, iterations: 2000 });
    expect(s.n_words).toBe(8);
    expect(s.n_items).toBe(16);
    expect(s.mean_matched).toBeCloseTo(8.5, 12);
    expect(s.mean_G).toBeCloseTo(d.reduce((a, b) => a + b) / 8, 12);
    expect(s.mean_mismatched - s.mean_matched).toBeCloseTo(s.mean_G, 12);
    expect(s.frac_positive).toBeCloseTo(7 / 8, 12);
    expect(s.wilcoxon_W).toBe(2);
    expect(s.wilcoxon_p).toBeCloseTo(0.0234375, 10);
    expect(s.wilcoxon_method).toBe('exact');
    const ci = bootstrapCI(d, { seed: 7, iterations: 2000 });
    expect([s.G_lo, s.G_hi]).toEqual([ci.lower, ci.upper]);
    expect(s.G_lo).toBeLessThan(s.mean_G);
    expect(s.G_hi).toBeGreaterThan(s.mean_G);
    // All five words gain: exact two-sided p = 2 / 2^5.
    const five = [1, 2, 3, 4, 5].map((g) => ({ matched: 0, mismatched: g, G: g, n_items: 1 }));
    expect(summariseGains(five, { iterations: 100 }).wilcoxon_p).toBeCloseTo(0.0625, 12);
    // Constant G: a degenerate interval, an undefined test (NA).
    const flat = summariseGains([1, 2, 3].map(() => ({ matched: 1, mismatched: 1, G: 0, n_items: 1 })), { iterations: 100 });
    expect([flat.G_lo, flat.G_hi]).toEqual([0, 0]);
    expect(flat.wilcoxon_p).toBeNaN();
  });
});
