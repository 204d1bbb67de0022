import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aggregateStudy, headlineRows, newStudyFile, parseShard, runDirName, shardJobs, studyJobs, writeStudy } from '../../src/study/study.js';
import { EVAL_FILES, R2_COLUMNS, SUMMARY_COLUMNS, WORD_COLUMNS } from '../../src/study/tables.js';
import { parseCsv, writeCsv, writeJson } from '../../src/util/files.js';

const entries = [
  { label: 'gpt2', arch: 'gpt2' as const, model: {} },
  { label: 'lstm', arch: 'lstm' as const, model: {} },
];

describe('study jobs and shards', () => {
  it('jobs are seed-major, named <label>-s<seed>', () => {
    const jobs = studyJobs('/s', { entries, seeds: [1, 2] });
    expect(jobs.map((j) => `${j.index}:${j.label}-s${j.seed}`)).toEqual(['0:gpt2-s1', '1:lstm-s1', '2:gpt2-s2', '3:lstm-s2']);
    expect(jobs[3]!.dir).toBe(join('/s', 'runs', runDirName('lstm', 2)));
  });

  it('shards i/n (1-based) partition the jobs round-robin', () => {
    const jobs = studyJobs('/s', { entries, seeds: [1, 2, 3, 4, 5] });
    const parts = [1, 2, 3].map((i) => shardJobs(jobs, parseShard(`${i}/3`)).map((j) => j.index));
    expect(parts[0]).toEqual([0, 3, 6, 9]);
    expect(parts.flat().sort((a, b) => a - b)).toEqual(jobs.map((j) => j.index));
    expect(shardJobs(jobs, undefined)).toHaveLength(10);
    expect(parseShard(' 2 / 4 ')).toEqual({ index: 2, count: 4 });
    for (const bad of ['0/3', '4/3', '1-3', 'x']) expect(() => parseShard(bad)).toThrow(/--shard/);
  });
});

