/**
 * Grounding heads on a planted mechanism (test/helpers/planted-gpt2.ts, loaded through the import
 * path): the analysis must name exactly the planted grounding head, with a significant ΔG, and
 * none of the decoys (a scene reader that raises every target alike, a previous-token head, a
 * first-positions head), whatever selection rule picked them; a model that cannot ground gets no
 * grounding head. Plus the pieces: ablation hooks hit exactly one head, control sets never contain
 * the selection and are NA rather than smaller, rules parse, words split in disjoint halves.
 */
import { describe, expect, it } from 'vitest';
import * as E from '../../src/engine/index.js';
import {
  applyVerdicts,
  holmVerdictRows,
  drawControlSets,
  groundingHeads,
  type GroundingHeadResult,
  headAblationHooks,
  headMetrics,
  headOutputHook,
  headPatching,
  type HeadRef,
  meanHeadOutputs,
  parseHeadRule,
  selectHeads,
  wordHalves,
} from '../../src/analysis/grounding-heads.js';
import { computeSaliency } from '../../src/analysis/saliency.js';
import { Rng } from '../../src/util/rng.js';
import { PLANTED, plantedItems, plantedModel } from '../helpers/planted-gpt2.js';

const RULES = ['ground_share>=0.5', 'legacy', 'layer_flow_share>=0.3', 'top:2:ground_share', 'ground_enrichment>=3+floor:0.05'];
const name = (h: HeadRef) => `L${h.layer}H${h.head}`;
const named = (res: GroundingHeadResult, rule: string) => res.heads.filter((h) => h.rule === rule && h.grounding === 1).map(name);

