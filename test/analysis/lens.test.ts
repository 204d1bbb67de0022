import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as E from '../../src/engine/index.js';
import { TunedLens, layerConvergence, lensSurprisal, trainTunedLens } from '../../src/analysis/lens.js';
import { loadCorpus } from '../../src/data/contract.js';
import { listCheckpoints, loadCheckpoint } from '../../src/train/checkpoint.js';
import { train } from '../../src/train/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { writeToyCorpus } from '../helpers/toy-corpus.js';

describe('logit lens and tuned lens', async () => {
  const corpusDir = writeToyCorpus();
  const out = mkdtempSync(join(tmpdir(), 'gl-lens-'));
  await train({ corpus: corpusDir, out, arch: 'gpt2', preset: 'tiny', seed: 2, quiet: true, train: { steps: 40 } });
  const { model } = loadCheckpoint(listCheckpoints(out).pop()!.path);
  const corpus = loadCorpus(corpusDir);
  const rng = new Rng(4);
  const items = Array.from({ length: 10 }, () => ({ context: Array.from({ length: 3 + rng.int(10) }, () => 4 + rng.int(40)), target: 4 + rng.int(40) }));
  const modelSurprisal = items.map((it) =>
    E.noGrad(() => E.tidy(() => E.crossEntropy(model.forward({ ids: Int32Array.from(it.context), batch: 1, seq: it.context.length }, { logitRows: Int32Array.of(it.context.length - 1) }), Int32Array.of(it.target)).item())),
  );
  const L = model.nLayers;

  it('the logit lens at the last layer is the model output', () => {
    const s = lensSurprisal(model, null, items, { batchSize: 4 });
    items.forEach((_, i) => expect(s[L - 1]![i]).toBeCloseTo(modelSurprisal[i]!, 4));
  });

  it('a tuned lens initialised to identity reproduces the final distribution at the last layer', () => {
    const s = lensSurprisal(model, TunedLens.forModel(model), items);
    items.forEach((_, i) => expect(s[L - 1]![i]).toBeCloseTo(modelSurprisal[i]!, 4));
  });

  it('training lowers KL(final ‖ lens) at the first layer, and the lens saves with its unembedding hash', () => {
    const { lens, klFirst, klLast } = trainTunedLens(model, corpus.splits.train, { steps: 30, batchSize: 4, context: 32, lr: 5e-3, warmup: 5, seed: 1 }, { quiet: true });
    expect(klLast[0]).toBeLessThan(klFirst[0]! * 0.8);
    expect(klFirst[L - 1]).toBeLessThan(1e-4); // identity start at the last layer: KL ≈ 0
    const path = join(out, 'lens.safetensors');
    lens.save(path);
    const back = TunedLens.load(path, model);
    expect(lensSurprisal(model, back, items)[0]).toEqual(lensSurprisal(model, lens, items)[0]);
    model.unembedding().data[0]! += 1; // a different unembedding
    expect(() => TunedLens.load(path, model)).toThrow(/another unembedding/);
    model.unembedding().data[0]! -= 1;
  });

  it('early stopping: a plateau stops before the cap with converged layers; a tiny cap stops at the cap with unconverged layers', () => {
    const cfg = { steps: 400, batchSize: 4, context: 32, lr: 5e-3, warmup: 5, seed: 1, patience: 3, evalEvery: 10, minDelta: 0.01, valWindows: 4 };
    const long = trainTunedLens(model, corpus.splits.train, cfg, { quiet: true, valTokens: corpus.splits.val.length > 40 ? corpus.splits.val : corpus.splits.train });
    expect(long.fit.stopReason).toBe('plateau');
    expect(long.fit.stepsRun).toBeLessThan(400);
    expect(long.fit.converged.every((c) => c === true)).toBe(true);
    const first = long.fit.history[0]!.kl;
    const last = long.fit.history[long.fit.history.length - 1]!.kl;
    expect(last[0]).toBeLessThan(first[0]!);
    const short = trainTunedLens(model, corpus.splits.train, { ...cfg, steps: 6 }, { quiet: true, valTokens: corpus.splits.train });
    expect(short.fit.stopReason).toBe('cap');
    expect(short.fit.stepsRun).toBe(6);
    expect(short.fit.converged.slice(0, L - 1).every((c) => c === false)).toBe(true);
    expect(short.fit.converged[L - 1]).toBe(true);
  });
});

describe('layer convergence from a validation history', () => {
  it('flags a layer still falling and keeps a flat one (identity last layer always converged)', () => {
    const h = [10, 8, 6, 4, 2].map((x, i) => ({ step: i * 10, kl: [x, 1 + 0.001 * (5 - i), 0] }));
    expect(layerConvergence(h, 3, 3, 0.01)).toEqual([false, true, true]);
    expect(layerConvergence(h.slice(0, 2), 3, 3, 0.01)).toEqual([false, false, true]);
    expect(layerConvergence(h, 3, 3, 0.01, false)).toEqual([null, null, true]);
    // A KL that still halves but is already tiny counts as converged with an absolute tolerance.
    const tiny = [8e-4, 4e-4, 2e-4, 1e-4].map((x, i) => ({ step: i * 10, kl: [x, 0] }));
    expect(layerConvergence(tiny, 2, 3, 0.01, true, 0)).toEqual([false, true]);
    expect(layerConvergence(tiny, 2, 3, 0.01, true, 1e-3)).toEqual([true, true]);
  });
});
