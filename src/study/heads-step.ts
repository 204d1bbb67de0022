/**
 * The heads step of the mechanistic suite (issue 13): grounding heads per checkpoint from the
 * checkpoint's saliency, with causal tests (analysis/grounding-heads.ts), as table rows:
 *
 *   heads.csv              per (step, selection rule, layer, head): the head's metrics on all items,
 *                          `selected` (by the rule in some fold), per fold (1: select on the first
 *                          half of the words, test on the second; 2: the other way round) whether
 *                          it was selected and its test on the other half, the pooled test (ΔG of
 *                          ablating the head vs same-size random controls, matched and mismatched
 *                          surprisal changes, the share of G removed, one-sided paired t-test),
 *                          p_holm (Holm over the rule's tested heads and every checkpoint of the
 *                          run) and the verdict `grounding` (1: p_holm < 0.05, ΔG < 0, ≥ 5% of G removed)
 *   intervention.csv       per (step, selection rule): the rule's heads ablated together (each fold's
 *                          selection on its test half), matched surprisal unablated / ablated /
 *                          random control (the SPEC §1 table) and ΔG with its control and test
 *   intervention_items.csv per (step, selection rule, test item)
 *
 * Holm's correction spans checkpoints, so p_holm and grounding are set when the tables are written
 * (finalizeHeadRows), from the raw p-values kept in the cached parts.
 */
import type { Corpus } from '../data/contract.js';
import type { LanguageModel } from '../models/types.js';
import {
  type AblationKind,
  groundingHeads,
  type GroundingItem,
  type HeadRef,
  holmVerdictRows,
  meanHeadOutputs,
  parseHeadRule,
} from '../analysis/grounding-heads.js';
import type { HeadSaliency } from '../analysis/saliency.js';
import { mean } from '../analysis/stats.js';

/**
 * Default rules (each a named reconstruction; none is the paper's, whose code is not public):
 * heads whose saliency on the ground token v<ENV> is at least twice what uniform saliency would give,
 * heads carrying ≥ 30% of their layer's ENV flow, both with a 5% magnitude floor, and the legacy
 * ENV share ≥ 0.30 rule for comparison.
 */
export const DEFAULT_HEAD_RULES = ['ground_enrichment>=2+floor:0.05', 'layer_flow_share>=0.3+floor:0.05', 'legacy'];

export interface HeadsStepOptions {
  rules?: readonly string[];
  ablation?: AblationKind;
  draws?: number;
  controlSeed?: number;
  layerMatched?: boolean;
  crossFit?: boolean;
  /** Mismatches per item used in the causal tests (default all). */
  maxMismatches?: number;
  patching?: boolean;
  batchSize?: number;
}

/** Canonical rule names (the cache key and the `selection` column). */
export function headRuleNames(rules: readonly string[] = DEFAULT_HEAD_RULES): string[] {
  return [...new Set(rules.map((r) => parseHeadRule(r).name))];
}

const r6 = (x: number) => (Number.isFinite(x) ? Math.round(x * 1e6) / 1e6 : x);
const sig4 = (x: number) => (x === 0 || !Number.isFinite(x) ? x : Number(x.toPrecision(4)));
const p3 = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(3)) : x);
const hname = (h: HeadRef) => `L${h.layer + 1}H${h.head + 1}`;

export interface HeadsPart {
  heads: Record<string, unknown>[];
  /** One row per selection rule. */
  intervention: Record<string, unknown>[];
  itemRows: Record<string, unknown>[];
}

/** Training windows whose positions give the heads' mean outputs (mean ablation). */
function trainingWindows(corpus: Corpus, context: number, windows = 64): Uint32Array[] {
  const t = corpus.splits.train;
  const n = Math.max(1, Math.min(windows, Math.floor(t.length / context)));
  return Array.from({ length: n }, (_, k) => t.subarray(k * context, Math.min(t.length, (k + 1) * context)));
}

