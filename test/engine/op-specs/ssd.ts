/** Gradient-check specs for the Mamba-2 ops (src/engine/ops/ssd.ts): ragged and exact chunking, one chunk, the implicit attention, the causal conv. */
import * as E from '../../../src/engine/index.js';
import { causalConv1d, gatedRmsNorm, ssdChunked, ssdPattern } from '../../../src/engine/ops/ssd.js';
import type { Rng } from '../../../src/util/rng.js';
import { randomTensor } from '../gradcheck.js';
import type { OpSpecs } from './types.js';

const v = (t: E.Tensor) => E.variable(t);

/** SSD inputs with dt in (0.2, 0.8) (a softplus output) and A in about (-1.2, -0.4). */
function ssdInputs(r: Rng, Bt: number, T: number, H: number, P: number, N: number) {
  return [
    v(randomTensor(r, [Bt, T, H, P])),
    v(randomTensor(r, [Bt, T, H], 0.1, 0.5)),
    v(randomTensor(r, [H], 0.15, -0.8)),
    v(randomTensor(r, [Bt, T, N], 0.7)),
    v(randomTensor(r, [Bt, T, N], 0.7)),
    v(randomTensor(r, [H])),
  ];
}

export const specs: OpSpecs = {
  ssdChunked: [
    // T = 7 in chunks of 3: two full chunks and a ragged one (inter-chunk recurrence twice).
    { build: (r) => ({ f: (x, dt, A, B, C, D) => ssdChunked(x, dt, A, B, C, D, { chunk: 3 }), inputs: ssdInputs(r, 2, 7, 2, 3, 4) }) },
    // T a multiple of the chunk, three heads.
    { build: (r) => ({ f: (x, dt, A, B, C, D) => ssdChunked(x, dt, A, B, C, D, { chunk: 4 }), inputs: ssdInputs(r, 1, 8, 3, 2, 3) }) },
    // One chunk longer than the sequence: the quadratic form alone.
    { build: (r) => ({ f: (x, dt, A, B, C, D) => ssdChunked(x, dt, A, B, C, D, { chunk: 16 }), inputs: ssdInputs(r, 2, 5, 2, 2, 3) }) },
  ],
  ssdPattern: [
    {
      build: (r) => {
        const [, dt, A, B, C] = ssdInputs(r, 2, 6, 2, 1, 3);
        return { f: (dt, A, B, C) => ssdPattern(dt, A, B, C), inputs: [dt!, A!, B!, C!] };
      },
    },
  ],
  causalConv1d: [
    { build: (r) => ({ f: (x, w, b) => causalConv1d(x, w, b), inputs: [v(randomTensor(r, [2, 6, 5])), v(randomTensor(r, [5, 1, 4], 0.5)), v(randomTensor(r, [5], 0.3))] }) },
    { build: (r) => ({ f: (x, w, b) => causalConv1d(x, w, b, { activation: 'none' }), inputs: [v(randomTensor(r, [1, 5, 3])), v(randomTensor(r, [3, 1, 3], 0.5)), v(randomTensor(r, [3], 0.3))] }) },
  ],
  gatedRmsNorm: [{ build: (r) => ({ f: (y, z, w) => gatedRmsNorm(y, z, w), inputs: [v(randomTensor(r, [2, 3, 6])), v(randomTensor(r, [2, 3, 6], 1.5)), v(randomTensor(r, [6], 0.3, 1))] }) }],
};
