/**
 * One CHAT file → its turns (SPEC §2): a turn is one utterance with its ENV lines. ENV segments
 * scoped <bef>, unscoped, <dur> or word spans precede the utterance; <aft> segments follow it.
 * The token stream of a transcript is `<doc>`, then per turn: `<SPK> e..<ENV>` for each preceding
 * ENV segment, `<SPK> w..<LAN>` for the utterance (omitted when it has no words, e.g. `0 .`),
 * `<SPK> e..<ENV>` for each following segment.
 */
import { DOC, envToken, lanToken, speakerToken, UNK } from './contract.js';
import { DiagnosticSink } from './chat/diagnostics.js';
import { envWords, splitScopes, type EnvPosition } from './chat/env-tier.js';
import { cleanUtterance } from './chat/main-tier.js';
import { decodeChatLines, parseChat } from './chat/parse.js';
import type { InputFile } from './input.js';
import type { CleaningOptions, EnvOptions } from './options.js';

export interface EnvLine {
  /** Tier name without "%" ("act", "sit", "gpx"). */
  tier: string;
  scope: string | null;
  position: EnvPosition;
  words: string[];
  line: number;
}

export interface Turn {
  speaker: string;
  /** Line of the main tier. */
  line: number;
  /** Cleaned main-tier words ("<unk>" for masked forms); empty for action-only turns. */
  lan: string[];
  /** ENV segments with at least one word, in file order. */
  env: EnvLine[];
  actionOnly: boolean;
}

export interface TranscriptCounts {
  utterances: number;
  skipped: number;
  action_only: number;
  /** Dependent-tier lines of each ENV tier (whatever their content). */
  env_lines: Record<string, number>;
}

export interface Transcript {
  file: string;
  /** Source corpus: the corpus field of the first @ID header (lowercased), else the parent folder. */
  corpus: string;
  sha256: string;
  turns: Turn[];
  counts: TranscriptCounts;
}

function corpusName(chatCorpus: string | undefined, file: string): string {
  if (chatCorpus) return chatCorpus.toLowerCase();
  const parts = file.replace(/:.*$/, '').split('/');
  return (parts.length > 1 ? parts[parts.length - 2]! : 'unknown').toLowerCase();
}

/** Reads one input file into turns; problems are reported to `sink`, nothing throws. */
export function readTranscript(input: InputFile, clean: CleaningOptions, env: EnvOptions, sink: DiagnosticSink): Transcript {
  const decoded = decodeChatLines(input.bytes, sink);
  const chat = parseChat(decoded.text, sink, decoded.invalidLines);
  const envTiers = new Set(env.tiers.map((t) => t.replace(/^%/, '')));
  const counts: TranscriptCounts = { utterances: 0, skipped: 0, action_only: 0, env_lines: Object.fromEntries([...envTiers].map((t) => [t, 0])) };
  const turns: Turn[] = [];
  for (const u of chat.utterances) {
    counts.utterances++;
    const cleaned = cleanUtterance(u.text, u.line, clean, sink);
    if (cleaned.malformed) {
      counts.skipped++;
      continue;
    }
    const envLines: EnvLine[] = [];
    for (const dep of u.dependents) {
      if (!envTiers.has(dep.name)) continue;
      counts.env_lines[dep.name]!++;
      for (const seg of splitScopes(dep.text, env.aft_after)) {
        const words = envWords(seg.text, env, clean.lowercase);
        if (words.length) envLines.push({ tier: dep.name, scope: seg.scope, position: seg.position, words, line: dep.line });
      }
    }
    if (cleaned.actionOnly) counts.action_only++;
    turns.push({ speaker: u.speaker, line: u.line, lan: cleaned.words, env: envLines, actionOnly: cleaned.actionOnly });
  }
  return { file: input.path, corpus: corpusName(chat.corpus, input.path), sha256: input.sha256, turns, counts };
}

/** Calls `emit` for each token of a turn in stream order; `kind` says what the token is. */
export function forEachTurnToken(turn: Turn, emit: (token: string, kind: 'speaker' | 'env' | 'lan' | 'unk') => void): void {
  const spk = speakerToken(turn.speaker);
  const envLine = (l: EnvLine): void => {
    emit(spk, 'speaker');
    for (const w of l.words) emit(envToken(w), 'env');
  };
  for (const l of turn.env) if (l.position === 'before') envLine(l);
  if (turn.lan.length) {
    emit(spk, 'speaker');
    for (const w of turn.lan) emit(w === UNK ? UNK : lanToken(w), w === UNK ? 'unk' : 'lan');
  }
  for (const l of turn.env) if (l.position === 'after') envLine(l);
}

/** The whole transcript as tokens, starting with <doc>. */
export function transcriptTokens(t: Transcript): string[] {
  const out = [DOC];
  for (const turn of t.turns) forEachTurnToken(turn, (tok) => out.push(tok));
  return out;
}
