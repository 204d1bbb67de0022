/** groundlab side of the LSTM benchmark: median training-step time of the LSTM LM. Prints one JSON line. */
import { parseArgs } from 'node:util';
import * as E from '../../src/engine/index.js';
import { LSTMModel } from '../../src/models/lstm.js';
import { AdamW, clipGradNorm } from '../../src/train/optim.js';
import { Rng } from '../../src/util/rng.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '12' },
    batch: { type: 'string', default: '32' },
    ctx: { type: 'string', default: '128' },
    vocab: { type: 'string', default: '5000' },
    embed: { type: 'string', default: '128' },
    hidden: { type: 'string', default: '160' },
    layers: { type: 'string', default: '4' },
    profile: { type: 'boolean', default: false },
  },
});
const V = Number(values.vocab), T = Number(values.ctx), B = Number(values.batch);
const model = new LSTMModel({ vocab_size: V, embedding_size: Number(values.embed), hidden_size: Number(values.hidden), num_layers: Number(values.layers), prefix_dim: 0 });
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
const cpu: number[] = []; // process CPU time (all threads) per step: robust to other load on the machine
for (let s = 0; s < Number(values.steps); s++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  step();
  const c = process.cpuUsage(c0);
  times.push(performance.now() - t0);
  cpu.push((c.user + c.system) / 1000);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const out: Record<string, unknown> = { median_ms: median(times.slice(2)), median_cpu_ms: median(cpu.slice(2)), steps: times, threads: E.getThreads(), params: model.params.count };
if (values.profile) out.profile = E.profileOps(() => void step()).slice(0, 14);
console.log(JSON.stringify(out));
