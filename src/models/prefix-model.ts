/**
 * Mechanistic analyses on image-grounded sequences (SPEC §6 on the setting of §7) without a second
 * code path: the saliency (analysis/saliency.ts) and head-ablation (analysis/heads.ts) functions
 * take token contexts, so an image-grounded item is written as a token context whose first k
 * positions hold a *pointer token* naming its image (id = vocabulary size + image index). This
 * wrapper model replaces the pointers by the image's features, given to the wrapped model as its
 * continuous prefix; the model sequence is then exactly the pointer context (k prefix positions +
 * tokens), so positions, attention patterns, hook shapes and logit rows all line up, and the ENV
 * positions are 0..k-1.
 */
import type { ForwardOptions, LanguageModel, ModelInput } from './types.js';
import * as E from '../engine/index.js';
import type { PrefixLookup } from '../data/images/features.js';

export class PrefixPointerModel implements LanguageModel {
  private readonly index = new Map<string, number>();
  private readonly images: string[] = [];

  constructor(
    readonly inner: LanguageModel,
    readonly store: PrefixLookup,
  ) {}

  get arch() {
    return this.inner.arch;
  }
  get config() {
    return this.inner.config;
  }
  get params() {
    return this.inner.params;
  }
  get hooks() {
    return this.inner.hooks;
  }
  get nLayers() {
    return this.inner.nLayers;
  }
  get nHeads() {
    return this.inner.nHeads;
  }
  get dModel() {
    return this.inner.dModel;
  }
  get vocabSize() {
    return this.inner.vocabSize;
  }
  unembedding() {
    return this.inner.unembedding();
  }
  hfConfig() {
    return this.inner.hfConfig();
  }
  readout(...a: Parameters<LanguageModel['readout']>) {
    return this.inner.readout(...a);
  }
  finalNorm() {
    return this.inner.finalNorm();
  }

  /** Positions of the prefix in a pointer context: the ENV positions of image-grounded items. */
  envPositions(): number[] {
    return Array.from({ length: this.store.k }, (_, i) => i);
  }

  /** The token context [pointer × k, ...tokens] standing for `image`'s prefix followed by `tokens`. */
  pointerContext(image: string, tokens: ArrayLike<number>): number[] {
    if (!this.store.has(image)) throw new Error(`no features for image "${image}"`);
    let i = this.index.get(image);
    if (i === undefined) {
      i = this.images.length;
      this.images.push(image);
      this.index.set(image, i);
    }
    const ptr = this.inner.vocabSize + i;
    return [...new Array<number>(this.store.k).fill(ptr), ...Array.from(tokens)];
  }

  forward(input: ModelInput, opts?: ForwardOptions): E.Tensor {
    if (input.prefix) return this.inner.forward(input, opts);
    const { ids, batch: B, seq: T } = input;
    const { k, dim } = this.store;
    const V = this.inner.vocabSize;
    if (T <= k || ids[0]! < V) return this.inner.forward(input, opts); // plain token contexts pass through
    const prefix = new Float32Array(B * k * dim);
    const rest = new Int32Array(B * (T - k));
    for (let b = 0; b < B; b++) {
      const ptr = ids[b * T]!;
      const image = this.images[ptr - V];
      if (image === undefined) throw new Error(`PrefixPointerModel: row ${b} does not start with a pointer token`);
      for (let j = 1; j < k; j++) if (ids[b * T + j] !== ptr) throw new Error(`PrefixPointerModel: row ${b} has ${j} pointer positions, expected ${k}`);
      prefix.set(this.store.get(image), b * k * dim);
      rest.set(ids.subarray(b * T + k, (b + 1) * T), b * (T - k));
    }
    return this.inner.forward({ ids: rest, batch: B, seq: T - k, prefix: E.tensor(prefix, [B, k, dim]) }, opts);
  }
}
