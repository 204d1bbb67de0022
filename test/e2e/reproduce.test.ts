/**
 * End to end on the tiny preset: `groundlab reproduce` (synthetic world → training of every
 * registered architecture of the preset → evaluation of every checkpoint → report), resumption,
 * a sharded study merged by the report, and the report opened in headless Chromium.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { evaluateRun } from '../../src/study/evaluate.js';
import { EVAL_FILES, GROUNDING_COLUMNS, SUMMARY_COLUMNS, type EvalManifest } from '../../src/study/tables.js';
import { loadItems } from '../../src/data/contract.js';
import { availableArchs } from '../../src/models/index.js';
import { checkReportInBrowser } from '../../src/report/check.js';
import { getPreset } from '../../src/train/config.js';
import { listCheckpoints } from '../../src/train/checkpoint.js';
import { parseCsv, readJson } from '../../src/util/files.js';

const root = mkdtempSync(join(tmpdir(), 'gl-e2e-'));
const study = join(root, 'tiny');
const tiny = getPreset('tiny');
const labels = tiny.study.filter((e) => availableArchs().includes(e.arch)).map((e) => e.label);
const seed = tiny.seeds[0]!;
const run = (label: string) => join(study, 'runs', `${label}-s${seed}`);

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    const code = await main(args);
    return { code, out: lines.join('\n') };
  } finally {
    console.log = log;
  }
}

let first = { code: -1, out: '' };
beforeAll(async () => {
  first = await cli(['reproduce', '--preset', 'tiny', '--out', study, '--quiet']);
});

describe('groundlab reproduce --preset tiny', () => {
  it('builds the corpus, trains and evaluates every entry, writes tables and the report', () => {
    expect(first.code).toBe(0);
    expect(first.out).toContain(`report: ${join(study, 'report.html')}`);
    // The claims scorecard (issue 14) is written and printed.
    expect(first.out).toContain(`claims scorecard (${study}/claims.csv):`);
    expect(first.out).toMatch(/claim 1 {2}gpt2\s+corpus\s+(supported|not supported|inconclusive)/);
    expect(existsSync(join(study, 'claims.csv'))).toBe(true);
    for (const l of labels) expect(first.out).toMatch(new RegExp(`${l}\\s+step\\s+${tiny.train.steps}`));
    expect(readJson<{ preset: string; entries: unknown[] }>(join(study, 'study.json')).preset).toBe('tiny');
    expect(existsSync(join(study, 'corpus', 'truth.json'))).toBe(true);
    const items = loadItems(join(study, 'corpus'));
    const sequences = items.reduce((a, it) => a + 1 + it.mismatches.length, 0);
    for (const l of labels) {
      const steps = listCheckpoints(run(l)).map((c) => c.step);
      expect(steps).toEqual([0, 20, 40]);
      const text = readFileSync(join(run(l), 'eval', EVAL_FILES.grounding), 'utf8');
      expect(text.split('\n')[0]).toBe(GROUNDING_COLUMNS.join(','));
      const rows = parseCsv(text);
      expect(rows).toHaveLength(sequences * steps.length);
      expect(new Set(rows.map((r) => r.condition))).toEqual(new Set(['matched', 'mismatched']));
      expect(rows.every((r) => Number(r.surprisal) > 0)).toBe(true);
      const summary = parseCsv(readFileSync(join(run(l), 'eval', EVAL_FILES.summary), 'utf8'));
      expect(Object.keys(summary[0]!)).toEqual(SUMMARY_COLUMNS);
      expect(summary.map((r) => `${r.step}/${r.items}`)).toEqual(['0/corpus', '0/template', '20/corpus', '20/template', '40/corpus', '40/template']);
      // At initialisation the model knows nothing: G is near zero.
      expect(Math.abs(Number(summary[0]!.mean_G))).toBeLessThan(0.1);
    }
    for (const f of ['runs.csv', 'summary_by_run.csv', 'words_by_run.csv', 'cooccurrence_by_run.csv', 'study_grounding.csv', 'study_words.csv', 'study_cooccurrence.csv']) {
      expect(existsSync(join(study, 'eval', f))).toBe(true);
    }
    const sg = parseCsv(readFileSync(join(study, 'eval', 'study_grounding.csv'), 'utf8'));
    expect(sg).toHaveLength(labels.length * 3 * 2);
  });

  it('re-running skips finished training and evaluated checkpoints', async () => {
    const l = labels[0]!;
    const before = readFileSync(join(run(l), 'eval', EVAL_FILES.manifest), 'utf8');
    const losses = readFileSync(join(run(l), 'losses.csv'), 'utf8');
    const again = await cli(['reproduce', '--preset', 'tiny', '--out', study, '--quiet', '--stages', 'train,eval']);
    expect(again.code).toBe(0);
    expect(readFileSync(join(run(l), 'eval', EVAL_FILES.manifest), 'utf8')).toBe(before);
    expect(readFileSync(join(run(l), 'losses.csv'), 'utf8')).toBe(losses);
  });

  it('evaluation resumes: only a missing step is redone, rows are not duplicated; --force redoes all', async () => {
    const r = run(labels[0]!);
    const mpath = join(r, 'eval', EVAL_FILES.manifest);
    const gpath = join(r, 'eval', EVAL_FILES.grounding);
    const full = readFileSync(gpath, 'utf8');
    const m = readJson<EvalManifest>(mpath);
    delete m.steps['20'];
    writeFileSync(mpath, JSON.stringify(m));
    const res = await evaluateRun({ run: r, corpus: join(study, 'corpus'), quiet: true });
    expect(res.evaluated).toEqual([20]);
    expect(res.reused).toEqual([0, 40]);
    const rows = parseCsv(readFileSync(gpath, 'utf8'));
    expect(rows).toHaveLength(parseCsv(full).length);
    // Same numbers as the first evaluation (deterministic), in step order after a re-sort.
    const key = (x: Record<string, string>) => `${x.step}|${x.item}|${x.condition}|${x.mismatch_word}`;
    const want = new Map(parseCsv(full).map((x) => [key(x), x.surprisal]));
    expect(rows.every((x) => want.get(key(x)) === x.surprisal)).toBe(true);
    const forced = await evaluateRun({ run: r, corpus: join(study, 'corpus'), quiet: true, force: true });
    expect(forced.evaluated).toEqual([0, 20, 40]);
    // The CLI over the same run: nothing left to do, prints the per-step summary.
    const viaCli = await cli(['eval', 'grounding', '--run', r, '--quiet']);
    expect(viaCli.code).toBe(0);
    expect(viaCli.out).toContain('0 checkpoint(s) evaluated, 3 already done');
    expect(viaCli.out).toMatch(/\n\s+40 template /);
    expect(await cli(['eval', 'grounding', '--quiet'])).toMatchObject({ code: 2 });
  });

  it('the report opens in headless Chromium without errors and shows the study', async () => {
    const path = join(study, 'report.html');
    const html = readFileSync(path, 'utf8');
    for (const t of ['Summary', 'Matched vs mismatched surprisal over training', 'Information gain and co-occurrence', 'Per word', 'Synthetic world: ground truth vs measured', 'Corpus', 'Runs and configuration', 'Methods']) {
      expect(html).toContain(t);
    }
    for (const l of labels) expect(html).toContain(`${l}-s${seed}`);
    expect(html).not.toMatch(/<script/i);
    const res = await checkReportInBrowser(path);
    expect(res.errors).toEqual([]);
    expect(res.figures).toBeGreaterThanOrEqual(4 + 2 * labels.length);
  });
});

describe('a sharded study', () => {
  it('--shard i/n splits the (entry, seed) jobs; the report merges what is present', async () => {
    const sharded = join(root, 'sharded');
    const corpus = join(study, 'corpus');
    const base = ['reproduce', '--preset', 'tiny', '--out', sharded, '--corpus', corpus, '--seeds', '1,2', '--labels', labels[0]!, '--quiet'];
    const a = await cli([...base, '--shard', '1/2', '--stages', 'corpus,train,eval']);
    expect(a.code).toBe(0);
    expect(existsSync(join(sharded, 'runs', `${labels[0]}-s1`, 'eval', EVAL_FILES.summary))).toBe(true);
    expect(existsSync(join(sharded, 'runs', `${labels[0]}-s2`))).toBe(false);
    // Report with half the study present: says so, and still opens cleanly.
    const half = await cli(['report', '--study', sharded]);
    expect(half.code).toBe(0);
    expect(readFileSync(join(sharded, 'report.html'), 'utf8')).toContain('1 of the study&#39;s 2 runs are present');
    const b = await cli([...base, '--shard', '2/2']);
    expect(b.code).toBe(0);
    expect(b.out).toMatch(/t-test over 2 seeds p/);
    const sg = parseCsv(readFileSync(join(sharded, 'eval', 'study_grounding.csv'), 'utf8'));
    expect(sg.filter((r) => r.step === '40' && r.items === 'corpus')[0]!.n_seeds).toBe('2');
    expect(readJson<{ corpus: { source: string } }>(join(sharded, 'study.json')).corpus.source).toBe('external');
  });
});
