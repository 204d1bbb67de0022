/**
 * Aggregate heads and causal ablation (SPEC §6, the paper's claim 4).
 *
 * Aggregate heads: heads whose ENV share of the prediction row's saliency, averaged over
 * matched items, reaches a threshold (default 0.30).
 * Intervention: zero those heads' outputs at every position, at the per-head outputs before
 * the output projection (`blocks.{l}.attn.z`, or Mamba-2's `blocks.{l}.mixer.z`): the only
 * place ablation happens. Control: as many heads drawn uniformly from the other heads (default
 * 20 seeded draws; optionally layer-matched). Matched surprisal is compared per item:
 * intervened vs control with a paired test.
 */
import * as E from '../engine/index.js';
import type { LanguageModel } from '../models/types.js';
import { Rng } from '../util/rng.js';
import { type ContextItem, paddedBatches } from './batches.js';
import { type HeadSaliency, meanHeadSaliency } from './saliency.js';
import { mean, pairedTTest, wilcoxonSignedRank } from './stats.js';

export interface HeadRef {
  layer: number;
  head: number;
}

export interface HeadScore extends HeadRef {
  /** Mean over items of the head's ENV share of the prediction-row saliency. */
  envShare: number;
  envFlow: number;
}

/** Mean ENV share and flow per (layer, head) over items (heads only: the layer-flow rows, head -1, are left out). */
export function headScores(rows: readonly HeadSaliency[]): HeadScore[] {
  return meanHeadSaliency(rows.filter((r) => r.head >= 0)).map(({ layer, head, envShare, envFlow }) => ({ layer, head, envShare, envFlow }));
}

export function aggregateHeads(scores: readonly HeadScore[], threshold = 0.3): HeadRef[] {
  return scores.filter((s) => s.envShare >= threshold).map(({ layer, head }) => ({ layer, head }));
}

/**
 * The k heads with the highest mean ENV share (ties: lower layer, then lower head), in layer
 * order: an alternative to the threshold when ENV tokens fill most of the context, so that even
 * uniform saliency gives every head a share above 0.30 (the synthetic world's items).
 */
export function topHeads(scores: readonly HeadScore[], k: number): HeadRef[] {
  return [...scores]
    .sort((a, b) => b.envShare - a.envShare || a.layer - b.layer || a.head - b.head)
    .slice(0, Math.max(0, k))
    .map(({ layer, head }) => ({ layer, head }))
    .sort((a, b) => a.layer - b.layer || a.head - b.head);
}

function zHookName(model: LanguageModel, layer: number): string {
  if (!model.hooks.headOut) throw new Error(`${model.arch} has no attention heads to ablate`);
  return model.hooks.headOut.at(layer);
}

/** Forward hooks that zero the given heads' outputs (z is [B, T, H, D]) at every position. */
export function ablationHooks(model: LanguageModel, heads: readonly HeadRef[]): E.Hook[] {
  const byLayer = new Map<number, number[]>();
  for (const h of heads) byLayer.set(h.layer, [...(byLayer.get(h.layer) ?? []), h.head]);
  return [...byLayer].map(([layer, hs]) => ({
    name: zHookName(model, layer),
    forward: (z: E.Tensor) => {
      const [H, D] = [z.shape[2]!, z.shape[3]!];
      const mask = E.full([H, D], 1);
      for (const h of hs) mask.data.fill(0, h * D, (h + 1) * D);
      return E.mul(z, mask);
    },
  }));
}

export type SurprisalItem = ContextItem;

/** Target surprisal (nats) at the last position of each item, with optional hooks installed. */
export function itemSurprisal(model: LanguageModel, items: readonly SurprisalItem[], hooks: E.Hook[] = [], opts: { batchSize?: number; padId?: number } = {}): Float64Array {
  const out = new Float64Array(items.length);
  E.noGrad(() => {
    for (const batch of paddedBatches(items, opts.batchSize ?? 64, opts.padId)) {
      E.tidy(() => {
        // Strict: a hook whose point the forward never reaches (e.g. through a wrapper model) is an error, not a silent no-op.
        const logits = E.withHooks(hooks, () => model.forward(batch, { logitRows: batch.lastRows }));
        const l = E.crossEntropy(logits, batch.targets, { reduction: 'none' });
        batch.idx.forEach((i, b) => (out[i] = l.data[b]!));
      });
    }
  });
  return out;
}

