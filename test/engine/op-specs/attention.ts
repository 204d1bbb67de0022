/** Gradient-check specs for fused causal self-attention (src/engine/ops/attention.ts). */
import * as E from '../../../src/engine/index.js';
import { causalSelfAttention } from '../../../src/engine/ops/attention.js';
import { randomTensor } from '../gradcheck.js';
import type { OpSpecs } from './types.js';

const v = (t: E.Tensor) => E.variable(t);

export const specs: OpSpecs = {
  causalSelfAttention: [
    // 2 heads of width 3, T = 5: q, k and v gradients all checked through the causal softmax.
    { build: (r) => ({ f: (qkv) => causalSelfAttention(qkv, 2, 1 / Math.sqrt(3)), inputs: [v(randomTensor(r, [2, 5, 18]))] }) },
    // One head, T = 1 (a single position attends only to itself) and a larger scale.
    { build: (r) => ({ f: (qkv) => causalSelfAttention(qkv, 1, 2), inputs: [v(randomTensor(r, [3, 1, 12]))] }) },
  ],
};
