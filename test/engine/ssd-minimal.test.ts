/**
 * The readable SSD reference (engine/backend/ssd-minimal.ts, after ssd_minimal_discrete of
 * state-spaces/mamba) against the fast chunked kernel the models run (native, and the TypeScript
 * mirror of the native kernel): same y on random inputs, several chunk lengths, T not a multiple
 * of the chunk, with and without D.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as E from '../../src/engine/index.js';
import { ssdMinimal } from '../../src/engine/backend/ssd-minimal.js';
import { ssdChunked } from '../../src/engine/ops/ssd.js';
import { Rng } from '../../src/util/rng.js';

function inputs(seed: number, Bt: number, T: number, H: number, P: number, N: number) {
  const r = new Rng(seed);
  const rand = (n: number, scale = 1, shift = 0) => Float32Array.from({ length: n }, () => shift + scale * r.normal());
  const dt = rand(Bt * T * H, 0.3).map((v) => Math.log1p(Math.exp(v - 1))); // softplus: Δ > 0
  const A = rand(H, 0.5).map((v) => -Math.exp(v)); // A < 0
  return { x: rand(Bt * T * H * P), dt, A, B: rand(Bt * T * N), C: rand(Bt * T * N), D: rand(H) };
}

function worstRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return w;
}

for (const backend of ['native', 'reference'] as const) {
  describe(`ssdMinimal agrees with the fast SSD kernel (${backend})`, () => {
    afterAll(() => E.useBackend('native'));
    for (const [Bt, T, H, P, N, Q, withD] of [
      [2, 37, 3, 4, 5, 8, true],
      [1, 16, 2, 8, 4, 16, true],
      [2, 29, 4, 2, 6, 5, false],
    ] as const) {
      it(`Bt ${Bt}, T ${T}, H ${H}, P ${P}, N ${N}, chunk ${Q}${withD ? '' : ', no D'}`, () => {
        E.useBackend(backend);
        const v = inputs(7 + T, Bt, T, H, P, N);
        const D = withD ? v.D : new Float32Array(H);
        const fast = E.noGrad(() =>
          E.tidy(() =>
            ssdChunked(E.tensor(v.x, [Bt, T, H, P]), E.tensor(v.dt, [Bt, T, H]), E.tensor(v.A, [H]), E.tensor(v.B, [Bt, T, N]), E.tensor(v.C, [Bt, T, N]), E.tensor(D, [H]), { chunk: Q }).toFloat32Array(),
          ),
        );
        // Any chunk length gives the same y: check the reference with its own chunk and with T (one chunk).
        const ref = ssdMinimal({ Bt, T, H, P, N, Q }, v.x, v.dt, v.A, v.B, v.C, withD ? v.D : null);
        const refOne = ssdMinimal({ Bt, T, H, P, N, Q: T }, v.x, v.dt, v.A, v.B, v.C, withD ? v.D : null);
        expect(worstRel(fast, ref)).toBeLessThan(1e-4);
        expect(worstRel(refOne, ref)).toBeLessThan(1e-10);
        expect(Math.max(...Array.from(ref, Math.abs))).toBeGreaterThan(0.1); // not trivially zero
      });
    }
  });
}
