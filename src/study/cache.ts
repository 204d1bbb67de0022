/**
 * The per-checkpoint cache of a stage: one JSON part per (stage, checkpoint step) under a
 * directory, holding the result with the key it was computed under (options, corpus and items
 * hashes) and the checkpoint's sha256. A part counts only when both match, so changed options or
 * a retrained checkpoint recompute; a torn or foreign file is recomputed too.
 *
 *   DIR/<stage>/step_NNNNNN.json   { key, checkpoint_sha256, seconds, computed_at, result }
 *
 * Used by the mechanistic suite (RUN/mechanistic/parts/). The grounding evaluation keeps its own
 * resumable layout (rows appended to its CSVs, done steps in grounding_manifest.json): moving it
 * onto parts would change the files it writes.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDir, readJson, writeJson } from '../util/files.js';

export interface Part<R> {
  key: unknown;
  checkpoint_sha256: string;
  seconds: number;
  computed_at: string;
  result: R;
}

export const stepName = (step: number) => `step_${String(step).padStart(6, '0')}`;

export class CheckpointCache {
  constructor(readonly dir: string) {}

  path(stage: string, step: number): string {
    return join(this.dir, stage, `${stepName(step)}.json`);
  }

  /** The part of (stage, step) when it was computed under `key` from the checkpoint with hash `sha`; else null. */
  read<R>(stage: string, step: number, key: unknown, sha: string): Part<R> | null {
    const path = this.path(stage, step);
    if (!existsSync(path)) return null;
    try {
      const p = readJson<Part<R>>(path);
      return JSON.stringify(p.key) === JSON.stringify(key) && p.checkpoint_sha256 === sha ? p : null;
    } catch {
      return null; // a torn or foreign file: recompute
    }
  }

  /** Writes (atomically) and returns the part of (stage, step). */
  write<R>(stage: string, step: number, key: unknown, sha: string, seconds: number, result: R): Part<R> {
    const part: Part<R> = { key, checkpoint_sha256: sha, seconds, computed_at: new Date().toISOString(), result };
    ensureDir(join(this.dir, stage));
    writeJson(this.path(stage, step), part);
    return part;
  }
}
