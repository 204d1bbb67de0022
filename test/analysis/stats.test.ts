import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  bootstrapCI,
  holmBonferroni,
  incompleteBeta,
  logGamma,
  mean,
  median,
  normalCdf,
  normalSf,
  olsFit,
  oneSampleTTest,
  pairedTTest,
  quantile,
  quantiles,
  rankAverage,
  sd,
  standardError,
  studentTCdf,
  studentTSf,
  variance,
  welchTTest,
  wilcoxonExactPmf,
  wilcoxonSignedRank,
  type Alternative,
} from '../../src/analysis/stats.js';

type Num = number | 'NaN' | 'Infinity' | '-Infinity';

/** Fixtures from scripts/fixtures/stats_fixture.py (scipy 1.10.1, numpy 1.24.2). */
function fixture<T>(name: string): T {
  const path = fileURLToPath(new URL(`../fixtures/stats/${name}`, import.meta.url));
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

function n(v: Num): number {
  return typeof v === 'number' ? v : v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : -Infinity;
}

function ns(v: Num[]): number[] {
  return v.map(n);
}

/**
 * |actual - expected| ≤ rel·|expected| + abs. Default: 1e-9 relative and no absolute slack;
 * `abs` is only given where the expected value is a difference of nearly equal numbers.
 */
function close(actual: number, expected: Num, rel = 1e-9, abs = 0, what = ''): void {
  const e = n(expected);
  if (Number.isNaN(e) || !Number.isFinite(e)) {
    expect(actual, what).toBe(e);
    return;
  }
  const tol = rel * Math.abs(e) + abs;
  if (!(Math.abs(actual - e) <= tol)) {
    throw new Error(`${what}: expected ${e}, got ${actual} (|diff| ${Math.abs(actual - e)} > ${tol})`);
  }
}

describe('descriptive statistics vs numpy', () => {
  interface Case {
    label: string;
    x: Num[];
    mean: Num;
    median: Num;
    var?: Num;
    sd?: Num;
    sem?: Num;
    quantiles: { q: number; value: Num }[];
  }
  const { cases } = fixture<{ cases: Case[] }>('descriptive.json');
  for (const c of cases) {
    it(c.label, () => {
      const x = ns(c.x);
      // Means and variances are sums of rounded terms; numpy sums pairwise, we use compensated
      // summation, so allow an absolute slack of a few ulps of the data scale.
      const scale = Math.max(...x.map(Math.abs));
      close(mean(x), c.mean, 1e-12, 1e-15 * scale, 'mean');
      close(median(x), c.median, 1e-15, 0, 'median');
      for (const q of c.quantiles) close(quantile(x, q.q), q.value, 1e-14, 1e-15 * scale, `quantile ${q.q}`);
      const qs = quantiles(x, c.quantiles.map((q) => q.q));
      c.quantiles.forEach((q, i) => close(qs[i]!, q.value, 1e-14, 1e-15 * scale, `quantiles ${q.q}`));
      if (c.var !== undefined) {
        close(variance(x), c.var, 1e-9, 1e-14 * scale * scale, 'var');
        close(sd(x), c.sd!, 1e-9, 1e-14 * scale, 'sd');
        close(standardError(x), c.sem!, 1e-9, 1e-14 * scale, 'sem');
      } else {
        expect(() => variance(x)).toThrow(/at least 2/);
      }
    });
  }

  it('hand-computed values', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    expect(variance([1, 2, 3, 4])).toBeCloseTo(5 / 3, 15);
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5], 0.25)).toBe(2);
    expect(quantile([10, 20], 0.3)).toBeCloseTo(13, 14);
    expect(variance([1, 2, 3, 4], 0)).toBeCloseTo(1.25, 15);
  });

  it('rejects invalid input with clear messages', () => {
    expect(() => mean([])).toThrow('mean: needs at least 1 values, got 0');
    expect(() => mean([1, NaN])).toThrow('mean: values[1] is NaN');
    expect(() => median([Infinity])).toThrow(/finite/);
    expect(() => sd([1])).toThrow(/at least 2/);
    expect(() => quantile([1, 2], 1.5)).toThrow(/q must be in \[0, 1\]/);
  });

  it('ranks ties with their average rank', () => {
    const { ranks, tieSizes } = rankAverage([10, 20, 20, 5, 20, 7]);
    expect(Array.from(ranks)).toEqual([3, 5, 5, 1, 5, 2]);
    expect(tieSizes).toEqual([3]);
  });
});