export function headsStep(
  model: LanguageModel,
  items: readonly (GroundingItem & { id: string })[],
  raw: readonly HeadSaliency[],
  base: Record<string, unknown>,
  corpus: Corpus,
  context: number,
  opts: HeadsStepOptions,
): HeadsPart {
  const ablation = opts.ablation ?? 'zero';
  const means = ablation === 'mean' ? meanHeadOutputs(model, trainingWindows(corpus, context), { padId: corpus.padId }) : undefined;
  const layerMatched = opts.layerMatched ?? true;
  const crossFit = opts.crossFit ?? true;
  const res = groundingHeads(model, items, raw, {
    rules: headRuleNames(opts.rules),
    ablation,
    means,
    draws: opts.draws,
    controlSeed: opts.controlSeed,
    layerMatched,
    crossFit,
    maxMismatches: opts.maxMismatches,
    patching: opts.patching,
    batchSize: opts.batchSize ?? 64,
    padId: corpus.padId,
  });
  const common = { ablation, layer_matched: layerMatched ? 1 : 0, cross_fit: crossFit ? 1 : 0 };
  const fold = (h: (typeof res.heads)[number], k: number) => {
    const f = h.folds[k];
    if (!f) return { [`selected_${k + 1}`]: '', [`n_test_${k + 1}`]: '', [`dG_${k + 1}`]: NaN, [`dG_control_${k + 1}`]: NaN, [`p_${k + 1}`]: NaN };
    return { [`selected_${k + 1}`]: f.selected ? 1 : 0, [`n_test_${k + 1}`]: f.test?.n_items ?? '', [`dG_${k + 1}`]: r6(f.test?.dG ?? NaN), [`dG_control_${k + 1}`]: r6(f.test?.dG_control ?? NaN), [`p_${k + 1}`]: p3(f.test?.p ?? NaN) };
  };
  const heads = res.heads.map((h) => {
    const t = h.test;
    return {
      ...base,
      selection: h.rule,
      legacy: h.legacy ? 1 : 0,
      layer: h.layer + 1,
      head: h.head + 1,
      n_items: h.n_items,
      env_share: r6(h.env_share),
      ground_share: r6(h.ground_share),
      env_enrichment: r6(h.env_enrichment),
      ground_enrichment: r6(h.ground_enrichment),
      env_flow: sig4(h.env_flow),
      ground_flow: sig4(h.ground_flow),
      layer_flow_share: r6(h.layer_flow_share),
      total: sig4(h.total),
      selected: h.selected ? 1 : 0,
      folds: res.folds.map((f) => f.name).join(';'),
      ...fold(h, 0),
      ...fold(h, 1),
      n_test: t?.n_items ?? '',
      G: r6(t?.G ?? NaN),
      dG: r6(t?.dG ?? NaN),
      dG_control: r6(t?.dG_control ?? NaN),
      d_matched: r6(t?.d_matched ?? NaN),
      d_matched_control: r6(t?.d_matched_control ?? NaN),
      d_mismatched: r6(t?.d_mismatched ?? NaN),
      d_mismatched_control: r6(t?.d_mismatched_control ?? NaN),
      removed: r6(t?.removed ?? NaN),
      t: r6(t?.t ?? NaN),
      p: t?.p ?? NaN,
      wilcoxon_p: t?.wilcoxon_p ?? NaN,
      p_holm: NaN, // set across checkpoints by finalizeHeadRows
      grounding: 0,
      control_sets: t?.control_sets ?? '',
      control_cross_layer: t?.control_cross_layer ?? '',
      na: t?.na ?? '',
      recovery: r6(h.recovery),
      reverse: r6(h.reverse),
      ...common,
    };
  });
  const intervention = res.sets.map((s) => {
    const t = s.test;
    return {
      ...base,
      selection: s.rule,
      legacy: s.legacy ? 1 : 0,
      n_heads: s.heads.length,
      heads: s.heads.map(hname).join(';'),
      heads_1: s.folds[0]?.heads.map(hname).join(';') ?? '',
      heads_2: s.folds[1]?.heads.map(hname).join(';') ?? '',
      mean_layer: s.heads.length ? r6(mean(s.heads.map((h) => h.layer + 1))) : NaN,
      n_items: t.n_items,
      original: r6(t.matched),
      intervened: r6(t.matched + t.d_matched),
      control: r6(t.matched + t.d_matched_control),
      diff: r6(t.d_matched - t.d_matched_control),
      p: t.p_matched,
      G: r6(t.G),
      dG: r6(t.dG),
      dG_control: r6(t.dG_control),
      removed: r6(t.removed),
      t_dG: r6(t.t),
      p_dG: t.p,
      wilcoxon_p_dG: t.wilcoxon_p,
      d_mismatched: r6(t.d_mismatched),
      d_mismatched_control: r6(t.d_mismatched_control),
      draws: t.control_sets,
      control_size: t.control_size,
      control_cross_layer: t.control_cross_layer,
      na: t.na ?? '',
      ...common,
    };
  });
  const itemRows = res.sets.flatMap((s) =>
    s.perItem.map((r) => {
      const it = items[r.item]!;
      const m = res.original.matched[r.item]!;
      const g = res.original.G[r.item]!;
      return {
        ...base,
        selection: s.rule,
        item: it.id,
        word: it.word,
        fold: r.fold,
        original: r6(m),
        intervened: r6(m + r.dMatched),
        control: r6(m + r.dMatchedControl),
        G: r6(g),
        G_intervened: r6(g + r.dG),
        G_control: r6(g + r.dGControl),
      };
    }),
  );
  return { heads, intervention, itemRows };
}

/** Holm per rule over every tested (step, head) row of a run, then the verdicts; returns new rows. */
export function finalizeHeadRows(rows: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  const num = (v: unknown) => (v === '' || v === null || v === undefined ? NaN : Number(v));
  const v = holmVerdictRows(rows.map((r) => ({ selection: String(r.selection), p: num(r.p), dG: num(r.dG), removed: num(r.removed), na: r.na ? String(r.na) : null })));
  return rows.map((r, i) => ({ ...r, p_holm: v[i]!.p_holm, grounding: v[i]!.grounding }));
}
