/**
 * Grounding heads: which attention heads carry the environment to the prediction, named only on
 * causal evidence that can fail (issue 13; SPEC §6).
 *
 * 1. Metrics per head (means over matched items of the prediction row's saliency, saliency.ts):
 *      env_share          Σ_ENV S / Σ S                  (what the legacy 0.30 rule reads)
 *      ground_share       Σ_{v<ENV>} S / Σ S             (the ground token alone: the swap positions)
 *      env_enrichment     env_share / (|ENV| / n)        (over uniform saliency, which gives |ENV|/n)
 *      ground_enrichment  ground_share / (|v<ENV>| / n)
 *      env_flow, ground_flow   mean S over those positions
 *      layer_flow_share   the head's ENV flow / the sum of its layer's heads' ENV flows
 *      total              Σ S (the magnitude a floor is applied to)
 * 2. Selection rules, named and parseable (parseHeadRule): `METRIC>=X`, `legacy` (env_share ≥ 0.30,
 *    our reconstruction of the paper's rule, kept and labelled), `top:K[:METRIC]`, each with an
 *    optional magnitude floor `+floor:F` (total ≥ F × the largest head's total at that checkpoint).
 *    None fixes the number of heads except top:K, so counts can change over training.
 * 3. Causal tests. Ablating a head (zero, or its mean output over training positions) at its
 *    per-head output before the output projection changes per item the matched surprisal m, the
 *    mean mismatched surprisal mm and G = mm − m. A head's (or a set's) effect ΔG is compared per
 *    item with the mean effect of random control sets of the same size, drawn from the heads
 *    outside the selection, layer-matched by default (a layer that runs out is filled from the
 *    nearest layer with heads left; those draws are counted). When fewer heads are left than
 *    were selected the test is NA: never a smaller control. One-sided paired t-test over items:
 *    the ablation lowers G more than its controls.
 * 4. Cross-fitting: the words are split in two seeded halves; heads are selected on the items of
 *    one half and tested on the items of the other, and the other way round (two folds). A head's
 *    pooled test uses the items of every fold that selected it, each tested out of fold.
 * 5. Verdict `grounding` = 1 iff Holm-adjusted p < alpha (over the tested heads, and over
 *    checkpoints when the caller pools them: holmVerdicts), mean ΔG < 0, and the ablation removes
 *    at least `minRemoved` (default 5%) of the items' G (a significant but tiny effect over many
 *    items does not make a head a carrier of grounding).
 * 6. Head patching: the head's output from the matched run patched into the mismatched run
 *    restores a share of G ("% recovery"); the reverse patch removes a share.
 */
import * as E from '../engine/index.js';
import type { LanguageModel } from '../models/types.js';
import { UserError } from '../util/errors.js';
import { deriveSeed, Rng } from '../util/rng.js';
import { type ContextItem, paddedBatches } from './batches.js';
import { type HeadRef, itemSurprisal } from './heads.js';
import type { HeadSaliency } from './saliency.js';
import { holmBonferroni, mean, pairedTTest, wilcoxonSignedRank } from './stats.js';

export type { HeadRef } from './heads.js';

/** An item of the analysis: matched context, its ENV and ground-token positions, its mismatched contexts (same target). */
export interface GroundingItem extends ContextItem {
  word: string;
  envPositions: readonly number[];
  groundPositions: readonly number[];
  mismatches: readonly ArrayLike<number>[];
}

const key = (h: HeadRef) => `${h.layer}/${h.head}`;
const byPlace = (a: HeadRef, b: HeadRef) => a.layer - b.layer || a.head - b.head;

// ---------------------------------------------------------------------------------------------
// 1. Metrics
// ---------------------------------------------------------------------------------------------

export const HEAD_METRICS = ['env_share', 'ground_share', 'env_enrichment', 'ground_enrichment', 'env_flow', 'ground_flow', 'layer_flow_share', 'total'] as const;
export type HeadMetricName = (typeof HEAD_METRICS)[number];

export interface HeadMetrics extends HeadRef {
  n_items: number;
  env_share: number;
  ground_share: number;
  env_enrichment: number;
  ground_enrichment: number;
  env_flow: number;
  ground_flow: number;
  layer_flow_share: number;
  total: number;
}

/**
 * Means per head over the rows of the given items (all items when `only` is absent). Rows are
 * computeSaliency's (item indices into `items`); the layer rows (head -1) are ignored.
 */
