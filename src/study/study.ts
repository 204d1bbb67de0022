/**
 * Studies: runs of several architectures (study entries, e.g. gpt2, mamba2, lstm) × seeds on one
 * corpus, evaluated and aggregated across seeds.
 *
 * Layout of a study directory STUDY:
 *   STUDY/study.json                 what the study is: preset, corpus (where, from what), entries
 *                                    (label, architecture, model, training overrides), seeds
 *   STUDY/corpus/                    the corpus every run is trained on (see data/contract.ts);
 *                                    a synthetic world also keeps chat/ and truth.json here
 *   STUDY/runs/<label>-s<seed>/      one training run each (layout: train/trainer.ts), with
 *     eval/                          its grounding evaluation (layout: study/evaluate.ts)
 *   STUDY/eval/                      aggregates over whatever runs are present (tidy CSV):
 *     runs.csv                       one row per run: status, parameters, time, checkpoints
 *     summary_by_run.csv             every run's grounding_summary.csv, concatenated
 *     words_by_run.csv               every run's grounding_words.csv, concatenated
 *     cooccurrence_by_run.csv        every run's cooccurrence_r2.csv, concatenated
 *     study_grounding.csv            per (label, items, step): across-seed means and standard errors
 *                                    of matched / mismatched surprisal and G; one-sample t-test of
 *                                    the per-seed mean G against 0 and paired t-test of per-seed
 *                                    mismatched vs matched means (identical by construction, both
 *                                    kept); over words of the seed-averaged per-word values: 95%
 *                                    bootstrap interval of mean G and Wilcoxon signed-rank test
 *     study_words.csv                per (label, items, step, word): seed means of m(v), mm(v), G(v), se
 *     study_cooccurrence.csv         per (label, items, step, statistic): mean and se of R² over seeds,
 *                                    and R² of the seed-averaged G(v)
 *   STUDY/report.html                `groundlab report --study STUDY`
 *
 * Jobs and shards: the study's jobs are its (entry, seed) pairs, seed-major (every entry of the
 * first seed, then of the second, ...), numbered from 0. `--shard i/n` (i = 1..n) takes jobs
 * j with j mod n = i − 1, so a SLURM array `--array=1-N` with `--shard $SLURM_ARRAY_TASK_ID/N`
 * runs a study on N machines sharing the directory; aggregation and the report merge whatever
 * runs are present, so they can be rerun at any time.
 */
