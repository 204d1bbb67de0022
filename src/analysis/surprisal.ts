/**
 * Batched surprisal of one target token after each of many contexts (SPEC §3):
 * s(w | c) = -ln p(w | c) in nats, read at the last real position of c.
 *
 * How the work is batched (one checkpoint's items go through the model in a few large forward
 * passes):
 *   1. sequences are bucketed by length rounded up to a multiple of `padMultiple` (default 4: a
 *      handful of batch shapes repeat across checkpoints, so the engine's buffer pool reuses their
 *      memory, and short contexts waste little on padding: about 15% on CHILDES items vs 35% at 8);
 *   2. each bucket is cut into batches of at most `batchTokens` tokens, right-padded with <pad>;
 *   3. one forward per batch under noGrad + tidy, unembedding only the last real position of each
 *      row (`logitRows`), then a per-row cross-entropy (reduction 'none') gives the surprisals.
 * Causal models never let a padded position influence an earlier one, so right padding is exact.
 *
 * Sequences are described by a `SequenceSource` that writes tokens straight into the batch buffer,
 * so a matched context and its M mismatched variants need no per-sequence arrays at all.
 */
import * as E from '../engine/index.js';
import type { EvalItem } from '../data/contract.js';
import type { LanguageModel } from '../models/types.js';
import type { PreparedItem } from './grounding.js';

/** Sequences to score, written on demand into a batch buffer. */
export interface SequenceSource {
  readonly count: number;
  /** Token count of sequence i (≥ 1). */
  length(i: number): number;
  /** Writes sequence i's tokens into dst[offset .. offset + length(i)). */
  write(i: number, dst: Int32Array, offset: number): void;
  /** The token whose surprisal is read after sequence i. */
  target(i: number): number;
  /**
   * Continuous prefix placed before every sequence's tokens (image-grounded items): k vectors of
   * `dim` values; write(i, ...) puts sequence i's [k × dim] values at dst[offset ..].
   */
  prefix?: { k: number; dim: number; write(i: number, dst: Float32Array, offset: number): void };
}

export interface SurprisalOptions {
  /** Padding token id (the corpus's <pad>, id 0). */
  padId?: number;
  /** Tokens per forward pass (batch × padded length). Default: from the model's size, see defaultBatchTokens. */
  batchTokens?: number;
  /** Padded lengths are rounded up to a multiple of this (default 4). */
  padMultiple?: number;
  /** Called after each batch with the number of sequences done so far. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Tokens per batch for a model: about 256 MiB of activations, estimated at 24·d floats per token
 * and layer (residual, q/k/v, MLP, norms) plus the attention rows; between 512 and 16,384 tokens.
 */
export function defaultBatchTokens(model: LanguageModel, maxLen = 128): number {
  const perToken = model.nLayers * (24 * model.dModel + 3 * Math.max(1, model.nHeads) * maxLen) + 2 * model.dModel;
  const budget = (256 * 2 ** 20) / 4;
  return Math.max(512, Math.min(16384, Math.floor(budget / perToken)));
}

/** Padded length of a sequence of length L: the next multiple of `mult` (default 4). */
export function paddedLength(L: number, mult = 4): number {
  return Math.ceil(L / mult) * mult;
}

/**
 * Surprisal (nats) of src.target(i) after sequence i, for every i, in input order.
 * Lengths above the model's context are the caller's job (see grounding.ts, which truncates on the left).
 */
export function batchedSurprisal(model: LanguageModel, src: SequenceSource, opts: SurprisalOptions = {}): Float64Array {
  const n = src.count;
  const out = new Float64Array(n);
  if (n === 0) return out;
  const padId = opts.padId ?? 0;
  const mult = opts.padMultiple === undefined ? undefined : Math.max(1, opts.padMultiple);
  let maxLen = 0;
  const lengths = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const L = src.length(i);
    if (!(L >= 1)) throw new Error(`batchedSurprisal: sequence ${i} is empty (a context needs at least one token)`);
    lengths[i] = L;
    if (L > maxLen) maxLen = L;
  }
  const k = src.prefix?.k ?? 0;
  const budget = Math.max(1, opts.batchTokens ?? defaultBatchTokens(model, maxLen + k));
  // Sort by length (stable: ties keep input order), then bucket by padded length.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  let done = 0;
  let start = 0;
  while (start < n) {
    const T = paddedLength(lengths[order[start]!]!, mult);
    let end = start;
    while (end < n && paddedLength(lengths[order[end]!]!, mult) === T) end++;
    const B = Math.max(1, Math.floor(budget / (T + k)));
    for (let b0 = start; b0 < end; b0 += B) {
      const rows = Math.min(B, end - b0);
      const ids = new Int32Array(rows * T).fill(padId);
      const logitRows = new Int32Array(rows);
      const targets = new Int32Array(rows);
      const prefix = src.prefix ? new Float32Array(rows * k * src.prefix.dim) : null;
      for (let r = 0; r < rows; r++) {
        const i = order[b0 + r]!;
        src.write(i, ids, r * T);
        if (prefix) src.prefix!.write(i, prefix, r * k * src.prefix!.dim);
        logitRows[r] = r * (T + k) + k + lengths[i]! - 1; // the model sequence is prefix (k) + tokens (T)
        targets[r] = src.target(i);
      }
      E.noGrad(() =>
        E.tidy(() => {
          const input = { ids, batch: rows, seq: T, prefix: prefix ? E.tensor(prefix, [rows, k, src.prefix!.dim]) : undefined };
          const logits = model.forward(input, { logitRows }); // (rows, V)
          const s = E.crossEntropy(logits, targets, { reduction: 'none' }); // (rows,) nats
          const d = s.data;
          for (let r = 0; r < rows; r++) out[order[b0 + r]!] = d[r]!;
        }),
      );
      done += rows;
      opts.onProgress?.(done, n);
    }
    start = end;
  }
  return out;
}

