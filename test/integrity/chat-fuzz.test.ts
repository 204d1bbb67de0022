/**
 * Fuzz test of the CHAT reader: random byte and line mutations of the real files in
 * ../shared/data/chat-fixtures (seeded, so a failure replays). Never a crash; every diagnostic
 * carries a line number inside the file (0 only for the file-level codes); and every injected
 * defect is reported at the line where it was injected.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiagnosticSink } from '../../src/data/chat/diagnostics.js';
import { CleaningOptionsSchema, EnvOptionsSchema } from '../../src/data/options.js';
import { readTranscript } from '../../src/data/transcript.js';
import { sha256 } from '../../src/util/files.js';
import { Rng } from '../../src/util/rng.js';
import { sharedData } from '../helpers/shared-data.js';

const FIXTURES = sharedData('chat-fixtures');
const CLEAN = CleaningOptionsSchema.parse({});
const ENV = EnvOptionsSchema.parse({});
const FILE_LEVEL = new Set(['missing-begin', 'missing-end', 'empty-file', 'binary-file', 'unreadable-file']);

function chaFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((n) => (statSync(join(dir, n)).isDirectory() ? chaFiles(join(dir, n)) : n.endsWith('.cha') ? [join(dir, n)] : []));
}

/** Splits bytes into lines at \n (keeping the bytes of each line, without the \n). */
function lines(b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let s = 0;
  for (let i = 0; i <= b.length; i++) if (i === b.length || b[i] === 0x0a) (out.push(b.subarray(s, i)), (s = i + 1));
  return out;
}
const join_ = (ls: Uint8Array[]) => Uint8Array.from(ls.flatMap((l, i) => (i ? [0x0a, ...l] : [...l])));
const hasCr = (b: Uint8Array) => b.includes(0x0d);

type Mutation = { bytes: Uint8Array; expect?: { line: number; code: string } };

/** One random mutation; some come with the diagnostic they must produce. */
function mutate(src: Uint8Array, rng: Rng): Mutation {
  const ls = lines(src);
  const k = rng.int(8);
  const at = rng.int(ls.length);
  const copy = ls.map((l) => Uint8Array.from(l));
  switch (k) {
    case 0: {
      // invalid UTF-8 byte inside a non-empty line: reported at that line
      if (!copy[at]!.length || hasCr(src)) return { bytes: join_(copy) };
      const l = copy[at]!;
      const pos = rng.int(l.length);
      copy[at] = Uint8Array.from([...l.subarray(0, pos), [0xff, 0xc3, 0x80 | 0x40, 0xe2, 0xf8][rng.int(5)]!, ...l.subarray(pos)].flat());
      // 0xc3 followed by a byte < 0x80 or nothing, 0xe2 truncated, 0xf8/0xff never valid: all invalid
      const next = copy[at]![pos + 1];
      if (copy[at]![pos] === 0xc3 && next !== undefined && next >= 0x80 && next < 0xc0) return { bytes: join_(copy) };
      if (copy[at]![pos] === 0xe2 && next !== undefined && next >= 0x80 && next < 0xc0) return { bytes: join_(copy) };
      return { bytes: join_(copy), expect: { line: at + 1, code: 'invalid-utf8' } };
    }
    case 1: // random byte flip anywhere
      {
        const b = join_(copy);
        const i = rng.int(b.length);
        b[i] = rng.int(256);
        return { bytes: b };
      }
    case 2: // delete a line
      copy.splice(at, 1);
      return { bytes: join_(copy) };
    case 3: // duplicate a line
      copy.splice(at, 0, copy[at]!);
      return { bytes: join_(copy) };
    case 4: // a main tier without its colon: malformed-main-tier at that line
      if (hasCr(src)) return { bytes: join_(copy) };
      copy.splice(at, 0, new TextEncoder().encode('*MOT hello there .'));
      return { bytes: join_(copy), expect: { line: at + 1, code: 'malformed-main-tier' } };
    case 5: // truncate at a random byte
      return { bytes: src.subarray(0, rng.int(src.length)) };
    case 6: // swap two lines
      {
        const j = rng.int(copy.length);
        [copy[at], copy[j]] = [copy[j]!, copy[at]!];
        return { bytes: join_(copy) };
      }
    default: // a burst of random bytes, including CHAT's own marks
      {
        const b = join_(copy);
        const i = rng.int(b.length + 1);
        const burst = Array.from({ length: 1 + rng.int(40) }, () => (rng.float() < 0.4 ? [0x2a, 0x25, 0x40, 0x09, 0x0a, 0x3a, 0x3c, 0x5b, 0x15, 0x5d][rng.int(10)]! : rng.int(256)));
        return { bytes: Uint8Array.from([...b.subarray(0, i), ...burst, ...b.subarray(i)]) };
      }
  }
}

describe('CHAT reader fuzz (real fixtures, random mutations)', () => {
  const files = chaFiles(FIXTURES);
  it('has the fixtures', () => expect(files.length).toBeGreaterThan(50));

  it('never crashes; every diagnostic has a line inside the file; injected defects are reported at their line', () => {
    const rng = new Rng(20261206);
    let checked = 0;
    let injected = 0;
    for (let round = 0; round < 6; round++) {
      for (const f of files) {
        const name = relative(FIXTURES, f);
        const m = mutate(readFileSync(f), rng);
        const sink = new DiagnosticSink(name);
        const input = { path: name, bytes: m.bytes, sha256: sha256(m.bytes) };
        let threw: unknown = null;
        try {
          readTranscript(input, CLEAN, ENV, sink);
        } catch (e) {
          threw = e;
        }
        expect(threw, `${name} round ${round}`).toBe(null);
        const nLines = lines(m.bytes).length;
        for (const d of sink.items) {
          expect(Number.isInteger(d.line) && d.line >= 0 && d.line <= nLines, `${name}: ${JSON.stringify(d)}`).toBe(true);
          if (d.line === 0) expect(FILE_LEVEL.has(d.code), `${name}: ${d.code} without a line`).toBe(true);
        }
        if (m.expect) {
          injected++;
          expect(sink.items.some((d) => d.code === m.expect!.code && d.line === m.expect!.line), `${name}: expected ${m.expect.code} at line ${m.expect.line}, got ${JSON.stringify(sink.items.map((d) => [d.code, d.line]))}`).toBe(true);
        }
        checked++;
      }
    }
    expect(checked).toBe(files.length * 6);
    expect(injected).toBeGreaterThan(50);
  });
});
