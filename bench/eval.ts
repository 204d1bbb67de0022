/**
 * Evaluation benchmark (issue: grounding over training): throughput of the grounding evaluation,
 * in contexts scored per second (items × (1 + M mismatch conditions)), for one checkpoint of the
 * `cpu`-preset GPT-2 (4 layers, d_model 128, 4 heads, context 128; random weights), in groundlab
 * and in a PyTorch script on the same checkpoint and items, in the same run, on 2 threads and on
 * 1 thread. Both sides batch the same way (length buckets, right padding, only the last position
 * unembedded) and their surprisals are compared. Needs Debian's python3-torch.
 *
 * Items: 100 words × 10 items × (1 + 10) contexts = 11,000 contexts of 5 to 40 tokens, 12 on
 * average (like the corpus-derived CHILDES items: 5 to 39 tokens, mean 12), vocabulary 5,000 (the
 * cpu preset's cap on the CHILDES vocabulary), seeded. BENCH_WORDS / BENCH_VOCAB change the sizes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import type { EvalItem } from '../src/data/contract.js';
import { getPreset } from '../src/train/config.js';
import { GPT2 } from '../src/models/gpt2.js';
import { saveCheckpoint } from '../src/train/checkpoint.js';
import { Rng } from '../src/util/rng.js';
import { benchTmp, pyPeer, requireTorch, table, threadEnv, tsWorker } from './lib.js';

requireTorch('eval');
const tmp = benchTmp('eval');
const WORDS = Number(process.env.BENCH_WORDS ?? 100);
const V = Number(process.env.BENCH_VOCAB ?? 5000);
const N = 10;
const M = 10;

// Model: the cpu preset's GPT-2, random weights.
const cfg = getPreset('cpu').models.gpt2!;
const model = new GPT2({ vocab_size: V, n_positions: 128, n_embd: cfg.n_embd!, n_layer: cfg.n_layer!, n_head: cfg.n_head!, layer_norm_epsilon: 1e-5, prefix_dim: 0 });
model.params.initialize(new Rng(1));
const ckpt = join(tmp, 'gpt2-cpu.safetensors');
saveCheckpoint(ckpt, model, { arch: 'gpt2', step: 0, seed: 1, label: 'gpt2', model: { ...cfg, vocab_size: V, n_positions: 128 }, corpus_hash: 'bench' });

// Items: word w has ENV id 100 + w and LAN id 1100 + w; contexts of random tokens with 1-2 ENV mentions.
const rng = new Rng(7);
const items: EvalItem[] = [];
for (let w = 0; w < WORDS; w++) {
  for (let n = 0; n < N; n++) {
    const len = Math.min(40, 5 + Math.floor(-Math.log(1 - rng.float()) * 7)); // mean ≈ 12
    const context = Array.from({ length: len }, () => 2100 + rng.int(V - 2100));
    const swaps = [1 + rng.int(Math.max(1, len - 2))];
    if (rng.float() < 0.3) swaps.push(1 + rng.int(Math.max(1, len - 2)));
    for (const p of swaps) context[p] = 100 + w;
    const others = rng.shuffle(Array.from({ length: WORDS }, (_, i) => i).filter((i) => i !== w)).slice(0, M);
    items.push({
      id: `${w}/${n}`, word: `w${w}`, source: { kind: 'corpus', file: 'bench', line: n }, context, target: 1100 + w,
      env_positions: [...new Set(swaps)].sort((a, b) => a - b), swap_positions: [...new Set(swaps)].sort((a, b) => a - b),
      mismatches: others.map((u) => ({ word: `w${u}`, env_id: 100 + u })),
    });
  }
}
const itemsPath = join(tmp, 'items.json');
writeFileSync(itemsPath, JSON.stringify(items));

const rows: (string | number)[][] = [];
let maxDiff = 0;
for (const threads of [2, 1]) {
  const env = threadEnv(threads);
  const oursOut = join(tmp, `ours-${threads}.f32`);
  const torchOut = join(tmp, `torch-${threads}.f32`);
  const ours = tsWorker('workers/eval-gpt2.ts', ['--checkpoint', ckpt, '--items', itemsPath, '--out', oursOut], env);
  const torch = pyPeer('peers/eval_gpt2_torch.py', ['--checkpoint', ckpt, '--items', itemsPath, '--out', torchOut, '--threads', String(threads), '--batch-tokens', String(ours.batch_tokens)], env);
  const f32 = (path: string) => new Float32Array(Uint8Array.from(readFileSync(path)).buffer);
  const a = f32(oursOut);
  const b = f32(torchOut);
  if (a.length !== b.length) throw new Error(`eval bench: ${a.length} vs ${b.length} surprisals`);
  for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
  rows.push([`${threads} thread${threads > 1 ? 's' : ''}`, Math.round(ours.sequences_per_s), Math.round(torch.sequences_per_s), ours.sequences_per_s / torch.sequences_per_s, ours.seconds, torch.seconds, ours.cpu_seconds, torch.cpu_seconds, torch.cpu_seconds / ours.cpu_seconds]);
  if (threads === 2) console.log(`\n${ours.sequences} contexts (${ours.tokens} tokens) per checkpoint, ${ours.batch_tokens} tokens per forward pass, torch ${torch.torch}`);
}
console.log('\nGrounding evaluation of one checkpoint, cpu-preset GPT-2 (median of 3 after a warm-up; higher is better; ratio > 1: groundlab faster)');
console.log(table(rows, ['threads', 'groundlab ctx/s', 'PyTorch ctx/s', 'ratio', 'groundlab s', 'PyTorch s', 'groundlab CPU s', 'PyTorch CPU s', 'CPU ratio']));
console.log(`load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')} (wall-time ratios are noisy on a busy machine; CPU time is steadier)`);
console.log(`max |surprisal difference| groundlab vs PyTorch: ${maxDiff.toExponential(2)} nats`);
