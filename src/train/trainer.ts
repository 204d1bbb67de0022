/**
 * The trainer: one run = one architecture, one seed, one corpus.
 *
 * Determinism: initial weights come from Rng(seed), batch k from (seed, k) (see data.ts), the
 * learning rate from the step, and every kernel is deterministic for a fixed thread count. A
 * run killed at any moment (kill -9) resumes from its latest saved state and ends with weights
 * bit-identical to an uninterrupted run.
 *
 * Run directory:
 *   run_config.json        resolved configuration (architecture, seed, model, training, corpus)
 *   config.json            Hugging Face-style model config (beside the checkpoints)
 *   manifest.json          config, seed, code version, corpus hash, checkpoints with sha256, status
 *   checkpoints/step_N.safetensors
 *   resume/state.safetensors
 *   losses.csv             step, split, loss, lr, grad_norm, tokens_per_s, elapsed_s
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as E from '../engine/index.js';
import { type Corpus, loadCorpus } from '../data/contract.js';
import { createModel } from '../models/index.js';
import type { Arch, LanguageModel } from '../models/types.js';
import { UserError } from '../util/errors.js';
import { withRunLock } from '../util/lock.js';
import { appendLines, dropTornLine, ensureDir, parseCsv, sha256File, readJson, toCsv, writeFileAtomic, writeJson } from '../util/files.js';
import { Progress } from '../util/progress.js';
import { Rng } from '../util/rng.js';
import { codeVersion } from '../util/version.js';
import { checkpointName, loadResumeState, saveCheckpoint, saveResumeState } from './checkpoint.js';
import { type RunConfig, type TrainConfig, getPreset } from './config.js';
import { type Batch, BatchSampler, type BatchSource, evalBatches, modelInput } from './data.js';
import { loadPrefixCorpus, readPrefixInfo } from '../data/prefix.js';
import { prefixEvalBatches, PrefixBatchSampler } from './prefix-batches.js';
import { AdamW, clipGradNorm } from './optim.js';
import { checkpointSteps, learningRate } from './schedule.js';

export interface TrainOptions {
  corpus: string;
  out: string;
  arch: Arch;
  preset: string;
  seed: number;
  /** Label for the run in studies (default: the architecture). */
  label?: string;
  model?: Record<string, number>;
  train?: Partial<TrainConfig>;
  threads?: number;
  quiet?: boolean;
  /** Stop (as if killed) after this many updates in this process: for resume tests. */
  stopAfter?: number;
}

export interface RunManifest {
  config: RunConfig;
  seed: number;
  code_version: string;
  corpus_hash: string;
  parameters: number;
  checkpoints: { step: number; file: string; sha256: string }[];
  status: 'running' | 'complete';
  started_at: string;
  finished_at?: string;
  train_seconds: number;
}

export class TrainingDivergedError extends Error {
  readonly userFacing = true;
  override name = 'TrainingDivergedError';
}

const LOSS_COLUMNS = ['step', 'split', 'loss', 'lr', 'grad_norm', 'tokens_per_s', 'elapsed_s'];

/** Resolves the run configuration: preset, then architecture defaults, then overrides. */
export function resolveRunConfig(opts: TrainOptions, corpus: Corpus): RunConfig {
  const preset = getPreset(opts.preset);
  const train = { ...preset.train, ...(opts.train ?? {}) };
  const baseModel = preset.models[opts.arch];
  if (!baseModel) throw new UserError(`preset "${preset.name}" has no ${opts.arch} configuration`);
  const model: Record<string, number> = { ...baseModel, ...(opts.model ?? {}), vocab_size: corpus.vocab.length };
  // Image-grounded corpora: the model maps [k × dim] feature prefixes, so it needs prefix_dim and k more positions.
  const prefix = readPrefixInfo(corpus.dir);
  if (prefix) model.prefix_dim = prefix.dim;
  const positions = train.context + (prefix?.k ?? 0);
  if ('n_positions' in model && model.n_positions! < positions) model.n_positions = positions;
  return {
    arch: opts.arch,
    label: opts.label ?? opts.arch,
    seed: opts.seed,
    preset: preset.name,
    corpus: { dir: resolve(corpus.dir), hash: corpus.hash },
    model,
    train,
  };
}

function sameConfig(a: RunConfig, b: RunConfig): boolean {
  const strip = (c: RunConfig) => JSON.stringify({ ...c, corpus: { hash: c.corpus.hash } });
  return strip(a) === strip(b);
}

/** Logits of a batch's target positions, [targets, V]: every position, or only `rows` (prefix batches). */
function batchLogits(model: LanguageModel, b: Batch): E.Tensor {
  const logits = model.forward(modelInput(b), b.rows ? { logitRows: b.rows } : undefined);
  return b.rows ? logits : E.reshape(logits, [b.batch * b.seq, model.vocabSize]);
}

