/**
 * The two visual-dialog corpora on the shared VisDial and COCO samples: token counts against an
 * independent count from the raw JSON, the stream layout, the evaluation items and their
 * mismatches, the co-occurrence statistics, the prefix description, and determinism.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCaptionCorpus } from '../../src/data/visdial/caption-corpus.js';
import { buildImageCorpus } from '../../src/data/visdial/image-corpus.js';
import { loadCorpus, loadItems, loadTargets, type EvalItem } from '../../src/data/contract.js';
import { loadPrefixCorpus, readPrefixInfo } from '../../src/data/prefix.js';
import { CDI, COCO, informativeFeatures, rawCounts, VISDIAL } from './helpers.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'gl-visdial-corpus-'));
const readJsonl = <T>(p: string): T[] => readFileSync(p, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);

function tokenCounts(dir: string) {
  const c = loadCorpus(dir);
  const count = (pred: (t: string) => boolean) => {
    let n = 0;
    for (const s of ['train', 'val', 'test'] as const) for (const id of c.splits[s]) if (pred(c.vocab[id]!)) n++;
    return n;
  };
  return { c, count };
}

describe('caption-grounded corpus', () => {
  let dir: string;
  const opts = { visdial: [VISDIAL], coco: [COCO], cdi: CDI, compounds: 'none', min_env: 3, min_lan: 3, split: [0.7, 0.05, 0.25], quiet: true };
  beforeAll(async () => {
    dir = tmp();
    await buildCaptionCorpus({ ...opts, out: dir });
  });

  it('holds every caption word as ENV and every question, answer and other caption word as LAN (independent count)', () => {
    const r = rawCounts();
    const { c, count } = tokenCounts(dir);
    const env = r.dialogs.reduce((a, d) => a + d.caption.length, 0) + r.coco.reduce((a, im) => a + im.captions[0]!.length, 0);
    const lan = r.dialogs.reduce((a, d) => a + d.talk.reduce((x, t) => x + t.length, 0), 0) + r.coco.reduce((a, im) => a + im.captions.slice(1).reduce((x, t) => x + t.length, 0), 0);
    const stats = JSON.parse(readFileSync(join(dir, 'stats.json'), 'utf8'));
    expect(stats.env_tokens).toBe(env);
    expect(stats.lan_tokens).toBe(lan);
    // In the bins, out-of-vocabulary val/test words are <unk>: ENV + LAN + <unk> covers them all.
    expect(count((t) => t.endsWith('<ENV>')) + count((t) => t.endsWith('<LAN>')) + count((t) => t === '<unk>')).toBe(env + lan);
    expect(count((t) => t === '<doc>')).toBe(165 + 159);
    expect(count((t) => t === '<CAP>')).toBe(165 + 159);
    expect(count((t) => t === '<Q>')).toBe(1650);
    expect(count((t) => t === '<A>')).toBe(r.dialogs.reduce((a, d) => a + d.talk.filter((t, i) => i % 2 === 1 && t.length).length, 0));
    expect(count((t) => t === '<D>')).toBe(795 - 159);
    expect(stats.visual.sequences).toEqual({ visdial: 165, coco: 159 });
    expect(c.splits.train.length + c.splits.val.length + c.splits.test.length).toBe(['train', 'val', 'test'].reduce((a, s) => a + stats.splits[s].tokens, 0));
  });

  it('splits by image, writes each sequence as <doc> <CAP> caption <Q>/<A>/<D> lines', () => {
    const seqs = readJsonl<{ key: string; image: string; split: string }>(join(dir, 'sequences.jsonl'));
    expect(seqs.length).toBe(324);
    const byImage = new Map<string, Set<string>>();
    for (const s of seqs) byImage.set(s.image, new Set([...(byImage.get(s.image) ?? []), s.split]));
    for (const sp of byImage.values()) expect(sp.size).toBe(1);
    const { c } = tokenCounts(dir);
    const test = [...c.splits.test].map((i) => c.vocab[i]!);
    expect(test[0]).toBe('<doc>');
    expect(test[1]).toBe('<CAP>');
    expect(test[2]!.endsWith('<ENV>')).toBe(true);
    const firstRole = test.findIndex((t, i) => i > 1 && !t.endsWith('<ENV>'));
    expect(['<Q>', '<D>']).toContain(test[firstRole]);
  });

  it('computes the co-occurrence statistics over training sequences (independent count)', () => {
    const r = rawCounts();
    // Splits are by image: every sequence of an image has its split.
    const split = new Map(readJsonl<{ image: string; split: string }>(join(dir, 'sequences.jsonl')).map((s) => [s.image, s.split]));
    const units: { env: Set<string>; lan: Set<string> }[] = [];
    for (const d of r.dialogs) if (split.get(d.image) === 'train') units.push({ env: new Set(d.caption), lan: new Set(d.talk.flat()) });
    for (const im of r.coco) if (split.get(im.image) === 'train') units.push({ env: new Set(im.captions[0]), lan: new Set(im.captions.slice(1).flat()) });
    const targets = loadTargets(dir);
    expect(targets.train_turns).toBe(units.length);
    expect(targets.words.length).toBeGreaterThan(10);
    for (const t of targets.words) {
      const envU = units.filter((u) => u.env.has(t.word)).length;
      const both = units.filter((u) => u.env.has(t.word) && u.lan.has(t.word)).length;
      expect(t.turns_both, t.word).toBe(both);
      expect(t.p_lan_given_env).toBeCloseTo(envU ? both / envU : 0, 12);
      expect(t.env_count).toBeGreaterThanOrEqual(3);
      expect(t.lan_count).toBeGreaterThanOrEqual(3);
    }
  });

  it('builds items whose mismatched contexts take another held-out caption naming u and not v', () => {
    const { c } = tokenCounts(dir);
    const items = loadItems(dir);
    const seqSplit = new Map(readJsonl<{ key: string; split: string }>(join(dir, 'sequences.jsonl')).map((s) => [s.key, s.split]));
    expect(items.length).toBeGreaterThan(20);
    const tok = (id: number) => c.vocab[id]!;
    for (const it of items) {
      expect(it.source.split).toBe('test');
      expect(tok(it.target)).toBe(`${it.word}<LAN>`);
      expect(tok(it.context[0]!)).toBe('<doc>');
      expect(it.swap_positions.length).toBeGreaterThan(0);
      for (const p of it.swap_positions) expect(tok(it.context[p]!)).toBe(`${it.word}<ENV>`);
      for (const p of it.env_positions) expect(tok(it.context[p]!).endsWith('<ENV>') || tok(it.context[p]!) === '<unk>').toBe(true);
      expect(it.context.map(tok)).not.toContain(`${it.word}<LAN>`); // the context ends before the first mention
      const language = it.context.slice(Math.max(...it.env_positions) + 1);
      expect(it.mismatches.length).toBeGreaterThan(0);
      for (const m of it.mismatches) {
        expect(m.word).not.toBe(it.word);
        const ctx = m.context!.map(tok);
        expect(ctx).toContain(`${m.word}<ENV>`);
        expect(ctx).not.toContain(`${it.word}<ENV>`);
        expect(m.context!.slice(m.context!.length - language.length)).toEqual(language);
        expect(seqSplit.get(m.from!)).toBe('test');
        expect(m.from).not.toBe(it.source.file);
      }
    }
  });

  it('is byte-identical when built again, and --mismatch_env swap gives SPEC §3 swaps', async () => {
    const again = tmp();
    await buildCaptionCorpus({ ...opts, out: again });
    for (const f of readdirSync(dir)) expect(readFileSync(join(again, f)).equals(readFileSync(join(dir, f))), f).toBe(true);
    const swap = tmp();
    await buildCaptionCorpus({ ...opts, out: swap, mismatch_env: 'swap' });
    const items = loadItems(swap);
    expect(items.every((i) => i.mismatches.every((m) => m.context === undefined && m.env_id > 2))).toBe(true);
  });
});

describe('image-grounded corpus', () => {
  let dir: string;
  let features: string;
  const base = { visdial: [VISDIAL], coco: [COCO], cdi: CDI, compounds: 'none', min_env: 3, min_lan: 3, split: [0.6, 0.1, 0.3], quiet: true };
  beforeAll(async () => {
    const work = tmp();
    features = join(work, 'features.safetensors');
    informativeFeatures(features);
    dir = join(work, 'corpus');
    await buildImageCorpus({ ...base, features, out: dir });
  });

  it('keeps the sequences whose image has features, language only, and describes the prefix of every document', () => {
    const r = rawCounts();
    const { c, count } = tokenCounts(dir);
    const stats = JSON.parse(readFileSync(join(dir, 'stats.json'), 'utf8'));
    expect(stats.visual.sequences).toEqual({ visdial: 0, coco: 159 }); // the VisDial val images are not in the COCO sample
    expect(stats.diagnostics.by_code['no-features']).toBe(165);
    expect(count((t) => t.endsWith('<ENV>'))).toBe(0);
    const lan = r.coco.reduce((a, im) => a + im.captions.reduce((x, t) => x + t.length, 0), 0);
    expect(stats.lan_tokens).toBe(lan);
    expect(count((t) => t === '<D>')).toBe(795);
    const info = readPrefixInfo(dir)!;
    expect([info.k, info.dim, info.norm]).toEqual([4, 24, 'rms']);
    const p = loadPrefixCorpus(c)!;
    for (const s of ['train', 'val', 'test'] as const) {
      expect(p.docs[s].starts.length).toBe(info.documents[s].length);
      for (const st of p.docs[s].starts) expect(c.splits[s][st]).toBe(c.docId);
    }
    // RMS normalisation at read time: each patch vector has unit root mean square.
    const v = p.store.get(info.documents.train[0]!);
    let ss = 0;
    for (let j = 0; j < 24; j++) ss += v[j]! ** 2;
    expect(Math.sqrt(ss / 24)).toBeCloseTo(1, 5);
  });

  it('builds items with the matched image as prefix and other held-out images as mismatches', () => {
    const { c } = tokenCounts(dir);
    const items: EvalItem[] = loadItems(dir);
    const info = readPrefixInfo(dir)!;
    const testImages = new Set(info.documents.test);
    const r = rawCounts();
    const text = new Map(r.coco.map((im) => [im.image, new Set(im.captions.flat())]));
    expect(items.length).toBeGreaterThan(20);
    for (const it of items) {
      expect(testImages.has(it.prefix!)).toBe(true);
      expect(text.get(it.prefix!)!.has(it.word)).toBe(true);
      expect(it.env_positions).toEqual([]);
      expect(c.vocab[it.context[0]!]).toBe('<doc>');
      expect(c.vocab[it.context[1]!]).toBe('<D>');
      for (const m of it.mismatches) {
        expect(m.prefix).not.toBe(it.prefix);
        expect(testImages.has(m.prefix!)).toBe(true);
        expect(text.get(m.prefix!)!.has(m.word)).toBe(true);
        expect(text.get(m.prefix!)!.has(it.word)).toBe(false);
      }
    }
  });

  it('can reference the features file instead of copying it, and refuses changed features', async () => {
    const ref = tmp();
    await buildImageCorpus({ ...base, features, out: ref, copy_features: false });
    const info = readPrefixInfo(ref)!;
    expect(info.features).toBe(features);
    expect(loadPrefixCorpus(loadCorpus(ref))!.docs.train.images.length).toBe(info.documents.train.length);
    informativeFeatures(features, 2, 24); // another shape: the recorded size no longer matches
    expect(() => loadPrefixCorpus(loadCorpus(ref))).toThrow(/features changed since the corpus was built/);
  });
});
