/**
 * What the explorer page computes, with the same code the CLI uses: items are cut by
 * prepareItems (grounding.ts), surprisal comes from surprisalOf (surprisal.ts) and saliency from
 * computeSaliency (saliency.ts); only the backend differs (the TypeScript reference kernels, see
 * page.ts). Bundled into the page; also imported by the tests in Node.
 */
import { createModel } from '../../models/index.js';
import type { LanguageModel } from '../../models/types.js';
import type { EvalItem } from '../../data/contract.js';
import { type PreparedItem, prepareItems } from '../../analysis/grounding.js';
import { computeSaliency, type HeadSaliency } from '../../analysis/saliency.js';
import { surprisalOf } from '../../analysis/surprisal.js';
import type { ExplorerRun } from './payload.js';

/** A model of the run's architecture holding `weights` (the flat parameter buffer of a checkpoint). */
export function modelWithWeights(run: Pick<ExplorerRun, 'arch' | 'model' | 'params'>, weights: Float32Array): LanguageModel {
  const model = createModel(run.arch, run.model);
  if (model.params.count !== weights.length) {
    throw new Error(`weights hold ${weights.length} values but a ${run.arch} with this config has ${model.params.count} parameters`);
  }
  model.params.data.set(weights);
  return model;
}

/** An item as the page uses it: cut to the run's context like the evaluation, with its ENV positions. */
export interface PageItem {
  prepared: PreparedItem;
  /** ENV positions that survived the cut (shifted like the context). */
  envPositions: number[];
}

/** The items the page can evaluate for a run, by id (cut to maxLen exactly as `groundlab eval` does). */
export function pageItems(items: readonly EvalItem[], maxLen: number): Map<string, PageItem> {
  const { prepared } = prepareItems(items, maxLen);
  const out = new Map<string, PageItem>();
  for (const p of prepared) {
    const envPositions = p.item.env_positions.filter((x) => x >= p.truncated).map((x) => x - p.truncated);
    out.set(p.item.id, { prepared: p, envPositions });
  }
  return out;
}

/** The item's context with every swap position holding `envId` (null: the matched context). */
export function contextWith(p: PreparedItem, envId: number | null): Int32Array {
  const c = p.context.slice();
  if (envId !== null) for (const s of p.swap) c[s] = envId;
  return c;
}

/** Surprisal (nats) of `target` after `context`. */
export function surprisalAfter(model: LanguageModel, context: Int32Array, target: number, padId = 0): number {
  return surprisalOf(model, [context], [target], { padId })[0]!;
}

/** Per (layer, head) ENV statistics of the prediction row (head -1: the layer flow; LSTM: gradient × input per layer). */
export function headGrid(model: LanguageModel, context: Int32Array, target: number, envPositions: readonly number[], padId = 0): { rows: HeadSaliency[]; surprisal: number } {
  const res = computeSaliency(model, [{ context, target, envPositions }], { batchSize: 1, padId });
  return { rows: res.rows, surprisal: res.surprisal[0]! };
}

/**
 * The saliency of each context token for the prediction: the last row of |A ⊙ ∂L/∂A| of (layer,
 * head) (head -1: |Σ_h A ⊙ ∂L/∂A|), or the LSTM's gradient × input of the layer. Also the row's ENV
 * statistics, computed by computeSaliency from the same pass.
 */
export function tokenSaliency(
  model: LanguageModel,
  context: Int32Array,
  target: number,
  envPositions: readonly number[],
  layer: number,
  head: number,
  padId = 0,
): { values: Float32Array; stats: HeadSaliency } {
  const res = computeSaliency(model, [{ context, target, envPositions }], { batchSize: 1, padId, mapOf: { layer, head } });
  const n = context.length;
  const map = res.maps?.[0];
  if (!map) throw new Error(`no saliency map for layer ${layer + 1}${head >= 0 ? ` head ${head + 1}` : ''}`);
  // Attention maps are n × n (query × key): the prediction is the last query row.
  const values = map.length === n ? map : map.slice((n - 1) * n, n * n);
  const stats = res.rows.find((r) => r.layer === layer && r.head === head);
  if (!stats) throw new Error(`no saliency row for layer ${layer + 1} head ${head}`);
  return { values, stats };
}

/** Decodes a base64 string of little-endian float32 values. */
export function decodeFloat32(b64: string): Float32Array {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  if (bytes.length % 4) throw new Error(`weights: ${bytes.length} bytes is not a whole number of float32 values`);
  return new Float32Array(bytes.buffer);
}
