/** groundlab side of the LSTM benchmark: median training-step time of the LSTM LM. Prints one JSON line. */
import { parseArgs } from 'node:util';
import * as E from '../../src/engine/index.js';
import { LSTMModel } from '../../src/models/lstm.js';
import { medianAfterWarmup, timeTrainingSteps } from './step-timing.js';

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
const { times, cpu, step } = timeTrainingSteps(model, { vocab: V, batch: B, seq: T }, Number(values.steps));
const out: Record<string, unknown> = { median_ms: medianAfterWarmup(times), median_cpu_ms: medianAfterWarmup(cpu), steps: times, threads: E.getThreads(), params: model.params.count };
if (values.profile) out.profile = E.profileOps(() => void step()).slice(0, 14);
console.log(JSON.stringify(out));
