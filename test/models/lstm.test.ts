import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as E from '../../src/engine/index.js';
import { LSTMModel, type LSTMConfig } from '../../src/models/lstm.js';
import { createModel } from '../../src/models/index.js';
import { lstmKernels, referenceLstmKernels } from '../../src/engine/backend/lstm.js';
import { getPreset, presetNames } from '../../src/train/config.js';
import { readSafetensors, toInt32 } from '../../src/util/safetensors.js';
import { Rng } from '../../src/util/rng.js';
import { train } from '../../src/train/trainer.js';
import { listCheckpoints, loadCheckpoint } from '../../src/train/checkpoint.js';
import { parseCsv } from '../../src/util/files.js';
import { writeToyCorpus } from '../helpers/toy-corpus.js';

function loadFixture(name: string) {
  const f = readSafetensors(join(__dirname, '..', 'fixtures', 'lstm', `${name}.safetensors`));
  const cfg = JSON.parse(f.metadata.config!) as LSTMConfig;
  const model = new LSTMModel(cfg);
  const skip = new Set(['input_ids', 'prefix', 'logits']);
  model.params.load(new Map([...f.tensors].filter(([n]) => !skip.has(n)).map(([n, t]) => [n, { shape: t.shape, data: t.data as Float32Array }])));
  const ids = toInt32(f.tensors.get('input_ids')!);
  const [batch, seq] = f.tensors.get('input_ids')!.shape as [number, number];
  const pre = f.tensors.get('prefix');
  return { model, cfg, ids, batch, seq, prefixData: pre ? { shape: pre.shape, data: pre.data as Float32Array } : null, logits: f.tensors.get('logits')!.data as Float32Array };
}

type Fixture = ReturnType<typeof loadFixture>;

