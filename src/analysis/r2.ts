/**
 * How much of the per-word grounding gain G(v) co-occurrence explains, with uncertainty (issue 14,
 * SPEC §4; claim 2 of the paper):
 *
 *   - R² of G(v) on each single statistic (cooccurrence.ts) and of a joint regression
 *     G(v) ~ 1 + log(1 + turns_both) + PMI + log(1 + LAN count) (JOINT_PREDICTORS; our choice of
 *     transforms: raw turn counts are heavy-tailed, so one frequent word would dominate an OLS fit);
 *   - a percentile bootstrap interval of each R² over words (words resampled with replacement;
 *     resamples whose design is degenerate, e.g. a constant predictor, are dropped and counted);
 *   - Spearman's rank correlation of G(v) with each statistic and its p-value (scipy.stats.spearmanr:
 *     Pearson r of average ranks, t-distribution with n − 2 df).
 *
 * Point estimates reproduce numpy.linalg.lstsq / scipy.stats.spearmanr (test/fixtures/r2/).
 */
import type { TargetsFile } from '../data/contract.js';
import { COOCCURRENCE_STATISTICS, type CooccurrenceStatistic, statisticOf } from './cooccurrence.js';
import { quantile, rankAverage, studentTSf } from './stats.js';
import { Rng } from '../util/rng.js';

/** Predictors of the joint regression (each a statistic of cooccurrence.ts). */
export const JOINT_PREDICTORS: CooccurrenceStatistic[] = ['log_turns_both', 'pmi', 'log_lan_count'];

export interface MultiOls {
  /** Intercept first, then one coefficient per predictor column. */
  coefficients: number[];
  /** 1 − SSres/SStot; 0 when y is constant. */
  r2: number;
  /** 1 − (1 − R²)(n − 1)/(n − p − 1); NaN when n ≤ p + 1. */
  adjR2: number;
  n: number;
}

/**
 * OLS of y on an intercept and the columns of X (X[i] = predictors of observation i), by the
 * normal equations with Gaussian elimination on centred data (p is small). Throws when the design
 * is singular (a constant or collinear predictor) or there are fewer observations than parameters.
 */
export function multipleOls(X: readonly (readonly number[])[], y: readonly number[]): MultiOls {
  const n = y.length;
  if (X.length !== n) throw new Error(`multipleOls: ${X.length} rows of predictors for ${n} responses`);
  const p = n ? X[0]!.length : 0;
  if (n < p + 1) throw new Error(`multipleOls: needs at least ${p + 1} observations for ${p} predictors, got ${n}`);
  for (let i = 0; i < n; i++) {
    if (X[i]!.length !== p) throw new Error(`multipleOls: row ${i} has ${X[i]!.length} predictors, expected ${p}`);
    if (!Number.isFinite(y[i]!) || X[i]!.some((v) => !Number.isFinite(v))) throw new Error(`multipleOls: observation ${i} is not finite`);
  }
  const my = y.reduce((a, b) => a + b, 0) / n;
  const mx = Array.from({ length: p }, (_, j) => X.reduce((a, r) => a + r[j]!, 0) / n);
  // Centred normal equations A b = c, A = Xcᵀ Xc, c = Xcᵀ yc.
  const A = Array.from({ length: p }, () => new Float64Array(p));
  const c = new Float64Array(p);
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dy = y[i]! - my;
    syy += dy * dy;
    for (let j = 0; j < p; j++) {
      const dj = X[i]![j]! - mx[j]!;
      c[j]! += dj * dy;
      for (let k = 0; k < p; k++) A[j]![k]! += dj * (X[i]![k]! - mx[k]!);
    }
  }
  const b = solve(A, c);
  const intercept = my - b.reduce((a, bj, j) => a + bj * mx[j]!, 0);
  let ssRes = 0;
  for (let i = 0; i < n; i++) {
    const e = y[i]! - intercept - b.reduce((a, bj, j) => a + bj * X[i]![j]!, 0);
    ssRes += e * e;
  }
  const r2 = syy === 0 ? 0 : Math.min(1, Math.max(0, 1 - ssRes / syy));
  const adjR2 = n > p + 1 ? 1 - ((1 - r2) * (n - 1)) / (n - p - 1) : NaN;
  return { coefficients: [intercept, ...b], r2, adjR2, n };
}

/** Solves A x = c (Gaussian elimination, partial pivoting); throws when A is (near) singular. */
function solve(A0: Float64Array[], c0: Float64Array): number[] {
  const p = c0.length;
  const A = A0.map((r) => Float64Array.from(r));
  const c = Float64Array.from(c0);
  const scale = Math.max(1e-300, ...A.map((r, i) => Math.abs(r[i]!)));
  for (let col = 0; col < p; col++) {
    let piv = col;
    for (let r = col + 1; r < p; r++) if (Math.abs(A[r]![col]!) > Math.abs(A[piv]![col]!)) piv = r;
    if (Math.abs(A[piv]![col]!) <= 1e-12 * scale) throw new Error('multipleOls: the design is singular (a constant or collinear predictor)');
    [A[col], A[piv]] = [A[piv]!, A[col]!];
    [c[col], c[piv]] = [c[piv]!, c[col]!];
    for (let r = col + 1; r < p; r++) {
      const f = A[r]![col]! / A[col]![col]!;
      for (let k = col; k < p; k++) A[r]![k]! -= f * A[col]![k]!;
      c[r]! -= f * c[col]!;
    }
  }
  const x = new Array<number>(p).fill(0);
  for (let r = p - 1; r >= 0; r--) {
    let s = c[r]!;
    for (let k = r + 1; k < p; k++) s -= A[r]![k]! * x[k]!;
    x[r] = s / A[r]![r]!;
  }
  return x;
}