import { existsSync, readdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { loadTargets, type TargetsFile } from '../data/contract.js';
import type { StudyEntry } from '../train/config.js';
import type { RunConfig } from '../train/config.js';
import type { RunManifest } from '../train/trainer.js';
import { UserError } from '../util/errors.js';
import { ensureDir, readJson, writeCsv, writeJson } from '../util/files.js';
import { codeVersion } from '../util/version.js';
import { cooccurrenceR2, type CooccurrenceStatistic } from '../analysis/cooccurrence.js';
import {
  EVAL_FILES,
  type EvalManifest,
  R2_COLUMNS,
  R2_NUMERIC,
  readCsvTable,
  SUMMARY_COLUMNS,
  SUMMARY_NUMERIC,
  type SummaryRow,
  WORD_COLUMNS,
  WORD_NUMERIC,
} from './tables.js';
import { summariseGains } from '../analysis/grounding.js';
import { mean, oneSampleTTest, pairedTTest, standardError } from '../analysis/stats.js';
import { groupBy } from '../util/collections.js';

export const STUDY_FILE = 'study.json';

export interface StudyFile {
  kind: 'groundlab-study';
  format: 1;
  preset: string;
  corpus: {
    /** synthetic: the embedded world; childes: built from CHAT inputs; external: a corpus built elsewhere. */
    source: 'synthetic' | 'childes' | 'external';
    /** Corpus directory, relative to the study directory when inside it. */
    dir: string;
    inputs?: string[];
    options?: Record<string, unknown>;
    hash?: string;
  };
  entries: StudyEntry[];
  seeds: number[];
  created_at: string;
  code_version: string;
}

export function studyPaths(dir: string) {
  return {
    dir,
    studyJson: join(dir, STUDY_FILE),
    corpus: join(dir, 'corpus'),
    runs: join(dir, 'runs'),
    eval: join(dir, 'eval'),
    report: join(dir, 'report.html'),
  };
}

export function readStudy(dir: string): StudyFile | null {
  const p = join(dir, STUDY_FILE);
  return existsSync(p) ? readJson<StudyFile>(p) : null;
}

export function writeStudy(dir: string, s: StudyFile): void {
  writeJson(join(dir, STUDY_FILE), s);
}

export function newStudyFile(preset: string, corpus: StudyFile['corpus'], entries: StudyEntry[], seeds: number[]): StudyFile {
  return { kind: 'groundlab-study', format: 1, preset, corpus, entries, seeds, created_at: new Date().toISOString(), code_version: codeVersion() };
}

/** The corpus directory of a study (absolute). */
export function studyCorpusDir(dir: string, study: StudyFile | null): string {
  if (!study) return join(dir, 'corpus');
  return isAbsolute(study.corpus.dir) ? study.corpus.dir : resolve(dir, study.corpus.dir);
}

export const runDirName = (label: string, seed: number): string => `${label}-s${seed}`;

export interface StudyJob {
  /** Position in the study's job list (0-based). */
  index: number;
  label: string;
  arch: StudyEntry['arch'];
  seed: number;
  entry: StudyEntry;
  dir: string;
}

/** The (entry, seed) jobs of a study, seed-major. */
export function studyJobs(dir: string, study: Pick<StudyFile, 'entries' | 'seeds'>, seeds: number[] = study.seeds): StudyJob[] {
  const jobs: StudyJob[] = [];
  for (const seed of seeds) {
    for (const entry of study.entries) {
      jobs.push({ index: jobs.length, label: entry.label, arch: entry.arch, seed, entry, dir: join(dir, 'runs', runDirName(entry.label, seed)) });
    }
  }
  return jobs;
}

export interface Shard {
  /** 1-based shard number. */
  index: number;
  count: number;
}

/** Parses "i/n" with 1 ≤ i ≤ n. */
export function parseShard(s: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(s);
  if (!m) throw new UserError(`--shard expects i/n (for example 2/4), got "${s}"`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) throw new UserError(`--shard ${s}: i must be between 1 and n (shards are numbered from 1)`);
  return { index, count };
}

/** Jobs of one shard: job j goes to shard (j mod n) + 1. */
export function shardJobs<T extends { index: number }>(jobs: readonly T[], shard?: Shard): T[] {
  if (!shard) return [...jobs];
  return jobs.filter((j) => j.index % shard.count === shard.index - 1);
}

export interface RunInfo {
  dir: string;
  name: string;
  config: RunConfig;
  manifest: RunManifest | null;
  evalManifest: EvalManifest | null;
}

/** Every run directory under STUDY/runs (those with a run_config.json), in name order. */
export function discoverRuns(studyDir: string): RunInfo[] {
  const runs = join(studyDir, 'runs');
  if (!existsSync(runs)) return [];
  return readdirSync(runs, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(runs, d.name, 'run_config.json')))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const dir = join(runs, name);
      const mp = join(dir, 'manifest.json');
      const ep = join(dir, 'eval', EVAL_FILES.manifest);
      return {
        dir,
        name,
        config: readJson<RunConfig>(join(dir, 'run_config.json')),
        manifest: existsSync(mp) ? readJson<RunManifest>(mp) : null,
        evalManifest: existsSync(ep) ? readJson<EvalManifest>(ep) : null,
      };
    });
}

/** The options of a pass over the runs of a study (evaluation, mechanistic analysis). */
export interface StudyPassOptions {
  study: string;
  shard?: Shard;
  /** Called before each run, e.g. to print a header. */
  onRun?: (job: { label: string; seed: number; dir: string }) => void;
}

/**
 * Runs `each` on the runs of a study (or of one shard), one after the other in job order: the
 * study's jobs, or without a study.json the runs found under runs/. A run without a
 * run_config.json, or that `ready` turns down (no checkpoints yet), is listed as missing instead.
 * `each` gets the run directory and the study's corpus (undefined while it has no vocab.json).
 */
