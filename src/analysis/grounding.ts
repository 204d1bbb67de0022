/**
 * Grounding information gain (SPEC §3).
 *
 * For an item n of word v, the matched context c_n(v<ENV>) ends right before v<LAN>; a mismatched
 * context c_n(u<ENV>) is the same sequence with every position of `swap_positions` replaced by
 * u<ENV>, for each of the item's M mismatch words u. Surprisals are in nats at the last position.
 *
 *   G(v) = (1/N) Σ_n [ (1/M) Σ_u s(v<LAN> | c_n(u<ENV>)) − s(v<LAN> | c_n(v<ENV>)) ]
 *
 * Per word we also keep the matched mean m(v) = (1/N) Σ_n s(v | c_n(v)) and the mismatched mean
 * mm(v) = (1/N) Σ_n (1/M) Σ_u s(v | c_n(u)), so G(v) = mm(v) − m(v) exactly. Across words:
 * means (each word weighs the same), a percentile bootstrap interval of mean G over words, and a
 * Wilcoxon signed-rank test of mm(v) against m(v) over words (two-sided; scipy's defaults).
 */
import type { EvalItem } from '../data/contract.js';
import { bootstrapCI, mean, wilcoxonSignedRank } from './stats.js';

export type ItemSource = EvalItem['source']['kind'];
export const ITEM_SOURCES: ItemSource[] = ['corpus', 'template'];

/** An item ready for the model: its context cut to the model's length, with the swap positions that survived. */
export interface PreparedItem {
  item: EvalItem;
  context: Int32Array;
  swap: Int32Array;
  /** Tokens dropped from the left to fit the model's context (0 almost always). */
  truncated: number;
  /**
   * Whole mismatched contexts (visual dialog: another sequence's caption before the same language),
   * cut like `context`, one per mismatch; null when the mismatches are swaps of `swap` positions.
   */
  mismatchContexts?: Int32Array[] | null;
}

export interface SkippedItem {
  id: string;
  reason: string;
}

/**
 * Checks items and fits them to `maxLen` tokens: a longer context keeps its last maxLen tokens
 * (swap positions shift accordingly). Items with no mismatch word, or whose every swap position
 * was cut away (matched and mismatched would be identical), are skipped with a reason.
 */
export function prepareItems(items: readonly EvalItem[], maxLen: number): { prepared: PreparedItem[]; skipped: SkippedItem[] } {
  const prepared: PreparedItem[] = [];
  const skipped: SkippedItem[] = [];
  for (const item of items) {
    if (!item.context.length) {
      skipped.push({ id: item.id, reason: 'empty context' });
      continue;
    }
    if (!item.mismatches.length) {
      skipped.push({ id: item.id, reason: 'no mismatch words' });
      continue;
    }
    const cut = Math.max(0, item.context.length - maxLen);
    const swap = item.swap_positions.filter((p) => p >= cut).map((p) => p - cut);
    if (item.mismatches.some((m) => m.context)) {
      // Whole mismatched contexts: each is cut to its own last maxLen tokens; if a cut context equals
      // the matched one, the environment was cut away and the item cannot tell the conditions apart.
      const context = Int32Array.from(item.context.slice(cut));
      const others = item.mismatches.map((m) => Int32Array.from((m.context ?? item.context).slice(Math.max(0, (m.context ?? item.context).length - maxLen))));
      const same = (a: Int32Array) => a.length === context.length && a.every((x, j) => x === context[j]);
      if (!item.mismatches.every((m) => m.context) || others.some(same)) {
        skipped.push({ id: item.id, reason: item.mismatches.every((m) => m.context) ? `context longer than ${maxLen} tokens: the environment was cut away` : 'some mismatches have a context and others not' });
        continue;
      }
      prepared.push({ item, context, swap: Int32Array.from(swap), truncated: cut, mismatchContexts: others });
      continue;
    }
    if (item.prefix !== undefined) {
      // Image-grounded: the environment is the prefix, never cut; mismatches change the prefix.
      if (!item.mismatches.every((m) => m.prefix !== undefined)) {
        skipped.push({ id: item.id, reason: 'an image-grounded item whose mismatches lack an image' });
        continue;
      }
      prepared.push({ item, context: Int32Array.from(item.context.slice(cut)), swap: new Int32Array(0), truncated: cut });
      continue;
    }
    if (!swap.length) {
      skipped.push({ id: item.id, reason: item.swap_positions.length ? `context longer than ${maxLen} tokens: every ${item.word}<ENV> was cut away` : 'no swap positions' });
      continue;
    }
    prepared.push({ item, context: Int32Array.from(item.context.slice(cut)), swap: Int32Array.from(swap), truncated: cut });
  }
  return { prepared, skipped };
}

