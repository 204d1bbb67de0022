/**
 * Training batches from a corpus split. Batch k is a pure function of (seed, k): B windows of
 * T+1 tokens at offsets drawn by an Rng seeded with deriveSeed(seed, 'batch', k). So a resumed
 * run sees exactly the batches an uninterrupted one would, with no data-loader state to save.
 * Windows may span a <doc> boundary, as in nanoGPT; the <doc> token marks it for the model.
 */
import * as E from '../engine/index.js';
import type { ModelInput } from '../models/types.js';
import { Rng, deriveSeed } from '../util/rng.js';
import { UserError } from '../util/errors.js';

export interface Batch {
  ids: Int32Array;
  /** Next-token targets: one per position of ids, or one per entry of `rows` when given. */
  targets: Int32Array;
  batch: number;
  seq: number;
  /**
   * Continuous prefix (image-grounded corpora, see data/prefix.ts): row-major [batch, k, dim]
   * values placed before the tokens. The model sequence is then k + seq long.
   */
  prefixValues?: { data: Float32Array; k: number; dim: number };
  /** Rows of the flattened [batch × (k + seq)] positions whose next token is a target (padding and prefix excluded). */
  rows?: Int32Array;
}

/** Anything that yields training batch k deterministically. */
export interface BatchSource {
  batch(k: number): Batch;
}

/** The model input of a batch (the prefix tensor is created in the caller's tidy scope). */
export function modelInput(b: Batch): ModelInput {
  const input: ModelInput = { ids: b.ids, batch: b.batch, seq: b.seq };
  if (b.prefixValues) input.prefix = E.tensor(b.prefixValues.data, [b.batch, b.prefixValues.k, b.prefixValues.dim]);
  return input;
}

export class BatchSampler implements BatchSource {
  constructor(
    private readonly tokens: Uint32Array,
    readonly batchSize: number,
    readonly context: number,
    readonly seed: number,
  ) {
    if (tokens.length < context + 2) throw new UserError(`the training split has ${tokens.length} tokens, fewer than one window of context ${context} + 1`);
  }

  batch(k: number): Batch {
    const { batchSize: B, context: T, tokens } = this;
    const rng = new Rng(deriveSeed(this.seed, 'batch', k));
    const ids = new Int32Array(B * T);
    const targets = new Int32Array(B * T);
    const span = tokens.length - T - 1;
    for (let b = 0; b < B; b++) {
      const start = rng.int(span + 1);
      for (let t = 0; t < T; t++) {
        ids[b * T + t] = tokens[start + t]!;
        targets[b * T + t] = tokens[start + t + 1]!;
      }
    }
    return { ids, targets, batch: B, seq: T };
  }
}

/** Deterministic evaluation windows: `count` windows of T+1 tokens evenly spaced over the split, in batches of B. */
export function evalBatches(tokens: Uint32Array, count: number, B: number, T: number): Batch[] {
  const span = tokens.length - T - 1;
  if (span < 0) return [];
  const n = Math.max(1, Math.min(count, span + 1));
  const starts = Array.from({ length: n }, (_, i) => Math.floor((i * span) / Math.max(1, n - 1)));
  const out: Batch[] = [];
  for (let i = 0; i < starts.length; i += B) {
    const chunk = starts.slice(i, i + B);
    const ids = new Int32Array(chunk.length * T);
    const targets = new Int32Array(chunk.length * T);
    chunk.forEach((s, b) => {
      for (let t = 0; t < T; t++) {
        ids[b * T + t] = tokens[s + t]!;
        targets[b * T + t] = tokens[s + t + 1]!;
      }
    });
    out.push({ ids, targets, batch: chunk.length, seq: T });
  }
  return out;
}
