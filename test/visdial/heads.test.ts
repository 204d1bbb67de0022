/**
 * Aggregate heads and zero-ablation on image-grounded sequences (study/visual-heads.ts): a tiny
 * image-grounded study (GPT-2 trained briefly, Mamba-2 and LSTM barely) on the shared sample, the
 * invariant that ablating nothing changes nothing (also with hooks that fire and keep every head),
 * that the z hooks fire through the pointer wrapper, the tables' columns, uniform_share against an
 * independent count of items.jsonl, and the LSTM's recorded skip.
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as E from '../../src/engine/index.js';
import { buildImageCorpus } from '../../src/data/visdial/image-corpus.js';
import { ablationHooks, interventionTest, itemSurprisal } from '../../src/analysis/heads.js';
import { listCheckpoints, loadCheckpoint } from '../../src/train/checkpoint.js';
import { train } from '../../src/train/trainer.js';
import { parseCsv, readJson } from '../../src/util/files.js';
import { studyVisualHeads, visualHeads, VISUAL_HEADS_COLUMNS, VISUAL_INTERVENTION_COLUMNS } from '../../src/study/visual-heads.js';
import { corpusSaliency, visualItems } from '../../src/study/visual-saliency.js';
import { CDI, COCO, informativeFeatures } from './helpers.js';

const K = 4; // patches per image (informativeFeatures)
let study: string;
let corpus: string;

beforeAll(async () => {
  const w = mkdtempSync(join(tmpdir(), 'gl-visdial-heads-'));
  informativeFeatures(join(w, 'features.safetensors'), K);
  study = join(w, 'study');
  corpus = join(study, 'corpus'); // no study.json: the corpus is STUDY/corpus
  await buildImageCorpus({ coco: [COCO], cdi: CDI, compounds: 'none', min_env: 3, min_lan: 3, split: [0.6, 0.1, 0.3], quiet: true, features: join(w, 'features.safetensors'), out: corpus });
  const run = (arch: 'gpt2' | 'mamba2' | 'lstm', steps: number) =>
    train({ corpus, out: join(study, 'runs', `${arch}-s42`), arch, preset: 'tiny', seed: 42, quiet: true, train: { steps, checkpoints: `list:${steps}` } });
  await run('gpt2', 40);
  await run('mamba2', 4);
  await run('lstm', 2);
}, 60_000);

const lastModel = (arch: string) => {
  const dir = join(study, 'runs', `${arch}-s42`);
  const cfg = readJson<{ train: { context: number } }>(join(dir, 'run_config.json'));
  return { model: loadCheckpoint(listCheckpoints(dir).at(-1)!.path).model, maxLen: cfg.train.context };
};

describe('visual heads and intervention (image-grounded)', () => {
  it('ablating no heads leaves surprisal unchanged; the z hooks fire through the pointer wrapper', () => {
    for (const arch of ['gpt2', 'mamba2']) {
      const { model, maxLen } = lastModel(arch);
      const { model: pm, items, padId } = visualItems(model, corpus, maxLen, 24);
      expect(items.length).toBeGreaterThan(5);
      expect(items[0]!.envPositions).toEqual([0, 1, 2, 3]);
      const ctx = items.map((it) => ({ context: it.context, target: it.target }));
      const none = interventionTest(pm, ctx, [], { draws: 3, seed: 1, padId });
      expect(Array.from(none.perItem.intervened)).toEqual(Array.from(none.perItem.original));
      expect(none.intervened).toBe(none.original);
      expect(Number.isNaN(none.control)).toBe(true);
      // Hooks at every layer's z that keep every head (multiply by ones): they fire, and change nothing.
      const names = ablationHooks(pm, Array.from({ length: pm.nLayers }, (_, layer) => ({ layer, head: 0 }))).map((h) => h.name as string);
      expect(names[0]).toBe(arch === 'gpt2' ? 'blocks.0.attn.z' : 'blocks.0.mixer.z');
      const hits = new Map<string, number>();
      const keep = names.map((name) => ({ name, forward: (z: E.Tensor) => (hits.set(name, (hits.get(name) ?? 0) + 1), E.mul(z, E.full([z.shape[2]!, z.shape[3]!], 1))) }));
      const original = itemSurprisal(pm, ctx, [], { padId });
      const kept = E.withHooks(keep, () => itemSurprisal(pm, ctx, [], { padId }), { strict: true });
      expect(Array.from(kept)).toEqual(Array.from(original));
      for (const n of names) expect(hits.get(n), n).toBeGreaterThan(0);
      // Zeroing every head does change the prediction: the ablation reaches the wrapped model.
      const all = Array.from({ length: pm.nLayers * pm.nHeads }, (_, i) => ({ layer: Math.floor(i / pm.nHeads), head: i % pm.nHeads }));
      const ablated = itemSurprisal(pm, ctx, ablationHooks(pm, all), { padId });
      expect(ablated.some((v, i) => Math.abs(v - original[i]!) > 1e-4), arch).toBe(true);
    }
  });

  it('reuses matching saliency rows (same scores as computing them), and recomputes otherwise', () => {
    const { model, maxLen } = lastModel('gpt2');
    const sal = corpusSaliency(model, corpus, maxLen, 16);
    const a = visualHeads(model, corpus, maxLen, { maxItems: 16, draws: 2, saliency: sal.rows });
    const b = visualHeads(model, corpus, maxLen, { maxItems: 16, draws: 2 });
    expect(a.saliencyReused).toBe(true);
    expect(b.saliencyReused).toBe(false);
    expect(a.heads).toEqual(b.heads);
    expect(a.intervention).toEqual(b.intervention);
    // Rows of another item count are not reused.
    expect(visualHeads(model, corpus, maxLen, { maxItems: 12, draws: 2, saliency: sal.rows }).saliencyReused).toBe(false);
  });

  it('writes visual_heads.csv and visual_intervention.csv with their columns, uniform_share as counted from items.jsonl, and records the LSTM skip', () => {
    const r = studyVisualHeads(study, 'image', { maxItems: 40 });
    const ivLines = readFileSync(join(study, 'eval', 'visual_intervention.csv'), 'utf8').trim().split('\n');
    expect(ivLines[0]).toBe(VISUAL_INTERVENTION_COLUMNS.join(','));
    expect(ivLines[0]).toBe('setting,label,arch,seed,step,selection,n_heads,heads,mean_layer,n_items,original,intervened,control,diff,t,p,wilcoxon_p,control_size,uniform_share');
    const iv = parseCsv(readFileSync(join(study, 'eval', 'visual_intervention.csv'), 'utf8'));
    const hd = parseCsv(readFileSync(join(study, 'eval', 'visual_heads.csv'), 'utf8'));
    expect(readFileSync(join(study, 'eval', 'visual_heads.csv'), 'utf8').split('\n')[0]).toBe(VISUAL_HEADS_COLUMNS.join(','));
    expect(iv.map((x) => `${x.label}/${x.selection}`).sort()).toEqual(['gpt2/threshold:0.3', 'gpt2/top:1', 'mamba2/threshold:0.3', 'mamba2/top:1']); // tiny: 2 layers × 2 heads (gpt2); top: 10% rounded, ≥ 1

    // uniform_share: mean over the analysed items of k / (k + tokens kept), counted from the raw items.
    const maxLen = readJson<{ train: { context: number } }>(join(study, 'runs', 'gpt2-s42', 'run_config.json')).train.context;
    const raw = readFileSync(join(corpus, 'items.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { source: { kind: string }; prefix?: string; context: number[] });
    const used = raw.filter((i) => i.source.kind === 'corpus').slice(0, 40).filter((i) => i.prefix !== undefined);
    const expected = used.reduce((a, i) => a + K / (K + Math.min(i.context.length, maxLen)), 0) / used.length;
    for (const x of [...iv, ...hd]) expect(Number(x.uniform_share)).toBeCloseTo(expected, 5);
    for (const x of iv) expect(Number(x.n_items)).toBe(used.length);

    for (const x of iv) {
      expect(x.setting).toBe('image');
      const mine = hd.filter((h) => h.label === x.label && h.selection === x.selection);
      expect(mine.filter((h) => h.aggregate === '1').length).toBe(Number(x.n_heads));
      expect(mine.filter((h) => h.aggregate === '1').map((h) => `L${h.layer}H${h.head}`).join(';')).toBe(x.heads);
      if (x.selection === 'threshold:0.3') for (const h of mine) expect(h.aggregate === '1').toBe(Number(h.env_share) >= 0.3);
      expect(Number(x.original)).toBeGreaterThan(0);
      if (Number(x.n_heads) > 0 && Number(x.n_heads) <= mine.length - Number(x.n_heads)) {
        expect(Number(x.control_size)).toBe(Number(x.n_heads)); // controls as large as the selection
        expect(Number(x.diff)).toBeCloseTo(Number(x.intervened) - Number(x.control), 5);
      } else if (Number(x.n_heads) > 0) {
        expect(Number(x.control_size)).toBe(0); // too few other heads: NA, never a smaller control
        expect(x.control).toBe('');
        expect(x.p).toBe('');
      }
    }
    const m = readJson<{ runs: { label: string; status: string; reason?: string; saliency_reused?: boolean }[] }>(join(study, 'eval', 'visual_intervention.json'));
    expect(m.runs.find((x) => x.label === 'lstm')).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/no attention heads/) });
    expect(m.runs.filter((x) => x.status === 'done').map((x) => x.label)).toEqual(['gpt2', 'mamba2']);
    expect(r.runs.length).toBe(3);
  });
});