describe('planted grounding head', () => {
  const { model } = plantedModel();
  const items = plantedItems(3, 1);
  const sal = computeSaliency(model, items);
  const res = groundingHeads(model, items, sal.rows, { rules: RULES, patching: true });
  const rules = RULES.map((r) => parseHeadRule(r).name);

  it('the planted model grounds (sanity of the hand-written weights)', () => {
    expect(res.original.G.every((g) => g > 0.5)).toBe(true);
    expect(res.original.G.reduce((a, b) => a + b, 0) / items.length).toBeGreaterThan(2);
  });

  it('metrics: the scene reader and the first-positions head pass the legacy ENV share, only the planted head is on the ground token', () => {
    const m = (h: HeadRef) => res.metrics.find((x) => x.layer === h.layer && x.head === h.head)!;
    expect(m(PLANTED.grounding).ground_share).toBeGreaterThan(0.9);
    expect(m(PLANTED.scene).env_share).toBeGreaterThan(0.9);
    expect(m(PLANTED.scene).ground_share).toBeLessThan(0.5);
    expect(m(PLANTED.first).env_share).toBeGreaterThan(0.3);
    expect(m(PLANTED.first).ground_share).toBeLessThan(0.05);
    expect(m(PLANTED.previous).env_share).toBeLessThan(0.05);
    expect(m(PLANTED.grounding).ground_enrichment).toBeGreaterThan(3 * m(PLANTED.scene).ground_enrichment);
    // The legacy rule is fooled (it selects the decoys too); the verdicts below must not be.
    const legacy = selectHeads(res.metrics, parseHeadRule('legacy')).map(name);
    expect(legacy).toEqual(expect.arrayContaining([name(PLANTED.scene), name(PLANTED.first), name(PLANTED.grounding)]));
    expect(selectHeads(res.metrics, parseHeadRule('ground_share>=0.5')).map(name)).toEqual([name(PLANTED.grounding)]);
  });

  it('every rule names exactly the planted head as a grounding head, with a significant ΔG against its controls', () => {
    for (const rule of rules) {
      expect(named(res, rule), rule).toEqual([name(PLANTED.grounding)]);
      const h = res.heads.find((x) => x.rule === rule && x.layer === PLANTED.grounding.layer && x.head === PLANTED.grounding.head)!;
      expect(h.test!.dG).toBeLessThan(-1);
      expect(h.test!.dG_control).toBeGreaterThan(-0.2);
      expect(h.test!.removed).toBeGreaterThan(0.5);
      expect(h.p_holm).toBeLessThan(1e-3);
      expect(h.test!.n_items).toBe(items.length); // selected in both folds: every item tested out of fold
    }
    // Decoys that a rule selected were tested and rejected: ablating them does not lower G.
    const scene = res.heads.find((x) => x.rule === rules[1] && x.layer === PLANTED.scene.layer && x.head === PLANTED.scene.head)!;
    expect(scene.selected).toBe(true);
    expect(scene.grounding).toBe(0);
    expect(scene.test!.dG).toBeGreaterThan(-0.05);
    // ... although their ablation raises matched surprisal (what the paper's test measures).
    expect(scene.test!.d_matched).toBeGreaterThan(0.02);
  });

  it('the set of a rule lowers G against random sets of its size; a set that leaves too few heads is NA, never a p-value', () => {
    const set = res.sets.find((s) => s.rule === rules[0])!;
    expect(set.heads.map(name)).toEqual([name(PLANTED.grounding)]);
    expect(set.test.dG).toBeLessThan(-1);
    expect(set.test.p).toBeLessThan(1e-3);
    const all = groundingHeads(model, items, sal.rows, { rules: ['env_share>=0'], crossFit: false });
    expect(all.sets[0]!.heads).toHaveLength(8);
    expect(all.sets[0]!.test.na).toMatch(/0 heads outside the selection, 8 needed/);
    expect(all.sets[0]!.test.p).toBeNaN();
    expect(all.heads.every((h) => h.grounding === 0)).toBe(true); // no head has a control left
  });

  it('head patching restores G through the planted head only', () => {
    const at = (h: HeadRef) => res.heads.find((x) => x.rule === rules[1] && x.layer === h.layer && x.head === h.head)!;
    expect(at(PLANTED.grounding).recovery).toBeGreaterThan(0.9);
    expect(at(PLANTED.grounding).reverse).toBeGreaterThan(0.9);
    expect(Math.abs(at(PLANTED.scene).recovery)).toBeLessThan(0.1);
  });

  it('mean ablation (means over other sequences) gives the same verdicts', () => {
    const means = meanHeadOutputs(model, plantedItems(4, 7).map((i) => i.context));
    const r = groundingHeads(model, items, sal.rows, { rules: RULES.slice(0, 3), ablation: 'mean', means });
    for (const rule of rules.slice(0, 3)) expect(named(r, rule), rule).toEqual([name(PLANTED.grounding)]);
  });

  it('cross-fitting selects on one half of the words and tests on the other', () => {
    const [a, b] = wordHalves(items.map((i) => i.word));
    expect(res.folds.map((f) => [f.selectOn.sort(), f.testOn.sort()])).toEqual([
      [[...a].sort(), [...b].sort()],
      [[...b].sort(), [...a].sort()],
    ]);
    const h = res.heads.find((x) => x.rule === rules[0] && x.grounding === 1)!;
    expect(h.folds.map((f) => f.test!.n_items)).toEqual([items.filter((i) => b.has(i.word)).length, items.filter((i) => a.has(i.word)).length]);
    // Fold metrics are computed on the selection half only.
    const onA = headMetrics(sal.rows, items, new Set(items.map((_, i) => i).filter((i) => a.has(items[i]!.word))));
    expect(h.folds[0]!.metrics.ground_share).toBeCloseTo(onA.find((m) => m.layer === h.layer && m.head === h.head)!.ground_share, 12);
  });

  it('table rows get the same Holm verdicts as the result objects', () => {
    const rows = res.heads.map((h) => ({ selection: h.rule, p: h.test?.p ?? NaN, dG: h.test?.dG ?? NaN, removed: h.test?.removed ?? NaN, na: h.test?.na ?? null }));
    const v = holmVerdictRows(rows);
    res.heads.forEach((h, i) => {
      expect(v[i]!.grounding).toBe(h.grounding);
      if (Number.isFinite(h.p_holm)) expect(v[i]!.p_holm).toBeCloseTo(h.p_holm, 12);
    });
  });

  it('fewer mismatches per item (maxMismatches) keep the verdicts', () => {
    const r = groundingHeads(model, items, sal.rows, { rules: RULES.slice(0, 2), maxMismatches: 2, draws: 5 });
    for (const rule of rules.slice(0, 2)) expect(named(r, rule), rule).toEqual([name(PLANTED.grounding)]);
  });

  it('Holm over more tests (checkpoints) only raises adjusted p-values', () => {
    const one = res.heads.filter((h) => h.rule === rules[1]).map((h) => ({ ...h }));
    const twice = [...one.map((h) => ({ ...h })), ...one.map((h) => ({ ...h }))];
    applyVerdicts(twice);
    for (let i = 0; i < one.length; i++) if (Number.isFinite(one[i]!.p_holm)) expect(twice[i]!.p_holm).toBeGreaterThanOrEqual(one[i]!.p_holm);
  });
});

