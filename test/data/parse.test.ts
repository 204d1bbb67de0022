import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DiagnosticSink } from '../../src/data/chat/diagnostics.js';
import { decodeChat, logicalLines, parseChat, parseParticipants, stripBullets } from '../../src/data/chat/parse.js';
import { Rng } from '../../src/util/rng.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/chat/${name}`, import.meta.url));
const parseFixture = (name: string) => {
  const sink = new DiagnosticSink(name);
  const chat = parseChat(decodeChat(readFileSync(fixture(name)), sink), sink);
  return { chat, diags: sink.items };
};

describe('CHAT reader: headers', () => {
  it('reads @Participants written with ", " (current CHAT)', () => {
    const { chat, diags } = parseFixture('headers-comma.cha');
    expect(chat.participants).toEqual([
      { code: 'CHI', name: 'Alice', role: 'Target_Child' },
      { code: 'MOT', role: 'Mother' },
      { code: 'FAT', role: 'Father' },
    ]);
    expect(diags).toEqual([]);
  });

  it('reads @Participants written with " , " (2013-era CHILDES)', () => {
    const { chat } = parseFixture('headers-spaced.cha');
    expect(chat.participants.map((p) => p.code)).toEqual(['CHI', 'MOT', 'INV']);
    expect(chat.participants.map((p) => p.role)).toEqual(['Target_Child', 'Mother', 'Investigator']);
    expect(parseParticipants('CHI Target_Child ,MOT Mother,, FAT Father')).toHaveLength(3);
  });

  it('reads @ID fields, @Date, @Situation, @Languages and the corpus name', () => {
    const { chat } = parseFixture('headers-comma.cha');
    expect(chat.ids[0]).toMatchObject({ language: 'eng', corpus: 'handmade', code: 'CHI', age: '2;01.05', sex: 'female', role: 'Target_Child' });
    expect(chat.corpus).toBe('handmade');
    expect(chat.date).toBe('01-JAN-2024');
    expect(chat.situation).toBe('playing with a ball');
    expect(chat.languages).toEqual(['eng']);
    const comment = chat.headers.find((h) => h.name === 'Comment');
    expect(comment).toEqual({ name: 'Comment', value: 'a comment that goes on over two lines', line: 10 });
  });
});

describe('CHAT reader: tiers', () => {
  it('keys every dependent tier by name, on the utterance before it, with line numbers', () => {
    const { chat } = parseFixture('headers-comma.cha');
    expect(chat.utterances.map((u) => [u.speaker, u.line])).toEqual([
      ['MOT', 12],
      ['CHI', 15],
      ['FAT', 17],
      ['MOT', 21],
    ]);
    const first = chat.utterances[0]!;
    expect(Object.keys(first.tiers)).toEqual(['act', 'mor']);
    expect(first.tiers.act).toMatchObject({ text: 'CHI picks up the ball', line: 13 });
    expect(first.tiers.mor!.text).toBe('v|look prep|at det|the n|ball .');
  });

  it('joins tab-initial continuation lines onto main and dependent tiers', () => {
    const { chat } = parseFixture('headers-comma.cha');
    const fat = chat.utterances[2]!;
    expect(fat.text).toBe('very good you threw the ball .');
    expect(fat.tiers.com!.text).toBe('this comment continues here');
    const sink = new DiagnosticSink('x');
    expect(logicalLines('\tstray\n*MOT:\ta\n\tb', sink).map((l) => l.text)).toEqual(['*MOT:\ta b']);
    expect(sink.items.map((d) => d.code)).toEqual(['orphan-continuation']);
  });

  it('lifts media bullets out of the text and keeps their time span (both bullet styles)', () => {
    const { chat } = parseFixture('headers-comma.cha');
    expect(chat.utterances[0]!.text).toBe('look at the ball .');
    expect(chat.utterances[0]!.media).toEqual({ start: 1200, end: 2400 });
    const spaced = parseFixture('headers-spaced.cha').chat;
    expect(spaced.utterances[1]!.text).toBe('where is the cup ?');
    expect(spaced.utterances[1]!.media).toEqual({ start: 5000, end: 6000 });
    const sink = new DiagnosticSink('x');
    expect(stripBullets('a \x1512_34 b', 3, sink).text).toBe('a 12_34 b');
    expect(sink.items[0]).toMatchObject({ code: 'unterminated-bullet', line: 3 });
  });

  it('keeps an action-only main tier (0 .) with its %act', () => {
    const { chat } = parseFixture('headers-comma.cha');
    const last = chat.utterances[3]!;
    expect(last.text).toBe('0 .');
    expect(last.tiers.act!.text).toBe('MOT rolls the ball to CHI');
  });
});

describe('CHAT reader: best effort', () => {
  it('reports each malformed construct with its line and keeps reading', () => {
    const { chat, diags } = parseFixture('malformed.cha');
    const codes = diags.map((d) => [d.code, d.line]);
    expect(codes).toContainEqual(['orphan-dependent-tier', 7]);
    expect(codes).toContainEqual(['malformed-main-tier', 11]);
    expect(codes).toContainEqual(['duplicate-tier', 15]);
    expect(codes).toContainEqual(['unrecognised-line', 16]);
    expect(codes).toContainEqual(['missing-end', 0]);
    expect(codes).toContainEqual(['undeclared-speaker', 10]);
    // Every "*SPK:" line is an utterance, including the empty one; the tier after the last one stays attached.
    expect(chat.utterances.map((u) => u.speaker)).toEqual(['MOT', 'MOT', 'XYZ', 'MOT', 'MOT']);
    expect(chat.utterances[4]!.dependents.map((d) => d.text)).toEqual(['MOT smiles', 'MOT smiles again']);
  });

  it('survives arbitrary bytes, a BOM, CRLF line ends and an empty file', () => {
    const rng = new Rng(7);
    for (let k = 0; k < 50; k++) {
      const bytes = new Uint8Array(200 + rng.int(800));
      for (let i = 0; i < bytes.length; i++) bytes[i] = rng.float() < 0.3 ? [0x2a, 0x25, 0x40, 0x09, 0x0a, 0x3a, 0x3c, 0x5b, 0x15][rng.int(9)]! : rng.int(256);
      const sink = new DiagnosticSink('random');
      expect(() => parseChat(decodeChat(bytes, sink), sink)).not.toThrow();
    }
    const sink = new DiagnosticSink('bom');
    const chat = parseChat(decodeChat(new TextEncoder().encode('\ufeff@Begin\r\n*MOT:\thi .\r\n@End\r\n'), sink), sink);
    expect(chat.utterances[0]!.text).toBe('hi .');
    expect(sink.items).toEqual([]);
    const empty = new DiagnosticSink('empty');
    parseChat('', empty);
    expect(empty.items.map((d) => d.code)).toEqual(['empty-file']);
  });
});