export function headMetrics(rows: readonly HeadSaliency[], items: readonly Pick<GroundingItem, 'context' | 'envPositions' | 'groundPositions'>[], only?: ReadonlySet<number>): HeadMetrics[] {
  const acc = new Map<string, { h: HeadRef; n: number; sums: number[]; nGround: number }>();
  for (const r of rows) {
    if (r.head < 0 || (only && !only.has(r.item))) continue;
    const it = items[r.item]!;
    const n = it.context.length;
    const k = key(r);
    const a = acc.get(k) ?? { h: { layer: r.layer, head: r.head }, n: 0, sums: [0, 0, 0, 0, 0, 0, 0], nGround: 0 };
    a.n++;
    a.sums[0]! += r.envShare;
    a.sums[1]! += r.groundShare;
    a.sums[2]! += it.envPositions.length ? r.envShare / (it.envPositions.length / n) : 0;
    if (it.groundPositions.length) {
      a.sums[3]! += r.groundShare / (it.groundPositions.length / n);
      a.nGround++;
    }
    a.sums[4]! += r.envFlow;
    a.sums[5]! += r.groundFlow;
    a.sums[6]! += r.rowTotal;
    acc.set(k, a);
  }
  const out: HeadMetrics[] = [...acc.values()].map(({ h, n, sums: s, nGround }) => ({
    ...h,
    n_items: n,
    env_share: s[0]! / n,
    ground_share: s[1]! / n,
    env_enrichment: s[2]! / n,
    ground_enrichment: nGround ? s[3]! / nGround : NaN,
    env_flow: s[4]! / n,
    ground_flow: s[5]! / n,
    layer_flow_share: NaN,
    total: s[6]! / n,
  }));
  const layerFlow = new Map<number, number>();
  for (const m of out) layerFlow.set(m.layer, (layerFlow.get(m.layer) ?? 0) + m.env_flow);
  for (const m of out) {
    const f = layerFlow.get(m.layer)!;
    m.layer_flow_share = f > 0 ? m.env_flow / f : 0;
  }
  return out.sort(byPlace);
}

// ---------------------------------------------------------------------------------------------
// 2. Selection rules
// ---------------------------------------------------------------------------------------------

export interface HeadRule {
  /** Canonical name, written in every table row the rule produced. */
  name: string;
  kind: 'threshold' | 'top';
  metric: HeadMetricName;
  /** Threshold, or K for top (0 with auto: 10% of the heads, at least 1). */
  value: number;
  auto: boolean;
  /** Magnitude floor: a head's total must reach floor × the largest head's total (0: none). */
  floor: number;
  /** The reconstruction of the paper's rule (env_share ≥ 0.30), kept for comparison. */
  legacy: boolean;
}

/** Parses `legacy`, `METRIC>=X`, `top:K[:METRIC]` or `top:auto[:METRIC]`, each optionally followed by `+floor:F`. */
export function parseHeadRule(text: string): HeadRule {
  const t = text.trim();
  const bad = () => new UserError(`head rule "${text}": expected legacy, METRIC>=X or top:K[:METRIC] (optionally +floor:F), METRIC one of ${HEAD_METRICS.join(', ')}`);
  const [body, ...mods] = t.split('+');
  let floor = 0;
  for (const m of mods) {
    const f = /^floor:(\d*\.?\d+)$/.exec(m.trim());
    if (!f) throw bad();
    floor = Number(f[1]);
    if (floor < 0 || floor > 1) throw new UserError(`head rule "${text}": the floor is a fraction of the largest head's total saliency, 0..1`);
  }
  const suffix = floor > 0 ? `+floor:${floor}` : '';
  const isMetric = (m: string): m is HeadMetricName => (HEAD_METRICS as readonly string[]).includes(m);
  if (body === 'legacy' || body === 'legacy:env_share>=0.3') return { name: `legacy:env_share>=0.3${suffix}`, kind: 'threshold', metric: 'env_share', value: 0.3, auto: false, floor, legacy: true };
  const th = /^([a-z_]+)>=(-?\d*\.?\d+)$/.exec(body!);
  if (th) {
    if (!isMetric(th[1]!)) throw bad();
    return { name: `${th[1]}>=${Number(th[2])}${suffix}`, kind: 'threshold', metric: th[1], value: Number(th[2]), auto: false, floor, legacy: false };
  }
  const top = /^top:(auto|\d+)(?::([a-z_]+))?$/.exec(body!);
  if (top) {
    const metric = top[2] ?? 'env_share';
    if (!isMetric(metric)) throw bad();
    const auto = top[1] === 'auto';
    return { name: `top:${top[1]}:${metric}${suffix}`, kind: 'top', metric, value: auto ? 0 : Number(top[1]), auto, floor, legacy: false };
  }
  throw bad();
}

/** The heads a rule selects, in layer order (top-K ties: lower layer, then lower head). */
export function selectHeads(metrics: readonly HeadMetrics[], rule: HeadRule): HeadRef[] {
  const maxTotal = Math.max(0, ...metrics.map((m) => m.total));
  const pool = metrics.filter((m) => (rule.floor > 0 ? m.total >= rule.floor * maxTotal && m.total > 0 : true));
  let chosen: HeadMetrics[];
  if (rule.kind === 'threshold') chosen = pool.filter((m) => m[rule.metric] >= rule.value);
  else {
    const k = rule.auto ? Math.max(1, Math.round(0.1 * metrics.length)) : rule.value;
    chosen = [...pool].sort((a, b) => b[rule.metric] - a[rule.metric] || byPlace(a, b)).slice(0, k);
  }
  return chosen.map(({ layer, head }) => ({ layer, head })).sort(byPlace);
}

// ---------------------------------------------------------------------------------------------
// 3. Ablation and effects
// ---------------------------------------------------------------------------------------------

export type AblationKind = 'zero' | 'mean';

