/**
 * Grounding age per word (issue 14): when in training a word becomes grounded.
 *
 *   grounding_age    the first checkpoint from which G(v) stays significantly above 0 at every
 *                    later checkpoint: per checkpoint a one-sided one-sample t-test over the word's
 *                    items of the item gains G_n = mm_n − m_n (p < alpha, default 0.05); NA when the
 *                    last checkpoint is not significant. A t-test because a word has few items
 *                    (≤ 10): Wilcoxon's exact p cannot fall below 0.05 with fewer than 5.
 *   half_drop_step   the step at which the word's matched surprisal has made half its drop, from
 *                    the curve m(s) = a + c / (1 + (s / s50)^k) fitted by least squares (a, c linear
 *                    given s50 and k; s50 on a log grid, k on a grid); half_drop_step = s50. The fit
 *                    needs a drop (c > 0) and ≥ 4 checkpoints; `half_drop_observed` is 1 when s50
 *                    lies within the checkpoints (between the first positive and the last step).
 *
 * Items of several seeds are averaged per item first (the items are the same in every seed).
 */
import { mean, oneSampleTTest } from './stats.js';
import { spearman } from './r2.js';

export interface ItemGainRow {
  step: number;
  word: string;
  item: string;
  matched: number;
  /** Mean over the item's mismatch words. */
  mismatched: number;
}

export interface GroundingAgeRow {
  word: string;
  n_items: number;
  /** First step of the significant run that lasts to the end; NaN if none. */
  grounding_age: number;
  /** One-sided p at the last step. */
  p_last: number;
  half_drop_step: number;
  half_drop_observed: 0 | 1;
  /** Fitted drop c (nats) and start a + c, and the fit's R² over checkpoints. */
  drop: number;
  fit_r2: number;
}

export interface GroundingAgeOptions {
  alpha?: number;
}

/** Least-squares fit of m(s) = a + c / (1 + (s/s50)^k) over a grid of (s50, k). */
export function fitHalfDrop(steps: readonly number[], m: readonly number[]): { s50: number; k: number; a: number; c: number; r2: number } | null {
  const n = steps.length;
  if (n < 4 || m.some((v) => !Number.isFinite(v))) return null;
  const pos = steps.filter((s) => s > 0);
  if (!pos.length) return null;
  const lo = Math.log(Math.min(...pos) / 4);
  const hi = Math.log(Math.max(...pos) * 4);
  const my = mean(m);
  const sst = m.reduce((acc, v) => acc + (v - my) ** 2, 0);
  let best: { s50: number; k: number; a: number; c: number; sse: number } | null = null;
  const ks = [0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8];
  for (let gi = 0; gi <= 240; gi++) {
    const s50 = Math.exp(lo + ((hi - lo) * gi) / 240);
    for (const k of ks) {
      const f = steps.map((s) => 1 / (1 + Math.pow(s / s50, k)));
      const mf = mean(f);
      let sff = 0;
      let sfy = 0;
      for (let i = 0; i < n; i++) {
        sff += (f[i]! - mf) ** 2;
        sfy += (f[i]! - mf) * (m[i]! - my);
      }
      if (sff < 1e-12) continue;
      const c = sfy / sff;
      const a = my - c * mf;
      let sse = 0;
      for (let i = 0; i < n; i++) sse += (m[i]! - a - c * f[i]!) ** 2;
      if (!best || sse < best.sse) best = { s50, k, a, c, sse };
    }
  }
  if (!best) return null;
  return { s50: best.s50, k: best.k, a: best.a, c: best.c, r2: sst > 0 ? 1 - best.sse / sst : NaN };
}

/** Per word: grounding age and half-drop step from item gains at every checkpoint. */
export function groundingAges(rows: readonly ItemGainRow[], opts: GroundingAgeOptions = {}): GroundingAgeRow[] {
  const alpha = opts.alpha ?? 0.05;
  // word → step → item → values (averaged over seeds)
  const acc = new Map<string, Map<number, Map<string, { m: number; mm: number; k: number }>>>();
  for (const r of rows) {
    const bySteps = acc.get(r.word) ?? new Map();
    acc.set(r.word, bySteps);
    const byItem = bySteps.get(r.step) ?? new Map();
    bySteps.set(r.step, byItem);
    const a = byItem.get(r.item) ?? { m: 0, mm: 0, k: 0 };
    a.m += r.matched;
    a.mm += r.mismatched;
    a.k++;
    byItem.set(r.item, a);
  }
  const out: GroundingAgeRow[] = [];
  for (const [word, bySteps] of acc) {
    const steps = [...bySteps.keys()].sort((a, b) => a - b);
    const pAt: number[] = [];
    const mAt: number[] = [];
    let nItems = 0;
    for (const s of steps) {
      const items = [...bySteps.get(s)!.values()];
      nItems = Math.max(nItems, items.length);
      const gains = items.map((a) => (a.mm - a.m) / a.k);
      mAt.push(mean(items.map((a) => a.m / a.k)));
      let p = NaN;
      if (gains.length >= 2) {
        const t = oneSampleTTest(gains, 0, 'greater');
        p = Number.isNaN(t.pValue) ? 1 : t.pValue; // every gain exactly 0: no evidence
      }
      pAt.push(p);
    }
    let age = NaN;
    for (let i = steps.length - 1; i >= 0 && pAt[i]! < alpha; i--) age = steps[i]!;
    const fit = fitHalfDrop(steps, mAt);
    const ok = fit !== null && fit.c > 0;
    const pos = steps.filter((s) => s > 0);
    out.push({
      word,
      n_items: nItems,
      grounding_age: age,
      p_last: pAt[pAt.length - 1] ?? NaN,
      half_drop_step: ok ? Math.round(fit!.s50) : NaN,
      half_drop_observed: ok && pos.length && fit!.s50 >= Math.min(...pos) && fit!.s50 <= Math.max(...pos) ? 1 : 0,
      drop: ok ? fit!.c : NaN,
      fit_r2: ok ? fit!.r2 : NaN,
    });
  }
  return out;
}

export interface AgeCorrelation {
  measure: 'grounding_age' | 'half_drop_step';
  statistic: string;
  spearman_rho: number;
  spearman_p: number;
  n_words: number;
}

/** Spearman correlation of each age with each word statistic (words with a finite age only). */
export function ageCorrelations(ages: readonly GroundingAgeRow[], stats: ReadonlyMap<string, Record<string, number>>, statistics: readonly string[]): AgeCorrelation[] {
  const out: AgeCorrelation[] = [];
  for (const measure of ['grounding_age', 'half_drop_step'] as const) {
    for (const statistic of statistics) {
      const x: number[] = [];
      const y: number[] = [];
      for (const a of ages) {
        const v = stats.get(a.word)?.[statistic];
        if (!Number.isFinite(a[measure]) || v === undefined || !Number.isFinite(v)) continue;
        x.push(a[measure]);
        y.push(v);
      }
      const s = spearman(x, y);
      out.push({ measure, statistic, spearman_rho: s.rho, spearman_p: s.pValue, n_words: s.n });
    }
  }
  return out;
}
