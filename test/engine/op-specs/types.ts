import type { Tensor } from '../../../src/engine/index.js';
import type { Rng } from '../../../src/util/rng.js';

/** How to build one gradient check: a function of tensors and its inputs (those with requiresGrad are checked). */
export interface OpSpec {
  build: (rng: Rng) => { f: (...xs: Tensor[]) => Tensor; inputs: Tensor[] };
  tol?: { rtol?: number; atol?: number; eps?: number };
}

/** Specs by op name; every file in this folder exports `specs: OpSpecs` and the op tests pick them all up. */
export type OpSpecs = Record<string, OpSpec[]>;