export async function forEachStudyRun<R>(
  opts: StudyPassOptions,
  ready: (runDir: string) => boolean,
  each: (runDir: string, corpus: string | undefined) => Promise<R>,
): Promise<{ results: R[]; missing: string[] }> {
  const dir = opts.study;
  const study = readStudy(dir);
  if (!study && !existsSync(join(dir, 'runs'))) throw new UserError(`${dir} is not a study directory: no study.json and no runs/ (create one with "groundlab reproduce")`);
  const corpus = studyCorpusDir(dir, study);
  const jobs: { index: number; label: string; seed: number; dir: string }[] = study
    ? studyJobs(dir, study)
    : discoverRuns(dir).map((r, index) => ({ index, label: r.config.label, seed: r.config.seed, dir: r.dir }));
  const results: R[] = [];
  const missing: string[] = [];
  for (const job of shardJobs(jobs, opts.shard)) {
    if (!existsSync(join(job.dir, 'run_config.json')) || !ready(job.dir)) {
      missing.push(job.dir);
      continue;
    }
    opts.onRun?.(job);
    results.push(await each(job.dir, existsSync(join(corpus, 'vocab.json')) ? corpus : undefined));
  }
  return { results, missing };
}

export interface StudyAggregate {
  study: StudyFile | null;
  runs: RunInfo[];
  /** Label order: the study's entries, then any other labels found. */
  labels: string[];
  runsTable: SummaryRow[];
  summaryByRun: SummaryRow[];
  wordsByRun: SummaryRow[];
  r2ByRun: SummaryRow[];
  grounding: SummaryRow[];
  words: SummaryRow[];
  r2: SummaryRow[];
  targets: TargetsFile | null;
}

export const STUDY_GROUNDING_COLUMNS = [
  'label', 'arch', 'items', 'step', 'n_seeds', 'seeds', 'n_words', 'mean_matched', 'se_matched', 'mean_mismatched', 'se_mismatched',
  'mean_G', 'se_G', 't_G', 'df', 'p_t_G', 't_paired', 'p_paired', 'words_G_lo', 'words_G_hi', 'words_wilcoxon_W', 'words_wilcoxon_p',
  'words_wilcoxon_method',
];
export const STUDY_WORD_COLUMNS = ['label', 'arch', 'items', 'step', 'word', 'category', 'n_seeds', 'n_items', 'few_items', 'matched', 'mismatched', 'G', 'se_G'];
/** Words with fewer evaluated items than this are flagged (few_items = 1) in study_words.csv. */
export const FEW_ITEMS = 5;
export const STUDY_R2_COLUMNS = ['label', 'arch', 'items', 'step', 'statistic', 'n_seeds', 'r2_mean', 'r2_se', 'r2_of_mean_G', 'slope_of_mean_G', 'n_words'];
export const RUNS_COLUMNS = ['label', 'arch', 'seed', 'run', 'status', 'parameters', 'last_checkpoint', 'checkpoints', 'evaluated_checkpoints', 'train_seconds', 'code_version', 'corpus_hash'];

const se = (xs: number[]) => (xs.length >= 2 ? standardError(xs) : NaN);

