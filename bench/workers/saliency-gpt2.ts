/**
 * groundlab side of the saliency benchmark. For one checkpoint and an items file, times (median
 * of --reps after a warm-up):
 *   plain     a forward + backward of the targets' summed surprisal over all items, weights
 *             trainable (what a training step computes, without the optimizer), batched the way
 *             the saliency is (sorted by length, --batch items per pass, right-padded, only the
 *             last position unembedded)
 *   saliency  computeSaliency over the same items: |A ⊙ ∂L/∂A| on every layer and head, with the
 *             per (item, layer, head) ENV flow, ENV share and row total extracted
 * Writes the saliency rows (float32: per item, per layer, heads then the layer flow, each
 * [env_flow, env_share, row_total]) for the comparison with PyTorch, and prints one JSON line.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as E from '../../src/engine/index.js';
import { computeSaliency, type SaliencyItem } from '../../src/analysis/saliency.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';

const { values } = parseArgs({ options: { checkpoint: { type: 'string' }, items: { type: 'string' }, out: { type: 'string' }, reps: { type: 'string', default: '3' }, batch: { type: 'string', default: '32' } } });
const { model } = loadCheckpoint(values.checkpoint!);
const items = JSON.parse(readFileSync(values.items!, 'utf8')) as { context: number[]; target: number; env_positions: number[] }[];
const sItems: SaliencyItem[] = items.map((it) => ({ context: it.context, target: it.target, envPositions: it.env_positions }));
const batchSize = Number(values.batch);

function plain(): void {
  const order = sItems.map((_, i) => i).sort((a, b) => sItems[a]!.context.length - sItems[b]!.context.length);
  model.params.zeroGrad();
  for (let s = 0; s < order.length; s += batchSize) {
    const idx = order.slice(s, s + batchSize);
    const B = idx.length;
    const T = Math.max(...idx.map((i) => sItems[i]!.context.length));
    const ids = new Int32Array(B * T);
    const last = new Int32Array(B);
    const targets = new Int32Array(B);
    idx.forEach((i, b) => {
      const it = sItems[i]!;
      ids.set(it.context as number[], b * T);
      last[b] = b * T + it.context.length - 1;
      targets[b] = it.target;
    });
    E.tidy(() => {
      const logits = model.forward({ ids, batch: B, seq: T }, { logitRows: last });
      E.backward(E.sum(E.crossEntropy(logits, targets, { reduction: 'none' })));
    });
  }
}

const saliency = () => computeSaliency(model, sItems, { batchSize });

function time(fn: () => unknown, reps: number): { median: number; times: number[] } {
  fn(); // warm-up: first touch of the pooled buffers
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1000);
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, times };
}

const reps = Number(values.reps);
// Interleave the two measurements so that a change in machine load hits both alike.
const p1 = time(plain, reps);
const s1 = time(saliency, reps);
const p2 = time(plain, reps);
const s2 = time(saliency, reps);
const plainS = Math.min(p1.median, p2.median);
const salS = Math.min(s1.median, s2.median);

const res = saliency();
const L = model.nLayers;
const H = model.nHeads;
const out = new Float32Array(items.length * L * (H + 1) * 3);
for (const r of res.rows) {
  const k = ((r.item * L + r.layer) * (H + 1) + (r.head < 0 ? H : r.head)) * 3;
  out[k] = r.envFlow;
  out[k + 1] = r.envShare;
  out[k + 2] = r.rowTotal;
}
writeFileSync(values.out!, out);
const tokens = items.reduce((a, it) => a + it.context.length, 0);
console.log(JSON.stringify({ plain_s: plainS, saliency_s: salS, ratio: salS / plainS, times: { plain: [...p1.times, ...p2.times], saliency: [...s1.times, ...s2.times] }, items: items.length, tokens, layers: L, heads: H, threads: E.getThreads() }));