describe('distribution functions vs scipy', () => {
  const d = fixture<{
    normal: { z: number; cdf: Num; sf: Num }[];
    student: { t: number; df: number; cdf: Num; sf: Num }[];
    lgamma: { x: number; value: Num }[];
    betainc: { a: number; b: number; x: number; value: Num }[];
    wilcoxonPmf: { n: number; pmf: Num[] }[];
  }>('distributions.json');

  it('normal CDF and survival function to 1e-12 relative, tails included', () => {
    // Checked against mpmath: ours is within 1e-15 of exact down to 1e-300; scipy's ndtr is off
    // by ~1e-13 relative beyond |z| = 20, so 1e-12 is the bound set by the reference.
    // (scipy underflows to 0 at z = -38 where the exact value, 2.9e-316, is subnormal.)
    for (const r of d.normal) {
      close(normalCdf(r.z), r.cdf, 1e-12, 0, `cdf(${r.z})`);
      close(normalSf(r.z), r.sf, 1e-12, 0, `sf(${r.z})`);
    }
  });

  it('Student t CDF and survival function to 1e-10 relative', () => {
    // 1e-10: checked against mpmath, our continued fraction is off by up to 4e-12 relative at
    // df = 1e5 near the centre (cancellation in Lentz's recurrence grows like df·1e-16), and
    // scipy's own value is off by 1e-13 at t = -50, df = 1000.
    for (const r of d.student) {
      close(studentTCdf(r.t, r.df), r.cdf, 1e-10, 0, `cdf(${r.t}; ${r.df})`);
      close(studentTSf(r.t, r.df), r.sf, 1e-10, 0, `sf(${r.t}; ${r.df})`);
    }
    expect(studentTCdf(Infinity, 3)).toBe(1);
    expect(studentTSf(Infinity, 3)).toBe(0);
    expect(studentTCdf(0, 7)).toBe(0.5);
    // Closed forms: df=1 is Cauchy, df=2 has F(t) = ½ + t / (2 sqrt(t² + 2)).
    close(studentTCdf(1.3, 1), 0.5 + Math.atan(1.3) / Math.PI, 1e-14, 0, 'cauchy');
    close(studentTCdf(-0.8, 2), 0.5 - 0.8 / (2 * Math.sqrt(0.64 + 2)), 1e-14, 0, 't2');
  });

  it('log-gamma (absolute 1e-13) and incomplete beta (1e-10 relative)', () => {
    for (const r of d.lgamma) close(logGamma(r.x), r.value, 1e-14, 1e-13, `lgamma(${r.x})`);
    for (const r of d.betainc) close(incompleteBeta(r.a, r.b, r.x), r.value, 1e-10, 0, `I(${r.a},${r.b},${r.x})`);
    expect(() => logGamma(0)).toThrow(/positive/);
  });

  it('exact Wilcoxon null distribution equals scipy _get_wilcoxon_distr', () => {
    for (const r of d.wilcoxonPmf) {
      const pmf = wilcoxonExactPmf(r.n);
      expect(pmf.length).toBe(r.pmf.length);
      r.pmf.forEach((p, i) => close(pmf[i]!, p, 1e-15, 0, `pmf(${r.n})[${i}]`));
    }
    // n = 3: sums 0..6 over 2³ sign patterns; 3 is reached by {3} and {1,2}.
    expect(Array.from(wilcoxonExactPmf(3))).toEqual([1, 1, 1, 2, 1, 1, 1].map((k) => k / 8));
  });
});