/** Reads every run's evaluation tables and writes the study-level CSVs in STUDY/eval. */
export function aggregateStudy(dir: string, opts: { bootstrapSeed?: number; iterations?: number } = {}): StudyAggregate {
  const study = readStudy(dir);
  const found = discoverRuns(dir);
  const labels = [...new Set([...(study?.entries.map((e) => e.label) ?? []), ...found.map((r) => r.config.label)])];
  const labelRank = (l: unknown) => labels.indexOf(String(l));
  const runs = found.sort((a, b) => labelRank(a.config.label) - labelRank(b.config.label) || a.config.seed - b.config.seed);
  const corpusDir = studyCorpusDir(dir, study);
  let targets: TargetsFile | null = null;
  try {
    targets = loadTargets(corpusDir);
  } catch {
    targets = null;
  }

  const summaryByRun: SummaryRow[] = [];
  const wordsByRun: SummaryRow[] = [];
  const r2ByRun: SummaryRow[] = [];
  const runsTable: SummaryRow[] = [];
  for (const r of runs) {
    const ev = join(r.dir, 'eval');
    summaryByRun.push(...readCsvTable(join(ev, EVAL_FILES.summary), SUMMARY_NUMERIC));
    wordsByRun.push(...readCsvTable(join(ev, EVAL_FILES.words), WORD_NUMERIC));
    r2ByRun.push(...readCsvTable(join(ev, EVAL_FILES.r2), R2_NUMERIC));
    const ck = r.manifest?.checkpoints ?? [];
    runsTable.push({
      label: r.config.label,
      arch: r.config.arch,
      seed: r.config.seed,
      run: r.name,
      status: r.manifest?.status ?? 'not started',
      parameters: r.manifest?.parameters ?? NaN,
      last_checkpoint: ck.length ? ck[ck.length - 1]!.step : NaN,
      checkpoints: ck.length,
      evaluated_checkpoints: r.evalManifest ? Object.keys(r.evalManifest.steps).length : 0,
      train_seconds: r.manifest ? Math.round(r.manifest.train_seconds * 10) / 10 : NaN,
      code_version: r.manifest?.code_version ?? '',
      corpus_hash: r.config.corpus.hash,
    });
  }
  const order = (a: SummaryRow, b: SummaryRow) =>
    labelRank(a.label) - labelRank(b.label) || String(a.items).localeCompare(String(b.items)) || (a.step as number) - (b.step as number) || (Number(a.seed) || 0) - (Number(b.seed) || 0);
  summaryByRun.sort(order);
  r2ByRun.sort(order);
  runsTable.sort(order);

  // Across seeds, per (label, items, step).
  const grounding: SummaryRow[] = [];
  const words: SummaryRow[] = [];
  const r2: SummaryRow[] = [];
  const wordGroups = groupBy(wordsByRun, (w) => JSON.stringify([w.label, w.items, w.step]));
  const r2Groups = groupBy(r2ByRun, (w) => JSON.stringify([w.label, w.items, w.step]));
  for (const [k, rows] of groupBy(summaryByRun, (s) => JSON.stringify([s.label, s.items, s.step]))) {
    const [label, items, step] = JSON.parse(k) as [string, string, number];
    const arch = String(rows[0]!.arch);
    const m = rows.map((r) => r.mean_matched as number);
    const mm = rows.map((r) => r.mean_mismatched as number);
    const g = rows.map((r) => r.mean_G as number);
    const t1 = rows.length >= 2 ? oneSampleTTest(g, 0) : null;
    const tp = rows.length >= 2 ? pairedTTest(mm, m) : null;
    // Per word: means over seeds.
    const wrows = wordGroups.get(k) ?? [];
    const perWord = [...groupBy(wrows, (w) => String(w.word))].map(([word, ws]) => {
      const G = ws.map((w) => w.G as number);
      return {
        label, arch, items, step, word, category: String(ws[0]!.category ?? ''), n_seeds: ws.length,
        matched: mean(ws.map((w) => w.matched as number)), mismatched: mean(ws.map((w) => w.mismatched as number)), G: mean(G), se_G: se(G),
        // The items are the same in every seed; the smallest count is what every seed evaluated.
        n_items: Math.min(...ws.map((w) => Number(w.n_items) || 0)),
      };
    });
    const ws = perWord.length ? summariseGains(perWord, { bootstrapSeed: opts.bootstrapSeed ?? 1, iterations: opts.iterations ?? 10000 }) : null;
    for (const w of perWord) {
      words.push({ ...w, few_items: w.n_items < FEW_ITEMS ? 1 : 0 });
    }
    grounding.push({
      label, arch, items, step,
      n_seeds: rows.length,
      seeds: rows.map((r) => r.seed).join(';'),
      n_words: perWord.length,
      mean_matched: mean(m), se_matched: se(m),
      mean_mismatched: mean(mm), se_mismatched: se(mm),
      mean_G: mean(g), se_G: se(g),
      t_G: t1?.statistic ?? NaN, df: t1?.df ?? NaN, p_t_G: t1?.pValue ?? NaN,
      t_paired: tp?.statistic ?? NaN, p_paired: tp?.pValue ?? NaN,
      words_G_lo: ws?.G_lo ?? NaN, words_G_hi: ws?.G_hi ?? NaN,
      words_wilcoxon_W: ws?.wilcoxon_W ?? NaN, words_wilcoxon_p: ws?.wilcoxon_p ?? NaN, words_wilcoxon_method: ws?.wilcoxon_method ?? 'NA',
    });
    const pooled = targets && perWord.length ? cooccurrenceR2(perWord, targets) : [];
    for (const [stat, rr] of groupBy(r2Groups.get(k) ?? [], (r) => String(r.statistic))) {
      const vals = rr.map((r) => r.r2 as number).filter(Number.isFinite);
      const p = pooled.find((x) => x.statistic === (stat as CooccurrenceStatistic));
      r2.push({
        label, arch, items, step, statistic: stat, n_seeds: vals.length,
        r2_mean: vals.length ? mean(vals) : NaN, r2_se: se(vals),
        r2_of_mean_G: p?.r2 ?? NaN, slope_of_mean_G: p?.slope ?? NaN, n_words: p?.n ?? NaN,
      });
    }
  }
  grounding.sort(order);
  r2.sort(order);

  const out = ensureDir(join(dir, 'eval'));
  writeCsv(join(out, 'runs.csv'), runsTable, RUNS_COLUMNS);
  writeCsv(join(out, 'summary_by_run.csv'), summaryByRun, SUMMARY_COLUMNS);
  writeCsv(join(out, 'words_by_run.csv'), wordsByRun, WORD_COLUMNS);
  writeCsv(join(out, 'cooccurrence_by_run.csv'), r2ByRun, R2_COLUMNS);
  writeCsv(join(out, 'study_grounding.csv'), grounding, STUDY_GROUNDING_COLUMNS);
  writeCsv(join(out, 'study_words.csv'), words, STUDY_WORD_COLUMNS);
  writeCsv(join(out, 'study_cooccurrence.csv'), r2, STUDY_R2_COLUMNS);
  return { study, runs, labels, runsTable, summaryByRun, wordsByRun, r2ByRun, grounding, words, r2, targets };
}

