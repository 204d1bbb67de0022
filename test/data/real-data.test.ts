/**
 * The reader and builder on the real data in ../shared/data (never copied into the repo): every
 * .cha file parses without a crash, utterance counts match an independent line count, and the full
 * CHILDES copy builds into a corpus whose statistics agree with the raw files.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { sharedData } from '../helpers/shared-data.js';
import { buildCorpus, type BuildResult } from '../../src/data/build.js';
import { DiagnosticSink } from '../../src/data/chat/diagnostics.js';
import { loadCorpus, loadItems, loadTargets } from '../../src/data/contract.js';
import { collectInputs } from '../../src/data/input.js';
import { CleaningOptionsSchema, EnvOptionsSchema } from '../../src/data/options.js';
import { PAPER_TARGETS } from '../../src/data/targets.js';
import { readTranscript } from '../../src/data/transcript.js';

const DATA = sharedData();
const CHILDES = sharedData('childes');

function chaFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...chaFiles(p));
    else if (name.endsWith('.cha')) out.push(p);
  }
  return out;
}

/** The independent count: lines that start a main tier ("*SPK:"). */
const mainTierLines = (text: string): number => text.match(/^\*[^:\s]+:/gm)?.length ?? 0;
/** The corpus field of the first @ID header, as the builder names source corpora. */
const idCorpus = (text: string): string => /^@ID:\s*[^|]*\|([^|]*)\|/m.exec(text)?.[1]?.toLowerCase() ?? '';

describe('every CHAT file under ../shared/data', () => {
  const CLEAN = CleaningOptionsSchema.parse({});
  const ENV = EnvOptionsSchema.parse({});
  /** Source corpus of a file: the first folder under childes/ (plus one level for the corpus) or chat-fixtures. */
  const corpusOf = (path: string): string => {
    const parts = relative(DATA, path).split('/');
    return parts[0] === 'childes' ? parts.slice(1, parts[1] === 'Eng-NA-2024' ? 4 : 3).join('/') : 'chat-fixtures';
  };

  it('parses with zero crashes; utterance counts per corpus equal the count of main-tier lines', () => {
    const files = chaFiles(DATA);
    expect(files.length).toBeGreaterThanOrEqual(620 + 100);
    const perCorpus = new Map<string, { files: number; utterances: number; expected: number; diagnostics: number; codes: Set<string> }>();
    for (const path of files) {
      const bytes = readFileSync(path);
      const sink = new DiagnosticSink(path);
      const t = readTranscript({ path: relative(DATA, path), bytes, sha256: '' }, CLEAN, ENV, sink);
      const c = corpusOf(path);
      const row = perCorpus.get(c) ?? { files: 0, utterances: 0, expected: 0, diagnostics: 0, codes: new Set<string>() };
      row.files++;
      row.utterances += t.counts.utterances;
      row.expected += mainTierLines(bytes.toString('utf8'));
      row.diagnostics += sink.items.length;
      for (const d of sink.items) row.codes.add(d.code);
      perCorpus.set(c, row);
    }
    const table = [...perCorpus].map(([c, r]) => ({ corpus: c, files: r.files, utterances: r.utterances, main_tier_lines: r.expected, diagnostics: r.diagnostics, codes: [...r.codes].join(' ') }));
    console.table(table);
    for (const r of table) expect(r.utterances, r.corpus).toBe(r.main_tier_lines);
    expect([...perCorpus.keys()].sort()).toEqual([
      'Eng-NA-2024/Brown/Eve',
      'Eng-UK-MOR/Gathburn',
      'Eng-USA-MOR/Bates',
      'Eng-USA-MOR/Bloom70',
      'Eng-USA-MOR/Bloom73',
      'Eng-USA-MOR/Morisset',
      'Eng-USA-MOR/NewEngland',
      'Eng-USA-MOR/Rollins',
      'chat-fixtures',
    ]);
    // The conformance fixtures are well-formed CHAT: the reader finds nothing to report there.
    expect(perCorpus.get('chat-fixtures')!.diagnostics).toBe(0);
  });
});

