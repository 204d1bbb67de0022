/**
 * The CHAT reader on damaged input: invalid UTF-8 per line, binary files, and the two %act cases
 * (a repeated %act on one utterance, a %act continuation line); empty target and item sets.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCorpus } from '../../src/data/build.js';
import { DiagnosticSink } from '../../src/data/chat/diagnostics.js';
import { CleaningOptionsSchema, EnvOptionsSchema } from '../../src/data/options.js';
import { readTranscript } from '../../src/data/transcript.js';
import { sha256 } from '../../src/util/files.js';
import { UserError } from '../../src/util/errors.js';
import { splitList, parseArgv, helpText } from '../../src/cli/command.js';
import { commands as corpusCommands } from '../../src/cli/commands/corpus.js';

const CLEAN = CleaningOptionsSchema.parse({});
const ENV = EnvOptionsSchema.parse({});
const HEADER = '@UTF8\n@Begin\n@Languages:\teng\n@Participants:\tCHI Target_Child, MOT Mother\n@ID:\teng|handmade|CHI|||||Target_Child|||\n@ID:\teng|handmade|MOT|||||Mother|||\n';

function read(bytes: Uint8Array, name = 'test/x.cha') {
  const sink = new DiagnosticSink(name);
  const t = readTranscript({ path: name, bytes, sha256: sha256(bytes) }, CLEAN, ENV, sink);
  return { t, diags: sink.items };
}
const enc = (s: string) => new TextEncoder().encode(s);
const cat = (...parts: (string | number[])[]) => Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...enc(p)] : p)));

describe('invalid UTF-8', () => {
  it('a bad line gets a diagnostic with its line number and byte; its tier is skipped, no letter is replaced', () => {
    // Line 7: "look" with a stray 0xFF inside; line 8 its %act; line 9 a good utterance; line 10: a bad %act continuation.
    const bytes = cat(HEADER, '*MOT:\tlo', [0xff], 'ok at the ball .\n%act:\tMOT points at ball\n*MOT:\twhat', [0x92], 's that ?\n*CHI:\tthe cup .\n%act:\tCHI holds\n\tthe cup ', [0xe9], '\n*MOT:\tnice dog .\n@End\n');
    const { t, diags } = read(bytes);
    const bad = diags.filter((d) => d.code === 'invalid-utf8');
    expect(bad.map((d) => d.line)).toEqual([7, 9, 12]);
    expect(bad[0]!.message).toMatch(/byte 0xff at byte 9 of the line/);
    // Mutation check: decoding lossily (the old whole-file TextDecoder) brings "ok"/"at's" back and this fails.
    const words = t.turns.flatMap((x) => x.lan);
    expect(words).toEqual(['the', 'cup', 'nice', 'dog']);
    expect(words.join(' ')).not.toMatch(/\bok\b|at's|\ufffd/);
    // The skipped utterance's %act went with it; the bad continuation poisoned only its own %act.
    expect(t.turns.flatMap((x) => x.env.flatMap((l) => l.words))).toEqual([]);
    expect(diags.filter((d) => d.code === 'orphan-dependent-tier')).toEqual([]);
  });

  it('a binary file is one diagnostic (binary-file) and no transcript; the build error lists it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gl-bin-'));
    const bin = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256);
    const { diags } = read(bin, 'x/image.cha');
    expect(diags.map((d) => d.code)).toEqual(['binary-file', 'empty-file']);
    writeFileSync(join(dir, 'image.cha'), bin);
    const err = await buildCorpus({ childes: [join(dir, 'image.cha')], out: join(dir, 'out'), quiet: true }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/^no transcript could be read: image\.cha: binary-file: not a text file \(NUL bytes/);
    expect(err.message).not.toContain('\n');
  });
});

describe('corpus build prints its diagnostics', () => {
  it('one stderr line per bad line, with file and line', async () => {
    const { cpSync, readFileSync } = await import('node:fs');
    const { fileURLToPath } = await import('node:url');
    const { main } = await import('../../src/cli/main.js');
    const { vi } = await import('vitest');
    const dir = mkdtempSync(join(tmpdir(), 'gl-diag-'));
    cpSync(fileURLToPath(new URL('../fixtures/chat/mini', import.meta.url)), join(dir, 'mini'), { recursive: true });
    writeFileSync(join(dir, 'mini', 'zz-bad.cha'), cat(HEADER, '*MOT:\tlo', [0xff], 'ok at the ball .\n@End\n'));
    writeFileSync(join(dir, 'w.txt'), 'ball\ncup\nduck\nbook\n');
    const err: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (err.push(String(s)), true));
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const code = await main(['corpus', 'build', join(dir, 'mini'), '--out', join(dir, 'out'), '--targets', join(dir, 'w.txt'), '--quiet']);
    spy.mockRestore();
    vi.restoreAllMocks();
    expect(code).toBe(0);
    expect(err.join('')).toContain('warning: mini/zz-bad.cha:7: invalid-utf8: not valid UTF-8 (byte 0xff at byte 9 of the line)');
    expect(readFileSync(join(dir, 'out', 'diagnostics.jsonl'), 'utf8')).toContain('"line":7,"code":"invalid-utf8"');
  });
});

describe('%act tiers', () => {
  it('a repeated %act on one utterance: both are read (with a duplicate-tier diagnostic)', () => {
    const { t, diags } = read(enc(HEADER + '*MOT:\tlook at the ball .\n%act:\tMOT rolls ball\n%act:\tCHI catches duck\n@End\n'));
    expect(diags.map((d) => [d.code, d.line])).toEqual([['duplicate-tier', 9]]);
    // Mutation check: reading only the first tier of each name (u.tiers instead of u.dependents) drops "catches duck".
    expect(t.turns[0]!.env.flatMap((l) => l.words)).toEqual(['mot', 'rolls', 'ball', 'chi', 'catches', 'duck']);
    expect(t.counts.env_lines.act).toBe(2);
  });

  it('a %act continuation line belongs to its tier', () => {
    const { t, diags } = read(enc(HEADER + '*MOT:\tlook .\n%act:\tMOT picks up\n\tthe red ball\n*CHI:\tball .\n@End\n'));
    expect(diags).toEqual([]);
    // Mutation check: dropping continuation lines in logicalLines loses "the red ball".
    expect(t.turns[0]!.env.flatMap((l) => l.words)).toEqual(['mot', 'picks', 'up', 'the', 'red', 'ball']);
    expect(t.turns[1]!.lan).toEqual(['ball']);
  });
});

describe('empty target and item sets', () => {
  it('the CDI rule on a small corpus is an error naming the thresholds and the closest word', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gl-empty-'));
    const lines = Array.from({ length: 10 }, (_, i) => `*MOT:\tlook at the ball ${i} .\n%act:\tMOT rolls ball\n`).join('');
    for (let k = 0; k < 6; k++) writeFileSync(join(dir, `f${k}.cha`), HEADER + lines + '@End\n');
    const err = await buildCorpus({ childes: [dir], out: join(dir, 'out'), targets: 'cdi', quiet: true }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/the cdi rule chose 0 target words: none of its \d+ candidates reached --min_env 100 and --min_lan 100/);
    expect(err.message).toMatch(/closest: "ball" with ENV \d+, LAN \d+/);
    // With thresholds the corpus meets, the same data builds.
    const ok = await buildCorpus({ childes: [dir], out: join(dir, 'ok'), targets: 'cdi', min_env: 5, min_lan: 5, quiet: true });
    expect(ok.targets.words.map((w) => w.word)).toContain('ball');
    expect(ok.items).toBeGreaterThan(0);
  });
});

describe('list options', () => {
  it('"\\," keeps a comma inside a value; repeated flags append; positional paths are never split', () => {
    expect(splitList('a,b\\,c,,d')).toEqual(['a', 'b,c', 'd']);
    const build = corpusCommands.find((c) => c.name === 'corpus build')!;
    const raw = parseArgv(build, ['data/x,y.cha', '--childes', 'p\\,q.cha,r.cha', '--childes', 's.cha', '--out', 'o']);
    expect(raw.childes).toEqual(['p,q.cha', 'r.cha', 's.cha', 'data/x,y.cha']);
    expect(helpText(build)).toContain('write \\, for a comma inside a value');
  });
});
