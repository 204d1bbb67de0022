/** Finite-difference gradient checks for ops (float32 forward, float64 bookkeeping). */
import { expect } from 'vitest';
import { Tensor, backward, noGrad, tidy, tensor, keep, sizeOf } from '../../src/engine/index.js';
import { Rng } from '../../src/util/rng.js';

export function randomTensor(rng: Rng, shape: number[], scale = 1, offset = 0): Tensor {
  const n = sizeOf(shape);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = offset + scale * rng.normal();
  return keep(tensor(v, shape));
}

/**
 * Checks d(Σ R ⊙ f(inputs))/d input against central differences for every input that requires
 * grad. R is a fixed random projection so every output element matters.
 */
export function gradcheck(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: { eps?: number; rtol?: number; atol?: number; seed?: number } = {}): void {
  const eps = opts.eps ?? 3e-3;
  const rtol = opts.rtol ?? 2e-2;
  const atol = opts.atol ?? 2e-3;
  const rng = new Rng(opts.seed ?? 7);
  let R: Float64Array | null = null;
  const loss = (): number =>
    noGrad(() =>
      tidy(() => {
        const y = f(...inputs);
        if (!R) {
          R = new Float64Array(y.size);
          for (let i = 0; i < y.size; i++) R[i] = rng.normal();
        }
        let s = 0;
        for (let i = 0; i < y.size; i++) s += R[i]! * y.data[i]!;
        return s;
      }),
    );
  loss(); // fixes R
  for (const x of inputs) if (x.requiresGrad) x.grad?.data.fill(0);
  tidy(() => {
    const y = f(...inputs);
    const seed = tensor(Float32Array.from(R!), y.shape);
    backward(y, seed);
  });
  for (const [idx, x] of inputs.entries()) {
    if (!x.requiresGrad) continue;
    const analytic = x.grad!.data;
    for (let i = 0; i < x.size; i++) {
      const orig = x.data[i]!;
      x.data[i] = orig + eps;
      const lp = loss();
      x.data[i] = orig - eps;
      const lm = loss();
      x.data[i] = orig;
      const numeric = (lp - lm) / (2 * eps);
      const a = analytic[i]!;
      if (Math.abs(a - numeric) > atol + rtol * Math.abs(numeric)) {
        expect.fail(`input ${idx} element ${i}: analytic ${a} vs numeric ${numeric}`);
      }
    }
  }
}