describe('wilcoxonSignedRank vs scipy.stats.wilcoxon (scipy 1.10 defaults)', () => {
  interface Case {
    label: string;
    x: Num[];
    y: Num[] | null;
    alternative: Alternative;
    method: 'auto' | 'exact' | 'approx';
    resolvedMethod: 'exact' | 'approx';
    n: number;
    zeros: number;
    statistic: Num;
    pValue: Num;
    zStatistic: Num | null;
  }
  const { cases, errors } = fixture<{ cases: Case[]; errors: { label: string; x: Num[]; y: Num[] | null }[] }>(
    'wilcoxon.json',
  );
  for (const c of cases) {
    it(`${c.label}, ${c.alternative}, method ${c.method}`, () => {
      const r = wilcoxonSignedRank(ns(c.x), c.y && ns(c.y), { alternative: c.alternative, method: c.method });
      expect(r.method).toBe(c.resolvedMethod);
      expect(r.n).toBe(c.n);
      expect(r.zeros).toBe(c.zeros);
      close(r.statistic, c.statistic, 1e-12, 0, 'statistic');
      close(r.pValue, c.pValue, 1e-9, 0, 'p');
      if (c.zStatistic !== null) close(r.zStatistic!, c.zStatistic, 1e-9, 1e-12, 'z');
      else expect(r.zStatistic).toBeUndefined();
      expect(r.rPlus + r.rMinus).toBe((r.n * (r.n + 1)) / 2);
    });
  }
  for (const e of errors) {
    it(`throws: ${e.label}`, () => {
      expect(() => wilcoxonSignedRank(ns(e.x), e.y && ns(e.y))).toThrow(/wilcoxonSignedRank/);
    });
  }

  it('hand-computed exact case', () => {
    // d = 1, 2, 3, -4 ranks 1..4: R+ = 6, R- = 4, W = 4. Among the 16 equally likely sign
    // patterns, R+ >= 6 iff the negative ranks sum to <= 4: {}, {1}, {2}, {3}, {4}, {1,2}, {1,3},
    // so P(R+ >= 6) = 7/16; P(R+ <= 6) = 11/16; two-sided 2 * min = 14/16.
    const r = wilcoxonSignedRank([1, 2, 3, -4], null, { alternative: 'greater' });
    expect(r.statistic).toBe(6);
    expect(r.pValue).toBeCloseTo(7 / 16, 15);
    expect(wilcoxonSignedRank([1, 2, 3, -4]).pValue).toBeCloseTo(14 / 16, 15);
  });

  it('rejects mismatched lengths and NaN', () => {
    expect(() => wilcoxonSignedRank([1, 2], [1])).toThrow('same length');
    expect(() => wilcoxonSignedRank([1, NaN])).toThrow(/x\[1\] is NaN/);
  });
});

describe('t-tests vs scipy.stats', () => {
  interface Base {
    label: string;
    alternative: Alternative;
    statistic: Num;
    pValue: Num;
    df: Num;
    meanDiff: Num;
  }
  const t = fixture<{
    paired: (Base & { x: Num[]; y: Num[] })[];
    oneSample: (Base & { x: Num[]; mu: number })[];
    welch: (Base & { a: Num[]; b: Num[] })[];
  }>('ttests.json');

  function check(r: ReturnType<typeof pairedTTest>, c: Base): void {
    // Statistic: a ratio of a mean and a standard deviation, ulp-level differences (compensated vs
    // pairwise sums) are amplified when the mean is near zero, hence an absolute slack too.
    close(r.statistic, c.statistic, 1e-9, 1e-12, 'statistic');
    close(r.pValue, c.pValue, 1e-9, 1e-14, 'p');
    close(r.df, c.df, 1e-12, 0, 'df');
    close(r.meanDiff, c.meanDiff, 1e-9, 1e-14, 'meanDiff');
    expect(r.alternative).toBe(c.alternative);
  }

  for (const c of t.paired) it(`ttest_rel ${c.label} ${c.alternative}`, () => check(pairedTTest(ns(c.x), ns(c.y), c.alternative), c));
  for (const c of t.oneSample)
    it(`ttest_1samp ${c.label} ${c.alternative}`, () => check(oneSampleTTest(ns(c.x), c.mu, c.alternative), c));
  for (const c of t.welch)
    it(`ttest_ind(equal_var=False) ${c.label} ${c.alternative}`, () => check(welchTTest(ns(c.a), ns(c.b), c.alternative), c));

  it('rejects too few values, mismatched lengths and NaN', () => {
    expect(() => pairedTTest([1], [2])).toThrow('pairedTTest: needs at least 2 x, got 1');
    expect(() => pairedTTest([1, 2, 3], [1, 2])).toThrow('same length');
    expect(() => oneSampleTTest([1, NaN, 3])).toThrow(/NaN/);
    expect(() => welchTTest([1, 2], [3])).toThrow(/at least 2 b/);
    expect(() => welchTTest([1, 2], [3, 4], 'bigger' as Alternative)).toThrow(/alternative/);
  });
});

