/**
 * Checkpoints: safetensors files with Hugging Face tensor names, the model config in the
 * metadata, written atomically (tmp + rename). Resume state (AdamW moments, step, seeds) is a
 * separate file so checkpoints stay plain weights a PyTorch user can load.
 *
 *   RUN/checkpoints/step_000150.safetensors   weights after 150 updates
 *   RUN/resume/state.safetensors              latest resumable state (weights + m + v)
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { LanguageModel } from '../models/types.js';
import { createModel } from '../models/index.js';
import type { Arch } from '../models/types.js';
import { readSafetensors, SafetensorsFormatError, type SafetensorsFile, writeSafetensors } from '../util/safetensors.js';
import { readJson, sha256, sha256File } from '../util/files.js';
import { UserError } from '../util/errors.js';

export const checkpointName = (step: number): string => `step_${String(step).padStart(6, '0')}.safetensors`;

export interface CheckpointMeta {
  arch: Arch;
  step: number;
  seed: number;
  label: string;
  model: Record<string, number>;
  corpus_hash: string;
}

function weightTensors(model: LanguageModel) {
  const out: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  for (const [name, p] of model.params.params) out[name] = { dtype: 'F32', shape: [...p.shape], data: p.data };
  return out;
}

/** Writes the model's weights; returns the file's sha256. */
export function saveCheckpoint(path: string, model: LanguageModel, meta: CheckpointMeta): string {
  writeSafetensors(path, weightTensors(model), { format: 'pt', groundlab: JSON.stringify(meta) });
  return sha256File(path);
}

export function readCheckpointMeta(path: string): CheckpointMeta {
  const { metadata } = parseCheckpointFile(path, readFileSync(path));
  return checkpointMetaOf(path, metadata);
}

function checkpointMetaOf(path: string, metadata: Record<string, string> | undefined): CheckpointMeta {
  const raw = metadata?.groundlab;
  if (!raw) throw new UserError(`${path} is not a groundlab checkpoint (no "groundlab" metadata); import Hugging Face weights with "groundlab import"`);
  try {
    return JSON.parse(raw) as CheckpointMeta;
  } catch {
    throw new UserError(`${path}: its "groundlab" metadata is not valid JSON; the checkpoint is damaged: restore it or retrain the run`);
  }
}

/** Parses checkpoint bytes; a truncated or corrupt file is a user error naming it and what to do. */
function parseCheckpointFile(path: string, bytes: Uint8Array): SafetensorsFile {
  try {
    return readSafetensors(bytes);
  } catch (e) {
    if (e instanceof SafetensorsFormatError) throw new UserError(`${path} is damaged (${e.defect}); restore it from a copy, or delete it and retrain the run (the run's manifest.json records its sha256)`);
    throw e;
  }
}

/** What a checkpoint's sha256 is checked against: the run manifest's checkpoint list. */
export interface CheckpointRecords {
  checkpoints: { step: number; file: string; sha256: string }[];
}

/** sha256 per file, hashed once per process (re-hashed if size, mtime or inode change). */
const shaCache = new Map<string, { size: number; mtimeMs: number; ino: number; sha: string }>();

function cachedSha(path: string, bytes?: Uint8Array): string {
  const st = statSync(path);
  const hit = shaCache.get(path);
  if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs && hit.ino === st.ino) return hit.sha;
  const sha = sha256(bytes ?? readFileSync(path));
  shaCache.set(path, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, sha });
  return sha;
}

/** The run manifest beside a checkpoint (RUN/checkpoints/step_N.safetensors → RUN/manifest.json), if any. */
function manifestOf(path: string): { path: string; records: CheckpointRecords } | null {
  const p = join(dirname(dirname(path)), 'manifest.json');
  if (!existsSync(p)) return null;
  return { path: p, records: readJson<CheckpointRecords>(p) };
}

function checkSha(path: string, actual: string, records: CheckpointRecords | null | undefined, manifestPath: string): void {
  const rec = records?.checkpoints?.find((c) => basename(c.file) === basename(path));
  if (rec && rec.sha256 !== actual) {
    throw new UserError(
      `${path} has changed since it was written: sha256 ${actual.slice(0, 12)}… but ${manifestPath} records ${rec.sha256.slice(0, 12)}…; ` +
        `restore the file from a copy, or delete it and retrain the run (results computed from it are not reused)`,
    );
  }
}

/**
 * The checkpoint file's actual sha256, verified against the run manifest (given, or read from
 * RUN/manifest.json): a file changed after it was written is refused by name. Cached results are
 * keyed by this hash, so they can never outlive the bytes they came from.
 */
export function verifiedCheckpointSha(path: string, records?: CheckpointRecords | null): string {
  if (!existsSync(path)) throw new UserError(`checkpoint ${path} does not exist`);
  const m = records === undefined ? manifestOf(path) : records ? { path: join(dirname(dirname(path)), 'manifest.json'), records } : null;
  const sha = cachedSha(path);
  checkSha(path, sha, m?.records, m?.path ?? '');
  return sha;
}

/** Refuses weights that are not finite, naming the checkpoint, its step and the tensor. */
function checkFinite(path: string, step: number, tensors: SafetensorsFile['tensors']): void {
  for (const [name, t] of tensors) {
    const d = t.data;
    if (!(d instanceof Float32Array)) continue;
    for (let i = 0; i < d.length; i++) {
      if (!Number.isFinite(d[i]!)) {
        const what = Number.isNaN(d[i]!) ? 'NaN' : 'Inf';
        throw new UserError(`${path} (step ${step}) holds ${what} weights (tensor ${name}, element ${i}): the run diverged before this checkpoint; use an earlier checkpoint (--steps) or retrain with a lower --train.lr`);
      }
    }
  }
}

