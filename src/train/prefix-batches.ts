/**
 * Training and evaluation batches of prefix corpora (data/prefix.ts, the image-grounded setting,
 * SPEC §7). A training sequence is one document with its image: the model input is the image's k
 * patch vectors (mapped to d_model by the model's trained prefix projection) followed by the
 * document's tokens; the loss covers the token positions only. `PrefixBatchSampler` draws documents
 * with a seeded Rng per step (batch k is a pure function of (seed, k), as for token batches), and
 * takes a seeded window when a document is longer than the context. No engine code here: the
 * trainer turns a batch into tensors (train/data.ts `modelInput`).
 */
import type { PrefixLookup } from '../data/images/features.js';
import { UserError } from '../util/errors.js';
import { deriveSeed, Rng } from '../util/rng.js';
import type { Batch } from './data.js';

/** The tokens of document d of a split: [start, end). */
function docSpan(tokens: Uint32Array, starts: Int32Array, d: number): [number, number] {
  return [starts[d]!, d + 1 < starts.length ? starts[d + 1]! : tokens.length];
}

interface Window {
  doc: number;
  from: number;
  /** Input tokens (targets are the next ones). */
  len: number;
}

/** Packs windows into a batch: prefix [B, k, dim], ids [B, seq] (padded), the real token rows and their targets. */
function packBatch(tokens: Uint32Array, windows: Window[], images: string[], store: PrefixLookup, padId: number, context: number): Batch {
  const B = windows.length;
  const { k, dim } = store;
  const longest = Math.max(...windows.map((w) => w.len));
  const seq = Math.min(context, Math.ceil(longest / 8) * 8);
  const ids = new Int32Array(B * seq).fill(padId);
  const prefix = new Float32Array(B * k * dim);
  let R = 0;
  for (const w of windows) R += w.len;
  const rows = new Int32Array(R);
  const targets = new Int32Array(R);
  let r = 0;
  windows.forEach((w, b) => {
    prefix.set(store.get(images[w.doc]!), b * k * dim);
    for (let t = 0; t < w.len; t++) {
      ids[b * seq + t] = tokens[w.from + t]!;
      rows[r] = b * (k + seq) + k + t;
      targets[r++] = tokens[w.from + t + 1]!;
    }
  });
  return { ids, targets, batch: B, seq, prefixValues: { data: prefix, k, dim }, rows };
}

/** Training batches of whole documents with their image prefixes (see the module comment). */
export class PrefixBatchSampler {
  private readonly starts: Int32Array;
  private readonly images: string[];

  constructor(
    private readonly tokens: Uint32Array,
    docs: { starts: Int32Array; images: string[] },
    private readonly store: PrefixLookup,
    readonly batchSize: number,
    readonly context: number,
    readonly seed: number,
    private readonly padId = 0,
  ) {
    this.starts = docs.starts;
    this.images = docs.images;
    const usable = [...this.starts.keys()].filter((d) => {
      const [a, b] = docSpan(tokens, this.starts, d);
      return b - a >= 2;
    });
    if (!usable.length) throw new UserError('the training split has no document with at least two tokens to train on');
  }

  batch(step: number): Batch {
    const rng = new Rng(deriveSeed(this.seed, 'prefix-batch', step));
    const windows: Window[] = [];
    while (windows.length < this.batchSize) {
      const d = rng.int(this.starts.length);
      const [a, b] = docSpan(this.tokens, this.starts, d);
      const n = b - a - 1; // input positions with a next token
      if (n < 1) continue;
      const len = Math.min(n, this.context);
      const from = a + (n > this.context ? rng.int(n - this.context + 1) : 0);
      windows.push({ doc: d, from, len });
    }
    return packBatch(this.tokens, windows, this.images, this.store, this.padId, this.context);
  }
}

/** Deterministic evaluation batches: up to `count` documents evenly spaced over the split, first window of each. */
export function prefixEvalBatches(tokens: Uint32Array, docs: { starts: Int32Array; images: string[] }, store: PrefixLookup, count: number, B: number, context: number, padId = 0): Batch[] {
  const nDocs = docs.starts.length;
  const chosen: number[] = [];
  const n = Math.min(count, nDocs);
  for (let i = 0; i < n; i++) chosen.push(n === 1 ? 0 : Math.floor((i * (nDocs - 1)) / (n - 1)));
  const windows: Window[] = [];
  for (const d of [...new Set(chosen)]) {
    const [a, b] = docSpan(tokens, docs.starts, d);
    const len = Math.min(b - a - 1, context);
    if (len >= 1) windows.push({ doc: d, from: a, len });
  }
  const out: Batch[] = [];
  for (let i = 0; i < windows.length; i += B) out.push(packBatch(tokens, windows.slice(i, i + B), docs.images, store, padId, context));
  return out;
}