describe('negative control: a model that reads the object but cannot ground', () => {
  const { model } = plantedModel({ grounds: false });
  const items = plantedItems(3, 1);
  const sal = computeSaliency(model, items);
  const res = groundingHeads(model, items, sal.rows, { rules: RULES });

  it('names no grounding head under any rule, though the legacy set raises matched surprisal', () => {
    expect(Math.abs(res.original.G.reduce((a, b) => a + b, 0) / items.length)).toBeLessThan(0.05);
    expect(res.heads.filter((h) => h.grounding === 1).map((h) => `${h.rule} ${name(h)}`)).toEqual([]);
    for (const s of res.sets) if (!s.test.na) expect(s.test.p).toBeGreaterThan(0.01);
    const legacy = res.sets.find((s) => s.rule.startsWith('legacy'))!;
    expect(legacy.heads.map(name)).toContain(name(PLANTED.scene));
    expect(headPatching(model, items, PLANTED.grounding).recovery).toBeNaN(); // no G to recover
  });
});

describe('ablation hooks', () => {
  const { model } = plantedModel();
  const items = plantedItems(1, 2).slice(0, 4);
  const capture = (hooks: E.Hook[]) => {
    const z = new Map<number, Float32Array>();
    const listen = Array.from({ length: model.nLayers }, (_, l) => ({ name: headOutputHook(model, l), forward: (t: E.Tensor) => void z.set(l, Float32Array.from(t.data)) }));
    const it = items[0]!;
    E.noGrad(() => E.tidy(() => E.withHooks([...hooks, ...listen], () => model.forward({ ids: Int32Array.from(it.context), batch: 1, seq: it.context.length }))));
    return z;
  };

  it('zero ablation of (layer, head) zeroes exactly that head’s output', () => {
    const plain = capture([]);
    const D = model.dModel / model.nHeads;
    for (const target of [PLANTED.grounding, PLANTED.first]) {
      const abl = capture(headAblationHooks(model, [target]));
      for (let l = 0; l < model.nLayers; l++) {
        const a = abl.get(l)!;
        const p = plain.get(l)!;
        for (let j = 0; j < a.length; j++) {
          const h = Math.floor(j / D) % model.nHeads;
          if (l === target.layer && h === target.head) expect(Math.abs(a[j]!)).toBe(0);
          else if (l <= target.layer) expect(a[j]).toBe(p[j]);
        }
        if (l === target.layer) expect(p.some((v, j) => Math.floor(j / D) % model.nHeads === target.head && v !== 0)).toBe(true);
      }
    }
  });

  it('mean ablation writes the head’s mean output', () => {
    const means = meanHeadOutputs(model, items.map((i) => i.context));
    const D = model.dModel / model.nHeads;
    const abl = capture(headAblationHooks(model, [PLANTED.grounding], { ablation: 'mean', means }));
    const z = abl.get(PLANTED.grounding.layer)!;
    const m = means.get(PLANTED.grounding.layer)!;
    const T = items[0]!.context.length;
    for (let t = 0; t < T; t++) for (let j = 0; j < D; j++) expect(z[(t * model.nHeads + PLANTED.grounding.head) * D + j]).toBeCloseTo(m[PLANTED.grounding.head * D + j]!, 6);
  });
});

