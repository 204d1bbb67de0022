/**
 * Fused causal self-attention (native/attention.c, ops/attention.ts): the native kernels against
 * the TypeScript reference, and GPT-2's fused path against its explicit path (the one saliency
 * uses: forced here by a no-op hook at attn.pattern): logits and every parameter gradient must be
 * bitwise equal, with 2 threads (the OpenMP split) and 1.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as E from '../../src/engine/index.js';
import { loadNativeKernels } from '../../src/engine/backend/index.js';
import { referenceAttentionKernels as RA, type AttentionKernels } from '../../src/engine/backend/attention.js';
import { GPT2 } from '../../src/models/gpt2.js';
import { Rng } from '../../src/util/rng.js';

const N = loadNativeKernels() as unknown as AttentionKernels | null;
const threads0 = E.getThreads();
afterAll(() => E.setThreads(threads0));

const rand = (rng: Rng, n: number) => Float32Array.from({ length: n }, () => rng.normal());
function maxRelErr(a: Float32Array, b: Float32Array): number {
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return w;
}

describe.skipIf(!N)('fused attention kernels', () => {
  // T = 37: one block; T = 100: causal blocks of 64 + 36 rows (native/attention.c's blocking).
  it.each([37, 100])('native forward and backward match the reference (T %i, 3 heads)', (T) => {
    const rng = new Rng(3);
    const [B, H, D] = [2, 3, 8];
    const d = H * D;
    const qkv = rand(rng, B * T * 3 * d), dz = rand(rng, B * T * d);
    const run = (k: AttentionKernels) => {
      const P = new Float32Array(B * H * T * T), z = new Float32Array(B * T * d), g = new Float32Array(qkv.length);
      k.attentionForward(B, T, H, D, 1 / Math.sqrt(D), qkv, P, z);
      k.attentionBackward(B, T, H, D, 1 / Math.sqrt(D), qkv, P, dz, g);
      return { P, z, g };
    };
    const a = run(RA), b = run(N!);
    expect(maxRelErr(b.P, a.P)).toBeLessThan(1e-5);
    expect(maxRelErr(b.z, a.z)).toBeLessThan(1e-5);
    expect(maxRelErr(b.g, a.g)).toBeLessThan(1e-4);
    // causal: query t gives key s > t exactly zero weight
    for (let t = 0; t < T; t++) for (let s = t + 1; s < T; s++) expect(b.P[t * T + s]).toBe(0);
    // the k-gradient of the last key comes only from the last query: non-zero, and v of key 0 is reached by every query
    expect(b.g.some((x) => x !== 0)).toBe(true);
  });

  it('rejects buffers that do not match the sizes', () => {
    const bad = () => N!.attentionForward(1, 4, 2, 2, 1, new Float32Array(47), new Float32Array(32), new Float32Array(16));
    expect(bad).toThrow(/buffer sizes/);
  });
});

describe.skipIf(!N)('GPT-2: fused attention equals the explicit path', () => {
  // A small model, and one at the cpu preset's widths (d 128, 4 heads of 32, T 128) where OpenBLAS picks its real kernels.
  const sizes = [
    { cfg: { vocab_size: 50, n_positions: 24, n_embd: 32, n_layer: 2, n_head: 4, layer_norm_epsilon: 1e-5, prefix_dim: 0 }, B: 3, T: 24 },
    { cfg: { vocab_size: 50, n_positions: 128, n_embd: 128, n_layer: 1, n_head: 4, layer_norm_epsilon: 1e-5, prefix_dim: 0 }, B: 2, T: 128 },
  ];

  function lossAndGrads({ cfg, B, T }: (typeof sizes)[number], explicit: boolean) {
    const model = new GPT2(cfg);
    model.params.initialize(new Rng(7));
    const rng = new Rng(8);
    const ids = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocab_size));
    const targets = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocab_size));
    model.params.zeroGrad();
    const run = () =>
      E.tidy(() => {
        const logits = model.forward({ ids, batch: B, seq: T });
        const l = E.crossEntropy(E.reshape(logits, [B * T, cfg.vocab_size]), targets);
        E.backward(l);
        return logits.data.slice();
      });
    const logits = explicit ? E.withHooks([{ name: /attn\.pattern$/, forward: () => undefined }], run) : run();
    return { logits, grad: model.params.grad.slice() };
  }

  for (const threads of [2, 1]) for (const size of sizes) {
    it(`logits and the whole gradient buffer bitwise equal (d ${size.cfg.n_embd}, T ${size.T}, ${threads} thread${threads > 1 ? 's' : ''})`, () => {
      E.setThreads(threads);
      const fused = lossAndGrads(size, false);
      const explicit = lossAndGrads(size, true);
      expect(Buffer.from(fused.logits.buffer).equals(Buffer.from(explicit.logits.buffer))).toBe(true);
      expect(fused.grad.some((x) => x !== 0)).toBe(true);
      expect(Buffer.from(fused.grad.buffer).equals(Buffer.from(explicit.grad.buffer))).toBe(true);
    });
  }
});