/** The per-head output hook point (z: [B, T, H, D]) of layer l: the model's `headOut` role. */
export function headOutputHook(model: LanguageModel, layer: number): string {
  if (!model.hooks.headOut) throw new UserError(`${model.arch} has no heads to ablate`);
  return model.hooks.headOut.at(layer);
}

/** Per layer, each head's mean output over positions, [H·D] row-major (head, dim). */
export type HeadMeans = Map<number, Float32Array>;

/** Mean per-head outputs over every (unpadded) position of the sequences: the values mean ablation writes. */
export function meanHeadOutputs(model: LanguageModel, sequences: readonly ArrayLike<number>[], opts: { batchSize?: number; padId?: number } = {}): HeadMeans {
  const sums = new Map<number, Float64Array>();
  let count = 0;
  const items = sequences.filter((s) => s.length > 0).map((context) => ({ context, target: 0 }));
  E.noGrad(() => {
    for (const batch of paddedBatches(items, opts.batchSize ?? 32, opts.padId)) {
      const lens = batch.idx.map((i) => items[i]!.context.length);
      count += lens.reduce((a, b) => a + b, 0);
      E.tidy(() => {
        const hooks: E.Hook[] = Array.from({ length: model.nLayers }, (_, l) => ({
          name: headOutputHook(model, l),
          forward: (z: E.Tensor) => {
            const [B, T, H, D] = z.shape as number[];
            const s = sums.get(l) ?? new Float64Array(H! * D!);
            sums.set(l, s);
            const data = z.data;
            for (let b = 0; b < B!; b++) for (let t = 0; t < lens[b]!; t++) {
              const off = (b * T! + t) * H! * D!;
              for (let j = 0; j < H! * D!; j++) s[j]! += data[off + j]!;
            }
          },
        }));
        E.withHooks(hooks, () => model.forward(batch, { logitRows: batch.lastRows }));
      });
    }
  });
  return new Map([...sums].map(([l, s]) => [l, Float32Array.from(s, (v) => v / Math.max(1, count))]));
}

/** Forward hooks that ablate the heads' outputs at every position: zero, or the head's mean output. */
export function headAblationHooks(model: LanguageModel, heads: readonly HeadRef[], opts: { ablation?: AblationKind; means?: HeadMeans } = {}): E.Hook[] {
  const kind = opts.ablation ?? 'zero';
  if (kind === 'mean' && !opts.means) throw new Error('mean ablation needs the heads’ mean outputs (meanHeadOutputs)');
  const byLayer = new Map<number, number[]>();
  for (const h of heads) byLayer.set(h.layer, [...(byLayer.get(h.layer) ?? []), h.head]);
  return [...byLayer].map(([layer, hs]) => ({
    name: headOutputHook(model, layer),
    forward: (z: E.Tensor) => {
      const [H, D] = [z.shape[2]!, z.shape[3]!];
      const mask = E.full([H, D], 1);
      for (const h of hs) mask.data.fill(0, h * D, (h + 1) * D);
      if (kind === 'zero') return E.mul(z, mask);
      const means = opts.means!.get(layer);
      if (!means || means.length !== H * D) throw new Error(`mean ablation: no mean output for layer ${layer}`);
      const fill = E.zeros([H, D]);
      for (const h of hs) fill.data.set(means.subarray(h * D, (h + 1) * D), h * D);
      return E.add(E.mul(z, mask), fill);
    },
  }));
}

/** Per item: matched surprisal m, mean mismatched surprisal mm, and G = mm − m. */
export interface GroundingSurprisal {
  matched: Float64Array;
  mismatched: Float64Array;
  G: Float64Array;
}

/** Matched and mismatched surprisal of the items with hooks installed. */
export function groundingSurprisal(model: LanguageModel, items: readonly GroundingItem[], hooks: E.Hook[] = [], opts: { batchSize?: number; padId?: number } = {}): GroundingSurprisal {
  const matched = itemSurprisal(model, items, hooks, opts);
  const flat = items.flatMap((it) => it.mismatches.map((context) => ({ context, target: it.target })));
  const s = flat.length ? itemSurprisal(model, flat, hooks, opts) : new Float64Array(0);
  const mismatched = new Float64Array(items.length);
  let k = 0;
  items.forEach((it, i) => {
    let acc = 0;
    for (let j = 0; j < it.mismatches.length; j++) acc += s[k++]!;
    mismatched[i] = it.mismatches.length ? acc / it.mismatches.length : NaN;
  });
  return { matched, mismatched, G: mismatched.map((mm, i) => mm - matched[i]!) };
}

/** Per item, ablated minus original. */
export interface AblationEffect {
  dMatched: Float64Array;
  dMismatched: Float64Array;
  dG: Float64Array;
}

const EFFECT_FIELDS = ['dMatched', 'dMismatched', 'dG'] as const;
const emptyEffect = (n: number): AblationEffect => ({ dMatched: new Float64Array(n), dMismatched: new Float64Array(n), dG: new Float64Array(n) });

function effectOf(orig: GroundingSurprisal, abl: GroundingSurprisal): AblationEffect {
  return {
    dMatched: abl.matched.map((v, i) => v - orig.matched[i]!),
    dMismatched: abl.mismatched.map((v, i) => v - orig.mismatched[i]!),
    dG: abl.G.map((v, i) => v - orig.G[i]!),
  };
}

