/**
 * Padded batching of evaluation items (a context and the target that follows it), shared by the
 * passes that read one prediction per item: head ablation (heads.ts), the lenses (lens.ts) and
 * saliency (saliency.ts).
 *
 * Items are sorted by context length (stably), so that a batch has little padding, and cut into
 * batches of at most `batchSize` items, each right-padded with `padId` to its longest context.
 * A batch says which items it holds, so results are written back by item index.
 */

export interface ContextItem {
  /** Token ids of the context; the prediction position is the last one. */
  context: ArrayLike<number>;
  target: number;
}

export interface PaddedBatch {
  /** The item indices of the batch's rows: row b is items[idx[b]]. */
  idx: number[];
  /** Token ids, row-major [batch, seq], right-padded. */
  ids: Int32Array;
  batch: number;
  /** The longest context of the batch. */
  seq: number;
  /** Per row b, the flat position b·seq + n_b − 1 of its item's last context token (for `logitRows`). */
  lastRows: Int32Array;
  /** Per row, its item's target. */
  targets: Int32Array;
}

/** The items in right-padded batches of at most `batchSize`, shortest contexts first (built on demand). */
export function* paddedBatches(items: readonly ContextItem[], batchSize: number, padId = 0): Generator<PaddedBatch> {
  const order = items.map((_, i) => i).sort((a, b) => items[a]!.context.length - items[b]!.context.length);
  for (let s = 0; s < order.length; s += batchSize) {
    const idx = order.slice(s, s + batchSize);
    const B = idx.length;
    const T = Math.max(...idx.map((i) => items[i]!.context.length));
    const ids = new Int32Array(B * T).fill(padId);
    const lastRows = new Int32Array(B);
    const targets = new Int32Array(B);
    idx.forEach((i, b) => {
      const it = items[i]!;
      for (let t = 0; t < it.context.length; t++) ids[b * T + t] = it.context[t]!;
      lastRows[b] = b * T + it.context.length - 1;
      targets[b] = it.target;
    });
    yield { idx, ids, batch: B, seq: T, lastRows, targets };
  }
}
