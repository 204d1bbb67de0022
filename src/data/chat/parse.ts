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
}

/** Decodes bytes as UTF-8 (dropping a BOM); invalid sequences become U+FFFD and a diagnostic. */
export function decodeChat(bytes: Uint8Array, sink: DiagnosticSink): string {
  let text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.includes('\ufffd')) sink.report(0, 'invalid-utf8', 'the file is not valid UTF-8; invalid bytes were replaced');
  return text;
}

/** Joins tab-initial continuation lines onto the line before them, keeping the first line number. */
export function logicalLines(text: string, sink: DiagnosticSink): LogicalLine[] {
  const out: LogicalLine[] = [];
  const physical = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < physical.length; i++) {
    const raw = physical[i]!;
    if (raw.startsWith('\t')) {
      const prev = out[out.length - 1];
      if (!prev) {
        sink.report(i + 1, 'orphan-continuation', 'continuation line with nothing before it');
        continue;
      }
      prev.text += ' ' + raw.slice(1);
      continue;
    }
    out.push({ text: raw, line: i + 1 });
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
export function parseChat(text: string, sink: DiagnosticSink): ChatFile {
  const chat: ChatFile = { file: sink.file, headers: [], participants: [], ids: [], languages: [], utterances: [] };
  let current: Utterance | undefined;
  let sawBegin = false;
  let sawEnd = false;
  let warnedAfterEnd = false;
  for (const { text: raw, line } of logicalLines(text, sink)) {
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