/** Convenience: surprisal of targets[i] after contexts[i] (allocates one source over the arrays). */
export function surprisalOf(model: LanguageModel, contexts: ArrayLike<number>[], targets: ArrayLike<number>, opts: SurprisalOptions = {}): Float64Array {
  if (contexts.length !== targets.length) throw new Error(`surprisalOf: ${contexts.length} contexts but ${targets.length} targets`);
  return batchedSurprisal(
    model,
    {
      count: contexts.length,
      length: (i) => contexts[i]!.length,
      write: (i, dst, off) => {
        const c = contexts[i]!;
        for (let k = 0; k < c.length; k++) dst[off + k] = c[k]!;
      },
      target: (i) => targets[i]!,
    },
    opts,
  );
}

export interface ItemResult {
  item: EvalItem;
  /** s(v<LAN> | matched context), nats. */
  matched: number;
  /** s(v<LAN> | context with u<ENV>), nats, one per item.mismatches entry (same order). */
  mismatched: Float64Array;
}

/**
 * The continuous prefix of image-grounded items (visual dialog): an image id → its [k × dim] values.
 * Items with `prefix` use the matched image; their mismatches replace it with another image.
 */
export interface PrefixSource {
  readonly k: number;
  readonly dim: number;
  get(image: string): Float32Array;
}

/**
 * Surprisal of each item's target in its matched context and in each mismatched context, in one
 * batched pass over all 1 + M variants of all items (see surprisal.ts). A mismatch is a swap of the
 * item's `swap` positions by u<ENV>, a whole context (`mismatchContexts`), or another image's prefix
 * (items with `prefix`, which need `opts.prefixes`).
 */
export function evaluateItems(model: LanguageModel, prepared: readonly PreparedItem[], opts: SurprisalOptions & { prefixes?: PrefixSource } = {}): ItemResult[] {
  const withPrefix = prepared.filter((p) => p.item.prefix !== undefined).length;
  if (withPrefix && withPrefix !== prepared.length) {
    // Prefixed and plain items need different model inputs: evaluate them separately, keep the order.
    const pre = evaluateItems(model, prepared.filter((p) => p.item.prefix !== undefined), opts);
    const plain = evaluateItems(model, prepared.filter((p) => p.item.prefix === undefined), opts);
    let a = 0;
    let b = 0;
    return prepared.map((p) => (p.item.prefix !== undefined ? pre[a++]! : plain[b++]!));
  }
  if (withPrefix && !opts.prefixes) throw new Error('evaluateItems: image-grounded items need opts.prefixes (the corpus features)');
  const prefixes = withPrefix ? opts.prefixes! : null;
  let total = 0;
  for (const p of prepared) total += 1 + p.item.mismatches.length;
  const seqItem = new Int32Array(total);
  const seqVariant = new Int32Array(total); // 0: matched, k ≥ 1: mismatch k-1
  let s = 0;
  prepared.forEach((p, k) => {
    for (let v = 0; v <= p.item.mismatches.length; v++, s++) {
      seqItem[s] = k;
      seqVariant[s] = v;
    }
  });
  const surprisal = batchedSurprisal(
    model,
    {
      count: total,
      length: (i) => {
        const p = prepared[seqItem[i]!]!;
        const v = seqVariant[i]!;
        return (v > 0 && p.mismatchContexts ? p.mismatchContexts[v - 1]! : p.context).length;
      },
      write: (i, dst, off) => {
        const p = prepared[seqItem[i]!]!;
        const v = seqVariant[i]!;
        if (v > 0 && p.mismatchContexts) {
          dst.set(p.mismatchContexts[v - 1]!, off);
          return;
        }
        dst.set(p.context, off);
        if (v > 0) {
          const env = p.item.mismatches[v - 1]!.env_id;
          for (let j = 0; j < p.swap.length; j++) dst[off + p.swap[j]!] = env;
        }
      },
      target: (i) => prepared[seqItem[i]!]!.item.target,
      prefix: prefixes
        ? {
            k: prefixes.k,
            dim: prefixes.dim,
            write: (i, dst, off) => {
              const p = prepared[seqItem[i]!]!;
              const v = seqVariant[i]!;
              dst.set(prefixes.get(v > 0 ? p.item.mismatches[v - 1]!.prefix! : p.item.prefix!), off);
            },
          }
        : undefined,
    },
    opts,
  );
  const results: ItemResult[] = [];
  s = 0;
  for (const p of prepared) {
    const M = p.item.mismatches.length;
    results.push({ item: p.item, matched: surprisal[s]!, mismatched: surprisal.slice(s + 1, s + 1 + M) });
    s += 1 + M;
  }
  return results;
}