describe('aggregation across seeds', () => {
  it('means, standard errors, t-tests over seeds and tests over seed-averaged words', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gl-study-'));
    writeStudy(dir, newStudyFile('demo', { source: 'external', dir: join(dir, 'no-corpus') }, entries, [1, 2, 3]));
    const G = [0.5, 0.7, 0.6];
    // Per-word G (3 words) per seed; seed means of words are 0.2, 0.6, 0.9.
    const wordG = [
      [0.1, 0.5, 0.9],
      [0.3, 0.8, 1.0],
      [0.2, 0.5, 0.8],
    ];
    [1, 2, 3].forEach((seed, k) => {
      const run = join(dir, 'runs', `gpt2-s${seed}`);
      mkdirSync(join(run, 'eval'), { recursive: true });
      writeJson(join(run, 'run_config.json'), { arch: 'gpt2', label: 'gpt2', seed, preset: 'demo', corpus: { dir: '/x', hash: 'h' }, model: {}, train: {} });
      const ident = { arch: 'gpt2', label: 'gpt2', seed, items: 'corpus' };
      writeCsv(join(run, 'eval', EVAL_FILES.summary), [
        { ...ident, step: 0, n_words: 3, n_items: 30, mean_matched: 5, mean_mismatched: 5, mean_G: 0, G_lo: 0, G_hi: 0, frac_positive: 0, wilcoxon_W: '', wilcoxon_p: '', wilcoxon_method: 'NA' },
        { ...ident, step: 100, n_words: 3, n_items: 30, mean_matched: 4 - k, mean_mismatched: 4 - k + G[k]!, mean_G: G[k], G_lo: 0, G_hi: 1, frac_positive: 1, wilcoxon_W: 0, wilcoxon_p: 0.25, wilcoxon_method: 'exact' },
      ], SUMMARY_COLUMNS);
      writeCsv(
        join(run, 'eval', EVAL_FILES.words),
        ['x', 'y', 'z'].map((word, j) => ({ ...ident, step: 100, word, category: 'toys', n_items: 10, matched: 4, mismatched: 4 + wordG[k]![j]!, G: wordG[k]![j] })),
        WORD_COLUMNS,
      );
      writeCsv(join(run, 'eval', EVAL_FILES.r2), [{ ...ident, step: 100, statistic: 'pmi', r2: 0.1 * (k + 1), slope: 1, intercept: 0, r: 0.5, p_value: 0.5, n: 3 }], R2_COLUMNS);
    });
    // Seed 1 is ahead: one more checkpoint that the others have not reached yet.
    writeCsv(
      join(dir, 'runs', 'gpt2-s1', 'eval', EVAL_FILES.summary),
      [
        ...parseCsv(readFileSync(join(dir, 'runs', 'gpt2-s1', 'eval', EVAL_FILES.summary), 'utf8')),
        { arch: 'gpt2', label: 'gpt2', seed: 1, items: 'corpus', step: 200, n_words: 3, n_items: 30, mean_matched: 3, mean_mismatched: 4, mean_G: 1, G_lo: 0.5, G_hi: 1.5, frac_positive: 1, wilcoxon_W: 0, wilcoxon_p: 0.25, wilcoxon_method: 'exact' },
      ],
      SUMMARY_COLUMNS,
    );
    const agg = aggregateStudy(dir, { iterations: 500 });
    // The headline uses the last step all three seeds reached.
    expect(headlineRows(agg).map((h) => [h.label, h.step, h.n_seeds])).toEqual([['gpt2', 100, 3]]);
    expect(agg.grounding.find((r) => r.step === 200)!.n_seeds).toBe(1);
    expect(agg.labels).toEqual(['gpt2', 'lstm']);
    expect(agg.runs.map((r) => r.name)).toEqual(['gpt2-s1', 'gpt2-s2', 'gpt2-s3']);
    const at = agg.grounding.find((r) => r.step === 100)!;
    expect(at.n_seeds).toBe(3);
    expect(at.seeds).toBe('1;2;3');
    expect(at.mean_G as number).toBeCloseTo(0.6, 12);
    expect(at.se_G as number).toBeCloseTo(0.1 / Math.sqrt(3), 12);
    // scipy.stats.ttest_1samp([0.5, 0.7, 0.6], 0): t = 10.392304845413266, p = 0.009132611386275451.
    expect(at.t_G as number).toBeCloseTo(10.392304845413266, 9);
    expect(at.p_t_G as number).toBeCloseTo(0.009132611386275451, 9);
    expect(at.t_paired as number).toBeCloseTo(at.t_G as number, 9);
    expect(at.p_paired as number).toBeCloseTo(at.p_t_G as number, 9);
    // Words: seed means 0.2, 0.6, 0.9, all positive → exact Wilcoxon p = 2/8.
    const w = agg.words.filter((r) => r.step === 100);
    expect(w.map((r) => r.word)).toEqual(['x', 'y', 'z']);
    expect(w.map((r) => r.G as number).map((g) => +g.toFixed(12))).toEqual([0.2, 0.6, 0.9]);
    expect(at.words_wilcoxon_p as number).toBeCloseTo(0.25, 12);
    // Step 0: G constant over seeds → t undefined (NA), no words.
    const zero = agg.grounding.find((r) => r.step === 0)!;
    expect(zero.p_t_G).toBeNaN();
    expect(zero.n_words).toBe(0);
    const r2 = agg.r2.find((r) => r.statistic === 'pmi')!;
    expect(r2.r2_mean as number).toBeCloseTo(0.2, 12);
    expect(r2.n_seeds).toBe(3);
    // Files are tidy CSV with the documented columns.
    const csv = parseCsv(readFileSync(join(dir, 'eval', 'study_grounding.csv'), 'utf8'));
    expect(csv).toHaveLength(3);
    expect(Number(csv[1]!.mean_G)).toBeCloseTo(0.6, 12);
    expect(csv[0]!.p_t_G).toBe(''); // NA
    expect(parseCsv(readFileSync(join(dir, 'eval', 'runs.csv'), 'utf8')).map((r) => r.status)).toEqual(['not started', 'not started', 'not started']);
    expect(parseCsv(readFileSync(join(dir, 'eval', 'summary_by_run.csv'), 'utf8'))).toHaveLength(7);
  });
});
