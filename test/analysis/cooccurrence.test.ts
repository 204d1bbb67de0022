import { describe, expect, it } from 'vitest';
import type { TargetsFile, TargetWord } from '../../src/data/contract.js';
import { COOCCURRENCE_STATISTICS, cooccurrenceR2, statisticOf } from '../../src/analysis/cooccurrence.js';

function target(word: string, s: Partial<TargetWord>): TargetWord {
  return { word, env_id: 0, lan_id: 0, env_count: 10, lan_count: 10, turns_both: 1, p_lan_given_env: 0.1, pmi: 0, ...s };
}

const targets: TargetsFile = {
  rule: 'test',
  train_turns: 100,
  words: [
    target('a', { turns_both: 1, p_lan_given_env: 1, pmi: 2, env_count: 0, lan_count: 5 }),
    target('b', { turns_both: 2, p_lan_given_env: 3, pmi: 4, env_count: 1, lan_count: 5 }),
    target('c', { turns_both: 3, p_lan_given_env: 2, pmi: 6, env_count: 2, lan_count: 5 }),
    target('d', { turns_both: 4, p_lan_given_env: 4, pmi: 8, env_count: 3, lan_count: 5 }),
  ],
};

describe('co-occurrence R²', () => {
  it('matches closed forms: an exact line gives R² = 1; x = 1..4, y = 1,3,2,4 gives r = 0.8, R² = 0.64', () => {
    // G = 0.5 + 0.25·turns_both exactly.
    const G = [1, 2, 3, 4].map((x) => 0.5 + 0.25 * x);
    const rows = cooccurrenceR2(['a', 'b', 'c', 'd'].map((word, i) => ({ word, G: G[i]! })), targets);
    expect(rows.map((r) => r.statistic)).toEqual([...COOCCURRENCE_STATISTICS]);
    const tb = rows.find((r) => r.statistic === 'turns_both')!;
    expect(tb.r2).toBeCloseTo(1, 12);
    expect(tb.slope).toBeCloseTo(0.25, 12);
    expect(tb.intercept).toBeCloseTo(0.5, 12);
    expect(tb.n).toBe(4);
    // PMI = 2·turns_both: same fit, half the slope.
    expect(rows.find((r) => r.statistic === 'pmi')!.slope).toBeCloseTo(0.125, 12);
    // Regressing G on p_lan_given_env (1, 3, 2, 4) is the textbook case (scipy linregress: r 0.8, p 0.2).
    const p = rows.find((r) => r.statistic === 'p_lan_given_env')!;
    // Roles swapped: y = G (1..4 scaled), x = 1,3,2,4; r is symmetric, so r = 0.8, R² = 0.64.
    expect(p.r).toBeCloseTo(0.8, 12);
    expect(p.r2).toBeCloseTo(0.64, 12);
    expect(p.p_value).toBeCloseTo(0.2, 10);
    // A constant statistic (lan_count) cannot explain anything: NA, with n kept.
    const lan = rows.find((r) => r.statistic === 'log_lan_count')!;
    expect(lan.r2).toBeNaN();
    expect(lan.n).toBe(4);
  });

  it('log statistics are ln(1 + count); unknown words are left out', () => {
    expect(statisticOf(targets.words[1]!, 'log_turns_both')).toBeCloseTo(Math.log(3), 12);
    expect(statisticOf(targets.words[0]!, 'log_env_count')).toBe(0);
    const rows = cooccurrenceR2(
      [
        { word: 'a', G: 1 },
        { word: 'zzz', G: 100 },
        { word: 'b', G: 2 },
        { word: 'c', G: 4 },
      ],
      targets,
      ['turns_both'],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.n).toBe(3);
    // x = 1, 2, 3; y = 1, 2, 4: slope 1.5, R² = 2.25·2 / (14/3) = 27/28.
    expect(rows[0]!.slope).toBeCloseTo(1.5, 12);
    expect(rows[0]!.r2).toBeCloseTo(27 / 28, 12);
  });
});
