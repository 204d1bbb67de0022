/**
 * A 2-layer GPT-2 whose weights are written by hand, with a known grounding head and decoys, for
 * tests of the head analyses (issue 13). It is saved as a Hugging Face directory (config.json +
 * model.safetensors) and loaded through `groundlab import`, like a model trained elsewhere.
 *
 * Items look like the corpus's: `<MOT> the<ENV> child<ENV> sees<ENV> ball<ENV> <MOT> look<LAN> at<LAN> the<LAN>`,
 * predicting `ball<LAN>`; a mismatched context swaps `ball<ENV>` for another object's ENV token.
 *
 * Residual stream (d = 64): one dimension per token (the embedding is one-hot in it), one per
 * position (learned positions are one-hot), flags ENV / NONENV, OBJ / NONOBJ and CONST (each
 * token has exactly one of each pair, so every position has the same multiset of values and the
 * pre-attention LayerNorm is the same affine map everywhere), and two anchor dimensions (+K, -K)
 * that dominate the final LayerNorm's scale, so a head's write changes logits nearly additively.
 * LayerNorm biases are set to μ/σ of the (known) residual so that LN(x) = x/σ exactly.
 * Final LayerNorm: weight only on the target words' LAN dimensions, so a target's logit reads its
 * own dimension and every other token's logit is 0. MLPs are zero.
 *
 *   L1H2  grounding head (planted): attends to the object ENV token (key: OBJ flag) and copies its
 *         identity to that word's LAN dimension: it raises only the matched target.
 *   L1H1  scene reader (decoy): attends to every ENV token and raises all target words alike.
 *   L0H0  previous-token head (decoy): attends to position t-1; raises all target words alike.
 *   L0H1  first-positions head (decoy): attends to positions 0 and 1 (one of them an ENV token).
 *   L0H2, L0H3, L1H0, L1H3: inert (all weights zero).
 *
 * Small seeded noise (`noise`, default 0.02) is added to every attention weight.
 * `grounds: false` gives the negative control: the same model, except that the grounding head
 * writes every object to all target words alike (it reads the object but cannot tell which).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HeadRef } from '../../src/analysis/heads.js';
import type { LanguageModel } from '../../src/models/types.js';
import { listCheckpoints, loadCheckpoint } from '../../src/train/checkpoint.js';
import { importHfCheckpoint } from '../../src/train/hf-import.js';
import { Rng } from '../../src/util/rng.js';
import { writeSafetensors, type TensorEntry } from '../../src/util/safetensors.js';

export const PLANTED = {
  grounding: { layer: 1, head: 2 },
  scene: { layer: 1, head: 1 },
  previous: { layer: 0, head: 0 },
  first: { layer: 0, head: 1 },
  inert: [
    { layer: 0, head: 2 },
    { layer: 0, head: 3 },
    { layer: 1, head: 0 },
    { layer: 1, head: 3 },
  ],
} as const satisfies Record<string, HeadRef | readonly HeadRef[]>;

const OBJECTS = ['ball', 'cup', 'dog', 'car', 'hat', 'shoe', 'duck', 'book'];
const ENV_FILLERS = ['the', 'child', 'sees', 'holds'];
const LAN_FILLERS = ['look', 'at', 'the', 'a'];
export const PLANTED_VOCAB: string[] = ['<pad>', '<unk>', '<MOT>', ...ENV_FILLERS.map((w) => `${w}<ENV>`), ...OBJECTS.map((w) => `${w}<ENV>`), ...LAN_FILLERS.map((w) => `${w}<LAN>`), ...OBJECTS.map((w) => `${w}<LAN>`)];
const id = (tok: string) => {
  const i = PLANTED_VOCAB.indexOf(tok);
  if (i < 0) throw new Error(`planted vocabulary has no ${tok}`);
  return i;
};

const V = PLANTED_VOCAB.length; // 27
const T_MAX = 16;
const D_MODEL = 64;
const N_HEAD = 4;
const D_HEAD = D_MODEL / N_HEAD;
const POS0 = V;
const F = { ENV: POS0 + T_MAX, NONENV: POS0 + T_MAX + 1, OBJ: POS0 + T_MAX + 2, NONOBJ: POS0 + T_MAX + 3, CONST: POS0 + T_MAX + 4, ANCHOR_UP: POS0 + T_MAX + 5, ANCHOR_DOWN: POS0 + T_MAX + 6 };
const ANCHOR = 20;
const EPS = 1e-5;

/** Write magnitudes into the residual (before the final norm) and the final norm's gain. */
export interface PlantedStrengths {
  /** Grounding head: added to the matched target's dimension. */
  ground: number;
  /** Scene reader: added to every target's dimension. */
  scene: number;
  previous: number;
  first: number;
  /** Logit per unit of residual on a target dimension (approximately). */
  gain: number;
}
const DEFAULT_STRENGTHS: PlantedStrengths = { ground: 3, scene: 2.5, previous: 0.5, first: 0.5, gain: 1 };

