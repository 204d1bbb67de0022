/**
 * `groundlab reproduce`: the whole study of a preset in one resumable command.
 *
 *   1. corpus   build STUDY/corpus: the synthetic world (demo, tiny) or CHILDES (cpu, paper; from
 *               --childes, default ../shared/data/childes), or use --corpus DIR as is
 *   2. train    every study entry × seed of the preset whose architecture is registered
 *               (the trainer skips complete runs and resumes unfinished ones)
 *   3. eval     the grounding evaluation of every checkpoint (skips evaluated checkpoints)
 *   4. analyze  the mechanistic suite (study/mechanistic.ts: saliency, tuned lens, aggregate heads
 *               and ablation) on the preset's checkpoints (skips analysed checkpoints)
 *   5. report   aggregate over the runs present and write STUDY/report.html
 *
 * Re-running the command skips finished work. With --shard i/n only the shard's (entry, seed)
 * jobs are trained and evaluated (see study.ts); the report then covers whatever is present.
 * Concurrent shards share the corpus: the first one builds it under a lock file, the others wait.
 */
import { existsSync } from 'node:fs';
import { withWaitingLock } from '../util/lock.js';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { buildCorpus } from '../data/build.js';
import { loadCorpus } from '../data/contract.js';
import { synthesizeWorld, type SynthOptionsInput } from '../data/synth/world.js';
import * as E from '../engine/index.js';
import { availableArchs } from '../models/index.js';
import { getPreset, type Preset, type StudyEntry } from '../train/config.js';
import { train } from '../train/trainer.js';
import { UserError } from '../util/errors.js';
import { ensureDir } from '../util/files.js';
import { packageRoot } from '../util/version.js';
import { evaluateRun, type ItemSelection } from './evaluate.js';
import { analyzeRun } from './mechanistic.js';
import type { ClaimRow } from '../analysis/claims.js';
import { CLAIMS_FILE, readClaims, writeStudyClaims } from './claims-study.js';
import { aggregateStudy, type HeadlineRow, headlineRows, newStudyFile, parseShard, readStudy, shardJobs, type StudyAggregate, studyJobs, studyPaths, type StudyFile, writeStudy } from './study.js';

export const STAGES = ['corpus', 'train', 'eval', 'analyze', 'report'] as const;
export type Stage = (typeof STAGES)[number];

/**
 * Synthetic-world options per preset (the world's own defaults otherwise). tiny is a small world
 * for tests; demo uses the generator's defaults (120 transcripts × 300 episodes, 40 objects).
 */
export const SYNTH_PRESET_OPTIONS: Record<string, Partial<SynthOptionsInput>> = {
  tiny: { transcripts: 12, episodes: 80, objects: 8, scene_size: 6, min_count: 5, items_per_word: 4, mismatches: 3 },
  demo: {},
};

/**
 * CHILDES corpus options per preset: targets by the CDI rule and our templates (in the paper's style) as a second
 * item set; the preset's own `corpusOptions` (e.g. the cpu preset's vocabulary cap) come on top.
 */
export const CHILDES_PRESET_OPTIONS: Record<string, Record<string, unknown>> = {
  cpu: { templates: 'ours' },
  mid: { templates: 'ours' },
  paper: { templates: 'ours' },
};

export interface ReproduceOptions {
  preset: string;
  /** Study directory (default studies/<preset>). */
  out?: string;
  /** CHAT inputs for CHILDES presets (default ../shared/data/childes when present). */
  childes?: string[];
  /** Use this corpus directory instead of building one. */
  corpus?: string;
  /** Seeds to run (default: the study's, i.e. the preset's). */
  seeds?: number[];
  /** "i/n": only the i-th of n (entry, seed) jobs. */
  shard?: string;
  /** Study entries (labels) to run (default all whose architecture is registered). */
  labels?: string[];
  stages?: Stage[];
  items?: ItemSelection;
  threads?: number;
  quiet?: boolean;
  /** Training overrides for every entry (tests). */
  trainOverrides?: Record<string, unknown>;
  /** Writes the report; injected so that this module does not load the report layer. */
  writeReport?: (studyDir: string, aggregate: StudyAggregate) => Promise<string>;
  log?: (line: string) => void;
}

export interface ReproduceResult {
  study: string;
  report: string | null;
  seconds: Record<Stage | 'total', number>;
  /** Entries of the preset left out because their architecture is not registered. */
  skippedEntries: string[];
  failures: { job: string; error: string }[];
  headline: HeadlineRow[];
  /** The claims scorecard (STUDY/claims.csv). */
  claims: ClaimRow[];
  aggregate: StudyAggregate | null;
}