export interface HeadlineRow {
  label: string;
  arch: string;
  items: string;
  step: number;
  n_seeds: number;
  mean_matched: number;
  mean_mismatched: number;
  mean_G: number;
  G_lo: number;
  G_hi: number;
  wilcoxon_p: number;
  p_t_G: number;
}

function fmtP(p: number): string {
  if (!Number.isFinite(p)) return 'NA';
  return p < 1e-4 ? p.toExponential(1) : p.toPrecision(2);
}

/** The headline per label: study-level numbers at the last checkpoint that every present seed reached, for the primary item set (corpus items if any). */
export function headlineRows(agg: StudyAggregate): HeadlineRow[] {
  const out: HeadlineRow[] = [];
  for (const label of agg.labels) {
    const rows = agg.grounding.filter((r) => r.label === label);
    if (!rows.length) continue;
    const items = rows.some((r) => r.items === 'corpus') ? 'corpus' : String(rows[0]!.items);
    // The last step reached by as many seeds as any step (a seed still training does not shrink the headline to one seed).
    const mine = rows.filter((r) => r.items === items);
    const most = Math.max(...mine.map((r) => r.n_seeds as number));
    const last = mine.filter((r) => r.n_seeds === most).reduce((a, b) => ((b.step as number) > (a.step as number) ? b : a));
    out.push({
      label,
      arch: String(last.arch),
      items,
      step: last.step as number,
      n_seeds: last.n_seeds as number,
      mean_matched: last.mean_matched as number,
      mean_mismatched: last.mean_mismatched as number,
      mean_G: last.mean_G as number,
      G_lo: last.words_G_lo as number,
      G_hi: last.words_G_hi as number,
      wilcoxon_p: last.words_wilcoxon_p as number,
      p_t_G: last.p_t_G as number,
    });
  }
  return out;
}

export function formatHeadline(rows: HeadlineRow[]): string {
  if (!rows.length) return '  (no evaluated runs yet)';
  return rows
    .map(
      (h) =>
        `  ${h.label.padEnd(10)} step ${String(h.step).padStart(6)}  matched ${h.mean_matched.toFixed(3)}  mismatched ${h.mean_mismatched.toFixed(3)}  ` +
        `G ${h.mean_G.toFixed(3)} [${h.G_lo.toFixed(3)}, ${h.G_hi.toFixed(3)}]  Wilcoxon p ${fmtP(h.wilcoxon_p)}` +
        (h.n_seeds >= 2 ? `  t-test over ${h.n_seeds} seeds p ${fmtP(h.p_t_G)}` : '  (1 seed)') +
        `  (${h.items} items)`,
    )
    .join('\n');
}