// ---------------------------------------------------------------------------------------------
// Control sets
// ---------------------------------------------------------------------------------------------

export interface ControlDraw {
  /** Control sets, each as large as the selection and disjoint from it; empty when NA. */
  sets: HeadRef[][];
  /** Heads drawn from another layer than the selected head they stand for (layer-matched only), over all sets. */
  crossLayer: number;
  /** Why there is no control (NA), or null. */
  na: string | null;
  /** Every possible single-head control was used (size-1 selections with few candidates), rather than a sample. */
  exhaustive: boolean;
}

/** The heads of the pool nearest in layer to `layer` (same layer first; ties at equal distance: both sides). */
function nearest(pool: readonly HeadRef[], layer: number): { heads: HeadRef[]; distance: number } {
  if (!pool.length) return { heads: [], distance: Infinity };
  const distance = Math.min(...pool.map((h) => Math.abs(h.layer - layer)));
  return { heads: pool.filter((h) => Math.abs(h.layer - layer) === distance), distance };
}

/**
 * Random control sets of |selection| heads outside the selection (and outside `exclude`).
 * Layer-matched: each selected head is stood for by a head of its layer, or, when its layer has
 * none left, of the nearest layer that has (counted in crossLayer). NA when fewer heads are left
 * than were selected. A single head's controls are all its candidates when there are no more than
 * `draws` of them (exhaustive), else `draws` seeded samples.
 */
export function drawControlSets(selection: readonly HeadRef[], nLayers: number, nHeads: number, opts: { draws?: number; seed?: number; layerMatched?: boolean; exclude?: readonly HeadRef[] } = {}): ControlDraw {
  const draws = opts.draws ?? 20;
  const layerMatched = opts.layerMatched ?? true;
  const rng = new Rng(opts.seed ?? 0);
  const out = new Set([...selection, ...(opts.exclude ?? [])].map(key));
  const pool: HeadRef[] = [];
  for (let l = 0; l < nLayers; l++) for (let h = 0; h < nHeads; h++) if (!out.has(`${l}/${h}`)) pool.push({ layer: l, head: h });
  const k = selection.length;
  if (k === 0) return { sets: [], crossLayer: 0, na: 'no heads selected', exhaustive: false };
  if (pool.length < k) return { sets: [], crossLayer: 0, na: `${pool.length} heads outside the selection, ${k} needed`, exhaustive: false };
  if (k === 1) {
    const { heads: cands, distance } = layerMatched ? nearest(pool, selection[0]!.layer) : { heads: pool, distance: 0 };
    const picked = cands.length <= draws ? cands : rng.sample(cands, draws);
    const cross = distance > 0 ? picked.length : 0;
    return { sets: picked.map((h) => [h]), crossLayer: cross, na: null, exhaustive: cands.length <= draws };
  }
  const sets: HeadRef[][] = [];
  let crossLayer = 0;
  for (let d = 0; d < draws; d++) {
    if (!layerMatched) {
      sets.push(rng.sample(pool, k).sort(byPlace));
      continue;
    }
    const used = new Set<string>();
    const set: HeadRef[] = [];
    for (const h of selection) {
      const { heads, distance } = nearest(pool.filter((p) => !used.has(key(p))), h.layer);
      const pick = rng.pick(heads);
      if (distance > 0) crossLayer++;
      used.add(key(pick));
      set.push(pick);
    }
    sets.push(set.sort(byPlace));
  }
  return { sets, crossLayer, na: null, exhaustive: false };
}

/** The words split in two seeded halves (sorted first, so the split depends only on the word set and the seed). */
export function wordHalves(words: Iterable<string>, seed = 0): [Set<string>, Set<string>] {
  const all = [...new Set(words)].sort();
  new Rng(deriveSeed(seed, 'word-halves')).shuffle(all);
  const half = Math.ceil(all.length / 2);
  return [new Set(all.slice(0, half)), new Set(all.slice(half))];
}

// ---------------------------------------------------------------------------------------------
// 4-5. Tests and verdicts
// ---------------------------------------------------------------------------------------------

/** One causal test: an ablation's effect on the test items against its controls. */
export interface CausalTest {
  n_items: number;
  /** Mean over the test items, unablated. */
  matched: number;
  mismatched: number;
  G: number;
  /** Mean effects of the ablation, and of its controls (mean over control sets). */
  d_matched: number;
  d_mismatched: number;
  dG: number;
  d_matched_control: number;
  d_mismatched_control: number;
  dG_control: number;
  /** −dG / G: the share of the items' G the ablation removes. */
  removed: number;
  /** One-sided paired t-test over items: ΔG(ablation) < ΔG(control). NaN when NA. */
  p: number;
  t: number;
  wilcoxon_p: number;
  /** Paired test of matched surprisal, ablation > control (the paper's intervention test). */
  p_matched: number;
  control_sets: number;
  control_size: number;
  control_cross_layer: number;
  na: string | null;
}

/** Mean, or NaN when empty or when any value is not finite (an NA control). */
const fmean = (xs: readonly number[]) => (xs.length && xs.every(Number.isFinite) ? mean(xs) : NaN);

