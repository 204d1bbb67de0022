/**
 * One run directory opened for a stage (evaluation, mechanistic suite): its resolved config, the
 * corpus it was trained on (checked by hash), its checkpoints and their sha256 (the file's own
 * bytes, hashed once per process and checked against the run's manifest: a changed checkpoint is
 * refused by name, and cached results are keyed by what the file holds), and the (arch, label,
 * seed) every table row starts with.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Corpus, loadCorpus } from '../data/contract.js';
import { listCheckpoints, verifiedCheckpointSha } from '../train/checkpoint.js';
import { corpusMismatch } from '../train/hf-import.js';
import type { RunConfig } from '../train/config.js';
import type { RunManifest } from '../train/trainer.js';
import { UserError } from '../util/errors.js';
import { readJson } from '../util/files.js';

export interface Checkpoint {
  step: number;
  path: string;
}

export interface OpenRun {
  dir: string;
  config: RunConfig;
  corpusDir: string;
  corpus: Corpus;
  /** manifest.json, or null for runs without one (imported checkpoints). */
  manifest: RunManifest | null;
  /** Checkpoints present, in step order. */
  checkpoints: Checkpoint[];
  /** The checkpoint file's sha256, verified against the manifest (hashed once per process). */
  sha(c: Checkpoint): string;
  ident: { arch: RunConfig['arch']; label: string; seed: number };
}

/** run_config.json of a run directory (a UserError naming the directory when it is missing). */
export function readRunConfig(run: string): RunConfig {
  const p = join(run, 'run_config.json');
  if (!existsSync(p)) throw new UserError(`${run} is not a run directory: run_config.json is missing (train one with "groundlab train")`);
  return readJson<RunConfig>(p);
}

/** Opens a run; `corpus` overrides the corpus directory recorded in run_config.json (its hash must still match). */
export function openRun(dir: string, opts: { corpus?: string } = {}): OpenRun {
  const config = readRunConfig(dir);
  const corpusDir = opts.corpus ?? config.corpus.dir;
  if (!corpusDir) throw new UserError(`${dir} was imported without a corpus: pass --corpus CORPUS (the corpus whose vocabulary the model uses)`);
  if (!existsSync(join(corpusDir, 'vocab.json'))) throw new UserError(`the corpus of ${dir} is not at ${corpusDir}; pass --corpus DIR (the directory the run was trained on)`);
  const corpus = loadCorpus(corpusDir);
  const mismatch = corpusMismatch(config, corpus, dir); // imported runs without a recorded corpus: the vocabulary size must match
  if (mismatch) throw new UserError(mismatch);
  const manifest = existsSync(join(dir, 'manifest.json')) ? readJson<RunManifest>(join(dir, 'manifest.json')) : null;
  const sha = (c: Checkpoint) => verifiedCheckpointSha(c.path, manifest);
  return { dir, config, corpusDir, corpus, manifest, checkpoints: listCheckpoints(dir), sha, ident: { arch: config.arch, label: config.label, seed: config.seed } };
}
