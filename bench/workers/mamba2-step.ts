/** groundlab side of the Mamba-2 benchmark: median training-step time (forward, backward, clip, AdamW). Prints one JSON line. */
import { parseArgs } from 'node:util';
import * as E from '../../src/engine/index.js';
import { Mamba2 } from '../../src/models/mamba2.js';
import { AdamW, clipGradNorm } from '../../src/train/optim.js';
import { Rng } from '../../src/util/rng.js';

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
model.params.initialize(new Rng(1));
const opt = new AdamW(model.params, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
const rng = new Rng(2);
const ids = Int32Array.from({ length: B * T }, () => rng.int(V));
const targets = Int32Array.from({ length: B * T }, () => rng.int(V));

function step(): number {
  model.params.zeroGrad();
  const loss = E.tidy(() => {
    const logits = model.forward({ ids, batch: B, seq: T });
    const l = E.crossEntropy(E.reshape(logits, [B * T, V]), targets);
    E.backward(l);
    return l.item();
  });
  clipGradNorm(model.params, 1);
  opt.update(1e-3);
  return loss;
}

const times: number[] = [];
const cpu: number[] = [];
for (let s = 0; s < Number(values.steps); s++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  step();
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / 1000);
  times.push(performance.now() - t0);
}
const med = (xs: number[]) => [...xs.slice(2)].sort((a, b) => a - b)[Math.floor((xs.length - 2) / 2)];
// CPU time (all threads) is reported beside wall time: it is far less sensitive to other processes on a busy machine.
const out: Record<string, unknown> = { median_ms: med(times), cpu_median_ms: med(cpu), steps: times, threads: E.getThreads(), params: model.params.count };
if (values.profile) out.profile = E.profileOps(() => void step()).slice(0, 16);
console.log(JSON.stringify(out));
