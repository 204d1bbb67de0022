/**
 * Training and evaluating with image prefixes: the prefix batch sampler, the trainer on an
 * image-grounded corpus (loss falls, the prefix projection learns, resume is exact), and the grounding
 * evaluation of prefixed and caption-mismatched items against direct forwards.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as E from '../../src/engine/index.js';
import { buildCaptionCorpus } from '../../src/data/visdial/caption-corpus.js';
import { buildImageCorpus } from '../../src/data/visdial/image-corpus.js';
import { loadCorpus, loadItems } from '../../src/data/contract.js';
import { evaluateRun } from '../../src/study/evaluate.js';
import { prepareItems } from '../../src/analysis/grounding.js';
import { evaluateItems } from '../../src/analysis/surprisal.js';
import { createModel } from '../../src/models/index.js';
import type { LanguageModel } from '../../src/models/types.js';
import { listCheckpoints, loadCheckpoint } from '../../src/train/checkpoint.js';
import { train } from '../../src/train/trainer.js';
import { parseCsv, readJson } from '../../src/util/files.js';
import { Rng } from '../../src/util/rng.js';
import { loadPrefixCorpus } from '../../src/data/prefix.js';
import { PrefixBatchSampler } from '../../src/train/prefix-batches.js';
import { corpusSaliency } from '../../src/study/visual-saliency.js';
import { CDI, COCO, informativeFeatures, VISDIAL } from './helpers.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'gl-visdial-train-'));
let imageCorpus: string;
let captionCorpus: string;

beforeAll(async () => {
  const w = tmp();
  informativeFeatures(join(w, 'features.safetensors'));
  imageCorpus = join(w, 'image');
  await buildImageCorpus({ coco: [COCO], cdi: CDI, compounds: 'none', min_env: 3, min_lan: 3, split: [0.6, 0.1, 0.3], quiet: true, features: join(w, 'features.safetensors'), out: imageCorpus });
  captionCorpus = join(w, 'caption');
  await buildCaptionCorpus({ visdial: [VISDIAL], coco: [COCO], cdi: CDI, compounds: 'none', min_env: 3, min_lan: 3, split: [0.7, 0.05, 0.25], quiet: true, out: captionCorpus });
});

describe('PrefixBatchSampler', () => {
  it('gives the same batch for the same step, whole-document windows with their image, targets = next tokens', () => {
    const c = loadCorpus(imageCorpus);
    const p = loadPrefixCorpus(c)!;
    const s = new PrefixBatchSampler(c.splits.train, p.docs.train, p.store, 6, 24, 42, c.padId);
    const a = s.batch(3);
    const b = s.batch(3);
    expect(a.ids).toEqual(b.ids);
    expect(a.prefixValues!.data).toEqual(b.prefixValues!.data);
    expect(s.batch(4).ids).not.toEqual(a.ids);
    const { k, dim } = a.prefixValues!;
    expect([k, dim]).toEqual([4, 24]);
    expect(a.seq).toBeLessThanOrEqual(24);
    expect(a.rows!.length).toBe(a.targets.length);
    for (let r = 0; r < a.rows!.length; r++) {
      const row = a.rows![r]!;
      const bi = Math.floor(row / (k + a.seq));
      const t = (row % (k + a.seq)) - k;
      expect(t).toBeGreaterThanOrEqual(0);
      // Rows are real positions: the target of a row followed by another row is that row's input token.
      expect(a.ids[bi * a.seq + t]).not.toBe(c.padId);
      if (t + 1 < a.seq && a.rows!.includes(row + 1)) expect(a.targets[r]).toBe(a.ids[bi * a.seq + t + 1]);
    }
    // Each row's prefix is the image of the document its tokens come from.
    for (let bi = 0; bi < 6; bi++) {
      if (c.vocab[a.ids[bi * a.seq]!] !== '<doc>') continue;
      const start = [...p.docs.train.starts].findIndex((st) => {
        for (let t = 0; t < Math.min(5, a.seq); t++) if (c.splits.train[st + t] !== a.ids[bi * a.seq + t]) return false;
        return true;
      });
      expect(start).toBeGreaterThanOrEqual(0);
      expect(a.prefixValues!.data.slice(bi * k * dim, (bi + 1) * k * dim)).toEqual(p.store.get(p.docs.train.images[start]!));
    }
  });
});

describe('training on an image-grounded corpus', () => {
  it('sizes the model for the prefix, lowers the loss, trains the prefix projection, resumes exactly, and evaluates prefixed items', async () => {
    const out = join(tmp(), 'run');
    const opts = { corpus: imageCorpus, out, arch: 'gpt2' as const, preset: 'tiny', seed: 42, quiet: true, train: { steps: 40, checkpoints: 'every:20' } };
    const m = await train(opts);
    expect(m.status).toBe('complete');
    const cfg = readJson<{ model: Record<string, number> }>(join(out, 'run_config.json'));
    expect(cfg.model.prefix_dim).toBe(24);
    expect(cfg.model.n_positions).toBeGreaterThanOrEqual(32 + 4);
    const losses = parseCsv(readFileSync(join(out, 'losses.csv'), 'utf8')).filter((r) => r.split === 'train').map((r) => Number(r.loss));
    expect(losses.length).toBe(40);
    expect(losses.slice(-5).reduce((a, b) => a + b) / 5).toBeLessThan(losses.slice(0, 5).reduce((a, b) => a + b) / 5 - 0.3);
    const ck = listCheckpoints(out);
    expect(ck.map((c) => c.step)).toEqual([0, 20, 40]);
    const w0 = loadCheckpoint(ck[0]!.path).model.params.get('prefix_proj.weight').toFloat32Array();
    const w1 = loadCheckpoint(ck[2]!.path).model.params.get('prefix_proj.weight').toFloat32Array();
    expect(w1.some((x, i) => Math.abs(x - w0[i]!) > 1e-3)).toBe(true);

    // Killed after 25 updates, then resumed: the same final weights as the uninterrupted run.
    const out2 = join(tmp(), 'run');
    await train({ ...opts, out: out2, stopAfter: 25 });
    await train({ ...opts, out: out2 });
    const a = loadCheckpoint(listCheckpoints(out2).at(-1)!.path).model.params;
    const b = loadCheckpoint(ck[2]!.path).model.params;
    for (const name of a.params.keys()) expect(a.get(name).toFloat32Array(), name).toEqual(b.get(name).toFloat32Array());

    const ev = await evaluateRun({ run: out, quiet: true, iterations: 200 });
    expect(ev.summary.map((s) => s.step)).toEqual([0, 20, 40]);
    const items = loadItems(imageCorpus);
    expect(ev.summary[0]!.n_items).toBe(items.length);
    const rows = parseCsv(readFileSync(join(out, 'eval', 'grounding.csv'), 'utf8'));
    expect(rows.filter((r) => r.condition === 'matched').length).toBe(3 * items.length);
    expect(rows.filter((r) => r.condition === 'mismatched').length).toBe(3 * items.reduce((x, i) => x + i.mismatches.length, 0));
  });
});

function lastSurprisal(model: LanguageModel, ids: number[], target: number, prefix?: Float32Array, k = 0, dim = 0): number {
  return E.noGrad(() =>
    E.tidy(() => {
      const logits = model.forward({ ids: Int32Array.from(ids), batch: 1, seq: ids.length, prefix: prefix ? E.tensor(prefix, [1, k, dim]) : undefined });
      const T = k + ids.length;
      const last = E.narrow(E.reshape(logits, [T, model.vocabSize]), 0, T - 1, 1);
      return E.crossEntropy(last, Int32Array.of(target), { reduction: 'none' }).item();
    }),
  );
}

describe('grounding evaluation of visual-dialog items', () => {
  it('scores prefixed items with the matched image and each mismatched image', () => {
    const c = loadCorpus(imageCorpus);
    const p = loadPrefixCorpus(c)!;
    const model = createModel('gpt2', { vocab_size: c.vocab.length, n_positions: 160, n_embd: 16, n_layer: 1, n_head: 2, prefix_dim: p.store.dim });
    model.params.initialize(new Rng(1));
    const { prepared } = prepareItems(loadItems(imageCorpus).slice(0, 6), 128);
    const res = evaluateItems(model, prepared, { prefixes: p.store, batchTokens: 300 });
    for (const r of res) {
      expect(r.matched).toBeCloseTo(lastSurprisal(model, r.item.context, r.item.target, p.store.get(r.item.prefix!), p.store.k, p.store.dim), 4);
      r.item.mismatches.forEach((m, j) => expect(r.mismatched[j]).toBeCloseTo(lastSurprisal(model, r.item.context, r.item.target, p.store.get(m.prefix!), p.store.k, p.store.dim), 4));
    }
    expect(() => evaluateItems(model, prepared)).toThrow(/need opts.prefixes/);
  });

  it('scores caption items with their whole mismatched contexts, and skips items whose caption was cut away', () => {
    const c = loadCorpus(captionCorpus);
    const model = createModel('gpt2', { vocab_size: c.vocab.length, n_positions: 256, n_embd: 16, n_layer: 1, n_head: 2 });
    model.params.initialize(new Rng(2));
    const items = loadItems(captionCorpus).slice(0, 5);
    const { prepared } = prepareItems(items, 256);
    expect(prepared.length).toBe(5);
    const res = evaluateItems(model, prepared, { batchTokens: 500 });
    for (const r of res) {
      expect(r.matched).toBeCloseTo(lastSurprisal(model, r.item.context, r.item.target), 4);
      r.item.mismatches.forEach((m, j) => expect(r.mismatched[j]).toBeCloseTo(lastSurprisal(model, m.context!, r.item.target), 4));
    }
    // A context so short that only the language is left: matched and mismatched are the same, so skipped.
    const shortest = Math.min(...items.map((i) => i.context.length - Math.max(...i.env_positions) - 1));
    const cut = prepareItems(items, shortest);
    expect(cut.skipped.length).toBeGreaterThan(0);
    expect(cut.skipped[0]!.reason).toMatch(/environment was cut away/);
  });

  it('measures saliency on feature positions (image) and caption tokens (caption)', () => {
    for (const dir of [imageCorpus, captionCorpus]) {
      const c = loadCorpus(dir);
      const p = loadPrefixCorpus(c);
      const model = createModel('gpt2', { vocab_size: c.vocab.length, n_positions: 256, n_embd: 16, n_layer: 2, n_head: 2, prefix_dim: p ? p.store.dim : 0 });
      model.params.initialize(new Rng(3));
      const r = corpusSaliency(model, dir, 64, 12);
      expect(r.items).toBeGreaterThan(0);
      expect(r.rows.filter((x) => x.head === -1).map((x) => x.layer)).toEqual([0, 1]);
      for (const x of r.rows) {
        expect(x.env_share).toBeGreaterThan(0);
        expect(x.env_share).toBeLessThanOrEqual(1 + 1e-9);
      }
    }
  });
});