function causalTest(items: readonly number[], orig: GroundingSurprisal, eff: AblationEffect | null, controls: readonly AblationEffect[], draw: ControlDraw, size: number): CausalTest {
  const pick = (a: Float64Array) => items.map((i) => a[i]!);
  const ctrl = (f: keyof AblationEffect) => items.map((i) => (controls.length ? fmean(controls.map((c) => c[f][i]!)) : NaN));
  const G = fmean(pick(orig.G));
  const base = { n_items: items.length, matched: fmean(pick(orig.matched)), mismatched: fmean(pick(orig.mismatched)), G };
  const dG = eff ? pick(eff.dG) : [];
  const cdG = ctrl('dG');
  const dM = eff ? pick(eff.dMatched) : [];
  const cdM = ctrl('dMatched');
  const na = draw.na ?? (!eff ? 'no ablation' : items.length < 2 ? `${items.length} test items` : null);
  const res: CausalTest = {
    ...base,
    d_matched: eff ? fmean(dM) : NaN,
    d_mismatched: eff ? fmean(pick(eff.dMismatched)) : NaN,
    dG: eff ? fmean(dG) : NaN,
    d_matched_control: fmean(cdM),
    d_mismatched_control: fmean(ctrl('dMismatched')),
    dG_control: fmean(cdG),
    removed: eff && G > 0 ? -fmean(dG) / G : NaN,
    p: NaN,
    t: NaN,
    wilcoxon_p: NaN,
    p_matched: NaN,
    control_sets: draw.sets.length,
    control_size: draw.na ? 0 : size,
    control_cross_layer: draw.crossLayer,
    na,
  };
  if (na) return res;
  const t = pairedTTest(dG, cdG, 'less');
  res.t = t.statistic;
  res.p = Number.isNaN(t.pValue) ? 1 : t.pValue; // identical effects: no evidence
  const differs = dG.some((v, j) => v !== cdG[j]);
  res.wilcoxon_p = differs ? wilcoxonSignedRank(dG, cdG, { alternative: 'less' }).pValue : 1;
  const tm = pairedTTest(dM, cdM, 'greater');
  res.p_matched = Number.isNaN(tm.pValue) ? 1 : tm.pValue;
  return res;
}

export interface GroundingHeadOptions {
  /** Selection rules (parseHeadRule). */
  rules: readonly string[];
  ablation?: AblationKind;
  /** Mean outputs for mean ablation (meanHeadOutputs over training sequences). */
  means?: HeadMeans;
  /** Control sets per test (default 20). */
  draws?: number;
  controlSeed?: number;
  /** Default true. */
  layerMatched?: boolean;
  /** Select on one half of the words, test on the other (default true). */
  crossFit?: boolean;
  splitSeed?: number;
  alpha?: number;
  minRemoved?: number;
  /** Head patching (% recovery) for the selected heads. Default false. */
  patching?: boolean;
  /** Use only each item's first K mismatches in the causal tests (cost is 1 + K passes per ablation; default all). */
  maxMismatches?: number;
  batchSize?: number;
  padId?: number;
}

export interface HeadTest extends HeadMetrics {
  rule: string;
  legacy: boolean;
  /** Per fold: selected on the selection half; and the test on the other half (NaN when not selected). */
  folds: { name: string; selected: boolean; metrics: HeadMetrics; test: CausalTest | null }[];
  /** Selected in at least one fold. */
  selected: boolean;
  /** Pooled over the out-of-fold test items of the folds that selected the head; null when never selected. */
  test: CausalTest | null;
  /** Holm-adjusted p over the tested heads (of this rule; holmVerdicts pools checkpoints). */
  p_holm: number;
  grounding: 0 | 1;
  /** Head patching, when asked: share of G restored by patching matched → mismatched, and removed by the reverse. */
  recovery: number;
  reverse: number;
}

export interface SetTest {
  rule: string;
  legacy: boolean;
  /** The heads the rule selected per fold. */
  folds: { name: string; heads: HeadRef[]; test: CausalTest }[];
  /** Pooled over the folds' test items. */
  test: CausalTest;
  /** Union of the folds' selections. */
  heads: HeadRef[];
  /** Per test item (index into the items): its fold, the set's effects and its controls' (NaN when that fold's test is NA). */
  perItem: { item: number; fold: string; dMatched: number; dMatchedControl: number; dG: number; dGControl: number }[];
}

export interface GroundingHeadResult {
  /** Metrics on all items (for display). */
  metrics: HeadMetrics[];
  heads: HeadTest[];
  sets: SetTest[];
  original: GroundingSurprisal;
  folds: { name: string; selectOn: string[]; testOn: string[] }[];
  ablation: AblationKind;
  layerMatched: boolean;
  crossFit: boolean;
}

/**
 * Every rule's selection, per-head tests and per-set tests on one checkpoint. `rows` are the
 * saliency rows of the same items (computeSaliency with groundPositions).
 */
