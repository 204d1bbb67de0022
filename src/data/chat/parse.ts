/**
 * A typed, best-effort CHAT reader (https://talkbank.org/manuals/CHAT.pdf).
 *
 * It splits a transcript into headers, main tiers (utterances) and the dependent tiers that follow
 * each of them, keyed by tier name (`act`, `mor`, `gpx`, ...). Tab-initial continuation lines join
 * the line before them; media bullets (`\x15start_end\x15`) are lifted out of the text. Word-level
 * analysis of the main tier is in main-tier.ts, and of free-text tiers (%act, %sit, ...) in
 * env-tier.ts. Nothing here throws on bad input: problems become diagnostics and reading goes on.
 */
import { DiagnosticSink } from './diagnostics.js';

export interface Header {
  /** Name without "@" and ":" (e.g. "Participants", "Begin", "Bg"). */
  name: string;
  value: string;
  line: number;
}

export interface Participant {
  code: string;
  name?: string;
  role: string;
}

/** The fields of an @ID header (language|corpus|code|age|sex|group|SES|role|education|custom|). */
export interface IdHeader {
  language: string;
  corpus: string;
  code: string;
  age: string;
  sex: string;
  group: string;
  ses: string;
  role: string;
  education: string;
  custom: string;
}

export interface MediaSpan {
  /** Milliseconds, from the last `start_end` bullet of the line. */
  start: number;
  end: number;
}

export interface DependentTier {
  /** Tier name without "%" (e.g. "act", "mor", "xpho"). */
  name: string;
  /** Text with continuation lines joined and media bullets removed. */
  text: string;
  line: number;
  media?: MediaSpan;
}

export interface Utterance {
  speaker: string;
  /** Main-tier text with continuation lines joined and media bullets removed. */
  text: string;
  line: number;
  media?: MediaSpan;
  /** Dependent tiers in file order (an utterance may repeat a tier; see `tiers` for the first of each). */
  dependents: DependentTier[];
  /** First dependent tier of each name. */
  tiers: Record<string, DependentTier>;
}

export interface ChatFile {
  file: string;
  headers: Header[];
  participants: Participant[];
  ids: IdHeader[];
  languages: string[];
  /** Corpus name from the first @ID header, when there is one. */
  corpus?: string;
  date?: string;
  situation?: string;
  utterances: Utterance[];
}

interface LogicalLine {
  text: string;
  line: number;
  /** Holds a physical line that is not valid UTF-8: reported already, its tier is skipped. */
  invalid?: boolean;
}

/**
 * Decodes bytes as UTF-8 (dropping a BOM). Whole-file decoding, kept for callers that only need
 * text; readers of data use decodeChatLines, which never lets a replaced byte reach the words.
 */
export function decodeChat(bytes: Uint8Array, sink: DiagnosticSink): string {
  return decodeChatLines(bytes, sink).text;
}

