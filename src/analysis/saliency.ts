/**
 * Attention saliency (Wang et al. 2023, "Label words are anchors", SPEC §6), read from the
 * models' own hook points: no second implementation of attention.
 *
 * For a matched context c ending right before the target v<LAN>, with L = -ln p(v<LAN> | c):
 *   S_{l,h} = |A_{l,h} ⊙ ∂L/∂A_{l,h}|                 (per head; GPT-2's attn.pattern, Mamba-2's
 *                                                      implicit attention mixer.pattern)
 *   I_l     = |Σ_h A_{l,h} ⊙ ∂L/∂A_{l,h}|             (layer flow)
 * Only the prediction row (query = last position) enters the ENV statistics:
 *   env_flow  = mean over ENV positions j of S[last, j]
 *   env_share = Σ_{j ∈ ENV} S[last, j] / Σ_j S[last, j]
 * and the same over the ground token v<ENV> alone (the item's swap positions), when given:
 *   ground_flow, ground_share (a head can read the scene line without reading its referent).
 * The LSTM has no attention: its saliency is gradient × input on each layer's input,
 * s_j = |Σ_d x_j,d · ∂L/∂x_j,d| at position j, and the same ENV statistics over positions.
 *
 * Items are batched (right-padded); the loss is the sum of the items' surprisals, and since
 * sequences in a batch are independent, each item's gradients are exactly its own. Weights are
 * frozen during the pass, so no weight gradients are computed.
 */
import * as E from '../engine/index.js';
import type { LanguageModel } from '../models/types.js';
import { type ContextItem, type PaddedBatch, paddedBatches } from './batches.js';

export interface SaliencyItem extends ContextItem {
  envPositions: readonly number[];
  /** Positions of the ground token v<ENV> (the swap positions); none: ground statistics are 0. */
  groundPositions?: readonly number[];
}

/** One (item, layer, head) of the prediction row. head = -1 is the layer flow I_l (or the LSTM's layer). */
export interface HeadSaliency {
  item: number;
  layer: number;
  head: number;
  envFlow: number;
  envShare: number;
  /** The same over the ground token's positions only (0 when the item has none). */
  groundFlow: number;
  groundShare: number;
  /** Σ_j of the prediction row (all positions). */
  rowTotal: number;
}

export interface SaliencyResult {
  rows: HeadSaliency[];
  /** Surprisal (nats) of each item's target, from the same forward pass. */
  surprisal: Float64Array;
  /**
   * Per item, the saliency of `mapOf` for display: with attention (GPT-2, Mamba-2) the full
   * token × token matrix |A ⊙ ∂L/∂A| of the chosen head (head -1: the layer's |Σ_h A ⊙ ∂L/∂A|),
   * row-major [n × n] (n = the item's context length, zero above the diagonal); for the LSTM the
   * gradient × input of the chosen layer per position, [n].
   */
  maps?: Float32Array[];
}

export interface SaliencyOptions {
  batchSize?: number;
  padId?: number;
  /** Also return the saliency map of this layer and head (-1: the layer flow) for every item (display). */
  mapOf?: { layer: number; head: number };
}

type Kind = 'pattern' | 'input';

/** The model's attention pattern (or implicit attention) when it has one, else its block inputs (gradient × input). */
function hookKind(model: LanguageModel): { kind: Kind; name: (l: number) => string } {
  const { pattern, residPre } = model.hooks;
  return pattern ? { kind: 'pattern', name: (l) => pattern.at(l) } : { kind: 'input', name: (l) => residPre.at(l) };
}

/** Where the statistics of each batch go: the rows, and the display maps when asked for. */
interface Collector {
  items: readonly SaliencyItem[];
  rows: HeadSaliency[];
  mapOf: SaliencyOptions['mapOf'];
  maps: Float32Array[] | undefined;
}

export function computeSaliency(model: LanguageModel, items: readonly SaliencyItem[], opts: SaliencyOptions = {}): SaliencyResult {
  const { kind, name } = hookKind(model);
  const L = model.nLayers;
  const out: Collector = { items, rows: [], mapOf: opts.mapOf, maps: opts.mapOf ? new Array(items.length) : undefined };
  const surprisal = new Float64Array(items.length);
  const wasTrainable = [...model.params.params.values()].map((p) => p.requiresGrad);
  model.params.setRequiresGrad(false);
  try {
    for (const batch of paddedBatches(items, opts.batchSize ?? 32, opts.padId)) {
      E.tidy(() => {
        const fwd = new Map<number, E.Tensor>();
        const bwd = new Map<number, E.Tensor>();
        const hooks: E.Hook[] = [];
        for (let l = 0; l < L; l++) {
          hooks.push({ name: name(l), forward: (t) => void fwd.set(l, t), backward: (g) => void bwd.set(l, g) });
        }
        E.withHooks(hooks, () => {
          const logits = model.forward(batch, { logitRows: batch.lastRows }); // (B, V)
          const losses = E.crossEntropy(logits, batch.targets, { reduction: 'none' }); // (B)
          batch.idx.forEach((i, b) => (surprisal[i] = losses.data[b]!));
          E.backward(E.sum(losses));
        });
        for (let l = 0; l < L; l++) {
          const a = fwd.get(l);
          const g = bwd.get(l);
          if (!a || !g) throw new Error(`saliency: no activation or gradient at ${name(l)}`);
          if (kind === 'pattern') collectPattern(out, batch, l, a, g);
          else collectInput(out, batch, l, a, g);
        }
      });
    }
  } finally {
    let i = 0;
    for (const p of model.params.params.values()) p.requiresGrad = wasTrainable[i++]!;
  }
  return { rows: out.rows, surprisal, maps: out.maps };
}

