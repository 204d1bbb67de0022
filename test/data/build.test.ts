import { mkdtempSync, readFileSync, readdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCorpus, type BuildResult } from '../../src/data/build.js';
import { loadCorpus, loadItems, loadTargets, type EvalItem } from '../../src/data/contract.js';
import { readJsonl } from '../../src/util/files.js';

const MINI = fileURLToPath(new URL('../fixtures/chat/mini', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/chat', import.meta.url));
const tmp = (): string => mkdtempSync(join(tmpdir(), 'groundlab-corpus-'));
const WORDS = ['ball', 'cup', 'duck', 'book'];

function writeTargets(dir: string, words: string[]): string {
  const p = join(dir, 'targets.txt');
  writeFileSync(p, '# target words\n' + words.join('\n') + '\n');
  return p;
}

/** Independent reading of a simple CHAT file: each main tier with the ENV tiers under it, as lowercase word sets. */
function naiveTurns(text: string): { lan: Set<string>; env: Set<string> }[] {
  const turns: { lan: Set<string>; env: Set<string> }[] = [];
  const words = (s: string): string[] => s.toLowerCase().match(/[a-z_']+/g) ?? [];
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) turns.push({ lan: new Set(words(line.slice(line.indexOf(':') + 1).replace(/\[[^\]]*\]|@\w+|\bxxx\b/g, ' '))), env: new Set() });
    else if (/^%(act|sit|gpx):/.test(line)) for (const w of words(line.slice(5).replace(/<[^>]*>/g, ' '))) turns[turns.length - 1]!.env.add(w);
  }
  return turns;
}

describe('buildCorpus on hand-written transcripts', () => {
  let out: string;
  let result: BuildResult;
  let targetsFile: string;
  beforeAll(async () => {
    const work = tmp();
    out = join(work, 'corpus');
    targetsFile = writeTargets(work, [...WORDS, 'zebra']);
    result = await buildCorpus({ childes: [MINI], out, targets: targetsFile, quiet: true, mismatches: 2 });
  });

  it('writes the corpus contract: special ids, speakers, then words by training frequency (ties alphabetical)', () => {
    const c = loadCorpus(out);
    expect(c.vocab.slice(0, 3)).toEqual(['<pad>', '<unk>', '<doc>']);
    const speakers = c.vocab.slice(3).filter((t) => /^<[A-Z]+>$/.test(t));
    expect(c.vocab.slice(3, 3 + speakers.length)).toEqual(speakers);
    const counts = new Map<number, number>();
    for (const id of c.splits.train) counts.set(id, (counts.get(id) ?? 0) + 1);
    const words = c.vocab.slice(3 + speakers.length).filter((t) => (counts.get(c.ids.get(t)!) ?? 0) > 0);
    for (let i = 1; i < words.length; i++) {
      const [a, b] = [words[i - 1]!, words[i]!];
      const [ca, cb] = [counts.get(c.ids.get(a)!)!, counts.get(c.ids.get(b)!)!];
      expect(ca > cb || (ca === cb && a < b), `${a} (${ca}) before ${b} (${cb})`).toBe(true);
    }
    // Every transcript starts with <doc>; the manifest lists which file went where.
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    for (const s of ['train', 'val', 'test'] as const) {
      expect(c.splits[s][0]).toBe(c.docId);
      expect(c.splits[s].filter((id) => id === c.docId).length).toBe(manifest.split_files[s].length);
    }
    expect(manifest.split_files.train.length + manifest.split_files.val.length + manifest.split_files.test.length).toBe(6);
    expect(manifest.inputs.map((i: { file: string }) => i.file)).toEqual(readdirSync(MINI).sort().map((f) => `mini/${f}`));
  });

  it('always keeps the target forms, even when absent from the training split', () => {
    const c = loadCorpus(out);
    expect(c.ids.has('zebra<ENV>') && c.ids.has('zebra<LAN>')).toBe(true);
    const diags = readJsonl<{ code: string; message: string }>(join(out, 'diagnostics.jsonl'));
    expect(diags.some((d) => d.code === 'target-not-in-vocab' && d.message.includes('zebra'))).toBe(true);
  });

  it('targets.json: counts and turn co-occurrence on the training split match an independent count', () => {
    const t = loadTargets(out);
    const c = loadCorpus(out);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    const turns = (manifest.split_files.train as string[]).flatMap((f) => naiveTurns(readFileSync(join(MINI, f.replace(/^mini\//, '')), 'utf8')));
    expect(t.rule).toBe(`file:${targetsFile}`);
    expect(t.train_turns).toBe(turns.length);
    for (const w of t.words) {
      const env = turns.filter((x) => x.env.has(w.word)).length;
      const lan = turns.filter((x) => x.lan.has(w.word)).length;
      const both = turns.filter((x) => x.env.has(w.word) && x.lan.has(w.word)).length;
      expect(w.turns_both, w.word).toBe(both);
      expect(w.p_lan_given_env).toBeCloseTo(env ? both / env : 0, 12);
      const tokens = (tok: string): number => c.splits.train.filter((id) => id === c.ids.get(tok)).length;
      expect(w.env_count).toBe(tokens(`${w.word}<ENV>`));
      expect(w.lan_count).toBe(tokens(`${w.word}<LAN>`));
      expect(w.env_id).toBe(c.ids.get(`${w.word}<ENV>`));
      if (both > 0) expect(w.pmi).toBeCloseTo(Math.log(((both + 0.5) * turns.length) / ((env + 0.5) * (lan + 0.5))), 12);
    }
  });

  it('items: held-out (validation + test) contexts ending before the target, with ENV and swap positions and seeded mismatches', () => {
    const c = loadCorpus(out);
    const items = loadItems(out);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(items.length).toBeGreaterThan(0);
    for (const item of items) {
      expect(item.source.kind).toBe('corpus');
      const split = (item.source as { split: string }).split;
      expect(['val', 'test']).toContain(split);
      expect(manifest.split_files[split]).toContain(item.source.file);
      expect(item.target).toBe(c.ids.get(`${item.word}<LAN>`));
      expect(item.swap_positions.length).toBeGreaterThan(0);
      for (const p of item.swap_positions) expect(c.vocab[item.context[p]!]).toBe(`${item.word}<ENV>`);
      // ENV positions: every ENV token, including ENV words outside the vocabulary (<unk>).
      const envPositions = item.context.map((id, p) => (c.vocab[id]!.endsWith('<ENV>') ? p : -1)).filter((p) => p >= 0);
      expect(item.env_positions.filter((p) => c.vocab[item.context[p]!] !== '<unk>')).toEqual(envPositions);
      expect(item.context).not.toContain(item.target);
      // The source line is the main tier of the turn and holds the word.
      const file = readFileSync(join(MINI, item.source.file.replace(/^mini\//, '')), 'utf8').split('\n');
      expect(file[item.source.line - 1]).toMatch(new RegExp(`^\\*\\w+:.*\\b${item.word}\\b`));
      expect(item.mismatches).toHaveLength(2);
      for (const m of item.mismatches) {
        expect(m.word).not.toBe(item.word);
        expect(m.env_id).toBe(c.ids.get(`${m.word}<ENV>`));
      }
    }
  });

  it('the same inputs and options give byte-identical files; another seed changes the split', async () => {
    const again = join(tmp(), 'corpus');
    await buildCorpus({ childes: [MINI], out: again, targets: targetsFile, quiet: true, mismatches: 2 });
    for (const f of readdirSync(out).sort()) expect(readFileSync(join(again, f)).equals(readFileSync(join(out, f))), f).toBe(true);
    const other = join(tmp(), 'corpus');
    await buildCorpus({ childes: [MINI], out: other, targets: targetsFile, quiet: true, mismatches: 2, seed: 7 });
    const split = (d: string) => JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8')).split_files;
    expect(split(other)).not.toEqual(split(out));
  });

  it('reads a TalkBank-style .zip archive in memory and gives the same corpus as the directory', async () => {
    const work = tmp();
    const files: Record<string, Uint8Array> = {};
    for (const f of readdirSync(MINI)) files[`mini/${f}`] = readFileSync(join(MINI, f));
    files['__MACOSX/mini/._home1.cha'] = new Uint8Array([0, 1, 2]);
    writeFileSync(join(work, 'mini.zip'), zipSync(files));
    const zout = join(work, 'corpus');
    const r = await buildCorpus({ childes: [join(work, 'mini.zip')], out: zout, targets: targetsFile, quiet: true, mismatches: 2 });
    expect(r.stats.transcripts).toBe(6);
    for (const f of ['vocab.json', 'train.bin', 'val.bin', 'test.bin', 'targets.json']) {
      expect(readFileSync(join(zout, f)).equals(readFileSync(join(out, f))), f).toBe(true);
    }
    const manifest = JSON.parse(readFileSync(join(zout, 'manifest.json'), 'utf8'));
    expect(manifest.inputs[0].file).toBe('mini.zip:mini/home1.cha');
  });

  it('vocabulary caps turn rare words into <unk> but keep the targets', async () => {
    const capped = join(tmp(), 'corpus');
    await buildCorpus({ childes: [MINI], out: capped, targets: targetsFile, quiet: true, min_count: 3 });
    const c = loadCorpus(capped);
    const full = loadCorpus(out);
    expect(c.vocab.length).toBeLessThan(full.vocab.length);
    for (const w of [...WORDS, 'zebra']) expect(c.ids.has(`${w}<ENV>`) && c.ids.has(`${w}<LAN>`)).toBe(true);
    expect(c.splits.train.length).toBe(full.splits.train.length);
    expect(c.splits.train.filter((id) => id === c.unkId).length).toBeGreaterThan(full.splits.train.filter((id) => id === full.unkId).length);
    const tiny = join(tmp(), 'corpus');
    await buildCorpus({ childes: [MINI], out: tiny, targets: targetsFile, quiet: true, max_vocab: 20 });
    const t = loadCorpus(tiny);
    expect(t.vocab.length).toBe(20);
    for (const w of WORDS) expect(t.ids.has(`${w}<LAN>`)).toBe(true);
  });

  it('template items: the LAN text is cut before the last occurrence of the word', async () => {
    const work = tmp();
    const tpl = join(work, 'templates.json');
    writeFileSync(tpl, JSON.stringify({ ball: [{ env: 'The child rolls the ball.', lan: 'Roll the ball to me, the ball!' }, { env: 'no word here', lan: 'the ball' }], giraffe: [{ env: 'a giraffe', lan: 'the giraffe' }] }));
    const tout = join(work, 'corpus');
    await buildCorpus({ childes: [MINI], out: tout, targets: targetsFile, templates: tpl, quiet: true, mismatch_mode: 'all' });
    const c = loadCorpus(tout);
    const items = loadItems(tout).filter((i) => i.source.kind === 'template');
    expect(items).toHaveLength(1);
    const item = items[0]! as EvalItem;
    const inVocab = (tok: string): string => (c.ids.has(tok) ? tok : '<unk>');
    expect(item.context.map((id) => c.vocab[id])).toEqual(
      ['<MOT>', 'the<ENV>', 'child<ENV>', 'rolls<ENV>', 'the<ENV>', 'ball<ENV>', '<MOT>', 'roll<LAN>', 'the<LAN>', 'ball<LAN>', 'to<LAN>', 'me<LAN>', 'the<LAN>'].map(inVocab),
    );
    expect(inVocab('child<ENV>')).toBe('<unk>'); // not in the mini corpus: the position is still an ENV position
    expect(item.swap_positions).toEqual([5]);
    expect(item.env_positions).toEqual([1, 2, 3, 4, 5]);
    expect(item.mismatches.map((m) => m.word)).toEqual(['cup', 'duck', 'book', 'zebra']);
    const diags = readJsonl<{ code: string; file: string }>(join(tout, 'diagnostics.jsonl'));
    expect(diags.filter((d) => d.file === tpl).map((d) => d.code).sort()).toEqual(['template-missing-word', 'template-unknown-word']);
  });

  it('a malformed file yields diagnostics with file, line and code, and the corpus is still built', async () => {
    const work = tmp();
    copyFileSync(join(FIXTURES, 'malformed.cha'), join(work, 'malformed.cha'));
    for (const f of readdirSync(MINI)) copyFileSync(join(MINI, f), join(work, f));
    const mout = join(tmp(), 'corpus');
    const r = await buildCorpus({ childes: [work], out: mout, targets: targetsFile, quiet: true });
    const diags = readJsonl<{ file: string; line: number; code: string; severity: string; message: string }>(join(mout, 'diagnostics.jsonl'));
    const mine = diags.filter((d) => d.file.endsWith('/malformed.cha'));
    expect(mine.map((d) => d.code)).toEqual(expect.arrayContaining(['orphan-dependent-tier', 'unclosed-annotation', 'empty-utterance', 'malformed-main-tier', 'missing-end']));
    for (const d of mine) expect(typeof d.line === 'number' && d.message.length > 0).toBe(true);
    expect(r.stats.utterances_skipped).toBe(2);
    expect(r.stats.diagnostics.total).toBe(diags.length);
  });
});

describe('issue 14 item and target options', () => {
  const work = tmp();
  const targetsFile = writeTargets(work, WORDS);
  it('corpus items come from validation + test by default and from the test split alone with item_splits [test]', async () => {
    const both = join(tmp(), 'corpus');
    const r = await buildCorpus({ childes: [MINI], out: both, targets: targetsFile, quiet: true, mismatches: 2, split: [0.34, 0.33, 0.33] });
    const manifest = JSON.parse(readFileSync(join(both, 'manifest.json'), 'utf8'));
    const items = loadItems(both);
    const splits = new Set(items.map((i) => (i.source as { split: string }).split));
    for (const i of items) expect(manifest.split_files[(i.source as { split: string }).split]).toContain(i.source.file);
    expect([...splits].every((s) => s === 'val' || s === 'test')).toBe(true);
    expect(r.stats.items.item_splits).toEqual(['val', 'test']);
    const perWord = r.stats.items.per_word!;
    expect(Object.values(perWord).reduce((a, w) => a + w.corpus, 0)).toBe(items.length);
    const testOnly = join(tmp(), 'corpus');
    await buildCorpus({ childes: [MINI], out: testOnly, targets: targetsFile, quiet: true, mismatches: 2, split: [0.34, 0.33, 0.33], item_splits: ['test'] });
    const t = loadItems(testOnly);
    expect(t.every((i) => (i.source as { split: string }).split === 'test')).toBe(true);
    expect(t.length).toBe(items.filter((i) => (i.source as { split: string }).split === 'test').length);
    expect(splits.has('val')).toBe(true); // the mini corpus has items in both held-out splits with this split
  });
  it('template_processing paper-code: speaker CHI and the leading "The child" removed; ours keeps MOT and "the child"', async () => {
    const tpl = join(tmp(), 'templates.json');
    writeFileSync(tpl, JSON.stringify({ ball: [{ env: 'The child rolls the ball.', lan: 'roll the ball' }, { env: 'The mother holds the ball', lan: 'the ball' }] }));
    const out = join(tmp(), 'corpus');
    await buildCorpus({ childes: [MINI], out, targets: targetsFile, templates: tpl, template_processing: 'paper-code', quiet: true, mismatch_mode: 'all' });
    const c = loadCorpus(out);
    const inVocab = (tok: string): string => (c.ids.has(tok) ? tok : '<unk>');
    const items = loadItems(out).filter((i) => i.source.kind === 'template');
    expect(items[0]!.context.map((id) => c.vocab[id])).toEqual(['<CHI>', 'rolls<ENV>', 'the<ENV>', 'ball<ENV>', '<CHI>', 'roll<LAN>', 'the<LAN>'].map(inVocab));
    expect(items[0]!.swap_positions).toEqual([3]);
    // Only a leading "The child" goes: "The mother" stays.
    expect(items[1]!.context.map((id) => c.vocab[id]).slice(0, 3)).toEqual(['<CHI>', 'the<ENV>', 'mother<ENV>'].map(inVocab));
    expect(() => buildCorpus({ childes: [MINI], out: join(tmp(), 'c'), targets: targetsFile, templates: 'paper', quiet: true })).rejects.toThrow(/our own/);
  });
  it('--targets paper keeps only words whose ENV form was seen ≥ min_env_seen times in training; the others are reported and never drawn as mismatches', async () => {
    const out = join(tmp(), 'corpus');
    const r = await buildCorpus({ childes: [MINI], out, targets: 'paper', min_env_seen: 2, quiet: true, mismatches: 3, cdi: '/nonexistent.csv' });
    const t = loadTargets(out);
    const leftOut = r.stats.targets.left_out!;
    expect(leftOut.length).toBeGreaterThan(80); // most of the paper's 100 words never occur in the mini corpus
    for (const w of t.words) expect(w.env_count).toBeGreaterThanOrEqual(2);
    for (const l of leftOut) expect(l.env_count).toBeLessThan(2);
    expect(t.words.length + leftOut.length).toBe(100);
    const kept = new Set(t.words.map((w) => w.word));
    for (const i of loadItems(out)) for (const m of i.mismatches) expect(kept.has(m.word)).toBe(true);
    const diags = readJsonl<{ code: string }>(join(out, 'diagnostics.jsonl'));
    expect(diags.filter((d) => d.code === 'target-env-unseen').length).toBe(leftOut.length);
    expect(t.rule).toBe('paper (ENV seen >= 2)');
  });
});