export function groundingHeads(model: LanguageModel, items: readonly GroundingItem[], rows: readonly HeadSaliency[], opts: GroundingHeadOptions): GroundingHeadResult {
  if (model.nHeads === 0) throw new UserError(`${model.arch} has no heads to test`);
  const L = model.nLayers;
  const H = model.nHeads;
  const ablation = opts.ablation ?? 'zero';
  const layerMatched = opts.layerMatched ?? true;
  const crossFit = opts.crossFit ?? true;
  const alpha = opts.alpha ?? 0.05;
  const minRemoved = opts.minRemoved ?? 0.05;
  const draws = opts.draws ?? 20;
  const seed = opts.controlSeed ?? 1;
  const run = { batchSize: opts.batchSize, padId: opts.padId };
  const rules = opts.rules.map(parseHeadRule);
  if (opts.maxMismatches !== undefined) {
    const k = Math.max(1, opts.maxMismatches);
    items = items.map((it) => (it.mismatches.length > k ? { ...it, mismatches: it.mismatches.slice(0, k) } : it));
  }
  const hooksFor = (heads: readonly HeadRef[]) => headAblationHooks(model, heads, { ablation, means: opts.means });

  const original = groundingSurprisal(model, items, [], run);
  const allIdx = items.map((_, i) => i);
  // Folds: (selection items, test items).
  let folds: { name: string; select: number[]; test: number[]; selectOn: string[]; testOn: string[] }[];
  if (crossFit) {
    const [a, b] = wordHalves(items.map((it) => it.word), opts.splitSeed ?? 0);
    const inA = allIdx.filter((i) => a.has(items[i]!.word));
    const inB = allIdx.filter((i) => b.has(items[i]!.word));
    folds = [
      { name: 'a', select: inA, test: inB, selectOn: [...a], testOn: [...b] },
      { name: 'b', select: inB, test: inA, selectOn: [...b], testOn: [...a] },
    ];
  } else {
    const words = [...new Set(items.map((it) => it.word))].sort();
    folds = [{ name: 'all', select: allIdx, test: allIdx, selectOn: words, testOn: words }];
  }

  // Every single head's effect on every item: the per-head tests and their size-1 controls read these.
  const single = new Map<string, AblationEffect>();
  for (let l = 0; l < L; l++) for (let h = 0; h < H; h++) single.set(`${l}/${h}`, effectOf(original, groundingSurprisal(model, items, hooksFor([{ layer: l, head: h }]), run)));
  // Sets of several heads are ablated on the items a test reads only (a fold's test half); NaN elsewhere.
  const setCache = new Map<string, AblationEffect>();
  const effectOfSet = (set: readonly HeadRef[], on: readonly number[] = allIdx): AblationEffect => {
    if (set.length === 1) return single.get(key(set[0]!))!;
    const k = [...set].sort(byPlace).map(key).join(';') + '@' + on.join(',');
    let e = setCache.get(k);
    if (!e) {
      const abl = groundingSurprisal(model, on.map((i) => items[i]!), hooksFor(set), run);
      e = { dMatched: new Float64Array(items.length).fill(NaN), dMismatched: new Float64Array(items.length).fill(NaN), dG: new Float64Array(items.length).fill(NaN) };
      on.forEach((i, j) => {
        e!.dMatched[i] = abl.matched[j]! - original.matched[i]!;
        e!.dMismatched[i] = abl.mismatched[j]! - original.mismatched[i]!;
        e!.dG[i] = abl.G[j]! - original.G[i]!;
      });
      setCache.set(k, e);
    }
    return e;
  };

  const metrics = headMetrics(rows, items);
  const foldMetrics = folds.map((f) => headMetrics(rows, items, new Set(f.select)));
  const heads: HeadTest[] = [];
  const sets: SetTest[] = [];
  for (const rule of rules) {
    const selections = foldMetrics.map((m) => selectHeads(m, rule));
    // Per-head tests.
    const ruleHeads: HeadTest[] = metrics.map((m) => {
      const foldTests = folds.map((f, fi) => {
        const selected = selections[fi]!.some((s) => key(s) === key(m));
        const fm = foldMetrics[fi]!.find((x) => key(x) === key(m))!;
        if (!selected) return { name: f.name, selected, metrics: fm, test: null as CausalTest | null, controls: [] as HeadRef[][] };
        const draw = drawControlSets([m], L, H, { draws, seed: deriveSeed(seed, 'head', m.layer, m.head, fi), layerMatched, exclude: selections[fi]! });
        const test = causalTest(f.test, original, single.get(key(m))!, draw.sets.map((c) => effectOfSet(c)), draw, 1);
        return { name: f.name, selected, metrics: fm, test, controls: draw.sets };
      });
      const selectedIn = foldTests.filter((f) => f.selected);
      // Pooled over the folds that selected the head and could test it; each item with its own fold's controls.
      const used = selectedIn.filter((f) => !f.test!.na);
      let pooled: CausalTest | null = null;
      if (selectedIn.length && !used.length) pooled = selectedIn[0]!.test;
      else if (used.length) {
        const testItems = used.flatMap((f) => folds.find((x) => x.name === f.name)!.test);
        const ctrlEffect = emptyEffect(items.length);
        for (const f of used) {
          const effs = f.controls.map((c) => effectOfSet(c));
          for (const i of folds.find((x) => x.name === f.name)!.test) for (const fld of EFFECT_FIELDS) ctrlEffect[fld][i] = mean(effs.map((e) => e[fld][i]!));
        }
        const draw: ControlDraw = { sets: [], crossLayer: used.reduce((a, f) => a + f.test!.control_cross_layer, 0), na: null, exhaustive: false };
        pooled = causalTest(testItems, original, single.get(key(m))!, [ctrlEffect], draw, 1);
        pooled.control_sets = Math.min(...used.map((f) => f.controls.length));
      }
      return {
        ...m,
        rule: rule.name,
        legacy: rule.legacy,
        folds: foldTests.map(({ controls: _c, ...f }) => f),
        selected: selectedIn.length > 0,
        test: pooled,
        p_holm: NaN,
        grounding: 0 as const,
        recovery: NaN,
        reverse: NaN,
      };
    });
    applyVerdicts(ruleHeads, { alpha, minRemoved });
    if (opts.patching) {
      for (const h of ruleHeads) {
        if (!h.selected) continue;
        const r = headPatching(model, items, h, run);
        h.recovery = r.recovery;
        h.reverse = r.reverse;
      }
    }
    heads.push(...ruleHeads);

    // Per-set tests: the fold's whole selection ablated at once.
    const foldSets = folds.map((f, fi) => {
      const sel = selections[fi]!;
      const draw = drawControlSets(sel, L, H, { draws, seed: deriveSeed(seed, 'set', rule.name, fi), layerMatched });
      const eff = sel.length ? effectOfSet(sel, f.test) : null;
      const controls = draw.sets.map((c) => effectOfSet(c, f.test));
      return { name: f.name, heads: sel, test: causalTest(f.test, original, eff, controls, draw, sel.length), eff, controls, testItems: f.test, draw };
    });
    // Pooled over the folds that could test: each item with its own fold's ablation and controls.
    const usable = foldSets.filter((f) => !f.test.na);
    let pooled: CausalTest;
    if (!usable.length) pooled = foldSets[0]!.test;
    else {
      const pooledEff = emptyEffect(items.length);
      const pooledCtrl = emptyEffect(items.length);
      for (const f of usable) {
        for (const i of f.testItems) {
          for (const fld of EFFECT_FIELDS) {
            pooledEff[fld][i] = f.eff![fld][i]!;
            pooledCtrl[fld][i] = mean(f.controls.map((c) => c[fld][i]!));
          }
        }
      }
      const draw: ControlDraw = { sets: [], crossLayer: usable.reduce((a, f) => a + f.draw.crossLayer, 0), na: null, exhaustive: false };
      pooled = causalTest(usable.flatMap((f) => f.testItems), original, pooledEff, [pooledCtrl], draw, Math.max(...usable.map((f) => f.heads.length)));
      pooled.control_sets = Math.min(...usable.map((f) => f.draw.sets.length));
    }
    const union = new Map<string, HeadRef>();
    for (const f of foldSets) for (const h of f.heads) union.set(key(h), h);
    const perItem = foldSets.flatMap((f) =>
      f.testItems.map((i) => {
        const ok = !f.test.na;
        const c = (fld: keyof AblationEffect) => (ok ? mean(f.controls.map((e) => e[fld][i]!)) : NaN);
        return { item: i, fold: f.name, dMatched: ok ? f.eff!.dMatched[i]! : NaN, dMatchedControl: c('dMatched'), dG: ok ? f.eff!.dG[i]! : NaN, dGControl: c('dG') };
      }),
    );
    sets.push({ rule: rule.name, legacy: rule.legacy, folds: foldSets.map(({ name, heads: hs, test }) => ({ name, heads: hs, test })), test: pooled, heads: [...union.values()].sort(byPlace), perItem });
  }
  return { metrics, heads, sets, original, folds: folds.map(({ name, selectOn, testOn }) => ({ name, selectOn, testOn })), ablation, layerMatched, crossFit };
}

