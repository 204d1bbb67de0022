/**
 * What `groundlab explore` embeds in DIR/index.html (the JSON payload) and in the weight files
 * beside it, shared by the writer (write.ts, Node) and the page (page.ts, browser). Types and
 * tiny pure helpers only: this module is bundled into the page.
 *
 * Layout of an explorer directory:
 *   DIR/index.html                     page (bundled engine + models + saliency) and this payload
 *   DIR/weights/r<run>_step_NNNNNN.js  one checkpoint's weights: a classic script that registers a
 *                                      base64 string of the model's flat float32 parameter buffer
 *                                      (file:// forbids fetch(), a <script src> is allowed)
 */
import type { EvalItem } from '../../data/contract.js';
import type { Arch } from '../../models/types.js';

export const EXPLORER_FORMAT = 1;

/** Global the weight scripts call: `window.groundlabWeights(key, base64)`. */
export const WEIGHTS_GLOBAL = 'groundlabWeights';

export interface ExplorerCheckpoint {
  step: number;
  /** Path of the weight script relative to index.html. */
  file: string;
  /** Key the weight script registers under. */
  key: string;
  /** Bytes of the weight script. */
  bytes: number;
}

export interface ExplorerRun {
  /** Run directory name (e.g. gpt2-s42). */
  name: string;
  label: string;
  arch: Arch;
  seed: number;
  /** Model config from the checkpoint metadata (createModel(arch, model) rebuilds it). */
  model: Record<string, number>;
  /** Parameter count: the length of the flat float32 buffer in each weight file. */
  params: number;
  /** The run's training context: items are cut to it exactly as the evaluation does. */
  maxLen: number;
  /** Checkpoints in the page, ascending. */
  checkpoints: ExplorerCheckpoint[];
  /** Steps left out to stay under the size limit. */
  droppedSteps: number[];
}

export interface ExplorerTarget {
  word: string;
  env_id: number;
  lan_id: number;
}

export interface ExplorerPayload {
  format: number;
  title: string;
  generatedBy: string;
  vocab: string[];
  padId: number;
  targets: ExplorerTarget[];
  /** Evaluation items as in items.jsonl (uncut; the page cuts them per run with prepareItems). */
  items: EvalItem[];
  /** Items of the corpus not in the page, and why. */
  itemsLeftOut: { count: number; reason: string }[];
  runs: ExplorerRun[];
  limits: { maxMb: number; maxItems: number };
}

/** Key and file of one checkpoint's weight script. */
export function weightsKey(runIndex: number, step: number): { key: string; file: string } {
  const key = `r${runIndex}_step_${String(step).padStart(6, '0')}`;
  return { key, file: `weights/${key}.js` };
}

/** Token kinds shown apart in the page. */
export type TokenKind = 'env' | 'lan' | 'speaker' | 'special' | 'other';

export function tokenKind(tok: string): TokenKind {
  if (tok.endsWith('<ENV>')) return 'env';
  if (tok.endsWith('<LAN>')) return 'lan';
  if (tok === '<pad>' || tok === '<unk>' || tok === '<doc>') return 'special';
  if (/^<[A-Z]+>$/.test(tok)) return 'speaker';
  return 'other';
}

/**
 * `count` indices spread evenly over 0..n-1, always the first and the last (count ≥ 2, or n
 * when count ≥ n).
 */
export function evenlySpaced(n: number, count: number): number[] {
  if (count >= n) return Array.from({ length: n }, (_, i) => i);
  if (count <= 1) return n ? [n - 1] : [];
  const out = new Set<number>();
  for (let i = 0; i < count; i++) out.add(Math.round((i * (n - 1)) / (count - 1)));
  return [...out].sort((a, b) => a - b);
}