function meanLoss(model: LanguageModel, batches: Batch[]): number {
  let total = 0;
  let count = 0;
  E.noGrad(() => {
    for (const b of batches) {
      E.tidy(() => {
        const l = E.crossEntropy(batchLogits(model, b), b.targets, { reduction: 'sum' });
        total += l.item();
        count += b.targets.length;
      });
    }
  });
  return count ? total / count : NaN;
}

/**
 * Trains (or resumes, or skips if complete) one run. Returns its manifest. The run directory is
 * locked (RUN/.groundlab.lock): a second writer is refused, naming the holder's pid.
 */
export async function train(opts: TrainOptions): Promise<RunManifest> {
  const corpus = loadCorpus(opts.corpus); // before creating --out: a wrong corpus leaves nothing behind
  return withRunLock(ensureDir(opts.out), 'train', () => trainLocked(opts, corpus));
}

async function trainLocked(opts: TrainOptions, corpus: Corpus): Promise<RunManifest> {
  const config = resolveRunConfig(opts, corpus);
  const out = ensureDir(opts.out);
  const cfgPath = join(out, 'run_config.json');
  const manifestPath = join(out, 'manifest.json');
  if (existsSync(cfgPath)) {
    const prev = readJson<RunConfig>(cfgPath);
    if (!sameConfig(prev, config)) {
      throw new UserError(`${out} already holds a run with a different configuration; choose another --out or delete it (differences: compare ${cfgPath} with the new config)`);
    }
    if (existsSync(manifestPath) && readJson<RunManifest>(manifestPath).status === 'complete') {
      if (!opts.quiet) process.stderr.write(`groundlab train: ${out} is already complete; nothing to do\n`);
      return readJson<RunManifest>(manifestPath);
    }
  }
  if (opts.threads) E.setThreads(opts.threads);
  const t = config.train;
  const model = createModel(config.arch, config.model);
  model.params.initialize(new Rng(config.seed));
  const opt = new AdamW(model.params, { lr: t.lr, beta1: t.beta1, beta2: t.beta2, eps: t.eps, weightDecay: t.weight_decay });
  const prefix = loadPrefixCorpus(corpus);
  let sampler: BatchSource;
  let valBatches: Batch[];
  if (prefix) {
    sampler = new PrefixBatchSampler(corpus.splits.train, prefix.docs.train, prefix.store, t.batch_size, t.context, config.seed, corpus.padId);
    const valSplit = prefix.docs.val.starts.length ? 'val' : 'train';
    valBatches = prefixEvalBatches(corpus.splits[valSplit], prefix.docs[valSplit], prefix.store, t.eval_windows, t.batch_size, t.context, corpus.padId);
  } else {
    sampler = new BatchSampler(corpus.splits.train, t.batch_size, t.context, config.seed);
    valBatches = evalBatches(corpus.splits.val.length > t.context + 1 ? corpus.splits.val : corpus.splits.train, t.eval_windows, t.batch_size, t.context);
  }
  const ckptSteps = new Set(checkpointSteps(t.checkpoints, t.steps));
  const schedule = { lr: t.lr, warmup: t.warmup, steps: t.steps, decay: t.decay, minRatio: t.min_lr_ratio };

  writeJson(cfgPath, config);
  writeJson(join(out, 'config.json'), model.hfConfig());
  ensureDir(join(out, 'checkpoints'));
  const statePath = join(out, 'resume', 'state.safetensors');
  const lossPath = join(out, 'losses.csv');

  let manifest: RunManifest = existsSync(manifestPath)
    ? readJson<RunManifest>(manifestPath)
    : { config, seed: config.seed, code_version: codeVersion(), corpus_hash: corpus.hash, parameters: model.params.count, checkpoints: [], status: 'running', started_at: new Date().toISOString(), train_seconds: 0 };

  // Resume from the latest saved state, if any.
  let step = 0;
  if (existsSync(statePath)) {
    const st = loadResumeState(statePath, model, opt.m, opt.v);
    step = st.step;
    opt.step = st.adamStep;
  }
  manifest.checkpoints = manifest.checkpoints.filter((c) => c.step <= step);
  // A checkpoint file at or before the resumed step is complete (written atomically before the
  // state); one missing from the manifest (a kill between the two writes, in versions that saved
  // the state first) is recorded now rather than lost.
  for (const s of [...ckptSteps].filter((s) => s <= step && !manifest.checkpoints.some((c) => c.step === s)).sort((a, b) => a - b)) {
    const file = join(out, 'checkpoints', checkpointName(s));
    if (existsSync(file)) manifest.checkpoints = [...manifest.checkpoints, { step: s, file: `checkpoints/${checkpointName(s)}`, sha256: sha256File(file) }].sort((a, b) => a.step - b.step);
  }
  // Keep only loss rows up to the resumed step (a killed process may have logged further).
  const rows = existsSync(lossPath) ? parseCsv(dropTornLine(readFileSync(lossPath, 'utf8'))).filter((r) => r.step !== '' && Number(r.step) <= step && LOSS_COLUMNS.every((c) => c in r)) : [];
  writeFileAtomic(lossPath, toCsv(rows, LOSS_COLUMNS));
  const logRow = (r: Record<string, unknown>) => appendLines(lossPath, toCsv([r], LOSS_COLUMNS).split('\n')[1] + '\n');
  const writeManifest = () => writeJson(manifestPath, manifest);
  writeManifest();

  const startWall = Date.now();
  const baseSeconds = manifest.train_seconds;
  const elapsed = () => baseSeconds + (Date.now() - startWall) / 1000;

  const checkpoint = (s: number) => {
    const file = checkpointName(s);
    const sha = saveCheckpoint(join(out, 'checkpoints', file), model, { arch: config.arch, step: s, seed: config.seed, label: config.label, model: config.model, corpus_hash: corpus.hash });
    manifest.checkpoints = [...manifest.checkpoints.filter((c) => c.step !== s), { step: s, file: `checkpoints/${file}`, sha256: sha }].sort((a, b) => a.step - b.step);
    const val = meanLoss(model, valBatches);
    logRow({ step: s, split: 'val', loss: val, lr: s > 0 ? learningRate(schedule, s - 1) : 0, grad_norm: '', tokens_per_s: '', elapsed_s: elapsed() });
    return val;
  };
  // The manifest first, then the state: a kill between the two leaves a manifest ahead of the state
  // (trimmed on resume), never a state ahead of the manifest, which would lose the checkpoint of
  // that step from the manifest for good (found by test/integrity/kill-resume.test.ts).
  const saveState = (s: number) => {
    manifest.train_seconds = elapsed();
    writeManifest();
    saveResumeState(statePath, model, opt.m, opt.v, { step: s, adamStep: opt.step, seed: config.seed });
  };

  if (step === 0 && ckptSteps.has(0) && !manifest.checkpoints.some((c) => c.step === 0)) {
    checkpoint(0);
    saveState(0);
  }

  const bar = new Progress({ total: t.steps, label: `train ${config.label} seed ${config.seed}`, unit: 'steps', quiet: opts.quiet, start: step });
  bar.update(step);
  let lastVal = NaN;
  let stepsThisProcess = 0;
  while (step < t.steps) {
    if (opts.stopAfter !== undefined && stepsThisProcess >= opts.stopAfter) return manifest;
    const t0 = performance.now();
    const lr = learningRate(schedule, step);
    const batch = sampler.batch(step);
    model.params.zeroGrad();
    const loss = E.tidy(() => {
      const l = E.crossEntropy(batchLogits(model, batch), batch.targets);
      E.backward(l);
      return l.item();
    });
    const gradNorm = clipGradNorm(model.params, t.grad_clip);
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
      saveState(step);
      throw new TrainingDivergedError(`training diverged at step ${step}: loss ${loss}, gradient norm ${gradNorm} (lr ${lr.toExponential(2)}). The state before this step is saved in ${statePath}; lower --train.lr or raise --train.warmup and rerun.`);
    }
    opt.update(lr);
    step++;
    stepsThisProcess++;
    const dt = (performance.now() - t0) / 1000;
    const tps = batch.targets.length / dt; // trained tokens (all positions, or the rows of prefix batches)
    logRow({ step, split: 'train', loss, lr, grad_norm: gradNorm, tokens_per_s: Math.round(tps), elapsed_s: elapsed() });
    if (ckptSteps.has(step)) lastVal = checkpoint(step);
    else if (step % t.eval_every === 0) {
      lastVal = meanLoss(model, valBatches);
      logRow({ step, split: 'val', loss: lastVal, lr, grad_norm: '', tokens_per_s: '', elapsed_s: elapsed() });
    }
    if (ckptSteps.has(step) || step % t.state_every === 0 || step === t.steps) saveState(step);
    bar.update(step, `loss ${loss.toFixed(3)}${Number.isNaN(lastVal) ? '' : ` val ${lastVal.toFixed(3)}`} · ${(tps / 1000).toFixed(1)}k tok/s`);
  }
  bar.done();
  manifest = { ...manifest, status: 'complete', finished_at: new Date().toISOString(), train_seconds: elapsed() };
  writeManifest();
  E.pool.clear();
  return manifest;
}
