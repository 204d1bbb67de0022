import { describe, expect, it } from 'vitest';
import {
  CLAIM_COLUMNS,
  claim1Verdict,
  claim2Verdict,
  claim3Verdict,
  claim4Verdict,
  type ClaimTables,
  computeClaims,
  lensDropLayers,
  middleLayers,
  saliencyPeakLayers,
  studentTQuantile,
  tInterval,
} from '../../src/analysis/claims.js';
import type { SummaryRow } from '../../src/analysis/claims.js';

const g = (o: Partial<Record<string, number | string>>): SummaryRow => ({
  label: 'gpt2', arch: 'gpt2', items: 'corpus', step: 100, n_seeds: 1, n_words: 30, mean_G: 0.5, words_G_lo: 0.3, words_G_hi: 0.7, words_wilcoxon_p: 1e-6, p_t_G: NaN, ...o,
});

describe('claim 1: behaviour', () => {
  it('supports a significant gain, rejects none, and needs the t-test over seeds with ≥ 2 seeds', () => {
    expect(claim1Verdict(g({}), 'yes').verdict).toBe('supported');
    expect(claim1Verdict(g({ mean_G: 0.01, words_wilcoxon_p: 0.4 }), 'yes').verdict).toBe('not supported');
    expect(claim1Verdict(g({ mean_G: -0.2, words_wilcoxon_p: 1e-6 }), 'yes').verdict).toBe('not supported');
    expect(claim1Verdict(g({ words_wilcoxon_p: 0.01 }), 'yes').verdict).toBe('inconclusive');
    expect(claim1Verdict(g({ n_seeds: 3, p_t_G: 0.01 }), 'yes').verdict).toBe('supported');
    expect(claim1Verdict(g({ n_seeds: 3, p_t_G: 0.2 }), 'yes').verdict).toBe('not supported');
    // Mutation check: the threshold is strict (p exactly 0.001 is not < 0.001).
    expect(claim1Verdict(g({ words_wilcoxon_p: 0.001 }), 'yes').verdict).toBe('inconclusive');
  });
  it('a model blind to ENV (every G exactly 0, Wilcoxon undefined) is "not supported"; for the LSTM that is the expected outcome', () => {
    const blind = g({ mean_G: 0, words_G_lo: 0, words_G_hi: 0, words_wilcoxon_p: NaN });
    expect(claim1Verdict(blind, 'yes').verdict).toBe('not supported');
    expect(claim1Verdict(blind, 'no').verdict).toBe('supported');
    // An LSTM that grounds contradicts the paper's expectation.
    expect(claim1Verdict(g({ arch: 'lstm' }), 'no').verdict).toBe('not supported');
  });
});

describe('claim 2: beyond co-occurrence', () => {
  const r = (step: number, r2: number, lo: number, hi: number): SummaryRow => ({ label: 'gpt2', items: 'corpus', step, model: 'joint', r2, r2_lo: lo, r2_hi: hi });
  const G = new Map([[0, 0], [100, 0.2], [200, 0.5], [300, 0.9]]);
  it('peak early with its CI above the last CI, G rising → supported', () => {
    const v = claim2Verdict([r(0, 0.9, 0.8, 0.95), r(100, 0.6, 0.45, 0.75), r(200, 0.3, 0.1, 0.5), r(300, 0.1, 0.0, 0.3)], G);
    expect(v.verdict).toBe('supported');
    expect(v.peak!.step).toBe(100); // step 0 is left out
  });
  it('R² rising to the end → not supported; overlapping intervals → inconclusive; G falling → not supported', () => {
    expect(claim2Verdict([r(100, 0.1, 0, 0.3), r(200, 0.3, 0.1, 0.5), r(300, 0.6, 0.4, 0.8)], G).verdict).toBe('not supported');
    expect(claim2Verdict([r(100, 0.5, 0.25, 0.7), r(300, 0.2, 0.05, 0.45)], G).verdict).toBe('inconclusive');
    const falling = new Map([[100, 0.9], [300, 0.2]]);
    expect(claim2Verdict([r(100, 0.6, 0.45, 0.75), r(300, 0.1, 0.0, 0.3)], falling).verdict).toBe('not supported');
  });
});