describe('the corpus built from all of ../shared/data/childes', () => {
  let out: string;
  let result: BuildResult;
  beforeAll(async () => {
    out = join(mkdtempSync(join(tmpdir(), 'groundlab-childes-')), 'corpus');
    result = await buildCorpus({ childes: [CHILDES], out, cdi: join(DATA, 'cdi', 'English_American_WS.csv'), templates: 'ours', quiet: true });
  }, 120_000);

  it('stats.json agrees with the raw files: transcripts, utterances and ENV tier lines per source corpus', () => {
    const files = chaFiles(CHILDES);
    const stats = result.stats;
    expect(stats.transcripts).toBe(files.length);
    const expected = new Map<string, { utterances: number; act: number; sit: number; gpx: number }>();
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      const row = expected.get(idCorpus(text)) ?? { utterances: 0, act: 0, sit: 0, gpx: 0 };
      row.utterances += mainTierLines(text);
      for (const tier of ['act', 'sit', 'gpx'] as const) row[tier] += text.match(new RegExp(`^%${tier}:`, 'gm'))?.length ?? 0;
      expected.set(idCorpus(text), row);
    }
    expect(Object.keys(stats.per_corpus).sort()).toEqual([...expected.keys()].sort());
    for (const [c, e] of expected) {
      expect(stats.per_corpus[c]!.utterances, c).toBe(e.utterances);
      expect(stats.per_corpus[c]!.env_lines, c).toEqual({ act: e.act, sit: e.sit, gpx: e.gpx });
    }
    expect(stats.utterances).toBe([...expected.values()].reduce((a, e) => a + e.utterances, 0));
    expect(stats.env_tokens).toBe(stats.splits.train.env_tokens + stats.splits.val.env_tokens + stats.splits.test.env_tokens);
  });

  it('selects CDI nouns by the SPEC rule and writes items for our templates and the held-out splits', () => {
    const t = loadTargets(out);
    expect(t.rule).toBe('cdi');
    expect(t.words.length).toBeGreaterThan(20);
    for (let i = 0; i < t.words.length; i++) {
      const w = t.words[i]!;
      expect(Math.min(w.env_count, w.lan_count)).toBeGreaterThanOrEqual(100);
      if (i > 0) expect(Math.min(t.words[i - 1]!.env_count, t.words[i - 1]!.lan_count)).toBeGreaterThanOrEqual(Math.min(w.env_count, w.lan_count));
      expect(w.turns_both).toBeLessThanOrEqual(Math.min(w.env_count, w.lan_count));
    }
    expect(t.words.map((w) => w.word)).not.toContain('can'); // homograph of the helping verb
    const paperReaching = result.stats.paper_targets.words.filter((w) => w.env_count >= 100 && w.lan_count >= 100);
    expect(result.stats.paper_targets.reaching_min_env_and_lan).toBe(paperReaching.length);
    expect(result.stats.paper_targets.words.map((w) => w.word)).toEqual([...PAPER_TARGETS]);
    const items = loadItems(out);
    const c = loadCorpus(out);
    expect(items.filter((i) => i.source.kind === 'corpus').length).toBeGreaterThan(50);
    const templateWords = new Set(items.filter((i) => i.source.kind === 'template').map((i) => i.word));
    expect([...templateWords].every((w) => PAPER_TARGETS.includes(w))).toBe(true);
    for (const i of items) for (const p of i.swap_positions) expect(c.vocab[i.context[p]!]).toBe(`${i.word}<ENV>`);
  });

  it('reads the same transcripts from the input listing as from disk', () => {
    const inputs = collectInputs([CHILDES]);
    expect(inputs.map((f) => f.path)).toEqual(chaFiles(CHILDES).map((f) => `childes/${relative(CHILDES, f)}`).sort());
  });
});