/** First existing path among candidates (cwd-relative, then relative to the package). */
function findShared(rel: string): string | null {
  for (const p of [resolve(rel), resolve(packageRoot, rel)]) if (existsSync(p)) return p;
  return null;
}

const corpusComplete = (dir: string) => existsSync(join(dir, 'manifest.json')) && existsSync(join(dir, 'vocab.json'));

/** Builds (or finds) the study's corpus; returns the study file (created or updated). */
async function ensureCorpus(dir: string, preset: Preset, opts: ReproduceOptions, log: (s: string) => void): Promise<StudyFile['corpus']> {
  const paths = studyPaths(dir);
  const existing = readStudy(dir);
  if (opts.corpus) {
    const abs = resolve(opts.corpus);
    if (!corpusComplete(abs)) throw new UserError(`--corpus ${opts.corpus}: not a corpus directory (vocab.json and manifest.json expected)`);
    if (existing && existing.corpus.source !== 'external') throw new UserError(`${dir} was created with its own corpus (${existing.corpus.dir}); drop --corpus or use another --out`);
    return { source: 'external', dir: abs, hash: loadCorpus(abs).hash };
  }
  if (existing) {
    const cdir = isAbsolute(existing.corpus.dir) ? existing.corpus.dir : resolve(dir, existing.corpus.dir);
    if (corpusComplete(cdir)) return existing.corpus;
  }
  return withWaitingLock(join(dir, 'corpus.lock'), 'corpus build', async () => {
    if (corpusComplete(paths.corpus)) {
      const prev = readStudy(dir);
      if (prev) return prev.corpus;
    }
    if (preset.corpus === 'synthetic') {
      const options = { seed: 1, ...(SYNTH_PRESET_OPTIONS[preset.name] ?? {}), ...(preset.corpusOptions ?? {}) };
      log(`building the synthetic world in ${paths.corpus}`);
      await synthesizeWorld({ ...options, out: paths.corpus, quiet: opts.quiet });
      return { source: 'synthetic' as const, dir: 'corpus', options, hash: loadCorpus(paths.corpus).hash };
    }
    let inputs = opts.childes ?? [];
    if (!inputs.length) {
      const found = findShared('../shared/data/childes');
      if (!found) throw new UserError(`preset "${preset.name}" trains on CHILDES: pass --childes PATH (CHAT files, directories or TalkBank .zip archives); ../shared/data/childes was not found`);
      inputs = [found];
    }
    for (const p of inputs) if (!existsSync(p)) throw new UserError(`--childes ${p}: no such file or directory`);
    const extra = { ...(CHILDES_PRESET_OPTIONS[preset.name] ?? {}), ...(preset.corpusOptions ?? {}) };
    const cdi = findShared('../shared/data/cdi/English_American_WS.csv');
    const options = { ...extra, ...(cdi ? { cdi } : {}) };
    log(`building the CHILDES corpus from ${inputs.join(', ')} in ${paths.corpus}`);
    await buildCorpus({ ...options, childes: inputs.map((p) => resolve(p)), out: paths.corpus, quiet: opts.quiet });
    return { source: 'childes' as const, dir: 'corpus', inputs: inputs.map((p) => resolve(p)), options, hash: loadCorpus(paths.corpus).hash };
  }, { log });
}