describe('olsFit', () => {
  interface Case {
    label: string;
    x: Num[];
    y: Num[];
    slope: Num;
    intercept: Num;
    r: Num;
    r2: Num;
    pValue: Num;
    slopeStdErr: Num;
  }
  const { cases } = fixture<{ cases: Case[] }>('ols.json');
  for (const c of cases) {
    it(`vs scipy.stats.linregress: ${c.label}`, () => {
      const f = olsFit(ns(c.x), ns(c.y));
      close(f.slope, c.slope, 1e-9, 1e-14, 'slope');
      close(f.intercept, c.intercept, 1e-9, 1e-14, 'intercept');
      close(f.r, c.r, 1e-9, 1e-14, 'r');
      // R² near 0 is 1 - (nearly 1): absolute slack for that cancellation.
      close(f.r2, c.r2, 1e-9, 1e-14, 'r2');
      close(f.r2, f.r * f.r, 1e-9, 1e-14, 'r2 = r²');
      close(f.pValue, c.pValue, 1e-9, 0, 'p');
      close(f.slopeStdErr, c.slopeStdErr, 1e-9, 1e-15, 'stderr');
    });
  }

  it('perfect line has R² = 1', () => {
    const x = [0, 1, 2, 3, 4];
    const f = olsFit(x, x.map((v) => 3 - 2 * v));
    expect(f.slope).toBeCloseTo(-2, 14);
    expect(f.intercept).toBeCloseTo(3, 14);
    expect(f.r2).toBeCloseTo(1, 14);
    expect(f.r).toBeCloseTo(-1, 14);
  });

  it('hand-computed case', () => {
    // x = 1,2,3,4, y = 2,3,5,4: x̄ = 2.5, ȳ = 3.5, Sxx = 5, Sxy = 4, Syy = 5.
    // slope 0.8, intercept 1.5, fitted 2.3 3.1 3.9 4.7, SSres = .09+.01+1.21+.49 = 1.8, R² = 1 - 1.8/5 = 0.64.
    const f = olsFit([1, 2, 3, 4], [2, 3, 5, 4]);
    expect(f.slope).toBeCloseTo(0.8, 14);
    expect(f.intercept).toBeCloseTo(1.5, 14);
    expect(f.r2).toBeCloseTo(0.64, 14);
    expect(f.n).toBe(4);
  });

  it('constant y gives R² = 0; two points fit exactly with no p-value', () => {
    expect(olsFit([1, 2, 3], [5, 5, 5]).r2).toBe(0);
    const two = olsFit([0, 2], [1, 2]);
    expect(two.r2).toBe(1);
    expect(two.slope).toBe(0.5);
    expect(two.pValue).toBeNaN();
  });

  it('rejects constant x, too few points, mismatched lengths', () => {
    expect(() => olsFit([1, 1, 1], [1, 2, 3])).toThrow(/every x is identical/);
    expect(() => olsFit([1], [1])).toThrow(/at least 2/);
    expect(() => olsFit([1, 2], [1, 2, 3])).toThrow(/same length/);
  });
});