/**
 * Loads a checkpoint into a new model built from the config in its metadata. The bytes read are
 * the bytes hashed: verified against RUN/manifest.json when it lists the file; the hash is returned.
 */
export function loadCheckpoint(path: string, records?: CheckpointRecords | null): { model: LanguageModel; meta: CheckpointMeta; sha256: string } {
  if (!existsSync(path)) throw new UserError(`checkpoint ${path} does not exist`);
  const bytes = readFileSync(path);
  const sha = cachedSha(path, bytes);
  const m = records === undefined ? manifestOf(path) : records ? { path: join(dirname(dirname(path)), 'manifest.json'), records } : null;
  checkSha(path, sha, m?.records, m?.path ?? '');
  const { metadata, tensors } = parseCheckpointFile(path, bytes);
  const meta = checkpointMetaOf(path, metadata);
  checkFinite(path, meta.step, tensors);
  const model = createModel(meta.arch, meta.model);
  model.params.load(new Map([...tensors].map(([n, t]) => [n, { shape: t.shape, data: t.data as Float32Array }])));
  return { model, meta, sha256: sha };
}

/**
 * Checkpoint steps present in a run directory, ascending. Every checkpoint the run manifest lists
 * is verified against its recorded sha256 (hashed once per process): a changed file is refused by
 * name before any pipeline can reuse results cached for the original (pass verify: false to only list).
 */
export function listCheckpoints(runDir: string, opts: { verify?: boolean } = {}): { step: number; path: string }[] {
  const dir = join(runDir, 'checkpoints');
  if (!existsSync(dir)) return [];
  const list = readdirSync(dir)
    .map((f) => /^step_(\d+)\.safetensors$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ step: Number(m[1]), path: join(dir, m[0]) }))
    .sort((a, b) => a.step - b.step);
  if (opts.verify ?? true) {
    const manifestPath = join(runDir, 'manifest.json');
    const records = existsSync(manifestPath) ? readJson<CheckpointRecords>(manifestPath) : null;
    for (const c of list) {
      if (records?.checkpoints?.some((r) => basename(r.file) === basename(c.path))) checkSha(c.path, cachedSha(c.path), records, manifestPath);
    }
  }
  return list;
}

export interface ResumeState {
  step: number;
  adamStep: number;
  seed: number;
}

/** Checksum of a resume state's contents: every tensor's bytes and the counters, in a fixed order. */
function stateChecksum(params: Float32Array, m: Float32Array, v: Float32Array, stateJson: string): string {
  const h = createHash('sha256');
  for (const a of [params, m, v]) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  h.update(stateJson);
  return h.digest('hex');
}

/** Saves weights, AdamW moments and counters in one atomic file, with a checksum of them inside. */
export function saveResumeState(path: string, model: LanguageModel, m: Float32Array, v: Float32Array, state: ResumeState): void {
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {
    params: { dtype: 'F32', shape: [model.params.count], data: model.params.data },
    exp_avg: { dtype: 'F32', shape: [m.length], data: m },
    exp_avg_sq: { dtype: 'F32', shape: [v.length], data: v },
  };
  const stateJson = JSON.stringify(state);
  writeSafetensors(path, tensors, { format: 'pt', groundlab_resume: stateJson, groundlab_checksum: stateChecksum(model.params.data, m, v, stateJson) });
}

/**
 * Loads a resume state, verifying its checksum. A damaged state is refused by name (delete it to
 * restart the run from step 0: training is deterministic, so the checkpoints come out identical).
 * States written before the checksum existed are accepted with a warning.
 */
export function loadResumeState(path: string, model: LanguageModel, m: Float32Array, v: Float32Array, warn: (s: string) => void = (s) => process.stderr.write(s + '\n')): ResumeState {
  const restart = `delete ${path} to restart this run from step 0 (training is deterministic: the same checkpoints are written again)`;
  let file: SafetensorsFile;
  try {
    file = readSafetensors(path);
  } catch (e) {
    if (e instanceof SafetensorsFormatError) throw new UserError(`${path} is damaged (${e.defect}); ${restart}`);
    throw e;
  }
  const { metadata, tensors } = file;
  let state: ResumeState | null = null;
  try {
    state = JSON.parse(metadata?.groundlab_resume ?? 'null') as ResumeState | null;
  } catch {
    state = null;
  }
  if (!state) throw new UserError(`${path} is not a groundlab resume state (or its counters are damaged); ${restart}`);
  const get = (n: string, len: number) => {
    const t = tensors.get(n);
    if (!t || !(t.data instanceof Float32Array) || t.data.length !== len) throw new UserError(`${path}: ${n} is missing or has the wrong size (was the model config changed?); ${restart}`);
    return t.data;
  };
  const params = get('params', model.params.count);
  const em = get('exp_avg', m.length);
  const ev = get('exp_avg_sq', v.length);
  const recorded = metadata?.groundlab_checksum;
  if (recorded === undefined) {
    warn(`groundlab: warning: ${path} has no checksum (written by an older groundlab); resuming from it unverified`);
  } else if (recorded !== stateChecksum(params, em, ev, metadata!.groundlab_resume!)) {
    throw new UserError(`${path} is damaged: its contents do not match the checksum stored inside it; ${restart}`);
  }
  model.params.data.set(params);
  m.set(em);
  v.set(ev);
  return state;
}
