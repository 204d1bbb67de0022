/**
 * Co-occurrence baseline (SPEC §4): how much of the per-word grounding gain G(v) a plain
 * co-occurrence statistic of the training split explains. At each checkpoint, G(v) over the target
 * words is regressed on each statistic (ordinary least squares with an intercept) and R² is kept.
 * Claim 2 of the paper holds when R² peaks early and then declines while mean G keeps rising.
 *
 * Statistics (from targets.json, training split):
 *   turns_both        turns in which v<ENV> and v<LAN> co-occur
 *   p_lan_given_env   P(v<LAN> in turn | v<ENV> in turn)
 *   pmi               PMI of the two events over turns (with the builder's pseudo-count)
 *   log_turns_both    ln(1 + turns_both)
 *   log_env_count     ln(1 + ENV occurrences)
 *   log_lan_count     ln(1 + LAN occurrences)  (a pure frequency control)
 */
import type { TargetWord, TargetsFile } from '../data/contract.js';
import { olsFit } from './stats.js';

export const COOCCURRENCE_STATISTICS = ['turns_both', 'p_lan_given_env', 'pmi', 'log_turns_both', 'log_env_count', 'log_lan_count'] as const;
export type CooccurrenceStatistic = (typeof COOCCURRENCE_STATISTICS)[number];

/** The SPEC §4 statistics (the log transforms are extra views). */
export const SPEC_STATISTICS: CooccurrenceStatistic[] = ['turns_both', 'p_lan_given_env', 'pmi'];

export function statisticOf(t: TargetWord, s: CooccurrenceStatistic): number {
  switch (s) {
    case 'turns_both':
      return t.turns_both;
    case 'p_lan_given_env':
      return t.p_lan_given_env;
    case 'pmi':
      return t.pmi;
    case 'log_turns_both':
      return Math.log1p(t.turns_both);
    case 'log_env_count':
      return Math.log1p(t.env_count);
    case 'log_lan_count':
      return Math.log1p(t.lan_count);
  }
}

export interface R2Row {
  statistic: CooccurrenceStatistic;
  /** R² of G(v) ~ 1 + statistic(v) over the words; NaN when the statistic is constant. */
  r2: number;
  slope: number;
  intercept: number;
  /** Pearson r (sign of the slope). */
  r: number;
  /** Two-sided p-value of slope = 0. */
  p_value: number;
  n: number;
}

/**
 * R² of per-word gains on each statistic. Words missing from targets.json, or whose statistic is
 * not finite, are left out of that regression (n says how many remained).
 */
export function cooccurrenceR2(gains: readonly { word: string; G: number }[], targets: TargetsFile, statistics: readonly CooccurrenceStatistic[] = COOCCURRENCE_STATISTICS): R2Row[] {
  const byWord = new Map(targets.words.map((t) => [t.word, t]));
  return statistics.map((statistic) => {
    const x: number[] = [];
    const y: number[] = [];
    for (const g of gains) {
      const t = byWord.get(g.word);
      if (!t) continue;
      const v = statisticOf(t, statistic);
      if (!Number.isFinite(v) || !Number.isFinite(g.G)) continue;
      x.push(v);
      y.push(g.G);
    }
    try {
      const f = olsFit(x, y);
      return { statistic, r2: f.r2, slope: f.slope, intercept: f.intercept, r: f.r, p_value: f.pValue, n: f.n };
    } catch {
      return { statistic, r2: NaN, slope: NaN, intercept: NaN, r: NaN, p_value: NaN, n: x.length };
    }
  });
}