/** The grounding verdict: significant after correction, ablation lowers G, and removes at least minRemoved of it. */
function groundingVerdict(pAdjusted: number, dG: number, removed: number, opts: { alpha?: number; minRemoved?: number }): boolean {
  return pAdjusted < (opts.alpha ?? 0.05) && dG < 0 && removed >= (opts.minRemoved ?? 0.05);
}

/** Whether a head's pooled test passes with a given adjusted p. */
export function passes(test: CausalTest | null, pAdjusted: number, opts: { alpha?: number; minRemoved?: number } = {}): boolean {
  if (!test || test.na || !Number.isFinite(pAdjusted)) return false;
  return groundingVerdict(pAdjusted, test.dG, test.removed, opts);
}

/**
 * Holm over table rows (one family per `selection`, e.g. every checkpoint of a run): rows with a
 * finite p and no NA are tested; returns p_holm and the verdict `grounding` (1/0) per row, in order.
 */
export function holmVerdictRows(rows: readonly { selection: string; p: number; dG: number; removed: number; na?: string | null }[], opts: { alpha?: number; minRemoved?: number } = {}): { p_holm: number; grounding: 0 | 1 }[] {
  const out = rows.map(() => ({ p_holm: NaN, grounding: 0 as 0 | 1 }));
  const families = new Map<string, number[]>();
  rows.forEach((r, i) => {
    if (r.na || !Number.isFinite(r.p)) return;
    families.set(r.selection, [...(families.get(r.selection) ?? []), i]);
  });
  for (const idx of families.values()) {
    const adj = holmBonferroni(idx.map((i) => rows[i]!.p));
    idx.forEach((i, j) => {
      const r = rows[i]!;
      out[i] = { p_holm: adj[j]!, grounding: groundingVerdict(adj[j]!, r.dG, r.removed, opts) ? 1 : 0 };
    });
  }
  return out;
}

