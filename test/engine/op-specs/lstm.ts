/** Gradient-check specs for the LSTM layer op (src/engine/ops/lstm.ts). */
import * as E from '../../../src/engine/index.js';
import { lstmLayer } from '../../../src/engine/ops/lstm.js';
import { randomTensor } from '../gradcheck.js';
import type { OpSpecs } from './types.js';

const v = (t: E.Tensor) => E.variable(t);

export const specs: OpSpecs = {
  lstmLayer: [
    // Small: every input checked, gradients reaching both h and c.
    {
      build: (r) => {
        const [B, T, I, H] = [2, 4, 3, 5];
        return {
          f: (x, wih, whh, bih, bhh) => {
            const [h, c] = lstmLayer(x, wih, whh, bih, bhh);
            return E.concat([h, c], 2);
          },
          inputs: [v(randomTensor(r, [B, T, I])), v(randomTensor(r, [4 * H, I], 0.5)), v(randomTensor(r, [4 * H, H], 0.5)), v(randomTensor(r, [4 * H], 0.3)), v(randomTensor(r, [4 * H], 0.3))],
        };
      },
    },
    // Only h used downstream (no gradient reaches c), frozen input weights and one bias.
    {
      build: (r) => {
        const [B, T, I, H] = [3, 5, 4, 6];
        return {
          f: (x, wih, whh, bih, bhh) => lstmLayer(x, wih, whh, bih, bhh)[0],
          inputs: [v(randomTensor(r, [B, T, I])), randomTensor(r, [4 * H, I], 0.5), v(randomTensor(r, [4 * H, H], 0.5)), randomTensor(r, [4 * H], 0.3), v(randomTensor(r, [4 * H], 0.3))],
        };
      },
    },
    // H = 40: wide enough for the native kernel's per-thread split of the hidden units (24 + 16).
    {
      build: (r) => {
        const [B, T, I, H] = [2, 3, 2, 40];
        return {
          f: (x, wih, whh, bih, bhh) => lstmLayer(x, wih, whh, bih, bhh)[0],
          inputs: [v(randomTensor(r, [B, T, I])), v(randomTensor(r, [4 * H, I], 0.5)), v(randomTensor(r, [4 * H, H], 0.2)), randomTensor(r, [4 * H], 0.3), randomTensor(r, [4 * H], 0.3)],
        };
      },
    },
      // One sequence (no batch to split: the native loop runs serially; every thread mode is tested in test/models/lstm.test.ts).
    {
      build: (r) => {
        const [B, T, I, H] = [1, 4, 3, 40];
        return {
          f: (x, wih, whh, bih, bhh) => {
            const [h, c] = lstmLayer(x, wih, whh, bih, bhh);
            return E.concat([h, c], 2);
          },
          inputs: [v(randomTensor(r, [B, T, I])), randomTensor(r, [4 * H, I], 0.5), v(randomTensor(r, [4 * H, H], 0.2)), v(randomTensor(r, [4 * H], 0.3)), randomTensor(r, [4 * H], 0.3)],
        };
      },
    },
  ],
};
