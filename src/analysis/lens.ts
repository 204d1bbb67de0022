/**
 * Logit lens and tuned lens (Belrose et al. 2023, SPEC §6): read the residual stream after each
 * block as a next-token distribution.
 *
 *   logit lens   q_l = softmax( readout(h_l) )                       (the model's own final norm + unembedding)
 *   tuned lens   q_l = softmax( readout(A_l h_l + b_l ; fresh norm_l) )
 *
 * A_l, b_l (an affine map d→d, initialised to the identity) and the fresh norm (initialised
 * from a copy of the final norm) are trained per layer to minimise KL(p_final ‖ q_l) on training
 * sequences, with the base model frozen. The last layer's lens stays the identity: there the
 * residual stream is the model's output and the logit lens is exact (as in tuned-lens, which has
 * no translator for the final layer). Each lens file records the sha256 of the unembedding
 * it was trained against and refuses to load against another (tuned-lens's unembed_hash).
 */
import * as E from '../engine/index.js';
import { ParamStore, type ParamSpec } from '../engine/index.js';
import type { LanguageModel } from '../models/types.js';
import { AdamW } from '../train/optim.js';
import { BatchSampler, evalBatches } from '../train/data.js';
import { learningRate } from '../train/schedule.js';
import { UserError } from '../util/errors.js';
import { sha256 } from '../util/files.js';
import { Progress } from '../util/progress.js';
import { Rng, deriveSeed } from '../util/rng.js';
import { readSafetensors, writeSafetensors } from '../util/safetensors.js';
import { type ContextItem, paddedBatches } from './batches.js';

export interface LensTrainConfig {
  /** AdamW updates (linear warm-up, then linear decay to 0). */
  steps: number;
  /** Training sequences per update. */
  batchSize: number;
  /** Tokens per training sequence. */
  context: number;
  lr: number;
  warmup: number;
  /** Seed of the batch sampler (and of the position subsample). */
  seed: number;
  /**
   * Positions per update that enter the KL (a seeded uniform subsample of the batch's
   * batchSize × context positions; 0 or absent: all of them). The base model still runs on whole
   * sequences; only the lens read-outs, the costly [rows × V] part, are subsampled.
   */
  rows?: number;
  /**
   * Early stopping (issue 14): every `evalEvery` updates the validation KL(final ‖ lens) summed over
   * the trained layers is measured on held-out windows; training stops when it has not improved by
   * a relative `minDelta` for `patience` evaluations in a row (a plateau), or at `steps` (the cap).
   * Absent or 0: a fixed budget of `steps` updates (the behaviour before issue 14).
   */
  patience?: number;
  evalEvery?: number;
  /** Relative improvement that counts (default 0.01 = 1%). */
  minDelta?: number;
  /**
   * Absolute improvement (nats per position) below which no gain counts, whatever minDelta says
   * (default 1e-3): a lens already within a thousandth of a nat of the model's output has converged
   * even if its KL still halves.
   */
  minDeltaAbs?: number;
  /** Validation windows per evaluation (default 8, context min(64, context)). */
  valWindows?: number;
}

/** Per-layer convergence of a lens trained with early stopping. */
export interface LensFit {
  /** Updates actually made. */
  stepsRun: number;
  stopReason: 'plateau' | 'cap' | 'fixed budget';
  /** Validation KL per layer at each evaluation (step, kl[]). */
  history: { step: number; kl: number[] }[];
  /**
   * Per layer: the layer's own validation KL improved by less than minDelta (relative) over the
   * last `patience` evaluations. The identity last layer is exact and counts as converged; without
   * early stopping nothing is known and every entry is null.
   */
  converged: (boolean | null)[];
}

export const defaultLensConfig: LensTrainConfig = { steps: 300, batchSize: 8, context: 128, lr: 5e-4, warmup: 50, seed: 1, rows: 0 };

/** sha256 of the unembedding matrix's bytes: what a lens was trained against. */
export function unembedHash(model: LanguageModel): string {
  const w = model.unembedding().data;
  return sha256(new Uint8Array(w.buffer, w.byteOffset, w.byteLength));
}

export class TunedLens {
  readonly params: ParamStore;