describe('control sets', () => {
  it('are as large as the selection, never contain it, and are seeded', () => {
    const rng = new Rng(4);
    for (let trial = 0; trial < 40; trial++) {
      const L = 1 + rng.int(4);
      const H = 1 + rng.int(4);
      const all: HeadRef[] = [];
      for (let l = 0; l < L; l++) for (let h = 0; h < H; h++) all.push({ layer: l, head: h });
      const sel = rng.sample(all, 1 + rng.int(all.length));
      const layerMatched = rng.int(2) === 1;
      const d = drawControlSets(sel, L, H, { draws: 5, seed: trial, layerMatched });
      if (all.length - sel.length < sel.length) {
        expect(d.na).toMatch(/needed/);
        expect(d.sets).toEqual([]);
        continue;
      }
      expect(d.na).toBeNull();
      expect(d.sets.length).toBeGreaterThan(0);
      for (const s of d.sets) {
        expect(s).toHaveLength(sel.length);
        expect(new Set(s.map(name)).size).toBe(s.length);
        for (const h of s) expect(sel.some((x) => x.layer === h.layer && x.head === h.head)).toBe(false);
      }
      expect(drawControlSets(sel, L, H, { draws: 5, seed: trial, layerMatched })).toEqual(d);
    }
  });

  it('layer-matched: same layer while it lasts, then the nearest layer, counted', () => {
    // 3 layers × 2 heads; selecting both heads of layer 1 leaves none there: controls come from layers 0 and 2.
    const d = drawControlSets([{ layer: 1, head: 0 }, { layer: 1, head: 1 }], 3, 2, { draws: 6, seed: 1 });
    expect(d.crossLayer).toBe(12);
    for (const s of d.sets) for (const h of s) expect(h.layer).not.toBe(1);
    const one = drawControlSets([{ layer: 2, head: 0 }], 3, 3, { draws: 20, seed: 1 });
    expect(one.exhaustive).toBe(true);
    expect(one.sets.map((s) => name(s[0]!))).toEqual(['L2H1', 'L2H2']);
    expect(one.crossLayer).toBe(0);
    // Excluded heads (the rest of the selection) are not controls either.
    const ex = drawControlSets([{ layer: 2, head: 0 }], 3, 3, { draws: 20, seed: 1, exclude: [{ layer: 2, head: 1 }] });
    expect(ex.sets.map((s) => name(s[0]!))).toEqual(['L2H2']);
  });
});

describe('rules and halves', () => {
  it('parses named rules and rejects others with the grammar', () => {
    expect(parseHeadRule('legacy')).toMatchObject({ name: 'legacy:env_share>=0.3', metric: 'env_share', value: 0.3, legacy: true });
    expect(parseHeadRule('ground_share>=0.5+floor:0.1')).toMatchObject({ name: 'ground_share>=0.5+floor:0.1', kind: 'threshold', floor: 0.1 });
    expect(parseHeadRule('top:3')).toMatchObject({ name: 'top:3:env_share', kind: 'top', value: 3 });
    expect(parseHeadRule('top:auto:ground_share').auto).toBe(true);
    for (const r of ['legacy', 'ground_share>=0.5+floor:0.1', 'top:3', 'top:auto:total']) expect(parseHeadRule(parseHeadRule(r).name)).toEqual(parseHeadRule(r)); // canonical names parse back
    expect(() => parseHeadRule('share>=0.3')).toThrow(/METRIC one of/);
    expect(() => parseHeadRule('ground_share>=0.3+floor:2')).toThrow(/fraction/);
  });

  it('the floor removes heads whose total saliency is small', () => {
    const m = (layer: number, head: number, share: number, total: number) => ({ layer, head, n_items: 1, env_share: share, ground_share: share, env_enrichment: 1, ground_enrichment: 1, env_flow: 1, ground_flow: 1, layer_flow_share: 1, total });
    const ms = [m(0, 0, 0.9, 0.001), m(0, 1, 0.6, 1), m(1, 0, 0.2, 2)];
    expect(selectHeads(ms, parseHeadRule('ground_share>=0.5')).map(name)).toEqual(['L0H0', 'L0H1']);
    expect(selectHeads(ms, parseHeadRule('ground_share>=0.5+floor:0.1')).map(name)).toEqual(['L0H1']);
    expect(selectHeads(ms, parseHeadRule('top:1:total')).map(name)).toEqual(['L1H0']);
  });

  it('splits words into two disjoint seeded halves', () => {
    const words = ['a', 'b', 'c', 'd', 'e'];
    const [x, y] = wordHalves(words, 3);
    expect(x.size + y.size).toBe(5);
    expect([...x].some((w) => y.has(w))).toBe(false);
    expect(wordHalves([...words].reverse(), 3)).toEqual([x, y]);
  });
});
