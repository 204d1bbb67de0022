import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TargetsFile, TargetWord } from '../../src/data/contract.js';
import { JOINT_PREDICTORS, multipleOls, r2WithCi, spearman } from '../../src/analysis/r2.js';
import { Rng } from '../../src/util/rng.js';

const fixture = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'r2', 'r2.json'), 'utf8')) as {
  ols: { X: number[][]; y: number[]; coefficients: number[]; r2: number; adj_r2: number }[];
  spearman: { x: number[]; y: number[]; rho: number; p: number }[];
};

function target(word: string, s: Partial<TargetWord>): TargetWord {
  return { word, env_id: 0, lan_id: 0, env_count: 10, lan_count: 10, turns_both: 1, p_lan_given_env: 0.1, pmi: 0, ...s };
}

/** 30 words whose statistics vary independently (seeded). */
function world(seed = 3): TargetsFile {
  const rng = new Rng(seed);
  return {
    rule: 'test',
    train_turns: 1000,
    words: Array.from({ length: 30 }, (_, i) =>
      target(`w${i}`, { turns_both: 1 + rng.int(200), pmi: rng.float() * 4 - 1, lan_count: 10 + rng.int(5000), env_count: 10 + rng.int(3000), p_lan_given_env: rng.float() }),
    ),
  };
}

describe('multiple OLS and Spearman against numpy / scipy', () => {
  it('reproduces numpy.linalg.lstsq coefficients, R² and adjusted R²', () => {
    for (const c of fixture.ols) {
      const f = multipleOls(c.X, c.y);
      f.coefficients.forEach((b, j) => expect(b).toBeCloseTo(c.coefficients[j]!, 9));
      expect(f.r2).toBeCloseTo(c.r2, 11);
      expect(f.adjR2).toBeCloseTo(c.adj_r2, 11);
    }
  });
  it('reproduces scipy.stats.spearmanr (with and without ties)', () => {
    for (const c of fixture.spearman) {
      const s = spearman(c.x, c.y);
      expect(s.rho).toBeCloseTo(c.rho, 12);
      expect(s.pValue).toBeCloseTo(c.p, 10);
    }
  });
  it('refuses a singular design (a constant predictor)', () => {
    expect(() => multipleOls([[1, 2], [1, 3], [1, 4], [1, 5]], [1, 2, 3, 4])).toThrow(/singular/);
  });
});

describe('R² with bootstrap intervals over words', () => {
  const targets = world();
  it('planted: G exactly linear in the joint predictors → joint R² = 1 with a tight interval; G pure noise → a low R² whose interval reaches 0-ish', () => {
    const byWord = new Map(targets.words.map((t) => [t.word, t]));
    const exact = targets.words.map((t) => ({ word: t.word, G: 0.2 * Math.log1p(t.turns_both) - 0.3 * t.pmi + 0.1 * Math.log1p(t.lan_count) }));
    const rows = r2WithCi(exact, targets, { iterations: 400, seed: 1 });
    const joint = rows.find((r) => r.model === 'joint')!;
    expect(joint.predictors).toBe(JOINT_PREDICTORS.join(';'));
    expect(joint.r2).toBeCloseTo(1, 10);
    expect(joint.r2_lo).toBeGreaterThan(0.999);
    expect(joint.n_words).toBe(30);
    const rng = new Rng(9);
    const noise = targets.words.map((t) => ({ word: t.word, G: rng.float() }));
    const j2 = r2WithCi(noise, targets, { iterations: 400, seed: 1 }).find((r) => r.model === 'joint')!;
    expect(j2.r2).toBeLessThan(0.4);
    expect(j2.r2_lo).toBeLessThan(0.1);
    expect(j2.r2_lo).toBeLessThanOrEqual(j2.r2);
    expect(j2.r2_hi).toBeGreaterThanOrEqual(j2.r2_lo);
    // Spearman on a monotone (not linear) function of one statistic is exactly 1.
    const mono = targets.words.map((t) => ({ word: t.word, G: Math.exp(t.pmi) }));
    const pmi = r2WithCi(mono, targets, { iterations: 50, seed: 1, models: ['pmi'] })[0]!;
    expect(pmi.spearman_rho).toBeCloseTo(1, 12);
    expect(pmi.r2).toBeLessThan(1);
    expect(byWord.size).toBe(30);
  });
  it('is deterministic for a seed', () => {
    const g = targets.words.map((t, i) => ({ word: t.word, G: Math.sin(i) + 0.01 * t.turns_both }));
    expect(r2WithCi(g, targets, { iterations: 200, seed: 5 })).toEqual(r2WithCi(g, targets, { iterations: 200, seed: 5 }));
  });
});
