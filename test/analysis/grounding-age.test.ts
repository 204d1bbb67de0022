import { describe, expect, it } from 'vitest';
import { ageCorrelations, fitHalfDrop, groundingAges, type ItemGainRow } from '../../src/analysis/grounding-age.js';
import { Rng } from '../../src/util/rng.js';

const STEPS = [0, 50, 100, 200, 400, 800, 1600, 3200];

/** Items of one word whose gain switches on at `onset` (noise sd 0.05), matched surprisal a sigmoid with half-drop s50. */
function plantWord(word: string, onset: number, s50: number, rng: Rng, items = 8, seeds = 1): ItemGainRow[] {
  const rows: ItemGainRow[] = [];
  for (let seed = 0; seed < seeds; seed++)
    for (const step of STEPS)
      for (let i = 0; i < items; i++) {
        const m = 4 + 3 / (1 + Math.pow(step / s50, 2)) + 0.01 * rng.normal();
        const gain = (step >= onset ? 0.5 : 0) + 0.05 * rng.normal();
        rows.push({ step, word, item: `${word}-${i}`, matched: m, mismatched: m + gain });
      }
  return rows;
}

describe('grounding age', () => {
  it('planted onsets and half-drop steps are recovered; a word that never grounds has no age', () => {
    const rng = new Rng(4);
    const rows = [...plantWord('early', 100, 150, rng), ...plantWord('late', 800, 1000, rng, 8, 2), ...plantWord('never', Infinity, 300, rng)];
    const ages = new Map(groundingAges(rows).map((r) => [r.word, r]));
    expect(ages.get('early')!.grounding_age).toBe(100);
    expect(ages.get('late')!.grounding_age).toBe(800);
    expect(ages.get('never')!.grounding_age).toBeNaN();
    expect(ages.get('early')!.half_drop_step).toBeGreaterThan(120);
    expect(ages.get('early')!.half_drop_step).toBeLessThan(190);
    expect(ages.get('late')!.half_drop_step).toBeGreaterThan(800);
    expect(ages.get('late')!.half_drop_step).toBeLessThan(1250);
    expect(ages.get('late')!.half_drop_observed).toBe(1);
    expect(ages.get('early')!.n_items).toBe(8);
  });
  it('a significant step followed by a non-significant one does not count ("stays" significant)', () => {
    const rows: ItemGainRow[] = [];
    const rng = new Rng(1);
    for (const step of STEPS)
      for (let i = 0; i < 8; i++) {
        const on = step === 50 || step >= 400; // a blip at 50, then on from 400
        rows.push({ step, word: 'w', item: `i${i}`, matched: 5, mismatched: 5 + (on ? 0.5 : 0) + 0.05 * rng.normal() });
      }
    expect(groundingAges(rows)[0]!.grounding_age).toBe(400);
  });
  it('no drop (flat or rising surprisal) → no half-drop step', () => {
    const f = fitHalfDrop(STEPS, STEPS.map((s) => 5 + s / 3200));
    expect(f === null || f.c <= 0).toBe(true);
    const rows: ItemGainRow[] = STEPS.flatMap((step) => [0, 1, 2].map((i) => ({ step, word: 'flat', item: `i${i}`, matched: 5 + step / 1000, mismatched: 5 + step / 1000 })));
    const r = groundingAges(rows)[0]!;
    expect(r.half_drop_step).toBeNaN();
    expect(r.grounding_age).toBeNaN(); // every gain exactly 0
  });
  it('correlations: ages planted to increase with a statistic give ρ = 1', () => {
    const ages = ['a', 'b', 'c', 'd', 'e'].map((word, i) => ({ word, n_items: 5, grounding_age: 100 * (i + 1), p_last: 0, half_drop_step: 50 * (5 - i), half_drop_observed: 1 as const, drop: 1, fit_r2: 1 }));
    const stats = new Map(ages.map((a, i) => [a.word, { turns_both: i * i }]));
    const c = ageCorrelations(ages, stats, ['turns_both']);
    expect(c.find((x) => x.measure === 'grounding_age')!.spearman_rho).toBeCloseTo(1, 12);
    expect(c.find((x) => x.measure === 'half_drop_step')!.spearman_rho).toBeCloseTo(-1, 12);
  });
});
