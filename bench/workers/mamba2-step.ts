/** groundlab side of the Mamba-2 benchmark: median training-step time (forward, backward, clip, AdamW). Prints one JSON line. */
import { parseArgs } from 'node:util';
import * as E from '../../src/engine/index.js';
import { Mamba2 } from '../../src/models/mamba2.js';
import { medianAfterWarmup, timeTrainingSteps } from './step-timing.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '12' },
    batch: { type: 'string', default: '16' },
    ctx: { type: 'string', default: '128' },
    vocab: { type: 'string', default: '5000' },
    d: { type: 'string', default: '128' },
    layers: { type: 'string', default: '4' },
    expand: { type: 'string', default: '4' },
    headdim: { type: 'string', default: '64' },
    state: { type: 'string', default: '32' },
    chunk: { type: 'string', default: '64' },
    profile: { type: 'boolean', default: false },
  },
});
const V = Number(values.vocab), T = Number(values.ctx), B = Number(values.batch);
const model = new Mamba2({
  vocab_size: V,
  hidden_size: Number(values.d),
  num_hidden_layers: Number(values.layers),
  expand: Number(values.expand),
  head_dim: Number(values.headdim),
  state_size: Number(values.state),
  conv_kernel: 4,
  chunk_size: Number(values.chunk),
  layer_norm_epsilon: 1e-5,
  prefix_dim: 0,
});
const { times, cpu, step } = timeTrainingSteps(model, { vocab: V, batch: B, seq: T }, Number(values.steps));
// CPU time (all threads) is reported beside wall time: it is far less sensitive to other processes on a busy machine.
const out: Record<string, unknown> = { median_ms: medianAfterWarmup(times), cpu_median_ms: medianAfterWarmup(cpu), steps: times, threads: E.getThreads(), params: model.params.count };
if (values.profile) out.profile = E.profileOps(() => void step()).slice(0, 16);
console.log(JSON.stringify(out));