export interface MeanHeadSaliency {
  layer: number;
  head: number;
  envShare: number;
  envFlow: number;
  /** Rows averaged (items). */
  n: number;
}

/** Mean ENV share and flow per (layer, head) over the rows' items, in layer, then head order. */
export function meanHeadSaliency(rows: readonly HeadSaliency[]): MeanHeadSaliency[] {
  const acc = new Map<string, { layer: number; head: number; share: number; flow: number; n: number }>();
  for (const r of rows) {
    const k = `${r.layer}/${r.head}`;
    const a = acc.get(k) ?? { layer: r.layer, head: r.head, share: 0, flow: 0, n: 0 };
    a.share += r.envShare;
    a.flow += r.envFlow;
    a.n++;
    acc.set(k, a);
  }
  return [...acc.values()].map((a) => ({ layer: a.layer, head: a.head, envShare: a.share / a.n, envFlow: a.flow / a.n, n: a.n })).sort((x, y) => x.layer - y.layer || x.head - y.head);
}

function envStats(values: ArrayLike<number>, offset: number, len: number, env: readonly number[], ground: readonly number[] = []) {
  let total = 0;
  for (let j = 0; j < len; j++) total += values[offset + j]!;
  let envSum = 0;
  for (const j of env) envSum += values[offset + j]!;
  let groundSum = 0;
  for (const j of ground) groundSum += values[offset + j]!;
  return {
    envFlow: env.length ? envSum / env.length : 0,
    envShare: total > 0 ? envSum / total : 0,
    groundFlow: ground.length ? groundSum / ground.length : 0,
    groundShare: total > 0 ? groundSum / total : 0,
    rowTotal: total,
  };
}

/** Prediction-row statistics per head and per layer from A and ∂L/∂A, both [B, H, T, T]. */
function collectPattern({ rows, items, mapOf, maps }: Collector, { idx, seq: T }: PaddedBatch, layer: number, a: E.Tensor, g: E.Tensor): void {
  const H = a.shape[1]!;
  const A = a.data;
  const G = g.data;
  const signed = new Float64Array(T);
  const head = new Float64Array(T);
  idx.forEach((i, b) => {
    const it = items[i]!;
    const n = it.context.length;
    const q = n - 1;
    signed.fill(0);
    for (let h = 0; h < H; h++) {
      const off = ((b * H + h) * T + q) * T;
      for (let j = 0; j < n; j++) {
        const prod = A[off + j]! * G[off + j]!;
        signed[j]! += prod;
        head[j] = Math.abs(prod);
      }
      rows.push({ item: i, layer, head: h, ...envStats(head, 0, n, it.envPositions, it.groundPositions) });
      if (maps && mapOf && mapOf.layer === layer && mapOf.head === h) {
        const m = new Float32Array(n * n);
        const base = (b * H + h) * T * T;
        for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) m[r * n + c] = Math.abs(A[base + r * T + c]! * G[base + r * T + c]!);
        maps[i] = m;
      }
    }
    const layerRow = Array.from(signed.subarray(0, n), Math.abs);
    rows.push({ item: i, layer, head: -1, ...envStats(layerRow, 0, n, it.envPositions, it.groundPositions) });
    if (maps && mapOf && mapOf.layer === layer && mapOf.head === -1) {
      const m = new Float32Array(n * n);
      for (let r = 0; r < n; r++) {
        for (let c = 0; c <= r; c++) {
          let acc = 0;
          for (let h = 0; h < H; h++) {
            const o = ((b * H + h) * T + r) * T + c;
            acc += A[o]! * G[o]!;
          }
          m[r * n + c] = Math.abs(acc);
        }
      }
      maps[i] = m;
    }
  });
}

/** Gradient × input per position from x and ∂L/∂x, both [B, T, d] (LSTM). */
function collectInput({ rows, items, mapOf, maps }: Collector, { idx, seq: T }: PaddedBatch, layer: number, x: E.Tensor, g: E.Tensor): void {
  const d = x.shape[2]!;
  idx.forEach((i, b) => {
    const it = items[i]!;
    const n = it.context.length;
    const per = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      let s = 0;
      const off = (b * T + j) * d;
      for (let k = 0; k < d; k++) s += x.data[off + k]! * g.data[off + k]!;
      per[j] = Math.abs(s);
    }
    rows.push({ item: i, layer, head: -1, ...envStats(per, 0, n, it.envPositions, it.groundPositions) });
    if (maps && mapOf && mapOf.layer === layer) maps[i] = Float32Array.from(per);
  });
}