  constructor(
    readonly nLayers: number,
    readonly d: number,
    readonly hasBias: boolean,
    readonly unembedSha256: string,
    readonly config: LensTrainConfig,
  ) {
    const specs: ParamSpec[] = [];
    for (let l = 0; l < nLayers; l++) {
      specs.push({ name: `layers.${l}.translator.weight`, shape: [d, d], init: { kind: 'custom', fill: (w) => identity(w, d) }, decay: false });
      specs.push({ name: `layers.${l}.translator.bias`, shape: [d], init: { kind: 'const', value: 0 }, decay: false });
      specs.push({ name: `layers.${l}.norm.weight`, shape: [d], init: { kind: 'const', value: 1 }, decay: false });
      if (hasBias) specs.push({ name: `layers.${l}.norm.bias`, shape: [d], init: { kind: 'const', value: 0 }, decay: false });
    }
    this.params = new ParamStore(specs);
  }

  /** For a model: translators at identity, fresh norms copied from the model's final norm. */
  static forModel(model: LanguageModel, config: LensTrainConfig = defaultLensConfig): TunedLens {
    const fn = model.finalNorm();
    const lens = new TunedLens(model.nLayers, model.dModel, Boolean(fn.bias), unembedHash(model), config);
    lens.params.initialize(new Rng(0)); // deterministic: identity translators, zero biases
    for (let l = 0; l < model.nLayers; l++) {
      lens.params.get(`layers.${l}.norm.weight`).data.set(fn.weight.data);
      if (fn.bias) lens.params.get(`layers.${l}.norm.bias`).data.set(fn.bias.data);
    }
    return lens;
  }

  /** Lens logits for residual vectors h [..., d] read after block l. */
  logits(model: LanguageModel, l: number, h: E.Tensor): E.Tensor {
    const p = (n: string) => this.params.get(`layers.${l}.${n}`);
    const t = E.linear(h, p('translator.weight'), p('translator.bias')); // (..., d)
    return model.readout(t, { weight: p('norm.weight'), bias: this.hasBias ? p('norm.bias') : undefined }); // (..., V)
  }

  save(path: string, extra: Record<string, string> = {}): void {
    const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
    for (const [n, t] of this.params.params) tensors[n] = { dtype: 'F32', shape: [...t.shape], data: t.data };
    writeSafetensors(path, tensors, { ...extra, groundlab_lens: JSON.stringify({ nLayers: this.nLayers, d: this.d, hasBias: this.hasBias, unembed_sha256: this.unembedSha256, config: this.config }) });
  }

  static load(path: string, model: LanguageModel): TunedLens {
    const { metadata, tensors } = readSafetensors(path);
    const meta = JSON.parse(metadata.groundlab_lens ?? 'null') as { nLayers: number; d: number; hasBias: boolean; unembed_sha256: string; config: LensTrainConfig } | null;
    if (!meta) throw new UserError(`${path} is not a groundlab tuned lens`);
    const hash = unembedHash(model);
    if (meta.unembed_sha256 !== hash) throw new UserError(`${path} was trained against another unembedding (sha256 ${meta.unembed_sha256.slice(0, 12)}…, model has ${hash.slice(0, 12)}…): retrain the lens for this checkpoint`);
    const lens = new TunedLens(meta.nLayers, meta.d, meta.hasBias, meta.unembed_sha256, meta.config);
    lens.params.load(new Map([...tensors].map(([n, t]) => [n, { shape: t.shape, data: t.data as Float32Array }])));
    return lens;
  }
}

/** k distinct positions of 0..n-1, sorted (seeded partial Fisher-Yates). */
function sampleRows(n: number, k: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  const all = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const t = all[i]!;
    all[i] = all[j]!;
    all[j] = t;
  }
  return all.subarray(0, k).sort();
}

function identity(w: Float32Array, d: number): void {
  w.fill(0);
  for (let i = 0; i < d; i++) w[i * d + i] = 1;
}

/** Residual stream after every block ([B, T, d] each), captured during one forward pass. */
export function residualHookNames(model: LanguageModel): string[] {
  return Array.from({ length: model.nLayers }, (_, l) => model.hooks.residPost.at(l));
}

/**
 * Trains the tuned lens of every layer on training sequences (base model frozen). Returns the
 * lens and the mean KL(final ‖ lens) per layer at the start and the end of training.
 */