export interface SpearmanResult {
  rho: number;
  /** Two-sided p-value (t-distribution, n − 2 df), as scipy.stats.spearmanr. */
  pValue: number;
  n: number;
}

/** Spearman's rank correlation (average ranks for ties); NaN when either side is constant. */
export function spearman(x: readonly number[], y: readonly number[]): SpearmanResult {
  if (x.length !== y.length) throw new Error(`spearman: ${x.length} and ${y.length} values`);
  const n = x.length;
  if (n < 3) return { rho: NaN, pValue: NaN, n };
  const rx = rankAverage(x).ranks;
  const ry = rankAverage(y).ranks;
  const m = (n + 1) / 2;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (rx[i]! - m) * (ry[i]! - m);
    sxx += (rx[i]! - m) ** 2;
    syy += (ry[i]! - m) ** 2;
  }
  if (sxx === 0 || syy === 0) return { rho: NaN, pValue: NaN, n };
  const rho = Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
  const df = n - 2;
  const t = rho * Math.sqrt(df / ((rho + 1) * (1 - rho)));
  const pValue = Math.abs(rho) === 1 ? 0 : Math.min(1, 2 * studentTSf(Math.abs(t), df));
  return { rho, pValue, n };
}

/** A regression of G(v) over words: one statistic, or the joint model. */
export type R2Model = CooccurrenceStatistic | 'joint';
export const R2_MODELS: R2Model[] = [...COOCCURRENCE_STATISTICS, 'joint'];

export interface R2CiRow {
  model: R2Model;
  /** Predictors of the model, ';'-joined. */
  predictors: string;
  r2: number;
  r2_lo: number;
  r2_hi: number;
  /** Adjusted R² (joint model; equals-ish R² for one predictor). */
  adj_r2: number;
  /** Spearman ρ of G with the statistic (NaN for the joint model) and its p-value. */
  spearman_rho: number;
  spearman_p: number;
  n_words: number;
  /** Bootstrap resamples kept (degenerate designs dropped). */
  n_boot: number;
}

export interface R2CiOptions {
  iterations?: number;
  seed?: number;
  level?: number;
  models?: readonly R2Model[];
}

function design(model: R2Model, rows: readonly { G: number; stats: Record<string, number> }[]): { X: number[][]; y: number[] } {
  const preds = model === 'joint' ? JOINT_PREDICTORS : [model];
  const X: number[][] = [];
  const y: number[] = [];
  for (const r of rows) {
    const x = preds.map((p) => r.stats[p]!);
    if (!Number.isFinite(r.G) || x.some((v) => !Number.isFinite(v))) continue;
    X.push(x);
    y.push(r.G);
  }
  return { X, y };
}

/**
 * R² of G(v) on each model with a percentile bootstrap interval over words, plus Spearman ρ.
 * Words absent from targets.json are left out (n_words says how many remained).
 */
export function r2WithCi(gains: readonly { word: string; G: number }[], targets: TargetsFile, opts: R2CiOptions = {}): R2CiRow[] {
  const byWord = new Map(targets.words.map((t) => [t.word, t]));
  const rows = gains.flatMap((g) => {
    const t = byWord.get(g.word);
    if (!t) return [];
    return [{ G: g.G, stats: Object.fromEntries(COOCCURRENCE_STATISTICS.map((s) => [s, statisticOf(t, s)])) as Record<string, number> }];
  });
  const iterations = opts.iterations ?? 2000;
  const level = opts.level ?? 0.95;
  return (opts.models ?? R2_MODELS).map((model) => {
    const { X, y } = design(model, rows);
    const preds = model === 'joint' ? JOINT_PREDICTORS : [model];
    let fit: MultiOls | null = null;
    try {
      fit = multipleOls(X, y);
    } catch {
      fit = null;
    }
    const sp = model === 'joint' ? { rho: NaN, pValue: NaN } : spearman(X.map((r) => r[0]!), y);
    const boot: number[] = [];
    if (fit) {
      const rng = new Rng(opts.seed ?? 1);
      const n = y.length;
      for (let b = 0; b < iterations; b++) {
        const Xb: number[][] = [];
        const yb: number[] = [];
        for (let i = 0; i < n; i++) {
          const k = rng.int(n);
          Xb.push(X[k]!);
          yb.push(y[k]!);
        }
        try {
          boot.push(multipleOls(Xb, yb).r2);
        } catch {
          // a resample with a constant predictor: no R² (dropped, counted by n_boot)
        }
      }
    }
    const ok = boot.length >= Math.min(100, iterations / 2);
    return {
      model,
      predictors: preds.join(';'),
      r2: fit ? fit.r2 : NaN,
      r2_lo: ok ? quantile(boot, (1 - level) / 2) : NaN,
      r2_hi: ok ? quantile(boot, (1 + level) / 2) : NaN,
      adj_r2: fit ? fit.adjR2 : NaN,
      spearman_rho: sp.rho,
      spearman_p: sp.pValue,
      n_words: y.length,
      n_boot: boot.length,
    };
  });
}
