/** groundlab side of the engine benchmark: median training-step time of the small GPT-2. Prints one JSON line. */
import * as E from '../../src/engine/index.js';
import { GPT2 } from '../../src/models/gpt2.js';
import { parseArgs } from 'node:util';
import { medianAfterWarmup, timeTrainingSteps } from './step-timing.js';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '12' }, batch: { type: 'string', default: '16' }, profile: { type: 'boolean', default: false } } });
const V = 5000, T = 128, B = Number(values.batch);
const model = new GPT2({ vocab_size: V, n_positions: T, n_embd: 256, n_layer: 4, n_head: 4, layer_norm_epsilon: 1e-5, prefix_dim: 0 });
const { times, step } = timeTrainingSteps(model, { vocab: V, batch: B, seq: T }, Number(values.steps));
const out: Record<string, unknown> = { median_ms: medianAfterWarmup(times), steps: times, threads: E.getThreads(), params: model.params.count };
if (values.profile) out.profile = E.profileOps(() => void step()).slice(0, 12);
console.log(JSON.stringify(out));