/**
 * Random control sets: `draws` sets of |heads| heads from the others (uniform, or layer-matched:
 * each from its selected head's layer, else from the nearest layer with heads left). None (NA)
 * when fewer other heads exist than were selected: a smaller control is never used.
 */
export function controlHeadSets(heads: readonly HeadRef[], nLayers: number, nHeads: number, opts: { draws?: number; seed?: number; layerMatched?: boolean } = {}): HeadRef[][] {
  const draws = opts.draws ?? 20;
  const rng = new Rng(opts.seed ?? 0);
  const chosen = new Set(heads.map((h) => `${h.layer}/${h.head}`));
  const others: HeadRef[] = [];
  for (let l = 0; l < nLayers; l++) for (let h = 0; h < nHeads; h++) if (!chosen.has(`${l}/${h}`)) others.push({ layer: l, head: h });
  if (others.length < heads.length) return [];
  const sets: HeadRef[][] = [];
  for (let d = 0; d < draws; d++) {
    if (!opts.layerMatched) {
      sets.push(rng.sample(others, heads.length));
      continue;
    }
    const set: HeadRef[] = [];
    for (const h of heads) {
      const left = others.filter((o) => !set.some((s) => s.layer === o.layer && s.head === o.head));
      const dist = Math.min(...left.map((o) => Math.abs(o.layer - h.layer)));
      set.push(rng.pick(left.filter((o) => Math.abs(o.layer - h.layer) === dist)));
    }
    sets.push(set);
  }
  return sets;
}

export interface InterventionResult {
  heads: HeadRef[];
  meanLayer: number;
  /** Mean matched surprisal over items. */
  intervened: number;
  control: number;
  original: number;
  /** Paired t-test and Wilcoxon over items, intervened vs control (one-sided: intervened greater). */
  tStatistic: number;
  pValue: number;
  wilcoxonP: number;
  /** Control draws run (0: NA, fewer other heads than selected), and heads per draw. */
  controlSets: number;
  controlSize: number;
  perItem: { original: Float64Array; intervened: Float64Array; control: Float64Array };
}

/**
 * Ablates `heads`, and each control set, on matched items; compares per item. The control value
 * of an item is its mean surprisal over the control draws. When every head is selected there is
 * nothing to draw controls from: control is NaN and no test is run (likewise with no heads).
 */
export function interventionTest(model: LanguageModel, items: readonly SurprisalItem[], heads: readonly HeadRef[], opts: { draws?: number; seed?: number; layerMatched?: boolean; batchSize?: number; padId?: number } = {}): InterventionResult {
  const original = itemSurprisal(model, items, [], opts);
  const intervened = heads.length ? itemSurprisal(model, items, ablationHooks(model, heads), opts) : original.slice();
  const others = model.nLayers * model.nHeads - heads.length;
  const sets = heads.length && others >= heads.length ? controlHeadSets(heads, model.nLayers, model.nHeads, opts) : [];
  const control = new Float64Array(items.length).fill(sets.length ? 0 : NaN);
  for (const set of sets) {
    const s = itemSurprisal(model, items, ablationHooks(model, set), opts);
    for (let i = 0; i < items.length; i++) control[i]! += s[i]! / sets.length;
  }
  const canTest = sets.length > 0 && items.length > 1 && intervened.some((v, i) => v !== control[i]);
  const t = canTest ? pairedTTest(Array.from(intervened), Array.from(control), 'greater') : { statistic: NaN, pValue: NaN };
  const w = canTest ? wilcoxonSignedRank(Array.from(intervened), Array.from(control), { alternative: 'greater' }) : { pValue: NaN };
  return {
    heads: [...heads],
    meanLayer: heads.length ? mean(heads.map((h) => h.layer + 1)) : NaN, // 1-based, like the paper
    intervened: mean(Array.from(intervened)),
    control: sets.length ? mean(Array.from(control)) : NaN,
    original: mean(Array.from(original)),
    tStatistic: t.statistic,
    pValue: t.pValue,
    wilcoxonP: w.pValue,
    controlSets: sets.length,
    controlSize: sets.length ? sets[0]!.length : 0,
    perItem: { original, intervened, control },
  };
}