/** μ and σ of LayerNorm over a vector given as a sparse {dim: value} map of a d-vector. */
function lnStats(values: number[]): { mu: number; sigma: number } {
  const s = values.reduce((a, v) => a + v, 0);
  const s2 = values.reduce((a, v) => a + v * v, 0);
  const mu = s / D_MODEL;
  return { mu, sigma: Math.sqrt(s2 / D_MODEL - mu * mu + EPS) };
}

export interface PlantedItem {
  id: string;
  word: string;
  context: Int32Array;
  target: number;
  envPositions: number[];
  /** The ground token v<ENV>'s positions (the swap positions). */
  groundPositions: number[];
  /** Mismatched contexts: v<ENV> replaced by u<ENV>, for the other objects u. */
  mismatches: Int32Array[];
}

/** Items: `perWord` contexts per object word, with varied ENV and LAN fillers (seeded). */
export function plantedItems(perWord = 3, seed = 1, words = OBJECTS.length): PlantedItem[] {
  const rng = new Rng(seed);
  const objects = OBJECTS.slice(0, words);
  const items: PlantedItem[] = [];
  for (const w of objects) {
    for (let n = 0; n < perWord; n++) {
      const ctx: number[] = [id('<MOT>')];
      const envPositions: number[] = [];
      const env = (tok: string) => {
        envPositions.push(ctx.length);
        ctx.push(id(tok));
      };
      // At least one filler first, so position 1 is never the object (the first-positions decoy must not see it).
      for (let k = 1 + rng.int(3); k > 0; k--) env(`${rng.pick(ENV_FILLERS)}<ENV>`);
      const ground = ctx.length;
      env(`${w}<ENV>`);
      if (rng.int(2)) env(`${rng.pick(ENV_FILLERS)}<ENV>`);
      ctx.push(id('<MOT>'));
      for (let k = 1 + rng.int(3); k > 0; k--) ctx.push(id(`${rng.pick(LAN_FILLERS)}<LAN>`));
      const context = Int32Array.from(ctx);
      const mismatches = objects.filter((u) => u !== w).map((u) => {
        const c = context.slice();
        c[ground] = id(`${u}<ENV>`);
        return c;
      });
      items.push({ id: `${w}-${n}`, word: w, context, target: id(`${w}<LAN>`), envPositions, groundPositions: [ground], mismatches });
    }
  }
  return items;
}