/**
 * Holm over the tested heads given (one rule; pass several checkpoints' heads to correct over
 * checkpoints too), then the verdicts. Mutates p_holm and grounding.
 */
export function applyVerdicts(heads: HeadTest[], opts: { alpha?: number; minRemoved?: number } = {}): void {
  const tested = heads.filter((h) => h.test && !h.test.na && Number.isFinite(h.test.p));
  const adj = holmBonferroni(tested.map((h) => h.test!.p));
  for (const h of heads) {
    h.p_holm = NaN;
    h.grounding = 0;
  }
  tested.forEach((h, i) => {
    h.p_holm = adj[i]!;
    h.grounding = passes(h.test, adj[i]!, opts) ? 1 : 0;
  });
}

// ---------------------------------------------------------------------------------------------
// 6. Head patching
// ---------------------------------------------------------------------------------------------

/**
 * Patches one head's output (every position) between the matched and each mismatched context of
 * an item (same length: a swap). recovery = Σ (mm − mm_patched) / Σ (mm − m): the share of G that
 * the head's matched output restores in mismatched contexts; reverse = Σ (m_patched − m) / Σ (mm − m):
 * the share its mismatched output removes from matched contexts (sums over items and the first M
 * mismatches, so items with G ≤ 0 weigh in without a ratio of their own). NaN when mean G < 0.01 nats.
 */
export function headPatching(model: LanguageModel, items: readonly GroundingItem[], head: HeadRef, opts: { batchSize?: number; padId?: number } = {}): { recovery: number; reverse: number } {
  const name = headOutputHook(model, head.layer);
  const M = Math.min(...items.map((it) => it.mismatches.length));
  if (!items.length || M === 0) return { recovery: NaN, reverse: NaN };
  for (const it of items) for (const m of it.mismatches) if (m.length !== it.context.length) throw new UserError('head patching needs mismatched contexts of the matched context’s length (swapped ENV tokens)');
  const matchedItems = items.map((it) => ({ context: it.context, target: it.target }));
  // Per mismatch index k, the k-th mismatched contexts batch exactly like the matched ones (same lengths, stable order).
  const capture = (list: ContextItem[]): Float32Array[] => {
    const out: Float32Array[] = [];
    E.noGrad(() => {
      for (const batch of paddedBatches(list, opts.batchSize ?? 64, opts.padId)) {
        E.tidy(() => E.withHooks([{ name, forward: (z: E.Tensor) => void out.push(Float32Array.from(z.data)) }], () => model.forward(batch, { logitRows: batch.lastRows })));
      }
    });
    return out;
  };
  const patched = (list: ContextItem[], source: Float32Array[]): Float64Array => {
    let b = 0;
    const res = new Float64Array(list.length);
    E.noGrad(() => {
      for (const batch of paddedBatches(list, opts.batchSize ?? 64, opts.padId)) {
        const src = source[b++]!;
        E.tidy(() => {
          const hook: E.Hook = {
            name,
            forward: (z: E.Tensor) => {
              const [B, T, Hh, D] = z.shape as number[];
              const outT = E.tensor(z.data, z.shape);
              for (let r = 0; r < B! * T!; r++) outT.data.set(src.subarray((r * Hh! + head.head) * D!, (r * Hh! + head.head + 1) * D!), (r * Hh! + head.head) * D!);
              return outT;
            },
          };
          const logits = E.withHooks([hook], () => model.forward(batch, { logitRows: batch.lastRows }));
          const l = E.crossEntropy(logits, batch.targets, { reduction: 'none' });
          batch.idx.forEach((i, j) => (res[i] = l.data[j]!));
        });
      }
    });
    return res;
  };
  const matched = itemSurprisal(model, matchedItems, [], opts);
  const zMatched = capture(matchedItems);
  // Sums over items of the per-item means over the first M mismatches.
  let restored = 0;
  let removed = 0;
  let gSum = 0;
  for (let k = 0; k < M; k++) {
    const mmItems = items.map((it) => ({ context: it.mismatches[k]!, target: it.target }));
    const mm = itemSurprisal(model, mmItems, [], opts);
    const mmPatched = patched(mmItems, zMatched);
    const mPatched = patched(matchedItems, capture(mmItems));
    items.forEach((_, i) => {
      gSum += (mm[i]! - matched[i]!) / M;
      restored += (mm[i]! - mmPatched[i]!) / M;
      removed += (mPatched[i]! - matched[i]!) / M;
    });
  }
  // A share of almost no G is noise: below 0.01 nats per item there is nothing to recover.
  const some = gSum / items.length >= 0.01;
  return { recovery: some ? restored / gSum : NaN, reverse: some ? removed / gSum : NaN };
}
