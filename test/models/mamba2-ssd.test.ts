/**
 * The SSD core of Mamba-2 against its definition: the chunked computation (both backends, several
 * chunk sizes, T not a multiple of the chunk) equals the naive sequential recurrence
 *   h_t = exp(A dt_t) h_{t-1} + dt_t B_t x_tᵀ,   y_t = C_t h_t + D x_t,
 * and the implicit attention M reproduces it: y = M x + D x.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as E from '../../src/engine/index.js';
import { causalConv1d, gatedRmsNorm, ssdChunked, ssdPattern } from '../../src/engine/ops/ssd.js';
import { Rng } from '../../src/util/rng.js';
import { randomTensor } from '../engine/gradcheck.js';

/** Sequential recurrence in float64: y [Bt, T, H, P]. */
function naiveSsd(x: E.Tensor, dt: E.Tensor, A: E.Tensor, B: E.Tensor, C: E.Tensor, D: E.Tensor): Float64Array {
  const [Bt, T, H, P] = x.shape as number[];
  const N = B.shape[2]!;
  const y = new Float64Array(x.size);
  for (let b = 0; b < Bt!; b++) {
    for (let h = 0; h < H!; h++) {
      const state = new Float64Array(N * P!);
      for (let t = 0; t < T!; t++) {
        const d = dt.data[(b * T! + t) * H! + h]!;
        const decay = Math.exp(A.data[h]! * d);
        const xo = ((b * T! + t) * H! + h) * P!;
        for (let n = 0; n < N; n++) {
          const bn = B.data[(b * T! + t) * N + n]!;
          for (let p = 0; p < P!; p++) state[n * P! + p] = decay * state[n * P! + p]! + d * bn * x.data[xo + p]!;
        }
        for (let p = 0; p < P!; p++) {
          let s = D.data[h]! * x.data[xo + p]!;
          for (let n = 0; n < N; n++) s += C.data[(b * T! + t) * N + n]! * state[n * P! + p]!;
          y[xo + p] = s;
        }
      }
    }
  }
  return y;
}

function inputs(seed: number, Bt: number, T: number, H: number, P: number, N: number) {
  const r = new Rng(seed);
  const x = randomTensor(r, [Bt, T, H, P]);
  const dt = randomTensor(r, [Bt, T, H], 0.3, 0);
  for (let i = 0; i < dt.size; i++) dt.data[i] = Math.log1p(Math.exp(dt.data[i]! - 1)); // softplus: (0, ∞)
  const A = randomTensor(r, [H], 0.5, 0);
  for (let i = 0; i < H; i++) A.data[i] = -Math.exp(A.data[i]!);
  return { x, dt, A, B: randomTensor(r, [Bt, T, N]), C: randomTensor(r, [Bt, T, N]), D: randomTensor(r, [H]) };
}

function worstRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return w;
}

for (const backend of ['native', 'reference'] as const) {
  describe(`SSD core (${backend})`, () => {
    afterAll(() => E.useBackend('native'));
    const sizes = backend === 'native' ? { Bt: 3, T: 53, H: 4, P: 8, N: 6 } : { Bt: 2, T: 23, H: 2, P: 3, N: 4 };

    it('the chunked scan equals the sequential recurrence for several chunk sizes', () => {
      E.useBackend(backend);
      const { Bt, T, H, P, N } = sizes;
      const inp = inputs(5, Bt, T, H, P, N);
      const want = naiveSsd(inp.x, inp.dt, inp.A, inp.B, inp.C, inp.D);
      for (const chunk of [1, 4, 7, 16, T, 64]) {
        const got = E.noGrad(() => E.tidy(() => ssdChunked(inp.x, inp.dt, inp.A, inp.B, inp.C, inp.D, { chunk }).toFloat32Array()));
        expect(worstRel(got, want), `chunk ${chunk}`).toBeLessThan(2e-5);
      }
    });

    it('M · x + D x reproduces the SSD output (and M is causal)', () => {
      E.useBackend(backend);
      const { Bt, T, H, P, N } = sizes;
      const inp = inputs(6, Bt, T, H, P, N);
      const want = naiveSsd(inp.x, inp.dt, inp.A, inp.B, inp.C, inp.D);
      const { M, y } = E.noGrad(() =>
        E.tidy(() => {
          const M = ssdPattern(inp.dt, inp.A, inp.B, inp.C); // (Bt, H, T, T)
          const xh = E.permute(inp.x, [0, 2, 1, 3]); // (Bt, H, T, P)
          const y = E.permute(E.bmm(M, xh), [0, 2, 1, 3]); // (Bt, T, H, P)
          return { M: M.toFloat32Array(), y: y.toFloat32Array() };
        }),
      );
      for (let i = 0; i < y.length; i++) y[i] += inp.D.data[Math.floor(i / P) % H]! * inp.x.data[i]!;
      expect(worstRel(y, want)).toBeLessThan(2e-5);
      for (let r = 0; r < Bt * H * T; r++) for (let s = (r % T) + 1; s < T; s++) expect(M[r * T + s]).toBe(0);
    });
  });
}