describe('claim 3: where', () => {
  it('middle layers: neither the first nor the last quarter', () => {
    expect(middleLayers(12)).toEqual({ from: 4, to: 9 });
    expect(middleLayers(4)).toEqual({ from: 2, to: 3 });
    expect(middleLayers(18)).toEqual({ from: 5, to: 14 });
  });
  it('t quantile and interval match scipy (t.ppf(0.975, 2) = 4.302652729911275)', () => {
    expect(studentTQuantile(0.975, 2)).toBeCloseTo(4.302652729911275, 8);
    const ci = tInterval([7, 8, 9]);
    expect(ci.mean).toBe(8);
    expect(ci.hi - 8).toBeCloseTo(4.302652729911275 / Math.sqrt(3), 8);
  });
  it('planted layers: all in the middle → supported; all at the last layer → not supported; spread → inconclusive; 1 seed → inconclusive', () => {
    expect(claim3Verdict([7, 8, 8], 12).verdict).toBe('supported');
    expect(claim3Verdict([12, 12, 12], 12).verdict).toBe('not supported');
    expect(claim3Verdict([1, 1, 2], 12).verdict).toBe('not supported');
    expect(claim3Verdict([2, 8, 12], 12).verdict).toBe('inconclusive');
    expect(claim3Verdict([8], 12).verdict).toBe('inconclusive');
  });
  it('reads the peak layer from saliency and the largest converged tuned-lens drop', () => {
    const sal: SummaryRow[] = [1, 2, 3, 4].flatMap((layer) => [
      { seed: 1, unit: 'layer', layer, env_flow: layer === 3 ? 5 : 1 },
      { seed: 1, unit: 'head', head: 1, layer, env_flow: layer === 1 ? 99 : 0 }, // heads are not the layer flow
    ]);
    expect([...saliencyPeakLayers(sal)]).toEqual([[1, 3]]);
    const lens: SummaryRow[] = [
      { seed: 1, lens: 'tuned', condition: 'matched', layer_from: 1, layer_to: 2, drop: 0.1 },
      { seed: 1, lens: 'tuned', condition: 'matched', layer_from: 2, layer_to: 3, drop: 0.9 },
      { seed: 1, lens: 'tuned', condition: 'matched', layer_from: 3, layer_to: 4, drop: 0.3 },
      { seed: 1, lens: 'logit', condition: 'matched', layer_from: 3, layer_to: 4, drop: 5 },
      { seed: 1, lens: 'tuned', condition: 'mismatched', layer_from: 3, layer_to: 4, drop: 5 },
    ];
    expect([...lensDropLayers(lens)]).toEqual([[1, 3]]);
    // Layer 3's lens did not converge: its pairs are left out, the largest remaining drop is 3 → 4... which involves layer 3 too, so 1 → 2.
    expect([...lensDropLayers(lens, new Map([[1, new Set([3])]]))]).toEqual([[1, 2]]);
  });
});

describe('claim 4: how', () => {
  it('without the causal per-head verdict columns: inconclusive with the reason; LSTM: inconclusive (no heads)', () => {
    const v = claim4Verdict([{ seed: 1, layer: 1, head: 1, aggregate: 1, env_share: 0.5 }], [{ seed: 1, diff: 0.3, p: 0.001 }], 'gpt2');
    expect(v.verdict).toBe('inconclusive');
    expect(v.reason).toMatch(/grounding/);
    expect(claim4Verdict([], [], 'lstm').verdict).toBe('inconclusive');
  });
  it('with issue 13 columns: every seed names a grounding head → supported; none → not supported; some seeds → inconclusive; untestable → inconclusive', () => {
    const h = (seed: number, head: number, grounding: number, dG = -0.4) => ({ seed, layer: 2, head, grounding, dG, dG_control: -0.01, p_holm: grounding ? 0.001 : 0.5 });
    const two = [h(1, 1, 1), h(1, 2, 0, 0), h(2, 1, 1), h(2, 2, 0, 0)];
    const v = claim4Verdict(two, [], 'gpt2');
    expect(v.verdict).toBe('supported');
    expect(v.statistic).toBeCloseTo(-0.39, 12);
    expect(v.nHeads).toBe(2);
    expect(claim4Verdict(two.map((x) => ({ ...x, grounding: 0 })), [], 'gpt2').verdict).toBe('not supported');
    expect(claim4Verdict([h(1, 1, 1), h(2, 1, 0)], [], 'gpt2').verdict).toBe('inconclusive');
    expect(claim4Verdict([{ ...h(1, 1, 0), dG: NaN }], [], 'gpt2').verdict).toBe('inconclusive');
  });
});