/** The hand-written weights, in Hugging Face GPT-2 names and layouts (Conv1D: in × out). */
export function plantedWeights(opts: { grounds?: boolean; strengths?: Partial<PlantedStrengths>; noise?: number; seed?: number } = {}): Map<string, Float32Array> {
  const grounds = opts.grounds ?? true;
  // Seeded Gaussian noise on every attention weight (the "inert" heads become slightly active), so
  // per-item effects vary and the tests do not rest on exact zeros.
  const noise = opts.noise ?? 0.02;
  const rng = new Rng(opts.seed ?? 3);
  const s = { ...DEFAULT_STRENGTHS, ...(opts.strengths ?? {}) };
  const d = D_MODEL;
  const targets = OBJECTS.map((w) => id(`${w}<LAN>`));
  const objEnv = OBJECTS.map((w) => id(`${w}<ENV>`));
  const W = new Map<string, Float32Array>();
  const wte = new Float32Array(V * d);
  for (let t = 0; t < V; t++) {
    const tok = PLANTED_VOCAB[t]!;
    const isEnv = tok.endsWith('<ENV>');
    const isObj = objEnv.includes(t);
    wte[t * d + t] = 1;
    wte[t * d + (isEnv ? F.ENV : F.NONENV)] = 1;
    wte[t * d + (isObj ? F.OBJ : F.NONOBJ)] = 1;
    wte[t * d + F.CONST] = 1;
    wte[t * d + F.ANCHOR_UP] = ANCHOR;
    wte[t * d + F.ANCHOR_DOWN] = -ANCHOR;
  }
  W.set('transformer.wte.weight', wte);
  const wpe = new Float32Array(T_MAX * d);
  for (let p = 0; p < T_MAX; p++) wpe[p * d + POS0 + p] = 1;
  W.set('transformer.wpe.weight', wpe);

  // Residual statistics: every position holds 5 ones and the anchors at layer 0; layer 0's heads
  // add a constant (previous + first) to every target dimension at every position (their values are constant).
  const base = [1, 1, 1, 1, 1, ANCHOR, -ANCHOR];
  const ln0 = lnStats(base);
  const ln1 = lnStats([...base, ...targets.map(() => s.previous + s.first)]);
  const scale = [1 / ln0.sigma, 1 / ln1.sigma]; // LN(x) = x/σ with the bias below
  const sharp = 12; // attention logit for a matching key

  for (let l = 0; l < 2; l++) {
    const p = `transformer.h.${l}`;
    const mu = l === 0 ? ln0.mu : ln1.mu;
    const sig = l === 0 ? ln0.sigma : ln1.sigma;
    W.set(`${p}.ln_1.weight`, new Float32Array(d).fill(1));
    W.set(`${p}.ln_1.bias`, new Float32Array(d).fill(mu / sig));
    W.set(`${p}.ln_2.weight`, new Float32Array(d).fill(1));
    W.set(`${p}.ln_2.bias`, new Float32Array(d));
    const attn = new Float32Array(d * 3 * d);
    const proj = new Float32Array(d * d);
    const x = scale[l]!; // a one-hot feature after ln_1
    const qk = (sharp * Math.sqrt(D_HEAD)) / (x * x); // q = qk·x on a slot, k = x on it: score = sharp
    const q = (h: number, from: number, slot: number, w = qk) => (attn[from * 3 * d + h * D_HEAD + slot] = w);
    const k = (h: number, from: number, slot: number) => (attn[from * 3 * d + d + h * D_HEAD + slot] = 1);
    const v = (h: number, from: number, slot: number) => (attn[from * 3 * d + 2 * d + h * D_HEAD + slot] = 1);
    // c_proj row h·D + slot → residual dimension `to`, scaled so that a value x writes `amount`.
    const out = (h: number, slot: number, to: number, amount: number) => (proj[(h * D_HEAD + slot) * d + to] += amount / x);
    if (l === 0) {
      // L0H0 previous token: query at position t looks for key position t-1.
      for (let t = 1; t < T_MAX; t++) q(0, POS0 + t, t - 1);
      for (let t = 0; t < T_MAX - 1; t++) k(0, POS0 + t, t);
      v(0, F.CONST, 0);
      for (const tg of targets) out(0, 0, tg, s.previous);
      // L0H1 first positions: a constant query for keys at positions 0 and 1.
      q(1, F.CONST, 0);
      k(1, POS0 + 0, 0);
      k(1, POS0 + 1, 0);
      v(1, F.CONST, 0);
      for (const tg of targets) out(1, 0, tg, s.first);
    } else {
      // L1H1 scene reader: a constant query for every ENV token; its value says "a scene is there".
      q(1, F.CONST, 0);
      k(1, F.ENV, 0);
      v(1, F.ENV, 0);
      for (const tg of targets) out(1, 0, tg, s.scene);
      // L1H2 grounding head: a constant query for the object ENV token; its value is the object's identity.
      q(2, F.CONST, 0);
      k(2, F.OBJ, 0);
      objEnv.forEach((e, j) => {
        v(2, e, j);
        if (grounds) out(2, j, targets[j]!, s.ground);
        else for (const tg of targets) out(2, j, tg, s.ground / targets.length);
      });
    }
    if (noise > 0) {
      for (let i = 0; i < attn.length; i++) attn[i]! += noise * rng.normal();
      for (let i = 0; i < proj.length; i++) proj[i]! += noise * rng.normal();
    }
    W.set(`${p}.attn.c_attn.weight`, attn);
    W.set(`${p}.attn.c_attn.bias`, new Float32Array(3 * d));
    W.set(`${p}.attn.c_proj.weight`, proj);
    W.set(`${p}.attn.c_proj.bias`, new Float32Array(d));
    W.set(`${p}.mlp.c_fc.weight`, new Float32Array(d * 4 * d));
    W.set(`${p}.mlp.c_fc.bias`, new Float32Array(4 * d));
    W.set(`${p}.mlp.c_proj.weight`, new Float32Array(4 * d * d));
    W.set(`${p}.mlp.c_proj.bias`, new Float32Array(d));
  }
  // Final norm: the anchors dominate σ (about ANCHOR·√(2/d)); a target's logit ≈ gain·(its residual − μ).
  const sigmaF = lnStats([...base, ...targets.map(() => s.previous + s.first + s.scene)]).sigma;
  const lnf = new Float32Array(d);
  for (const tg of targets) lnf[tg] = s.gain * sigmaF;
  W.set('transformer.ln_f.weight', lnf);
  W.set('transformer.ln_f.bias', new Float32Array(d));
  return W;
}

