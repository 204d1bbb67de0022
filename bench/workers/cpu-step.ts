/**
 * One training step of a `cpu`-preset model, timed (the cpu-preset benchmark's groundlab side).
 * `--root DIR` runs the step with the sources (and native build) of another checkout of
 * groundlab, e.g. a frozen copy of main, so old and new code are timed in the same run.
 * The step is step-loop.ts's (called with the other checkout's modules): zeroGrad, forward, cross-entropy over all B·T positions,
 * backward, clipping at norm 1, AdamW (lr 1e-3, no weight decay); weights seed 1, tokens seed 2.
 * Prints one JSON line: median wall and CPU ms after 2 warm-up steps, per-step times, params, and a
 * hash of the weights after the steps (to check that two checkouts train bitwise alike).
 */
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot, median } from '../lib.js';
import { timeTrainingSteps } from './step-loop.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'gpt2' },
    steps: { type: 'string', default: '8' },
    batch: { type: 'string', default: '32' },
    root: { type: 'string', default: repoRoot },
    profile: { type: 'boolean', default: false },
  },
});
const root = resolve(values.root!);
const load = (p: string) => import(pathToFileURL(join(root, p)).href);
const E = await load('src/engine/index.ts');
const { AdamW, clipGradNorm } = await load('src/train/optim.ts');
const { Rng } = await load('src/util/rng.ts');

const V = 5000, T = 128, B = Number(values.batch);
/** The cpu preset's models (src/train/config.ts cpuModels, study entries gpt2, gpt2-L12, mamba2, lstm). */
async function makeModel(name: string): Promise<any> {
  if (name === 'gpt2' || name === 'gpt2-L12') {
    const { GPT2 } = await load('src/models/gpt2.ts');
    return new GPT2({ vocab_size: V, n_positions: T, n_embd: 128, n_layer: name === 'gpt2' ? 4 : 12, n_head: 4, layer_norm_epsilon: 1e-5, prefix_dim: 0 });
  }
  if (name === 'mamba2') {
    const { Mamba2 } = await load('src/models/mamba2.ts');
    return new Mamba2({ vocab_size: V, hidden_size: 128, num_hidden_layers: 4, expand: 4, head_dim: 64, state_size: 32, conv_kernel: 4, chunk_size: 64, layer_norm_epsilon: 1e-5, prefix_dim: 0 });
  }
  if (name === 'lstm') {
    const { LSTMModel } = await load('src/models/lstm.ts');
    return new LSTMModel({ vocab_size: V, embedding_size: 128, hidden_size: 160, num_layers: 4, prefix_dim: 0 });
  }
  throw new Error(`cpu-step: unknown --model ${name} (gpt2, gpt2-L12, mamba2, lstm)`);
}

const model = await makeModel(values.model!);
// The step itself is step-timing.ts's, run with this checkout's (or --root's) engine, optimiser and rng.
const { times, cpu, step, loss } = timeTrainingSteps(model, { vocab: V, batch: B, seq: T }, Number(values.steps), { E, AdamW, clipGradNorm, Rng });
// FNV-1a over the weights' bytes after the timed steps: equal hashes = bitwise-equal training (ours vs main).
const bytes = new Uint8Array(model.params.data.buffer, model.params.data.byteOffset, model.params.data.byteLength);
let hash = 0x811c9dc5;
for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193) >>> 0;
const out: Record<string, unknown> = { model: values.model, root, median_ms: median(times.slice(2)), cpu_median_ms: median(cpu.slice(2)), steps: times, loss, weights_fnv1a: hash.toString(16), threads: E.getThreads(), params: model.params.count };
if (values.profile) out.profile = E.profileOps(() => void step()).slice(0, 20);
console.log(JSON.stringify(out));