describe('the scorecard from study tables', () => {
  /** A planted 2-architecture study: gpt2 grounds with a middle-layer mechanism over 3 seeds, lstm is blind. */
  function planted(): ClaimTables {
    const steps = [0, 100, 200, 300];
    const grounding: SummaryRow[] = [];
    const r2: SummaryRow[] = [];
    const G = [0, 0.2, 0.5, 0.9];
    for (const [i, step] of steps.entries()) {
      grounding.push(g({ step, n_seeds: 3, mean_G: G[i]!, words_G_lo: G[i]! - 0.1, words_G_hi: G[i]! + 0.1, words_wilcoxon_p: i ? 1e-5 : 0.5, p_t_G: i ? 1e-3 : 0.6 }));
      grounding.push(g({ label: 'lstm', arch: 'lstm', step, n_seeds: 3, mean_G: 0, words_G_lo: 0, words_G_hi: 0, words_wilcoxon_p: NaN, p_t_G: NaN }));
      const R = [0.1, 0.7, 0.4, 0.1][i]!;
      r2.push({ label: 'gpt2', items: 'corpus', step, model: 'joint', n_seeds: 3, r2: R, r2_lo: R - 0.12, r2_hi: R + 0.12 });
    }
    const saliencyByRun: SummaryRow[] = [];
    const lensTestsByRun: SummaryRow[] = [];
    const lensTrainingByRun: SummaryRow[] = [];
    for (const seed of [1, 2, 3]) {
      for (let layer = 1; layer <= 12; layer++) {
        saliencyByRun.push({ label: 'gpt2', items: 'corpus', step: 300, seed, unit: 'layer', layer, env_flow: layer === 7 + (seed % 2) ? 2 : 1 });
        lensTrainingByRun.push({ label: 'gpt2', step: 300, seed, layer, converged: layer === 11 ? 0 : 1 });
        if (layer < 12) lensTestsByRun.push({ label: 'gpt2', items: 'corpus', step: 300, seed, lens: 'tuned', condition: 'matched', layer_from: layer, layer_to: layer + 1, drop: layer === 7 ? 0.5 : layer === 11 ? 3 : 0.05 });
      }
    }
    return { grounding, r2, saliencyByRun, lensTestsByRun, lensTrainingByRun, headsByRun: [], interventionByRun: [], nLayers: { gpt2: 12, lstm: 4 } };
  }
  it('gets the planted verdicts for every claim (negative control: the blind LSTM matches the paper, claim 1 supported for lstm)', () => {
    const rows = computeClaims(planted());
    const v = (label: string, claim: number, measure?: string) => rows.find((r) => r.label === label && r.claim === claim && (!measure || r.measure === measure))!.verdict;
    expect(v('gpt2', 1)).toBe('supported');
    expect(v('lstm', 1)).toBe('supported');
    expect(v('gpt2', 2)).toBe('supported');
    expect(v('gpt2', 3, 'layer of peak ENV saliency flow')).toBe('supported');
    // The non-converged layer 11 (a huge drop 11 → 12) is left out; the largest converged drop arrives at layer 8.
    expect(v('gpt2', 3, 'overall')).toBe('supported');
    expect(v('gpt2', 4)).toBe('inconclusive');
    expect(v('lstm', 4)).toBe('inconclusive');
    for (const r of rows) for (const c of CLAIM_COLUMNS) expect(r).toHaveProperty(c);
  });
  it('a study whose GPT-2 cannot see ENV tokens: claim 1 "not supported"', () => {
    const t = planted();
    t.grounding = t.grounding.map((r) => (r.label === 'gpt2' ? { ...r, mean_G: 0, words_G_lo: 0, words_G_hi: 0, words_wilcoxon_p: NaN, p_t_G: NaN } : r));
    expect(computeClaims(t).find((r) => r.label === 'gpt2' && r.claim === 1)!.verdict).toBe('not supported');
  });
  it('claims 3 and 4 use the mechanistic suite\'s own last step when it analysed fewer checkpoints', () => {
    const t = planted();
    const move = (rs: SummaryRow[] | undefined) => rs!.map((r) => ({ ...r, step: 200 }));
    t.saliencyByRun = move(t.saliencyByRun);
    t.lensTestsByRun = move(t.lensTestsByRun);
    t.lensTrainingByRun = move(t.lensTrainingByRun);
    const r = computeClaims(t).find((x) => x.label === 'gpt2' && x.claim === 3 && x.measure === 'overall')!;
    expect(r.step).toBe(200);
    expect(r.verdict).toBe('supported');
  });
  it('keeping the non-converged lens layer moves the lens layer to 12 → claim 3 not supported (the convergence flag matters)', () => {
    const t = planted();
    t.lensTrainingByRun = t.lensTrainingByRun!.map((r) => ({ ...r, converged: 1 }));
    const rows = computeClaims(t);
    expect(rows.find((r) => r.label === 'gpt2' && r.claim === 3 && r.measure.startsWith('layer of largest'))!.verdict).toBe('not supported');
  });
});
