/**
 * `groundlab eval grounding --run RUN`: the grounding evaluation of every checkpoint of one run,
 * written as tidy CSV tables (pandas `read_csv` / R `read.csv` ready; NA is an empty field).
 *
 * RUN/eval/
 *   grounding.csv            one row per (checkpoint, item, condition[, mismatch word]):
 *                            arch, label, seed, step, source, word, item, condition (matched |
 *                            mismatched), mismatch_word, surprisal (nats)
 *   grounding_words.csv      per (checkpoint, item set, word): n_items, matched m(v), mismatched
 *                            mm(v), G(v) = mm(v) − m(v)
 *   grounding_summary.csv    per (checkpoint, item set): mean matched, mean mismatched, mean G with
 *                            its 95% bootstrap interval over words, share of words with G > 0,
 *                            Wilcoxon signed-rank over words (W, p, exact|approx), n words, n items
 *   cooccurrence_r2.csv      per (checkpoint, item set, statistic): R², slope, intercept, r, p, n
 *   grounding_manifest.json  what was evaluated: corpus and items hashes, options, and per step
 *                            the checkpoint's sha256, time and throughput; skipped items
 *
 * "Item set" (column `items`) is the item source, corpus or template (SPEC §3: both supported);
 * each is summarised on its own. Resumable: a checkpoint already evaluated with the same corpus,
 * items and options (and the same checkpoint hash) is skipped; rows of a step interrupted before
 * its manifest entry are dropped and the step is redone. --force starts over.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as E from '../engine/index.js';
import { loadItems, loadTargets, type TargetsFile } from '../data/contract.js';
import { loadCheckpoint } from '../train/checkpoint.js';
import { UserError } from '../util/errors.js';
import { withRunLock } from '../util/lock.js';
import { appendLines, dropTornLine, ensureDir, parseCsv, readJson, sha256, toCsv, writeFileAtomic, writeJson } from '../util/files.js';
import { Progress } from '../util/progress.js';
import { codeVersion } from '../util/version.js';
import { cooccurrenceR2 } from '../analysis/cooccurrence.js';
import { ITEM_SOURCES, prepareItems, summariseGains, wordGains } from '../analysis/grounding.js';
import { evaluateItems } from '../analysis/surprisal.js';
import { loadPrefixCorpus } from '../data/prefix.js';
import {
  EVAL_FILES,
  type EvalKey,
  type EvalManifest,
  GROUNDING_COLUMNS,
  type ItemSelection,
  R2_COLUMNS,
  readCsvTable,
  SUMMARY_COLUMNS,
  SUMMARY_NUMERIC,
  type SummaryRow,
  WORD_COLUMNS,
} from './tables.js';
import { aggregateStudy, forEachStudyRun, type StudyAggregate, type StudyPassOptions } from './study.js';
import { openRun } from './run.js';

export type { ItemSelection } from './tables.js';

export interface EvalRunOptions {
  /** Run directory (run_config.json, checkpoints/). */
  run: string;
  /** Corpus directory; default: the one recorded in run_config.json. Its hash must match the run's. */
  corpus?: string;
  /** Which items to evaluate (default all: corpus and template items, summarised separately). */
  items?: ItemSelection;
  /** Re-evaluate every checkpoint. */
  force?: boolean;
  /** Only these steps (default: every checkpoint). */
  steps?: number[];
  bootstrapSeed?: number;
  iterations?: number;
  /** Tokens per forward pass (default: from the model size). */
  batchTokens?: number;
  threads?: number;
  quiet?: boolean;
}

export interface EvalRunResult {
  dir: string;
  arch: string;
  label: string;
  seed: number;
  /** Steps evaluated by this call. */
  evaluated: number[];
  /** Steps already evaluated before (skipped). */
  reused: number[];
  /** Every step's summary rows (numbers parsed). */
  summary: SummaryRow[];
}

const FORMAT = 1;

/** Keeps only rows of `steps` in a CSV (atomic rewrite); creates it with its header if missing. */
function keepSteps(path: string, columns: string[], steps: Set<number>): void {
  if (!existsSync(path)) {
    writeFileAtomic(path, toCsv([], columns));
    return;
  }
  const full = readFileSync(path, 'utf8');
  const text = dropTornLine(full); // a row cut by a kill mid-append
  const rows = parseCsv(text);
  const header = text.slice(0, text.indexOf('\n'));
  if (text !== full || header !== columns.join(',') || rows.some((r) => !steps.has(Number(r.step)))) {
    writeFileAtomic(path, toCsv(header === columns.join(',') ? rows.filter((r) => steps.has(Number(r.step))) : [], columns));
  }
}

