/** Gradient-check specs for the core ops (one or more per op name). */
import * as E from '../../../src/engine/index.js';
import { Rng } from '../../../src/util/rng.js';
import { randomTensor } from '../gradcheck.js';
import type { OpSpecs } from './types.js';

const v = (t: E.Tensor) => E.variable(t);
const ids = Int32Array.from([3, 0, 4, 3, 1, 2]);

/** One spec per op name; the test below fails if an op has none. */
export const specs: OpSpecs = {
  add: [
    { build: (r) => ({ f: E.add, inputs: [v(randomTensor(r, [3, 4])), v(randomTensor(r, [3, 4]))] }) },
    { build: (r) => ({ f: E.add, inputs: [v(randomTensor(r, [2, 3, 4])), v(randomTensor(r, [4]))] }) },
  ],
  sub: [{ build: (r) => ({ f: E.sub, inputs: [v(randomTensor(r, [2, 3, 4])), v(randomTensor(r, [3, 4]))] }) }],
  mul: [
    { build: (r) => ({ f: E.mul, inputs: [v(randomTensor(r, [3, 5])), v(randomTensor(r, [3, 5]))] }) },
    { build: (r) => ({ f: E.mul, inputs: [v(randomTensor(r, [4, 5])), v(randomTensor(r, [5]))] }) },
  ],
  div: [{ build: (r) => ({ f: E.div, inputs: [v(randomTensor(r, [4, 3])), v(randomTensor(r, [3], 0.3, 2))] }) }],
  affine: [{ build: (r) => ({ f: (x) => E.affine(x, -1.7, 0.3), inputs: [v(randomTensor(r, [7]))] }) }],
  gelu: [{ build: (r) => ({ f: E.gelu, inputs: [v(randomTensor(r, [3, 7], 2))] }) }],
  silu: [{ build: (r) => ({ f: E.silu, inputs: [v(randomTensor(r, [3, 7], 2))] }) }],
  sigmoid: [{ build: (r) => ({ f: E.sigmoid, inputs: [v(randomTensor(r, [9], 2))] }) }],
  tanh: [{ build: (r) => ({ f: E.tanh, inputs: [v(randomTensor(r, [9], 1.5))] }) }],
  exp: [{ build: (r) => ({ f: E.exp, inputs: [v(randomTensor(r, [9]))] }) }],
  softplus: [{ build: (r) => ({ f: E.softplus, inputs: [v(randomTensor(r, [9], 3))] }) }],
  relu: [{ build: (r) => ({ f: E.relu, inputs: [v(E.keep(E.tensor([0.5, -0.7, 1.2, -2, 0.9, 0.1, -0.2])))] }) }],
  log: [{ build: (r) => ({ f: E.log, inputs: [v(randomTensor(r, [9], 0.2, 2))] }) }],
  square: [{ build: (r) => ({ f: E.square, inputs: [v(randomTensor(r, [9]))] }) }],
  neg: [{ build: (r) => ({ f: E.neg, inputs: [v(randomTensor(r, [9]))] }) }],
  matmul: [
    { build: (r) => ({ f: (x, w) => E.matmul(x, w), inputs: [v(randomTensor(r, [2, 3, 4])), v(randomTensor(r, [4, 5]))] }) },
    { build: (r) => ({ f: (x, w) => E.matmul(x, w, { transB: true }), inputs: [v(randomTensor(r, [3, 4])), v(randomTensor(r, [6, 4]))] }) },
  ],
  linear: [{ build: (r) => ({ f: (x, w, b) => E.linear(x, w, b), inputs: [v(randomTensor(r, [2, 3, 4])), v(randomTensor(r, [4, 5])), v(randomTensor(r, [5]))] }) }],
  bmm: [
    { build: (r) => ({ f: (a, b) => E.bmm(a, b), inputs: [v(randomTensor(r, [2, 3, 4])), v(randomTensor(r, [2, 4, 5]))] }) },
    { build: (r) => ({ f: (a, b) => E.bmm(a, b, { transB: true }), inputs: [v(randomTensor(r, [2, 2, 3, 4])), v(randomTensor(r, [2, 2, 5, 4]))] }) },
    { build: (r) => ({ f: (a, b) => E.bmm(a, b, { transA: true }), inputs: [v(randomTensor(r, [3, 4, 3])), v(randomTensor(r, [3, 4, 2]))] }) },
    { build: (r) => ({ f: (a, b) => E.bmm(a, b, { transA: true, transB: true }), inputs: [v(randomTensor(r, [2, 4, 3])), v(randomTensor(r, [2, 5, 4]))] }) },
  ],
  reshape: [{ build: (r) => ({ f: (x) => E.mul(E.reshape(x, [6, -1]), E.reshape(x, [6, 2])), inputs: [v(randomTensor(r, [3, 4]))] }) }],
  permute: [{ build: (r) => ({ f: (x) => E.permute(x, [2, 0, 1, 3]), inputs: [v(randomTensor(r, [2, 3, 4, 2]))] }) }],
  split: [
    { build: (r) => ({ f: (x) => { const [a, , c] = E.split(x, [1, 2, 2], 1); return E.concat([E.mul(a!, a!), c!], 1); }, inputs: [v(randomTensor(r, [3, 5, 2]))] }) },
    { build: (r) => ({ f: (x) => E.mul(E.split(x, [2, 1], 0)[0]!, E.narrow(x, 0, 1, 2)), inputs: [v(randomTensor(r, [3, 4]))] }) },
  ],
  concat: [{ build: (r) => ({ f: (a, b) => E.concat([a, b, a], 2), inputs: [v(randomTensor(r, [2, 3, 2])), v(randomTensor(r, [2, 3, 4]))] }) }],
  softmax: [
    { build: (r) => ({ f: (x) => E.softmax(x, { scale: 0.7 }), inputs: [v(randomTensor(r, [3, 6]))] }) },
    { build: (r) => ({ f: (x) => E.softmax(x, { scale: 0.5, causal: true }), inputs: [v(randomTensor(r, [2, 5, 5]))] }) },
  ],
  logSoftmax: [{ build: (r) => ({ f: E.logSoftmax, inputs: [v(randomTensor(r, [4, 6]))] }) }],
  layerNorm: [{ build: (r) => ({ f: (x, g, b) => E.layerNorm(x, g, b), inputs: [v(randomTensor(r, [3, 8])), v(randomTensor(r, [8], 0.5, 1)), v(randomTensor(r, [8]))] }) }],
  rmsNorm: [{ build: (r) => ({ f: (x, g) => E.rmsNorm(x, g), inputs: [v(randomTensor(r, [3, 8])), v(randomTensor(r, [8], 0.5, 1))] }) }],
  embedding: [{ build: (r) => ({ f: (t) => E.embedding(t, ids, [2, 3]), inputs: [v(randomTensor(r, [5, 4]))] }) }],
  crossEntropy: [
    { build: (r) => ({ f: (x) => E.crossEntropy(x, Int32Array.from([1, 4, -100, 0])), inputs: [v(randomTensor(r, [4, 5]))] }) },
    { build: (r) => ({ f: (x) => E.crossEntropy(x, Int32Array.from([2, 0, 3]), { reduction: 'sum' }), inputs: [v(randomTensor(r, [3, 5]))] }) },
    { build: (r) => ({ f: (x) => E.crossEntropy(x, Int32Array.from([2, 0, 3]), { reduction: 'none' }), inputs: [v(randomTensor(r, [3, 5]))] }) },
  ],
  sum: [{ build: (r) => ({ f: (x) => E.mul(E.sum(x), E.mean(x)), inputs: [v(randomTensor(r, [3, 4]))] }) }],
  sumLastDim: [{ build: (r) => ({ f: E.sumLastDim, inputs: [v(randomTensor(r, [3, 4]))] }) }],
  sumLeading: [{ build: (r) => ({ f: (x) => E.sumLeading(x, 2), inputs: [v(randomTensor(r, [2, 3, 4]))] }) }],
};

