/**
 * Checkpoints: safetensors files with Hugging Face tensor names, the model config in the
 * metadata, written atomically (tmp + rename). Resume state (AdamW moments, step, seeds) is a
 * separate file so checkpoints stay plain weights a PyTorch user can load.
 *
 *   RUN/checkpoints/step_000150.safetensors   weights after 150 updates
 *   RUN/resume/state.safetensors              latest resumable state (weights + m + v)
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LanguageModel } from '../models/types.js';
import { createModel } from '../models/index.js';
import type { Arch } from '../models/types.js';
import { readSafetensors, writeSafetensors } from '../util/safetensors.js';
import { sha256File } from '../util/files.js';
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
  const { metadata } = readSafetensors(path);
  const raw = metadata?.groundlab;
  if (!raw) throw new UserError(`${path} is not a groundlab checkpoint (no "groundlab" metadata); import Hugging Face weights with "groundlab import"`);
  return JSON.parse(raw) as CheckpointMeta;
}

/** Loads a checkpoint into a new model built from the config in its metadata. */
export function loadCheckpoint(path: string): { model: LanguageModel; meta: CheckpointMeta } {
  if (!existsSync(path)) throw new UserError(`checkpoint ${path} does not exist`);
  const { metadata, tensors } = readSafetensors(path);
  const raw = metadata?.groundlab;
  if (!raw) throw new UserError(`${path} is not a groundlab checkpoint (no "groundlab" metadata)`);
  const meta = JSON.parse(raw) as CheckpointMeta;
  const model = createModel(meta.arch, meta.model);
  model.params.load(new Map([...tensors].map(([n, t]) => [n, { shape: t.shape, data: t.data as Float32Array }])));
  return { model, meta };
}

/** Checkpoint steps present in a run directory, ascending. */
export function listCheckpoints(runDir: string): { step: number; path: string }[] {
  const dir = join(runDir, 'checkpoints');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => /^step_(\d+)\.safetensors$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ step: Number(m[1]), path: join(dir, m[0]) }))
    .sort((a, b) => a.step - b.step);
}

export interface ResumeState {
  step: number;
  adamStep: number;
  seed: number;
}

/** Saves weights, AdamW moments and counters in one atomic file. */
export function saveResumeState(path: string, model: LanguageModel, m: Float32Array, v: Float32Array, state: ResumeState): void {
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {
    params: { dtype: 'F32', shape: [model.params.count], data: model.params.data },
    exp_avg: { dtype: 'F32', shape: [m.length], data: m },
    exp_avg_sq: { dtype: 'F32', shape: [v.length], data: v },
  };
  writeSafetensors(path, tensors, { format: 'pt', groundlab_resume: JSON.stringify(state) });
}

export function loadResumeState(path: string, model: LanguageModel, m: Float32Array, v: Float32Array): ResumeState {
  const { metadata, tensors } = readSafetensors(path);
  const state = JSON.parse(metadata?.groundlab_resume ?? 'null') as ResumeState | null;
  if (!state) throw new UserError(`${path} is not a groundlab resume state`);
  const get = (n: string, len: number) => {
    const t = tensors.get(n);
    if (!t || (t.data as Float32Array).length !== len) throw new UserError(`${path}: ${n} is missing or has the wrong size (was the model config changed?)`);
    return t.data as Float32Array;
  };
  model.params.data.set(get('params', model.params.count));
  m.set(get('exp_avg', m.length));
  v.set(get('exp_avg_sq', v.length));
  return state;
}
