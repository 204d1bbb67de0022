import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as E from '../../src/engine/index.js';
import { GPT2, type GPT2Config } from '../../src/models/gpt2.js';
import { readSafetensors, toInt32 } from '../../src/util/safetensors.js';
import { Rng } from '../../src/util/rng.js';

const fixture = readSafetensors(join(__dirname, '..', 'fixtures', 'gpt2', 'tiny.safetensors'));
const cfg = JSON.parse(fixture.metadata.config!) as Omit<GPT2Config, 'prefix_dim'>;

function fixtureModel(): GPT2 {
  const m = new GPT2({ ...cfg, prefix_dim: 0 });
  const weights = new Map([...fixture.tensors].filter(([n]) => n.startsWith('transformer.')).map(([n, t]) => [n, { shape: t.shape, data: t.data as Float32Array }]));
  m.params.load(weights);
  return m;
}

const ids = toInt32(fixture.tensors.get('input_ids')!);
const run = (m: GPT2, opts?: E.Hook[]) => E.noGrad(() => E.tidy(() => E.withHooks(opts ?? [], () => m.forward({ ids, batch: 2, seq: 16 }).toFloat32Array())));

describe('GPT-2', () => {
  it('logits match the PyTorch reference (Hugging Face layout) to 1e-4', () => {
    const expected = fixture.tensors.get('logits')!.data as Float32Array;
    const got = run(fixtureModel());
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
    expect(worst).toBeLessThan(1e-4);
  });

  it('logitRows selects rows of the full logits', () => {
    const m = fixtureModel();
    const full = run(m);
    const rows = Int32Array.of(3, 17, 31);
    const sel = E.noGrad(() => E.tidy(() => m.forward({ ids, batch: 2, seq: 16 }, { logitRows: rows }).toFloat32Array()));
    // Same values up to float rounding (the GEMM runs on a different shape).
    rows.forEach((r, i) => sel.subarray(i * 64, (i + 1) * 64).forEach((v, j) => expect(v).toBeCloseTo(full[r * 64 + j]!, 4)));
  });

  it('exposes the shared hook vocabulary', () => {
    const m = fixtureModel();
    const names = E.listHookPoints(() => E.noGrad(() => E.tidy(() => void m.forward({ ids, batch: 2, seq: 16 }))));
    for (const n of ['hook_embed', 'blocks.0.hook_resid_pre', 'blocks.0.attn.pattern', 'blocks.0.attn.z', 'blocks.0.hook_attn_out', 'blocks.0.hook_resid_mid', 'blocks.0.hook_mlp_out', 'blocks.1.hook_resid_post', 'ln_final.out', 'logits']) expect(names).toContain(n);
  });

  it('attention patterns are causal probability rows', () => {
    const m = fixtureModel();
    let pattern: Float32Array | null = null;
    run(m, [{ name: 'blocks.1.attn.pattern', forward: (t) => void (pattern = t.toFloat32Array()) }]);
    const T = 16;
    for (let r = 0; r < 2 * 4 * T; r++) {
      const q = r % T;
      let s = 0;
      for (let k = 0; k < T; k++) {
        const v = pattern![r * T + k]!;
        if (k > q) expect(v).toBe(0);
        s += v;
      }
      expect(s).toBeCloseTo(1, 5);
    }
  });

  it('ablating no heads changes nothing; ablating every head equals removing the attention output', () => {
    const m = fixtureModel();
    const base = run(m);
    const keepAll = run(m, [{ name: 'blocks.0.attn.z', forward: (z) => E.mul(z, E.full([4, 8], 1)) }]);
    expect(keepAll).toEqual(base);
    const allHeads = run(m, [{ name: 'blocks.1.attn.z', forward: (z) => E.mul(z, E.zeros([4, 8])) }]);
    // Removing attention output = replacing it by its bias alone (c_proj applied to zeros).
    const bias = m.params.get('transformer.h.1.attn.c_proj.bias');
    const noAttn = run(m, [{ name: 'blocks.1.hook_attn_out', forward: (a) => E.add(E.mul(a, E.zeros([a.shape[2]!])), bias) }]);
    let worst = 0;
    for (let i = 0; i < base.length; i++) worst = Math.max(worst, Math.abs(allHeads[i]! - noAttn[i]!));
    expect(worst).toBeLessThan(1e-5);
    expect(allHeads).not.toEqual(base);
  });

  it('the gradient read at attn.pattern matches a finite difference through a replacing forward hook', () => {
    const m = fixtureModel();
    m.params.setRequiresGrad(false); // frozen weights: the hook still makes the pattern differentiable
    const target = Int32Array.of(5);
    const loss = (eps = 0, at = -1) =>
      E.tidy(() => {
        const logits = E.withHooks([{ name: 'blocks.0.attn.pattern', forward: (a) => (eps ? E.add(a, E.tensor(Array.from({ length: a.size }, (_, i) => (i === at ? eps : 0)), a.shape)) : undefined) }], () =>
          m.forward({ ids, batch: 2, seq: 16 }, { logitRows: Int32Array.of(15) }),
        );
        return E.crossEntropy(logits, target).item();
      });
    let grad: Float32Array | null = null;
    E.tidy(() => {
      E.withHooks([{ name: 'blocks.0.attn.pattern', backward: (g) => void (grad = g.toFloat32Array()) }], () => {
        const logits = m.forward({ ids, batch: 2, seq: 16 }, { logitRows: Int32Array.of(15) });
        E.backward(E.crossEntropy(logits, target));
      });
    });
    expect(grad).not.toBeNull();
    // Batch 0, head 2, query 15, keys 0..15 (row of the prediction position).
    const rng = new Rng(3);
    for (let n = 0; n < 5; n++) {
      const key = rng.int(16);
      const at = ((0 * 4 + 2) * 16 + 15) * 16 + key;
      const eps = 1e-2;
      const numeric = (loss(eps, at) - loss(-eps, at)) / (2 * eps);
      expect(Math.abs(grad![at]! - numeric)).toBeLessThan(2e-3 * Math.max(1, Math.abs(numeric)));
    }
  });

  it('hooks cannot outlive withHooks, and an unknown hook name is an error', () => {
    const m = fixtureModel();
    m.params.setRequiresGrad(true);
    let calls = 0;
    E.tidy(() => {
      let logits!: E.Tensor;
      E.withHooks([{ name: 'blocks.0.attn.pattern', backward: () => void calls++ }], () => {
        logits = m.forward({ ids, batch: 2, seq: 16 }, { logitRows: Int32Array.of(0) });
      });
      E.backward(E.crossEntropy(logits, Int32Array.of(1)));
    });
    expect(calls).toBe(0); // backward ran after the scope closed: the hook is dead
    expect(() => run(m, [{ name: 'blocks.0.atn.pattern', forward: () => undefined }])).toThrow(/never reached/);
    expect(run(m)).toEqual(run(m)); // nothing left installed
  });
});
