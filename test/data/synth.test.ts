/**
 * The synthetic grounded world: it builds in seconds through the CHAT reader, and its ground truth
 * (truth.json) agrees with the corpus: token counts match what the generator wrote, words that never
 * co-occur have no shared turn, and the co-occurrence statistics rank the grounding levels.
 */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCorpus } from '../../src/data/build.js';
import { loadCorpus, loadItems, loadTargets, SPLITS } from '../../src/data/contract.js';
import { synthesizeWorld, SynthOptionsSchema, type SynthResult } from '../../src/data/synth/world.js';

interface Truth {
  seed: number;
  words: { word: string; level: 'strong' | 'medium' | 'weak' | 'none'; counts: Record<string, number> }[];
  files: string[];
}

const SMALL = { transcripts: 40, episodes: 120, quiet: true };
const tmp = (): string => mkdtempSync(join(tmpdir(), 'groundlab-synth-'));

describe('synthetic grounded world', () => {
  let out: string;
  let result: SynthResult;
  let truth: Truth;
  let seconds: number;
  beforeAll(async () => {
    out = join(tmp(), 'world');
    const t0 = performance.now();
    result = await synthesizeWorld({ out, seed: 3, ...SMALL });
    seconds = (performance.now() - t0) / 1000;
    truth = JSON.parse(readFileSync(result.truth, 'utf8')) as Truth;
  });

  it('writes CHAT transcripts, ground truth and a corpus, in seconds', () => {
    expect(seconds).toBeLessThan(10);
    expect(readdirSync(join(out, 'chat')).filter((f) => f.endsWith('.cha'))).toHaveLength(SMALL.transcripts);
    expect(truth.files).toHaveLength(SMALL.transcripts);
    const c = loadCorpus(out);
    expect(c.vocab.length).toBeLessThan(400);
    expect(result.stats.diagnostics.total).toBe(0);
    expect(result.stats.transcripts).toBe(SMALL.transcripts);
    const levels = new Set(truth.words.map((w) => w.level));
    expect([...levels].sort()).toEqual(['medium', 'none', 'strong', 'weak']);
  });

  it('token counts over all splits equal what the generator wrote', () => {
    const c = loadCorpus(out);
    const count = (tok: string): number => SPLITS.reduce((a, s) => a + c.splits[s].filter((id) => id === c.ids.get(tok)).length, 0);
    for (const w of truth.words) {
      const k = w.counts;
      expect(count(`${w.word}<ENV>`), w.word).toBe(k.events! + k.distractor!);
      expect(count(`${w.word}<LAN>`), w.word).toBe(k.mentions_same_turn! + k.mentions_same_turn_aft! + k.mentions_delayed! + k.mentions_unlinked!);
    }
  });

  it('targets.json is consistent with the grounding levels', () => {
    const t = loadTargets(out);
    expect(t.rule).toBe('synthetic');
    const level = new Map(truth.words.map((w) => [w.word, w.level]));
    expect(t.words.length).toBe(truth.words.length);
    const mean = (lv: string, f: (w: (typeof t.words)[number]) => number): number => {
      const ws = t.words.filter((w) => level.get(w.word) === lv);
      return ws.reduce((a, w) => a + f(w), 0) / ws.length;
    };
    for (const w of t.words) {
      if (level.get(w.word) === 'none') {
        expect(w.turns_both, w.word).toBe(0);
        expect(w.pmi_raw ?? null).toBeNull();
      } else expect(w.turns_both, w.word).toBeGreaterThan(0);
      if (level.get(w.word) === 'strong') expect(w.p_lan_given_env, w.word).toBeGreaterThan(0.4);
    }
    const p = (w: (typeof t.words)[number]) => w.p_lan_given_env;
    expect(mean('strong', p)).toBeGreaterThan(mean('medium', p));
    expect(mean('medium', p)).toBeGreaterThan(mean('weak', p));
    expect(mean('weak', p)).toBeGreaterThan(0);
    expect(mean('strong', (w) => w.pmi)).toBeGreaterThan(mean('weak', (w) => w.pmi));
    // LAN counts do not give the level away: every level within a factor 2 of the others.
    const lan = ['strong', 'medium', 'weak', 'none'].map((lv) => mean(lv, (w) => w.lan_count));
    expect(Math.max(...lan) / Math.min(...lan)).toBeLessThan(2);
  });

  it('items: corpus items only for words that co-occur, template items for every word', () => {
    const items = loadItems(out);
    const level = new Map(truth.words.map((w) => [w.word, w.level]));
    const corpus = items.filter((i) => i.source.kind === 'corpus');
    expect(corpus.length).toBeGreaterThan(0);
    expect(corpus.every((i) => level.get(i.word) !== 'none')).toBe(true);
    const templated = new Set(items.filter((i) => i.source.kind === 'template').map((i) => i.word));
    expect(templated.size).toBe(truth.words.length);
    expect(items.filter((i) => i.source.kind === 'template')[0]!.source.file).toBe('templates.json');
  });

  it('same-category mismatches come from the word\'s own category', async () => {
    const objects = JSON.parse(readFileSync(result.truth, 'utf8')).words as { word: string; category: string }[];
    const category = new Map(objects.map((o) => [o.word, o.category]));
    const sc = join(tmp(), 'same-category');
    await buildCorpus(
      { childes: [result.chatDir], out: sc, seed: 3, min_env: 20, min_lan: 20, mismatch_mode: 'same-category', mismatches: 3, quiet: true },
      { targetList: { rule: 'synthetic', words: objects.map((o) => o.word), categories: Object.fromEntries(category), filter: true } },
    );
    const items = loadItems(sc);
    expect(items.length).toBeGreaterThan(0);
    for (const i of items) {
      const same = objects.filter((o) => o.word !== i.word && o.category === category.get(i.word)).length;
      expect(i.mismatches).toHaveLength(Math.min(3, same));
      for (const m of i.mismatches) expect(category.get(m.word)).toBe(category.get(i.word));
    }
  });

  it('is seeded: the same seed gives byte-identical outputs wherever it is written, another seed another world', async () => {
    const again = join(tmp(), 'elsewhere');
    await synthesizeWorld({ out: again, seed: 3, ...SMALL });
    for (const f of ['truth.json', 'templates.json', 'vocab.json', 'train.bin', 'test.bin', 'targets.json', 'items.jsonl', 'manifest.json', 'chat/synth-0007.cha']) {
      expect(readFileSync(join(again, f)).equals(readFileSync(join(out, f))), f).toBe(true);
    }
    const other = join(tmp(), 'other');
    await synthesizeWorld({ out: other, seed: 4, ...SMALL });
    expect(readFileSync(join(other, 'chat/synth-0001.cha')).equals(readFileSync(join(out, 'chat/synth-0001.cha')))).toBe(false);
  });

  it('the default world builds in seconds: a few hundred words and 0.5-1.5 M training tokens', async () => {
    const t0 = performance.now();
    const r = await synthesizeWorld({ out: join(tmp(), 'default'), quiet: true });
    expect((performance.now() - t0) / 1000).toBeLessThan(15);
    expect(r.stats.vocab_size).toBeGreaterThan(150);
    expect(r.stats.vocab_size).toBeLessThan(500);
    expect(r.stats.splits.train.tokens).toBeGreaterThan(500_000);
    expect(r.stats.splits.train.tokens).toBeLessThan(1_500_000);
    expect(r.targets.words.length).toBe(SynthOptionsSchema.parse({ out: 'x' }).objects);
  });
});