export interface DecodedChat {
  /** The text, lines joined by "\n"; an invalid line keeps its number but its content is not used. */
  text: string;
  /** 1-based numbers of physical lines that are not valid UTF-8. */
  invalidLines: Set<number>;
  /** The file is not text at all (NUL bytes); nothing of it is read. */
  binary: boolean;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lossyUtf8 = new TextDecoder('utf-8', { fatal: false });

/** Index of the first byte of an invalid UTF-8 sequence in a line (for the diagnostic). */
function firstInvalidByte(line: Uint8Array): number {
  for (let i = 0; i < line.length; ) {
    const b = line[i]!;
    const need = b < 0x80 ? 0 : b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : -1;
    if (need < 0) return i;
    try {
      strictUtf8.decode(line.subarray(i, i + need + 1));
    } catch {
      return i;
    }
    i += need + 1;
  }
  return 0;
}

/**
 * Decodes a CHAT file line by line. A line that is not valid UTF-8 gets a diagnostic with its line
 * number and the offending byte, and its tier is skipped (a main tier with its dependent tiers):
 * no byte is ever replaced by U+FFFD and read as part of a word ("look" must not become "ok").
 * A file with NUL bytes is not text: one diagnostic, nothing read.
 */
export function decodeChatLines(bytes: Uint8Array, sink: DiagnosticSink): DecodedChat {
  if (bytes.subarray(0, 65536).includes(0)) {
    sink.report(0, 'binary-file', `not a text file (NUL bytes in the first ${Math.min(bytes.length, 65536)} bytes); is it really CHAT? The file is skipped`);
    return { text: '', invalidLines: new Set(), binary: true };
  }
  let start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const lines: string[] = [];
  const invalid = new Set<number>();
  // Physical lines end at \r\n, \r or \n, as logicalLines splits them.
  for (let i = start; i <= bytes.length; i++) {
    const b = bytes[i];
    if (i < bytes.length && b !== 0x0a && b !== 0x0d) continue;
    const line = bytes.subarray(start, i);
    try {
      lines.push(strictUtf8.decode(line));
    } catch {
      const at = firstInvalidByte(line);
      invalid.add(lines.length + 1);
      sink.report(lines.length + 1, 'invalid-utf8', `not valid UTF-8 (byte 0x${line[at]!.toString(16).padStart(2, '0')} at byte ${at + 1} of the line); the line's tier is skipped, nothing is replaced`);
      lines.push(lossyUtf8.decode(line));
    }
    if (b === 0x0d && bytes[i + 1] === 0x0a) i++;
    start = i + 1;
  }
  return { text: lines.join('\n'), invalidLines: invalid, binary: false };
}

/** Joins tab-initial continuation lines onto the line before them, keeping the first line number. */
export function logicalLines(text: string, sink: DiagnosticSink, invalidLines?: ReadonlySet<number>): LogicalLine[] {
  const out: LogicalLine[] = [];
  const physical = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < physical.length; i++) {
    const raw = physical[i]!;
    const bad = invalidLines?.has(i + 1) ?? false;
    if (raw.startsWith('\t')) {
      const prev = out[out.length - 1];
      if (!prev) {
        if (!bad) sink.report(i + 1, 'orphan-continuation', 'continuation line with nothing before it');
        continue;
      }
      prev.text += ' ' + raw.slice(1);
      if (bad) prev.invalid = true; // a bad continuation poisons the whole tier, not just its own part
      continue;
    }
    out.push(bad ? { text: raw, line: i + 1, invalid: true } : { text: raw, line: i + 1 });
  }
  return out;
}

const BULLET = /\x15([^\x15]*)\x15/g;
const MEDIA_TIMES = /(\d+)_(\d+)/;

/** Removes media bullets from a line and returns the time span of the last timed one. */
export function stripBullets(text: string, line: number, sink: DiagnosticSink): { text: string; media?: MediaSpan } {
  if (!text.includes('\x15')) return { text };
  let media: MediaSpan | undefined;
  let out = text.replace(BULLET, (_m, inner: string) => {
    const t = MEDIA_TIMES.exec(inner);
    if (t) media = { start: Number(t[1]), end: Number(t[2]) };
    return ' ';
  });
  if (out.includes('\x15')) {
    sink.report(line, 'unterminated-bullet', 'media bullet without its closing \\x15');
    out = out.replace(/\x15/g, ' ');
  }
  return { text: out.replace(/\s+/g, ' ').trim(), media };
}

/** `@Participants`: entries separated by "," (older files write " , "); each is CODE [Name ...] Role. */
export function parseParticipants(value: string): Participant[] {
  const out: Participant[] = [];
  for (const entry of value.split(',')) {
    const parts = entry.trim().split(/\s+/).filter(Boolean);
    if (parts.length === 0) continue;
    const [code, ...rest] = parts as [string, ...string[]];
    if (rest.length === 0) out.push({ code, role: '' });
    else if (rest.length === 1) out.push({ code, role: rest[0]! });
    else out.push({ code, name: rest.slice(0, -1).join(' '), role: rest[rest.length - 1]! });
  }
  return out;
}

export function parseIdHeader(value: string): IdHeader {
  const f = value.split('|').map((s) => s.trim());
  const at = (i: number): string => f[i] ?? '';
  return { language: at(0), corpus: at(1), code: at(2), age: at(3), sex: at(4), group: at(5), ses: at(6), role: at(7), education: at(8), custom: at(9) };
}

const MAIN_TIER = /^\*([^:\s]+):\s?(.*)$/s;
const DEPENDENT_TIER = /^%([^:\s]+):\s?(.*)$/s;
const HEADER = /^@([^:\t]+?)(?::\s?(.*))?$/s;