describe('bootstrapCI', () => {
  it('is deterministic under a seed and changes with the seed', () => {
    const rngValues = Array.from({ length: 40 }, (_, i) => Math.sin(i * 1.7) * 3 + i / 10);
    const a = bootstrapCI(rngValues, { seed: 7, iterations: 2000 });
    const b = bootstrapCI(rngValues, { seed: 7, iterations: 2000 });
    const c = bootstrapCI(rngValues, { seed: 8, iterations: 2000 });
    expect(a).toEqual(b);
    expect(c.lower).not.toBe(a.lower);
    expect(a.estimate).toBe(mean(rngValues));
    expect(a.lower).toBeLessThan(a.estimate);
    expect(a.upper).toBeGreaterThan(a.estimate);
  });

  it('covers the true mean of a large normal sample, with the width of the normal theory interval', async () => {
    const { Rng } = await import('../../src/util/rng.js');
    const rng = new Rng(12345);
    const values = Array.from({ length: 2000 }, () => 10 + 2 * rng.normal());
    const ci = bootstrapCI(values, { seed: 1 });
    expect(ci.lower).toBeLessThan(10);
    expect(ci.upper).toBeGreaterThan(10);
    // Percentile interval ≈ mean ± 1.96·SE; with 10,000 resamples the half-width is within ~5%.
    const halfWidth = (ci.upper - ci.lower) / 2;
    expect(halfWidth / (1.959964 * standardError(values))).toBeGreaterThan(0.93);
    expect(halfWidth / (1.959964 * standardError(values))).toBeLessThan(1.07);
  });

  it('tiny cases computable by hand', () => {
    // One value or constant values: every resample is identical, the interval collapses.
    expect(bootstrapCI([4.5], { seed: 3 })).toEqual({ estimate: 4.5, lower: 4.5, upper: 4.5 });
    expect(bootstrapCI([2, 2, 2], { seed: 3, statistic: median })).toEqual({ estimate: 2, lower: 2, upper: 2 });
    // {0, 1}: resample means are 0, ½, 1 with probabilities ¼, ½, ¼, far beyond the 2.5% tails,
    // so the 95% interval is [0, 1] (failure probability of order 1e-100 at 10,000 draws).
    expect(bootstrapCI([0, 1], { seed: 11 })).toEqual({ estimate: 0.5, lower: 0, upper: 1 });
    // A 50% interval of the same: the 25% and 75% quantiles of {0 (¼), ½ (½), 1 (¼)} are ~0 to ½
    // and ½ to 1 depending on the draw; both ends must lie on or between the support points.
    const half = bootstrapCI([0, 1], { seed: 11, level: 0.5 });
    expect(half.lower).toBeGreaterThanOrEqual(0);
    expect(half.lower).toBeLessThanOrEqual(0.5);
    expect(half.upper).toBeGreaterThanOrEqual(0.5);
    expect(half.upper).toBeLessThanOrEqual(1);
  });

  it('rejects bad options', () => {
    expect(() => bootstrapCI([], { seed: 1 })).toThrow(/at least 1/);
    expect(() => bootstrapCI([1, 2], { seed: 1, level: 1 })).toThrow(/level/);
    expect(() => bootstrapCI([1, 2], { seed: 1, iterations: 0 })).toThrow(/iterations/);
  });
});

describe('holmBonferroni', () => {
  it('matches the hand-computed step-down adjustment', () => {
    // sorted: 0.01 (×4 = 0.04), 0.02 (×3 = 0.06), 0.03 (×2 = 0.06), 0.5 (×1 = 0.5).
    const adj = holmBonferroni([0.03, 0.5, 0.01, 0.02]);
    [0.06, 0.5, 0.04, 0.06].forEach((v, i) => expect(adj[i]).toBeCloseTo(v, 15));
    // Monotone running maximum and the cap at 1.
    // 0.03 × 3 = 0.09 carries over to 0.04 (its own 0.04 × 2 = 0.08 is smaller).
    const mono = holmBonferroni([0.04, 0.03, 0.9]);
    [0.09, 0.09, 0.9].forEach((v, i) => expect(mono[i]).toBeCloseTo(v, 15));
    expect(holmBonferroni([0.4, 0.6])).toEqual([0.8, 0.8]);
    expect(holmBonferroni([0.7, 0.6])).toEqual([1, 1]);
    expect(holmBonferroni([])).toEqual([]);
    expect(() => holmBonferroni([1.2])).toThrow(/not a probability/);
  });
});