/** Runs the whole study of a preset (or the stages and shard asked for). */
export async function reproduce(opts: ReproduceOptions): Promise<ReproduceResult> {
  const t0 = Date.now();
  const log = opts.log ?? ((s: string) => process.stderr.write(`groundlab reproduce: ${s}\n`));
  const preset = getPreset(opts.preset);
  const dir = resolve(opts.out ?? join('studies', preset.name));
  ensureDir(dir);
  const stages = new Set<Stage>(opts.stages ?? STAGES);
  const shard = opts.shard ? parseShard(opts.shard) : undefined;
  const seconds: Record<Stage | 'total', number> = { corpus: 0, train: 0, eval: 0, analyze: 0, report: 0, total: 0 };
  if (opts.threads) E.setThreads(opts.threads);

  const existing = readStudy(dir);
  if (existing && existing.preset !== preset.name) {
    throw new UserError(`${dir} holds a study of preset "${existing.preset}"; use --preset ${existing.preset} or another --out`);
  }
  const registered = new Set(availableArchs());
  const wanted = preset.study.filter((e) => !opts.labels || opts.labels.includes(e.label));
  if (opts.labels) for (const l of opts.labels) if (!preset.study.some((e) => e.label === l)) throw new UserError(`preset "${preset.name}" has no study entry "${l}" (entries: ${preset.study.map((e) => e.label).join(', ')})`);
  const entries: StudyEntry[] = wanted.filter((e) => registered.has(e.arch));
  const skippedEntries = wanted.filter((e) => !registered.has(e.arch)).map((e) => `${e.label} (${e.arch} is not available in this build)`);
  for (const s of skippedEntries) log(`skipping ${s}`);
  const seeds = opts.seeds?.length ? opts.seeds : (existing?.seeds ?? preset.seeds);

  // 1. corpus
  let t = Date.now();
  let corpusInfo: StudyFile['corpus'] | null = existing?.corpus ?? null;
  if (stages.has('corpus') || !corpusInfo) corpusInfo = await ensureCorpus(dir, preset, opts, log);
  seconds.corpus = (Date.now() - t) / 1000;
  // The study file: created once; later runs may add seeds and entries (never remove them).
  const merged = existing ?? newStudyFile(preset.name, corpusInfo, [], []);
  merged.corpus = corpusInfo;
  for (const e of entries) if (!merged.entries.some((x) => x.label === e.label)) merged.entries.push(e);
  merged.entries = merged.entries.map((x) => entries.find((e) => e.label === x.label) ?? x);
  merged.seeds = [...new Set([...merged.seeds, ...seeds])];
  writeStudy(dir, merged);
  const corpusDir = isAbsolute(corpusInfo.dir) ? corpusInfo.dir : resolve(dir, corpusInfo.dir);

  const jobs = shardJobs(studyJobs(dir, { entries, seeds }), shard);
  if (shard) log(`shard ${shard.index}/${shard.count}: ${jobs.length} of ${entries.length * seeds.length} jobs (${jobs.map((j) => `${j.label}-s${j.seed}`).join(', ') || 'none'})`);
  const failures: ReproduceResult['failures'] = [];
  for (const job of jobs) {
    const name = relative(dir, job.dir);
    if (stages.has('train')) {
      t = Date.now();
      try {
        await train({
          corpus: corpusDir,
          out: job.dir,
          arch: job.arch,
          preset: preset.name,
          seed: job.seed,
          label: job.label,
          model: job.entry.model,
          train: { ...(job.entry.train ?? {}), ...((opts.trainOverrides ?? {}) as object) },
          quiet: opts.quiet,
        });
      } catch (e) {
        if (!(e instanceof Error && (e as { userFacing?: boolean }).userFacing)) throw e;
        failures.push({ job: name, error: e.message });
        log(`${name}: ${e.message}`);
        seconds.train += (Date.now() - t) / 1000;
        continue;
      }
      seconds.train += (Date.now() - t) / 1000;
    }
    if (stages.has('eval') && existsSync(join(job.dir, 'checkpoints'))) {
      t = Date.now();
      await evaluateRun({ run: job.dir, corpus: corpusDir, items: opts.items, quiet: opts.quiet });
      seconds.eval += (Date.now() - t) / 1000;
    }
    if (stages.has('analyze') && existsSync(join(job.dir, 'checkpoints'))) {
      t = Date.now();
      await analyzeRun({ run: job.dir, corpus: corpusDir, quiet: opts.quiet });
      seconds.analyze += (Date.now() - t) / 1000;
    }
  }

  // 4. aggregate + report
  let report: string | null = null;
  let aggregate: StudyAggregate | null = null;
  let claims: ClaimRow[] = [];
  if (stages.has('report') || stages.has('eval')) {
    t = Date.now();
    aggregate = aggregateStudy(dir);
    if (stages.has('report') && opts.writeReport) report = await opts.writeReport(dir, aggregate);
    // The report writes STUDY/claims.csv; without a report it is written here.
    claims = report && existsSync(join(dir, CLAIMS_FILE)) ? readClaims(join(dir, CLAIMS_FILE)) : writeStudyClaims(dir, aggregate).claims;
    seconds.report = (Date.now() - t) / 1000;
  }
  seconds.total = (Date.now() - t0) / 1000;
  return { study: dir, report, seconds, skippedEntries, failures, headline: aggregate ? headlineRows(aggregate) : [], aggregate, claims };
}
