import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as E from '../../src/engine/index.js';
import { ablationHooks, aggregateHeads, controlHeadSets, headScores, interventionTest, itemSurprisal } from '../../src/analysis/heads.js';
import { listCheckpoints, loadCheckpoint } from '../../src/train/checkpoint.js';
import { train } from '../../src/train/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { writeToyCorpus } from '../helpers/toy-corpus.js';

describe('aggregate heads and ablation', async () => {
  const out = mkdtempSync(join(tmpdir(), 'gl-heads-'));
  await train({ corpus: writeToyCorpus(), out, arch: 'gpt2', preset: 'tiny', seed: 6, quiet: true, train: { steps: 40 } });
  const { model } = loadCheckpoint(listCheckpoints(out).pop()!.path);
  const rng = new Rng(8);
  const items = Array.from({ length: 16 }, () => ({ context: Array.from({ length: 4 + rng.int(12) }, () => 4 + rng.int(40)), target: 4 + rng.int(40) }));

  it('ablating no heads changes nothing', () => {
    expect(itemSurprisal(model, items, ablationHooks(model, []))).toEqual(itemSurprisal(model, items));
  });

  it('ablating every head of a layer equals removing that layer’s attention output', () => {
    const all = Array.from({ length: model.nHeads }, (_, head) => ({ layer: 1, head }));
    const a = itemSurprisal(model, items, ablationHooks(model, all));
    const bias = model.params.get('transformer.h.1.attn.c_proj.bias');
    const b = itemSurprisal(model, items, [{ name: 'blocks.1.hook_attn_out', forward: (t) => E.add(E.mul(t, E.zeros([t.shape[2]!])), bias) }]);
    items.forEach((_, i) => expect(a[i]).toBeCloseTo(b[i]!, 5));
    expect(a).not.toEqual(itemSurprisal(model, items));
  });

  it('control sets have the same size, exclude the chosen heads, and are seeded', () => {
    const chosen = [{ layer: 0, head: 1 }, { layer: 1, head: 0 }];
    const sets = controlHeadSets(chosen, 2, 2, { draws: 5, seed: 3 });
    expect(sets).toHaveLength(5);
    for (const s of sets) {
      expect(s).toHaveLength(2);
      for (const h of s) expect(chosen.some((c) => c.layer === h.layer && c.head === h.head)).toBe(false);
    }
    expect(controlHeadSets(chosen, 2, 2, { draws: 5, seed: 3 })).toEqual(sets);
    const matched = controlHeadSets([{ layer: 1, head: 0 }], 2, 2, { draws: 4, seed: 1, layerMatched: true });
    for (const s of matched) expect(s[0]).toEqual({ layer: 1, head: 1 });
    // More selected than left: NA (no sets), never a smaller control; a full layer falls back to the nearest one.
    expect(controlHeadSets([{ layer: 0, head: 0 }, { layer: 0, head: 1 }, { layer: 1, head: 0 }], 2, 2, { draws: 3 })).toEqual([]);
    for (const s of controlHeadSets([{ layer: 1, head: 0 }, { layer: 1, head: 1 }], 3, 2, { draws: 4, seed: 2, layerMatched: true })) {
      expect(s).toHaveLength(2);
      for (const h of s) expect(h.layer).not.toBe(1);
    }
  });

  it('selects heads by mean ENV share and runs the intervention with a paired test', () => {
    const rows = [
      { item: 0, layer: 0, head: 0, envFlow: 0.2, envShare: 0.5, rowTotal: 1 },
      { item: 1, layer: 0, head: 0, envFlow: 0.2, envShare: 0.2, rowTotal: 1 },
      { item: 0, layer: 1, head: 1, envFlow: 0.1, envShare: 0.1, rowTotal: 1 },
      { item: 1, layer: 1, head: 1, envFlow: 0.1, envShare: 0.1, rowTotal: 1 },
      { item: 0, layer: 1, head: -1, envFlow: 9, envShare: 0.9, rowTotal: 1 },
    ];
    const scores = headScores(rows);
    expect(scores).toHaveLength(2);
    expect(scores[0]!.envShare).toBeCloseTo(0.35);
    expect(aggregateHeads(scores, 0.3)).toEqual([{ layer: 0, head: 0 }]);
    const r = interventionTest(model, items, [{ layer: 1, head: 0 }], { draws: 3, seed: 2 });
    expect(r.meanLayer).toBe(2);
    expect(r.original).toBeCloseTo(Array.from(itemSurprisal(model, items)).reduce((a, b) => a + b, 0) / items.length, 10);
    expect(r.intervened).not.toBe(r.original);
    expect(r.pValue).toBeGreaterThanOrEqual(0);
    expect(r.pValue).toBeLessThanOrEqual(1);
  });
});