/** Forward (no grad) of a fixture's inputs, with optional hooks; returns the logits. */
function run(fx: Fixture, hooks: E.Hook[] = [], opts: { logitRows?: Int32Array } = {}): Float32Array {
  return E.noGrad(() =>
    E.tidy(() => {
      const prefix = fx.prefixData ? E.tensor(fx.prefixData.data, fx.prefixData.shape) : undefined;
      return E.withHooks(hooks, () => fx.model.forward({ ids: fx.ids, batch: fx.batch, seq: fx.seq, prefix }, opts).toFloat32Array());
    }),
  );
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('LSTM', () => {
  for (const name of ['tiny', 'wide']) {
    for (const backend of ['native', 'reference'] as const) {
      it(`${name}: logits match torch.nn.LSTM to 1e-4 (${backend} backend)`, () => {
        E.useBackend(backend);
        try {
          const fx = loadFixture(name);
          const got = run(fx);
          expect(got.length).toBe(fx.logits.length);
          expect(maxDiff(got, fx.logits)).toBeLessThan(1e-4);
        } finally {
          E.useBackend('native');
        }
      });
    }
  }

  it('parameter names and shapes are torch.nn.LSTM state-dict names', () => {
    const m = new LSTMModel({ vocab_size: 10, embedding_size: 4, hidden_size: 6, num_layers: 2, prefix_dim: 3 });
    expect(m.params.names()).toEqual([
      'embedding.weight',
      'lstm.weight_ih_l0', 'lstm.weight_hh_l0', 'lstm.bias_ih_l0', 'lstm.bias_hh_l0',
      'lstm.weight_ih_l1', 'lstm.weight_hh_l1', 'lstm.bias_ih_l1', 'lstm.bias_hh_l1',
      'proj.weight', 'prefix_proj.weight', 'prefix_proj.bias',
    ]);
    expect(m.params.get('lstm.weight_ih_l0').shape).toEqual([24, 4]);
    expect(m.params.get('lstm.weight_ih_l1').shape).toEqual([24, 6]);
    expect(m.params.get('proj.weight').shape).toEqual([4, 6]);
    expect(new LSTMModel({ vocab_size: 10, embedding_size: 6, hidden_size: 6, num_layers: 1, prefix_dim: 0 }).params.names()).not.toContain('proj.weight');
    expect(m.hfConfig()).toMatchObject({ model_type: 'lstm', embedding_size: 4, hidden_size: 6, num_layers: 2, tie_word_embeddings: true });
  });

  it('logitRows selects rows of the full logits', () => {
    const fx = loadFixture('tiny');
    const full = run(fx);
    const V = fx.cfg.vocab_size;
    const rows = Int32Array.of(0, 12, 20);
    const sel = run(fx, [], { logitRows: rows });
    rows.forEach((r, i) => sel.subarray(i * V, (i + 1) * V).forEach((v, j) => expect(v).toBeCloseTo(full[r * V + j]!, 4)));
  });

  it('exposes the shared hook vocabulary with the documented shapes', () => {
    const fx = loadFixture('tiny');
    const shapes = new Map<string, readonly number[]>();
    run(fx, [{ name: () => true, forward: (t, n) => void shapes.set(n, t.shape) }]);
    const T = 3 + fx.seq;
    expect(shapes.get('hook_embed')).toEqual([2, T, 12]);
    expect(shapes.get('blocks.0.hook_resid_pre')).toEqual([2, T, 12]);
    expect(shapes.get('blocks.1.hook_resid_pre')).toEqual([2, T, 16]);
    for (const l of [0, 1]) for (const n of ['lstm.h', 'lstm.c', 'hook_resid_post']) expect(shapes.get(`blocks.${l}.${n}`)).toEqual([2, T, 16]);
    expect(shapes.get('ln_final.out')).toEqual([2, T, 12]);
    expect(shapes.get('logits')).toEqual([2, T, 50]);
  });

  it('readout maps any layer\'s h to logits: the last layer\'s gives the model\'s logits (logit lens), finalNorm is neutral', () => {
    for (const name of ['tiny', 'wide']) {
      const fx = loadFixture(name);
      let last: Float32Array | null = null;
      const L = fx.cfg.num_layers;
      const logits = run(fx, [{ name: `blocks.${L - 1}.hook_resid_post`, forward: (t) => void (last = t.toFloat32Array()) }]);
      const [a, b] = E.noGrad(() =>
        E.tidy(() => {
          const h = E.tensor(last!, [last!.length / fx.cfg.hidden_size, fx.cfg.hidden_size]);
          return [fx.model.readout(h).toFloat32Array(), fx.model.readout(h, fx.model.finalNorm()).toFloat32Array()];
        }),
      );
      expect(maxDiff(a, logits)).toBeLessThan(1e-5);
      expect(b).toEqual(a);
      expect(fx.model.finalNorm().weight.shape).toEqual([fx.model.dModel]);
    }
  });

  it('h and c read out of the recurrence are consistent: |h| <= |tanh c|, and h feeds the next layer', () => {
    const fx = loadFixture('wide');
    const got = new Map<string, Float32Array>();
    run(fx, [{ name: /^blocks\.\d\.(lstm\.[hc]|hook_resid_pre)$/, forward: (t, n) => void got.set(n, t.toFloat32Array()) }]);
    const h = got.get('blocks.0.lstm.h')!;
    const c = got.get('blocks.0.lstm.c')!;
    for (let i = 0; i < h.length; i++) expect(Math.abs(h[i]!)).toBeLessThanOrEqual(Math.abs(Math.tanh(c[i]!)) + 1e-6);
    expect(got.get('blocks.1.hook_resid_pre')).toEqual(h);
  });

  it('replacing h of a layer changes the logits downstream, causally', () => {
    const fx = loadFixture('wide');
    const base = run(fx);
    const { batch: B, seq: T } = fx;
    const H = fx.cfg.hidden_size;
    const V = fx.cfg.vocab_size;
    // Zeroing the last layer's h gives zero logits (no proj, no bias before the unembedding).
    const zeroed = run(fx, [{ name: 'blocks.1.lstm.h', forward: (t) => E.zeros(t.shape) }]);
    expect(maxDiff(zeroed, new Float32Array(zeroed.length))).toBe(0);
    // Perturbing layer 0's h from position t0 on changes logits at t >= t0 only.
    const t0 = 5;
    const patched = run(fx, [
      {
        name: 'blocks.0.lstm.h',
        forward: (t) => {
          const r = E.tensor(t.data, t.shape);
          for (let b = 0; b < B; b++) for (let t = t0; t < T; t++) for (let j = 0; j < H; j++) r.data[(b * T + t) * H + j]! += 0.5;
          return r;
        },
      },
    ]);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const d = maxDiff(patched.subarray((b * T + t) * V, (b * T + t + 1) * V), base.subarray((b * T + t) * V, (b * T + t + 1) * V));
        if (t < t0) expect(d).toBe(0);
        else expect(d).toBeGreaterThan(1e-3);
      }
    }
  });

  it('gradient × input at a layer input matches finite differences (frozen weights, backward hook)', () => {
    const fx = loadFixture('tiny');
    fx.model.params.setRequiresGrad(false);
    const prefix = fx.prefixData!;
    const T = 3 + fx.seq;
    const target = Int32Array.of(7, 33); // surprisal of token 7 at position 5 of row 0, of 33 at the last position of row 1
    const tq = 5;
    const rows = Int32Array.of(tq, 2 * T - 1);
    const site = 'blocks.1.hook_resid_pre';
    const loss = () => {
      const pre = E.tensor(prefix.data, prefix.shape);
      const logits = fx.model.forward({ ids: fx.ids, batch: fx.batch, seq: fx.seq, prefix: pre }, { logitRows: rows });
      return E.crossEntropy(logits, target, { reduction: 'sum' });
    };
    let grad: Float32Array | null = null;
    let input: Float32Array | null = null;
    E.tidy(() =>
      E.withHooks([{ name: site, forward: (t) => void (input = t.toFloat32Array()), backward: (g) => void (grad = g.toFloat32Array()) }], () => E.backward(loss())),
    );
    expect(grad).not.toBeNull();
    // Directional derivative along a random direction d vs the central difference of L(x + εd).
    const rng = new Rng(5);
    const d = Float32Array.from({ length: input!.length }, () => rng.normal());
    let analytic = 0;
    let gxi = 0;
    for (let i = 0; i < d.length; i++) {
      analytic += grad![i]! * d[i]!;
      gxi += grad![i]! * input![i]!;
    }
    const at = (eps: number) =>
      E.noGrad(() =>
        E.tidy(() => E.withHooks([{ name: site, forward: (t) => { const r = E.tensor(t.data, t.shape); for (let i = 0; i < d.length; i++) r.data[i]! += eps * d[i]!; return r; } }], () => loss().item())),
      );
    const eps = 1e-2;
    const numeric = (at(eps) - at(-eps)) / (2 * eps);
    expect(Math.abs(analytic - numeric)).toBeLessThan(2e-2 * Math.abs(numeric) + 1e-3);
    // Causality: nothing after position tq of row 0 influences row 0's loss.
    const H = fx.cfg.hidden_size;
    expect(grad!.length).toBe(2 * T * H);
    for (let i = (tq + 1) * H; i < T * H; i++) expect(grad![i]).toBe(0);
    expect(Math.abs(grad![tq * H]!) + Math.abs(grad![(T + 1) * H]!)).toBeGreaterThan(0);
    expect(Number.isFinite(gxi) && gxi !== 0).toBe(true);
  });

  it('parameter gradients of the whole model match finite differences', () => {
    const m = new LSTMModel({ vocab_size: 11, embedding_size: 5, hidden_size: 7, num_layers: 2, prefix_dim: 0 });
    m.params.initialize(new Rng(9));
    for (let i = 0; i < m.params.data.length; i++) m.params.data[i]! *= 3; // away from the linear regime
    const ids = Int32Array.from([1, 4, 2, 9, 0, 3, 5, 10, 7, 6, 8, 2]);
    const targets = Int32Array.from([4, 2, 9, 0, 3, 1, 10, 7, 6, 8, 2, 5]);
    const lossOf = () => E.crossEntropy(E.reshape(m.forward({ ids, batch: 2, seq: 6 }), [12, 11]), targets);
    m.params.zeroGrad();
    E.tidy(() => E.backward(lossOf()));
    const rng = new Rng(2);
    for (const name of m.params.names()) {
      const p = m.params.get(name);
      for (let k = 0; k < 4; k++) {
        const i = rng.int(p.size);
        const orig = p.data[i]!;
        const eps = 3e-3;
        p.data[i] = orig + eps;
        const lp = E.noGrad(() => E.tidy(() => lossOf().item()));
        p.data[i] = orig - eps;
        const lm = E.noGrad(() => E.tidy(() => lossOf().item()));
        p.data[i] = orig;
        const numeric = (lp - lm) / (2 * eps);
        expect(Math.abs(p.grad!.data[i]! - numeric), `${name}[${i}]`).toBeLessThan(2e-3 + 2e-2 * Math.abs(numeric));
      }
    }
  });

  it('native and reference backends agree on logits and parameter gradients (thread split on)', () => {
    const run1 = (backend: 'native' | 'reference') => {
      E.useBackend(backend);
      try {
        const m = new LSTMModel({ vocab_size: 30, embedding_size: 24, hidden_size: 48, num_layers: 2, prefix_dim: 0 });
        m.params.initialize(new Rng(4));
        const rng = new Rng(8);
        const ids = Int32Array.from({ length: 3 * 11 }, () => rng.int(30));
        const targets = Int32Array.from({ length: 3 * 11 }, () => rng.int(30));
        m.params.zeroGrad();
        const logits = E.tidy(() => {
          const lg = m.forward({ ids, batch: 3, seq: 11 });
          E.backward(E.crossEntropy(E.reshape(lg, [33, 30]), targets));
          return lg.toFloat32Array();
        });
        return { logits, grad: m.params.grad.slice() };
      } finally {
        E.useBackend('native');
      }
    };
    const a = run1('reference');
    const b = run1('native');
    expect(maxDiff(a.logits, b.logits)).toBeLessThan(1e-5);
    let scale = 0;
    for (const g of a.grad) scale = Math.max(scale, Math.abs(g));
    expect(maxDiff(a.grad, b.grad)).toBeLessThan(1e-5 + 1e-4 * scale);
  });

  it('native time loop matches the reference in every thread mode (serial, batch split, hidden-unit split)', () => {
    const prev = process.env.GROUNDLAB_LSTM_MODE;
    const threads = E.getThreads();
    try {
      E.setThreads(2);
      for (const [B, T, H] of [[1, 6, 40], [3, 5, 48], [4, 3, 160]] as const) {
        const rng = new Rng(B * 100 + H);
        const rnd = (n: number, s: number) => Float32Array.from({ length: n }, () => s * rng.normal());
        const G0 = rnd(B * T * 4 * H, 1), whh = rnd(4 * H * H, 0.15), bias = rnd(4 * H, 0.2), dHs = rnd(B * T * H, 1), dCs = rnd(B * T * H, 1);
        const go = (k: typeof referenceLstmKernels) => {
          const G = G0.slice(), Hs = new Float32Array(B * T * H), Cs = new Float32Array(B * T * H), dA = new Float32Array(B * T * 4 * H);
          k.lstmForward(B, T, H, G, whh, bias, Hs, Cs);
          k.lstmBackward(B, T, H, G, Cs, whh, dHs, dCs, dA, new Float32Array(2 * B * H));
          return [Hs, Cs, G, dA];
        };
        const ref = go(referenceLstmKernels);
        for (const mode of ['serial', 'batch', 'hidden']) {
          process.env.GROUNDLAB_LSTM_MODE = mode;
          const nat = go(lstmKernels());
          nat.forEach((a, i) => expect(maxDiff(a, ref[i]!), `B${B} H${H} ${mode} output ${i}`).toBeLessThan(1e-5));
        }
      }
    } finally {
      if (prev === undefined) delete process.env.GROUNDLAB_LSTM_MODE;
      else process.env.GROUNDLAB_LSTM_MODE = prev;
      E.setThreads(threads);
    }
  });

  it('every preset has an lstm within 10% of the parameters of the GPT-2 of the same depth (mid: GPT-2 only, by design)', () => {
    for (const name of presetNames) {
      const p = getPreset(name);
      if (name === 'mid') {
        expect(p.study.every((s) => s.arch === 'gpt2')).toBe(true);
        continue;
      }
      const lstm = p.models.lstm!;
      expect(lstm, name).toBeDefined();
      expect(p.study.some((s) => s.arch === 'lstm'), name).toBe(true);
      const gpt = [p.models.gpt2!, ...p.study.filter((s) => s.arch === 'gpt2').map((s) => s.model)].find((g) => g.n_layer === lstm.num_layers);
      expect(gpt, `${name}: a GPT-2 with ${lstm.num_layers} layers`).toBeDefined();
      for (const V of [100, 5000]) {
        const a = createModel('gpt2', { ...gpt!, vocab_size: V }).params.count;
        const b = createModel('lstm', { ...lstm, vocab_size: V }).params.count;
        expect(Math.abs(b / a - 1), `${name} V=${V}: lstm ${b} vs gpt2 ${a}`).toBeLessThan(0.1);
      }
    }
  });

  it('trains through the trainer (tiny preset): the loss falls and checkpoints reload to the same logits', async () => {
    const out = mkdtempSync(join(tmpdir(), 'gl-lstm-run-'));
    const m = await train({ corpus: writeToyCorpus(), out, arch: 'lstm', preset: 'tiny', seed: 3, quiet: true, train: { steps: 60, checkpoints: 'list:0,60' } });
    expect(m.status).toBe('complete');
    const val = parseCsv(readFileSync(join(out, 'losses.csv'), 'utf8')).filter((r) => r.split === 'val' && ['0', '60'].includes(r.step!)).map((r) => Number(r.loss));
    expect(val[0]).toBeGreaterThan(3.5); // ~ln(44)
    expect(val[1]).toBeLessThan(val[0]! - 1); // learnt the successor rule
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toMatchObject({ model_type: 'lstm', hidden_size: 40, embedding_size: 32, num_layers: 2, vocab_size: 44 });
    const { model } = loadCheckpoint(listCheckpoints(out).pop()!.path);
    expect(model.arch).toBe('lstm');
    expect(model.params.names()).toContain('lstm.weight_hh_l1');
    const ids = Int32Array.from({ length: 16 }, (_, i) => 4 + i);
    const a = E.noGrad(() => E.tidy(() => model.forward({ ids, batch: 1, seq: 16 }).toFloat32Array()));
    expect(a.every(Number.isFinite)).toBe(true);
  }, 120_000);
});