/** Parses one CHAT transcript. Problems go to `sink`; the result holds everything that could be read. */
export function parseChat(text: string, sink: DiagnosticSink, invalidLines?: ReadonlySet<number>): ChatFile {
  const chat: ChatFile = { file: sink.file, headers: [], participants: [], ids: [], languages: [], utterances: [] };
  let current: Utterance | undefined;
  let sawBegin = false;
  let sawEnd = false;
  let warnedAfterEnd = false;
  for (const { text: raw, line, invalid } of logicalLines(text, sink, invalidLines)) {
    if (invalid) {
      // Skip the tier; after a skipped main tier its dependent tiers go with it (a detached utterance).
      if (raw.startsWith('*')) current = { speaker: '', text: '', line, dependents: [], tiers: {} };
      continue;
    }
    if (raw.trim() === '') continue;
    if (sawEnd && !warnedAfterEnd) {
      sink.report(line, 'content-after-end', 'content after @End');
      warnedAfterEnd = true;
    }
    const first = raw[0];
    if (first === '@') {
      const m = HEADER.exec(raw);
      const header: Header = { name: (m?.[1] ?? raw.slice(1)).trim(), value: (m?.[2] ?? '').trim(), line };
      chat.headers.push(header);
      if (header.name === 'Begin') sawBegin = true;
      if (header.name === 'End') sawEnd = true;
      readKnownHeader(chat, header, sink);
    } else if (first === '*') {
      const m = MAIN_TIER.exec(raw);
      if (!m) {
        sink.report(line, 'malformed-main-tier', `main tier without "*SPK:": ${JSON.stringify(raw.slice(0, 40))}`);
        current = undefined;
        continue;
      }
      const { text: body, media } = stripBullets(m[2]!, line, sink);
      current = { speaker: m[1]!, text: body, line, media, dependents: [], tiers: {} };
      chat.utterances.push(current);
    } else if (first === '%') {
      const m = DEPENDENT_TIER.exec(raw);
      if (!m) {
        sink.report(line, 'malformed-dependent-tier', `dependent tier without "%tier:": ${JSON.stringify(raw.slice(0, 40))}`);
        continue;
      }
      if (!current) {
        sink.report(line, 'orphan-dependent-tier', `%${m[1]} before any main tier`);
        continue;
      }
      const { text: body, media } = stripBullets(m[2]!, line, sink);
      const tier: DependentTier = { name: m[1]!, text: body, line, media };
      if (current.tiers[tier.name]) sink.report(line, 'duplicate-tier', `second %${tier.name} on the utterance of line ${current.line}`);
      else current.tiers[tier.name] = tier;
      current.dependents.push(tier);
    } else {
      sink.report(line, 'unrecognised-line', `not a header, tier or continuation: ${JSON.stringify(raw.slice(0, 40))}`);
    }
  }
  if (chat.headers.length === 0 && chat.utterances.length === 0) {
    sink.report(0, 'empty-file', 'no CHAT header and no main tier');
    return chat;
  }
  if (!sawBegin) sink.report(0, 'missing-begin', '@Begin is missing');
  if (!sawEnd) sink.report(0, 'missing-end', '@End is missing');
  checkSpeakers(chat, sink);
  return chat;
}

function readKnownHeader(chat: ChatFile, header: Header, sink: DiagnosticSink): void {
  const value = stripBullets(header.value, header.line, sink).text;
  switch (header.name) {
    case 'Participants':
      chat.participants.push(...parseParticipants(value));
      break;
    case 'ID': {
      const id = parseIdHeader(value);
      chat.ids.push(id);
      if (chat.corpus === undefined && id.corpus) chat.corpus = id.corpus;
      break;
    }
    case 'Languages':
      chat.languages = value.split(/[\s,]+/).filter(Boolean);
      break;
    case 'Date':
      chat.date = value;
      break;
    case 'Situation':
      chat.situation = value;
      break;
  }
}

/** Speakers must be declared; an undeclared one is reported once per file (the utterances stay). */
function checkSpeakers(chat: ChatFile, sink: DiagnosticSink): void {
  if (chat.participants.length === 0) return;
  const declared = new Set(chat.participants.map((p) => p.code));
  const reported = new Set<string>();
  for (const u of chat.utterances) {
    if (declared.has(u.speaker) || reported.has(u.speaker)) continue;
    reported.add(u.speaker);
    sink.report(u.line, 'undeclared-speaker', `speaker ${u.speaker} is not in @Participants`);
  }
}