describe('SSD kernels: native against the reference', () => {
  it('forward and backward buffers agree (ragged chunks)', () => {
    const { x, dt, A, B, C, D } = inputs(9, 3, 37, 3, 5, 4);
    const run = (backend: 'native' | 'reference') => {
      E.useBackend(backend);
      for (const t of [x, dt, A, B, C, D]) {
        E.variable(t);
        t.grad?.data.fill(0);
      }
      const out = E.tidy(() => {
        const y = ssdChunked(x, dt, A, B, C, D, { chunk: 8 });
        const seed = E.tensor(Float32Array.from({ length: y.size }, (_, i) => Math.sin(i)), y.shape);
        E.backward(y, seed);
        return y.toFloat32Array();
      });
      return [out, ...[x, dt, A, B, C, D].map((t) => t.grad!.toFloat32Array())];
    };
    const ref = run('reference');
    const nat = run('native');
    E.useBackend('native');
    ref.forEach((r, i) => expect(worstRel(nat[i]!, r), `buffer ${i}`).toBeLessThan(1e-4));
  });

  it('causal conv: native equals reference, forward and backward (sizes that take the threaded paths)', () => {
    const r = new Rng(3);
    const x = E.variable(randomTensor(r, [5, 61, 130]));
    const w = E.variable(randomTensor(r, [130, 1, 4], 0.5));
    const b = E.variable(randomTensor(r, [130], 0.3));
    const run = (backend: 'native' | 'reference') => {
      E.useBackend(backend);
      for (const t of [x, w, b]) t.grad?.data.fill(0);
      const y = E.tidy(() => {
        const y = causalConv1d(x, w, b);
        E.backward(E.sum(E.mul(y, y)));
        return y.toFloat32Array();
      });
      return [y, x.grad!.toFloat32Array(), w.grad!.toFloat32Array(), b.grad!.toFloat32Array()];
    };
    const ref = run('reference');
    const nat = run('native');
    E.useBackend('native');
    ref.forEach((rv, i) => expect(worstRel(nat[i]!, rv), `buffer ${i}`).toBeLessThan(1e-4));
  });

  it('gated RMSNorm: native equals reference, forward and backward (ragged row blocks)', () => {
    const r = new Rng(4);
    const y = E.variable(randomTensor(r, [3, 45, 260]));
    const z = E.variable(randomTensor(r, [3, 45, 260], 1.5));
    const w = E.variable(randomTensor(r, [260], 0.3, 1));
    const run = (backend: 'native' | 'reference') => {
      E.useBackend(backend);
      for (const t of [y, z, w]) t.grad?.data.fill(0);
      const out = E.tidy(() => {
        const o = gatedRmsNorm(y, z, w);
        E.backward(E.sum(E.mul(o, o)));
        return o.toFloat32Array();
      });
      return [out, y.grad!.toFloat32Array(), z.grad!.toFloat32Array(), w.grad!.toFloat32Array()];
    };
    const ref = run('reference');
    const nat = run('native');
    E.useBackend('native');
    ref.forEach((rv, i) => expect(worstRel(nat[i]!, rv), `buffer ${i}`).toBeLessThan(1e-4));
  });
});
