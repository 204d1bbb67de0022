/**
 * Saliency benchmark (issue: mechanistic suite): the cost of the saliency |A ⊙ ∂L/∂A| over all
 * matched items of one checkpoint, against a plain forward + backward over the same items (target:
 * at most 1.5×), and the same saliency computed in PyTorch (retain_grad on the attention
 * matrices) on the same checkpoint and items, in the same run; the two implementations' ENV
 * flows, shares and row totals are compared. Needs Debian's python3-torch.
 *
 * Models: the cpu preset's GPT-2 with 4 and with 12 layers (d_model 128, 4 heads, context 128,
 * vocabulary 5,000; random weights, the cost does not depend on them). Items: 400 contexts of 8 to
 * 40 tokens (like the CHILDES items: an ENV line then the utterance), 2 to 10 ENV positions each,
 * seeded. BENCH_ITEMS and BENCH_REPS change the sizes; BENCH_CHECKPOINT + BENCH_ITEMS_JSON run on a
 * real checkpoint and items file instead ({context, target, env_positions} objects).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getPreset } from '../src/train/config.js';
import { GPT2 } from '../src/models/gpt2.js';
import { saveCheckpoint } from '../src/train/checkpoint.js';
import { Rng } from '../src/util/rng.js';
import { benchTmp, pyPeer, requireTorch, table, threadEnv, tsWorker } from './lib.js';

requireTorch('saliency');
const tmp = benchTmp('saliency');
const N = Number(process.env.BENCH_ITEMS ?? 400);
const reps = process.env.BENCH_REPS ?? '3';
const V = 5000;

let itemsPath = process.env.BENCH_ITEMS_JSON ?? '';
if (!itemsPath) {
  const rng = new Rng(7);
  const items = Array.from({ length: N }, () => {
    const n = 8 + rng.int(33);
    const nEnv = 2 + rng.int(Math.min(9, n - 4));
    const context = Array.from({ length: n }, () => 10 + rng.int(V - 10));
    return { context, target: 10 + rng.int(V - 10), env_positions: Array.from({ length: nEnv }, (_, j) => 1 + j) };
  });
  itemsPath = join(tmp, 'items.json');
  writeFileSync(itemsPath, JSON.stringify(items));
}

const checkpoints: [string, string][] = [];
if (process.env.BENCH_CHECKPOINT) checkpoints.push(['given checkpoint', process.env.BENCH_CHECKPOINT]);
else {
  const cfg = getPreset('cpu').models.gpt2!;
  for (const layers of [4, 12]) {
    const model = new GPT2({ vocab_size: V, n_positions: 128, n_embd: cfg.n_embd!, n_layer: layers, n_head: cfg.n_head!, layer_norm_epsilon: 1e-5, prefix_dim: 0 });
    model.params.initialize(new Rng(layers));
    const ck = join(tmp, `gpt2-L${layers}.safetensors`);
    saveCheckpoint(ck, model, { arch: 'gpt2', step: 0, seed: 1, label: 'gpt2', model: { ...cfg, n_layer: layers, vocab_size: V, n_positions: 128 }, corpus_hash: 'bench' });
    checkpoints.push([`cpu GPT-2, ${layers} layers`, ck]);
  }
}

const rows: (string | number)[][] = [];
const cmp: (string | number)[][] = [];
const f32 = (path: string) => new Float32Array(Uint8Array.from(readFileSync(path)).buffer);
for (const [name, ck] of checkpoints) {
  for (const threads of [2, 1]) {
    const env = threadEnv(threads);
    const oursOut = join(tmp, `ours-${threads}.f32`);
    const torchOut = join(tmp, `torch-${threads}.f32`);
    const ours = tsWorker('workers/saliency-gpt2.ts', ['--checkpoint', ck, '--items', itemsPath, '--out', oursOut, '--reps', reps], env);
    const torch = pyPeer('peers/saliency_gpt2_torch.py', ['--checkpoint', ck, '--items', itemsPath, '--out', torchOut, '--threads', String(threads), '--reps', reps], env);
    rows.push([name, String(threads), ours.plain_s * 1000, ours.saliency_s * 1000, ours.ratio, torch.saliency_s * 1000, torch.saliency_s / ours.saliency_s, torch.ratio]);
    if (threads === 2) {
      const a = f32(oursOut);
      const b = f32(torchOut);
      if (a.length !== b.length) throw new Error(`saliency bench: ${a.length} vs ${b.length} values`);
      // Relative differences against each quantity's scale (per column: flow, share, total).
      const worst = [0, 0, 0];
      const scale = [0, 0, 0];
      for (let i = 0; i < a.length; i++) scale[i % 3] = Math.max(scale[i % 3]!, Math.abs(b[i]!));
      for (let i = 0; i < a.length; i++) worst[i % 3] = Math.max(worst[i % 3]!, Math.abs(a[i]! - b[i]!) / (scale[i % 3]! || 1));
      cmp.push([name, ours.items, ours.tokens, worst[0]!.toExponential(1), worst[1]!.toExponential(1), worst[2]!.toExponential(1)]);
      console.log(`\n${name}: ${ours.items} items, ${ours.tokens} tokens, ${ours.layers} layers × ${ours.heads} heads, torch ${torch.torch}`);
    }
  }
}
console.log('\nSaliency over all items of one checkpoint (median of the runs after a warm-up; ms, lower is better)');
console.log(table(rows, ['model', 'threads', 'fwd+bwd', 'saliency', 'saliency ÷ fwd+bwd (≤ 1.5)', 'PyTorch saliency', 'PyTorch ÷ groundlab', 'PyTorch sal ÷ its fwd+bwd']));
console.log('\ngroundlab vs PyTorch saliency values (largest difference ÷ largest value, per quantity)');
console.log(table(cmp, ['model', 'items', 'tokens', 'ENV flow', 'ENV share', 'row total']));