function appendRows(path: string, rows: Record<string, unknown>[], columns: string[]): void {
  if (!rows.length) return;
  const csv = toCsv(rows, columns);
  appendLines(path, csv.slice(csv.indexOf('\n') + 1));
}

const r6 = (x: number) => (Number.isFinite(x) ? Math.round(x * 1e6) / 1e6 : x);

/** Evaluates (or resumes) the grounding of every checkpoint of a run, under its run lock (RUN/.groundlab.lock: a second writer is refused by pid). */
export async function evaluateRun(opts: EvalRunOptions): Promise<EvalRunResult> {
  return withRunLock(opts.run, 'eval', () => evaluateRunLocked(opts));
}

async function evaluateRunLocked(opts: EvalRunOptions): Promise<EvalRunResult> {
  const opened = openRun(opts.run, { corpus: opts.corpus });
  const { dir: run, config: cfg, corpusDir, corpus, ident } = opened;
  const targets: TargetsFile = loadTargets(corpusDir);
  const selection: ItemSelection = opts.items ?? 'all';
  const allItems = loadItems(corpusDir).filter((it) => selection === 'all' || it.source.kind === selection);
  if (!allItems.length) throw new UserError(`${corpusDir}/items.jsonl has no ${selection === 'all' ? '' : selection + ' '}items to evaluate`);
  const maxLen = cfg.train.context;
  const { prepared, skipped } = prepareItems(allItems, maxLen);
  if (!prepared.length) throw new UserError(`no usable evaluation items in ${corpusDir} (${skipped.length} skipped: ${skipped[0]?.reason})`);
  const category = new Map(targets.words.map((w) => [w.word, w.category ?? '']));
  // Image-grounded corpora (visual dialog): the features that items' prefixes name.
  const prefixes = loadPrefixCorpus(corpus)?.store;

  const key: EvalKey = {
    format: FORMAT,
    corpus_hash: corpus.hash,
    items_sha256: sha256(readFileSync(join(corpusDir, 'items.jsonl'))),
    items: selection,
    max_len: maxLen,
    bootstrap_seed: opts.bootstrapSeed ?? 1,
    iterations: opts.iterations ?? 10000,
  };
  const out = ensureDir(join(run, 'eval'));
  const paths = {
    grounding: join(out, EVAL_FILES.grounding),
    words: join(out, EVAL_FILES.words),
    summary: join(out, EVAL_FILES.summary),
    r2: join(out, EVAL_FILES.r2),
    manifest: join(out, EVAL_FILES.manifest),
  };
  const shaOf = (step: number, path: string) => opened.sha({ step, path });

  let manifest: EvalManifest | null = existsSync(paths.manifest) ? readJson<EvalManifest>(paths.manifest) : null;
  if (manifest && (opts.force || JSON.stringify(manifest.key) !== JSON.stringify(key))) {
    if (!opts.force && !opts.quiet) process.stderr.write(`groundlab eval: ${run}: corpus, items or options changed since the last evaluation; evaluating again\n`);
    manifest = null;
  }
  if (!manifest) {
    for (const p of [paths.grounding, paths.words, paths.summary, paths.r2, paths.manifest]) rmSync(p, { force: true });
    manifest = { key, code_version: codeVersion(), run: { arch: cfg.arch, label: cfg.label, seed: cfg.seed }, skipped_items: skipped, steps: {} };
  }
  const ckpts = opened.checkpoints.filter((c) => !opts.steps || opts.steps.includes(c.step));
  // A step counts as done only if its checkpoint is the one that was evaluated.
  for (const [s, info] of Object.entries(manifest.steps)) {
    const c = ckpts.find((k) => k.step === Number(s));
    if (c && shaOf(c.step, c.path) !== info.checkpoint_sha256) delete manifest.steps[s];
  }
  const done = new Set(Object.keys(manifest.steps).map(Number));
  const todo = ckpts.filter((c) => !done.has(c.step));

  if (todo.length || !existsSync(paths.summary)) {
    keepSteps(paths.grounding, GROUNDING_COLUMNS, done);
    keepSteps(paths.words, WORD_COLUMNS, done);
    keepSteps(paths.summary, SUMMARY_COLUMNS, done);
    keepSteps(paths.r2, R2_COLUMNS, done);
    writeJson(paths.manifest, manifest);
  }
  if (opts.threads) E.setThreads(opts.threads);

  const sources = ITEM_SOURCES.filter((s) => prepared.some((p) => p.item.source.kind === s));
  const sequences = prepared.reduce((a, p) => a + 1 + p.item.mismatches.length, 0);
  const bar = new Progress({ total: todo.length, label: `eval ${cfg.label} seed ${cfg.seed}`, unit: 'checkpoints', quiet: opts.quiet || !todo.length });
  const evaluated: number[] = [];
  for (const c of todo) {
    const t0 = performance.now();
    const { model } = loadCheckpoint(c.path);
    const results = evaluateItems(model, prepared, { padId: corpus.padId, batchTokens: opts.batchTokens, prefixes });
    const seconds = (performance.now() - t0) / 1000;

    const long: Record<string, unknown>[] = [];
    for (const r of results) {
      const base = { ...ident, step: c.step, source: r.item.source.kind, word: r.item.word, item: r.item.id };
      long.push({ ...base, condition: 'matched', mismatch_word: '', surprisal: r6(r.matched) });
      r.item.mismatches.forEach((m, k) => long.push({ ...base, condition: 'mismatched', mismatch_word: m.word, surprisal: r6(r.mismatched[k]!) }));
    }
    const wordRows: Record<string, unknown>[] = [];
    const summaryRows: Record<string, unknown>[] = [];
    const r2Rows: Record<string, unknown>[] = [];
    let headline = '';
    for (const src of sources) {
      const gains = wordGains(results.filter((r) => r.item.source.kind === src));
      const keyCols = { ...ident, step: c.step, items: src };
      for (const g of gains) wordRows.push({ ...keyCols, word: g.word, category: category.get(g.word) ?? '', n_items: g.n_items, matched: g.matched, mismatched: g.mismatched, G: g.G });
      const s = summariseGains(gains, { bootstrapSeed: key.bootstrap_seed, iterations: key.iterations });
      summaryRows.push({ ...keyCols, ...s });
      for (const r of cooccurrenceR2(gains, targets)) r2Rows.push({ ...keyCols, ...r });
      headline += `${headline ? ', ' : ''}${src} G ${s.mean_G.toFixed(3)}`;
    }
    appendRows(paths.grounding, long, GROUNDING_COLUMNS);
    appendRows(paths.words, wordRows, WORD_COLUMNS);
    appendRows(paths.summary, summaryRows, SUMMARY_COLUMNS);
    appendRows(paths.r2, r2Rows, R2_COLUMNS);
    manifest.steps[String(c.step)] = {
      checkpoint_sha256: shaOf(c.step, c.path),
      sequences,
      seconds: Math.round(seconds * 1000) / 1000,
      sequences_per_s: Math.round(sequences / seconds),
      evaluated_at: new Date().toISOString(),
    };
    writeJson(paths.manifest, manifest);
    evaluated.push(c.step);
    bar.tick(1, `step ${c.step}: ${headline}`);
  }
  bar.done();
  E.pool.clear();
  const summary = readCsvTable(paths.summary, SUMMARY_NUMERIC).sort((a, b) => (a.step as number) - (b.step as number));
  return { dir: run, ...ident, evaluated, reused: [...done].sort((a, b) => a - b), summary };
}

export type EvalStudyOptions = Omit<EvalRunOptions, 'run' | 'corpus'> & StudyPassOptions;

/** Evaluates every run of the study (or of one shard) that has checkpoints, then aggregates. */
export async function evaluateStudy(opts: EvalStudyOptions): Promise<{ results: EvalRunResult[]; missing: string[]; aggregate: StudyAggregate }> {
  const { study: dir, shard: _sh, onRun: _o, ...rest } = opts;
  const { results, missing } = await forEachStudyRun(
    opts,
    (run) => existsSync(join(run, 'checkpoints')),
    (run, corpus) => evaluateRun({ ...rest, run, corpus }),
  );
  const aggregate = aggregateStudy(dir, { bootstrapSeed: opts.bootstrapSeed, iterations: opts.iterations });
  return { results, missing, aggregate };
}