export interface WordGain {
  word: string;
  /** Items of this word that were evaluated (N). */
  n_items: number;
  /** m(v): mean matched surprisal over the word's items, nats. */
  matched: number;
  /** mm(v): mean over items of the mean mismatched surprisal, nats. */
  mismatched: number;
  /** G(v) = mm(v) − m(v), nats. */
  G: number;
}

/** Per-word means and G(v), words in order of first appearance. */
export function wordGains(results: readonly { item: EvalItem; matched: number; mismatched: ArrayLike<number> }[]): WordGain[] {
  const acc = new Map<string, { n: number; m: number; mm: number }>();
  for (const r of results) {
    const a = acc.get(r.item.word) ?? { n: 0, m: 0, mm: 0 };
    a.n++;
    a.m += r.matched;
    a.mm += mean(r.mismatched);
    acc.set(r.item.word, a);
  }
  return [...acc].map(([word, a]) => {
    const matched = a.m / a.n;
    const mismatched = a.mm / a.n;
    return { word, n_items: a.n, matched, mismatched, G: mismatched - matched };
  });
}

export interface GroundingSummary {
  n_words: number;
  n_items: number;
  /** Means over words of m(v), mm(v) and G(v), nats. */
  mean_matched: number;
  mean_mismatched: number;
  mean_G: number;
  /** Percentile bootstrap interval of mean G over words. */
  G_lo: number;
  G_hi: number;
  /** Share of words with G(v) > 0. */
  frac_positive: number;
  /** Wilcoxon signed-rank test of mm(v) vs m(v) over words (two-sided). */
  wilcoxon_W: number;
  wilcoxon_p: number;
  wilcoxon_method: string;
}

export interface SummaryOptions {
  /** Seed of the bootstrap resampling (default 1). */
  bootstrapSeed?: number;
  /** Bootstrap resamples (default 10,000). */
  iterations?: number;
  level?: number;
}

/** Summary over words: means, bootstrap interval of mean G, Wilcoxon over words. */
export function summariseGains(words: readonly Pick<WordGain, 'matched' | 'mismatched' | 'G' | 'n_items'>[], opts: SummaryOptions = {}): GroundingSummary {
  const n = words.length;
  const G = words.map((w) => w.G);
  const base = {
    n_words: n,
    n_items: words.reduce((a, w) => a + w.n_items, 0),
    mean_matched: n ? mean(words.map((w) => w.matched)) : NaN,
    mean_mismatched: n ? mean(words.map((w) => w.mismatched)) : NaN,
    mean_G: n ? mean(G) : NaN,
    frac_positive: n ? G.filter((g) => g > 0).length / n : NaN,
  };
  let G_lo = NaN;
  let G_hi = NaN;
  if (n >= 1) {
    const ci = bootstrapCI(G, { seed: opts.bootstrapSeed ?? 1, iterations: opts.iterations ?? 10000, level: opts.level ?? 0.95 });
    G_lo = ci.lower;
    G_hi = ci.upper;
  }
  let wilcoxon_W = NaN;
  let wilcoxon_p = NaN;
  let wilcoxon_method = 'NA';
  try {
    const w = wilcoxonSignedRank(
      words.map((x) => x.mismatched),
      words.map((x) => x.matched),
    );
    wilcoxon_W = w.statistic;
    wilcoxon_p = w.pValue;
    wilcoxon_method = w.method;
  } catch {
    // fewer than one nonzero difference: the test is undefined (NA in the tables)
  }
  return { ...base, G_lo, G_hi, wilcoxon_W, wilcoxon_p, wilcoxon_method };
}