export function trainTunedLens(model: LanguageModel, trainTokens: Uint32Array, config: LensTrainConfig = defaultLensConfig, opts: { quiet?: boolean; label?: string; valTokens?: Uint32Array } = {}) {
  const lens = TunedLens.forModel(model, config);
  const L = model.nLayers;
  const opt = new AdamW(lens.params, { lr: config.lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
  const sampler = new BatchSampler(trainTokens, config.batchSize, config.context, config.seed);
  const schedule = { lr: config.lr, warmup: config.warmup, steps: config.steps, decay: 'linear' as const, minRatio: 0 };
  const names = residualHookNames(model);
  const wasTrainable = [...model.params.params.values()].map((p) => p.requiresGrad);
  model.params.setRequiresGrad(false);
  const klFirst: number[] = [];
  let klLast: number[] = [];
  const bar = new Progress({ total: config.steps, label: opts.label ?? 'tuned lens', unit: 'steps', quiet: opts.quiet });
  const total = config.batchSize * config.context;
  const nRows = config.rows && config.rows > 0 && config.rows < total ? config.rows : total;
  const early = (config.patience ?? 0) > 0 && opts.valTokens !== undefined && opts.valTokens.length > 4;
  const evalEvery = Math.max(1, config.evalEvery ?? 25);
  const minDelta = config.minDelta ?? 0.01;
  const minDeltaAbs = config.minDeltaAbs ?? 1e-3;
  const patience = config.patience ?? 0;
  const valCtx = Math.min(64, config.context);
  const history: { step: number; kl: number[] }[] = [];
  const trained = (kl: number[]) => kl.slice(0, L > 1 ? L - 1 : L).reduce((a, b) => a + b, 0);
  let best = Infinity;
  let stale = 0;
  let stepsRun = 0;
  let stopReason: LensFit['stopReason'] = early ? 'cap' : 'fixed budget';
  const validate = (step: number) => {
    const kl = lensKL(model, lens, opts.valTokens!, { windows: config.valWindows ?? 8, context: valCtx });
    history.push({ step, kl });
    const total = trained(kl);
    if (best === Infinity || best - total > Math.max(minDelta * best, minDeltaAbs)) {
      best = total;
      stale = 0;
    } else stale++;
  };
  try {
    if (early) validate(0);
    for (let step = 0; step < config.steps; step++) {
      const batch = sampler.batch(step);
      const rows = nRows < total ? sampleRows(total, nRows, deriveSeed(config.seed, 'lens-rows', step)) : undefined;
      lens.params.zeroGrad();
      const kl = E.tidy(() => {
        const res = new Map<number, E.Tensor>();
        const logP = E.noGrad(() =>
          E.withHooks(
            names.map((n, l) => ({ name: n, forward: (t: E.Tensor) => void res.set(l, t) })),
            () => E.logSoftmax(model.forward(batch, rows ? { logitRows: rows } : {})), // (R, V) or (B, T, V)
          ),
        );
        const P = E.exp(logP); // target distribution, constant
        const entropy = -E.noGrad(() => E.sum(E.mul(P, logP)).item()) / nRows;
        const perLayer: number[] = [];
        let sum: E.Tensor | null = null;
        for (let l = 0; l < L; l++) {
          const r = res.get(l)!; // (B, T, d)
          const h = rows ? E.embedding(E.reshape(r, [total, model.dModel]), rows) : r; // (R, d) or (B, T, d)
          const logQ = E.logSoftmax(lens.logits(model, l, h)); // (R, V) or (B, T, V)
          const xent = E.scale(E.sum(E.mul(P, logQ)), -1 / nRows); // -Σ p log q per position
          perLayer.push(xent.item() - entropy); // KL = cross-entropy - H(p)
          // The last layer's identity lens is the model's own output (KL 0): it is not trained, since
          // Adam would turn the rounding noise of a zero gradient into drift.
          if (l < L - 1 || L === 1) sum = sum ? E.add(sum, xent) : xent;
        }
        E.backward(sum!);
        return perLayer;
      });
      if (step === 0) klFirst.push(...kl);
      klLast = kl;
      if (kl.some((v) => !Number.isFinite(v))) throw new Error(`tuned lens training diverged at step ${step} (KL ${kl.join(', ')})`);
      opt.update(learningRate(schedule, step));
      stepsRun = step + 1;
      bar.update(step + 1, `KL(last layer) ${kl[L - 1]!.toFixed(3)} · KL(layer 1) ${kl[0]!.toFixed(3)}`);
      if (early && stepsRun % evalEvery === 0) {
        validate(stepsRun);
        if (stale >= patience) {
          stopReason = 'plateau';
          break;
        }
      }
    }
    if (early && history[history.length - 1]!.step !== stepsRun) validate(stepsRun);
  } finally {
    let i = 0;
    for (const p of model.params.params.values()) p.requiresGrad = wasTrainable[i++]!;
  }
  bar.done();
  const fit: LensFit = { stepsRun, stopReason, history, converged: layerConvergence(history, L, patience, minDelta, early, minDeltaAbs) };
  return { lens, klFirst, klLast, fit };
}

/**
 * A layer converged when its validation KL over the last `patience` evaluations improved by no more
 * than minDelta relative to where that window started, or than minDeltaAbs nats (a per-layer plateau). Fewer evaluations than
 * patience + 1: not converged. The last layer (identity lens, exact) always counts as converged.
 */
export function layerConvergence(history: readonly { step: number; kl: number[] }[], L: number, patience: number, minDelta: number, early = true, minDeltaAbs = 0): (boolean | null)[] {
  return Array.from({ length: L }, (_, l) => {
    if (l === L - 1 && L > 1) return true;
    if (!early) return null;
    if (history.length < patience + 1) return false;
    const start = history[history.length - 1 - patience]!.kl[l]!;
    const end = history[history.length - 1]!.kl[l]!;
    return start - end <= Math.max(minDelta * start, minDeltaAbs);
  });
}

export type LensItem = ContextItem;

/**
 * Surprisal (nats) of each item's target at the last position, read through the lens of every
 * layer: result[l][i]. `lens` null = logit lens. Layer L-1's logit lens is the model's output.
 */
export function lensSurprisal(model: LanguageModel, lens: TunedLens | null, items: readonly LensItem[], opts: { batchSize?: number; padId?: number } = {}): Float64Array[] {
  const L = model.nLayers;
  const out = Array.from({ length: L }, () => new Float64Array(items.length));
  const names = residualHookNames(model);
  E.noGrad(() => {
    for (const batch of paddedBatches(items, opts.batchSize ?? 64, opts.padId)) {
      E.tidy(() => {
        const res = new Map<number, E.Tensor>();
        E.withHooks(
          names.map((n, l) => ({ name: n, forward: (t: E.Tensor) => void res.set(l, t) })),
          () => model.forward(batch, { logitRows: batch.lastRows }),
        );
        for (let l = 0; l < L; l++) {
          const h = E.embedding(E.reshape(res.get(l)!, [batch.batch * batch.seq, model.dModel]), batch.lastRows); // (B, d) at the prediction positions
          const logits = lens ? lens.logits(model, l, h) : model.readout(h);
          const s = E.crossEntropy(logits, batch.targets, { reduction: 'none' });
          batch.idx.forEach((i, b) => (out[l]![i] = s.data[b]!));
        }
      });
    }
  });
  return out;
}

/**
 * Mean KL(final ‖ lens) per layer (nats per position) over held-out windows of `tokens` (the
 * validation split): how well each layer's lens (null: the logit lens) predicts the model's own
 * output distribution. Windows are evenly spaced, as in the trainer's validation loss.
 */
export function lensKL(model: LanguageModel, lens: TunedLens | null, tokens: Uint32Array, opts: { windows?: number; context?: number; batchSize?: number } = {}): number[] {
  const L = model.nLayers;
  const T = Math.min(opts.context ?? 64, tokens.length - 2);
  const batches = evalBatches(tokens, opts.windows ?? 16, opts.batchSize ?? 8, T);
  const names = residualHookNames(model);
  const acc = new Float64Array(L);
  let positions = 0;
  E.noGrad(() => {
    for (const batch of batches) {
      E.tidy(() => {
        const res = new Map<number, E.Tensor>();
        const logP = E.withHooks(
          names.map((n, l) => ({ name: n, forward: (t: E.Tensor) => void res.set(l, t) })),
          () => E.logSoftmax(model.forward(batch)), // (B, T, V)
        );
        const P = E.exp(logP);
        const negH = E.sum(E.mul(P, logP)).item(); // Σ p log p
        for (let l = 0; l < L; l++) {
          const h = res.get(l)!;
          const logQ = E.logSoftmax(lens ? lens.logits(model, l, h) : model.readout(h)); // (B, T, V)
          acc[l]! += negH - E.sum(E.mul(P, logQ)).item(); // Σ p (log p − log q)
        }
        positions += batch.batch * batch.seq;
      });
    }
  });
  return Array.from(acc, (v) => v / Math.max(1, positions));
}