/** Writes the planted model as a Hugging Face GPT-2 directory; returns its path. */
export function writePlantedHf(opts: Parameters<typeof plantedWeights>[0] = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'gl-planted-hf-'));
  const tensors = new Map<string, TensorEntry>();
  for (const [name, data] of plantedWeights(opts)) tensors.set(name, { dtype: 'F32', shape: shapeOf(name), data });
  writeSafetensors(join(dir, 'model.safetensors'), tensors);
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], activation_function: 'gelu_new', vocab_size: V, n_positions: T_MAX, n_embd: D_MODEL, n_layer: 2, n_head: N_HEAD, layer_norm_epsilon: EPS }),
  );
  return dir;
}

function shapeOf(name: string): number[] {
  const d = D_MODEL;
  if (name.endsWith('wte.weight')) return [V, d];
  if (name.endsWith('wpe.weight')) return [T_MAX, d];
  if (name.endsWith('c_attn.weight')) return [d, 3 * d];
  if (name.endsWith('c_attn.bias')) return [3 * d];
  if (name.endsWith('attn.c_proj.weight')) return [d, d];
  if (name.endsWith('c_fc.weight')) return [d, 4 * d];
  if (name.endsWith('c_fc.bias')) return [4 * d];
  if (name.endsWith('mlp.c_proj.weight')) return [4 * d, d];
  return [d];
}

/** The planted model imported as a groundlab run (`groundlab import`) and loaded from its checkpoint. */
export function plantedModel(opts: Parameters<typeof plantedWeights>[0] = {}): { model: LanguageModel; run: string; hf: string } {
  const hf = writePlantedHf(opts);
  const run = mkdtempSync(join(tmpdir(), 'gl-planted-run-'));
  importHfCheckpoint(hf, run, opts.grounds === false ? 'planted-no-grounding' : 'planted');
  return { model: loadCheckpoint(listCheckpoints(run)[0]!.path).model, run, hf };
}
