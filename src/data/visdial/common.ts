/**
 * What the caption- and image-grounded builders share: counting the training split, the
 * co-occurrence statistics over the units of sequences.ts, encoding, the pieces of their evaluation
 * items, stats.json and writing the corpus with its manifest. What they share with the CHAT builder
 * too is one level up: target rules (targets.ts), vocabulary (vocab.ts), item contexts (items.ts),
 * split, encoder, summary statistics and output files (corpus-common.ts).
 */
import { join } from 'node:path';
import { toJsonl, writeJson } from '../../util/files.js';
import { Rng } from '../../util/rng.js';
import { codeVersion } from '../../util/version.js';
import type { PrefixInfo } from '../prefix.js';
import { SPLITS, type EvalItem, type SplitName, type TargetsFile } from '../contract.js';
import type { CorpusStats, SplitStats } from '../build.js';
import { contractFiles, diagnosticSummary, jsonText, paperTargetCoverage, SplitEncoder, splitTotal, writeCorpusFiles } from '../corpus-common.js';
import { vocabEncoder, type ContextBuilder, type ItemTarget } from '../items.js';
import { countCooccurrence, targetRows } from '../targets.js';
import { VISUAL_DIAGNOSTIC_CODES, type VisualDiagnostic, type VisualDiagnostics } from './diagnostics.js';
import { sequenceTokens, unitTurns, type VisualSeq } from './sequences.js';
import type { VisualSources } from './sources.js';

export interface TrainCounts {
  /** Role tokens (<CAP>, <Q>, <A>, <D>) with their training counts. */
  roles: Map<string, number>;
  /** word<ENV> / word<LAN> tokens with their training counts. */
  words: Map<string, number>;
}

export function countTraining(seqs: readonly VisualSeq[]): TrainCounts {
  const roles = new Map<string, number>();
  const words = new Map<string, number>();
  for (const s of seqs) {
    if (s.split !== 'train') continue;
    sequenceTokens(s, (tok, kind) => {
      if (kind === 'doc') return;
      const m = kind === 'role' ? roles : words;
      m.set(tok, (m.get(tok) ?? 0) + 1);
    });
  }
  return { roles, words };
}

/** targets.json rows (targets.ts), the co-occurrence statistics counted over the training units. */
export function unitTargetRows(targets: readonly ItemTarget[], seqs: readonly VisualSeq[], counts: { env(w: string): number; lan(w: string): number }, ids: Map<string, number>, pseudo: number): TargetsFile['words'] {
  const co = countCooccurrence(unitTurns(seqs.filter((s) => s.split === 'train')), targets.map((t) => t.word));
  return targetRows(targets, co, counts, vocabEncoder(ids).id, pseudo);
}

/** Training units (denominator of the co-occurrence statistics). */
export function trainUnits(seqs: readonly VisualSeq[]): number {
  let n = 0;
  for (const s of seqs) if (s.split === 'train') n += s.units.length;
  return n;
}

export interface Encoded {
  data: Uint8Array;
  stats: SplitStats;
  /** Image of each document, in order. */
  images: string[];
}

export function encodeSplits(seqs: readonly VisualSeq[], ids: Map<string, number>): Record<SplitName, Encoded> {
  const out = {} as Record<SplitName, Encoded>;
  for (const split of SPLITS) {
    const enc = new SplitEncoder(ids);
    const images: string[] = [];
    for (const s of seqs) {
      if (s.split !== split) continue;
      enc.stats.transcripts++;
      enc.stats.turns += s.env.length + s.lan.length;
      images.push(s.image);
      sequenceTokens(s, (tok, kind) => enc.push(tok, kind));
    }
    out[split] = { ...enc.finish(), images };
  }
  return out;
}

/** Where the first v<LAN> of a sequence is: line and word index, or null. */
export function firstMention(s: VisualSeq, word: string): { line: number; word: number } | null {
  for (let l = 0; l < s.lan.length; l++) {
    const w = s.lan[l]!.words.indexOf(word);
    if (w >= 0) return { line: l, word: w };
  }
  return null;
}

/** Appends language lines `from`..`at.line` of a sequence, the last one cut right before the mention. */
export function languageUntil(ctx: ContextBuilder, s: VisualSeq, at: { line: number; word: number }, from = 0): void {
  for (let l = from; l <= at.line; l++) {
    const line = s.lan[l]!;
    ctx.speaker(line.role);
    ctx.lan(l < at.line ? line.words : line.words.slice(0, at.word));
  }
}

/** An item's `source`: the sequence key, the dialog's index as `line` (COCO: 0), the split. */
export function itemSource(s: VisualSeq): EvalItem['source'] {
  return { kind: 'corpus', file: s.key, line: s.source === 'visdial' ? Number(s.record.match(/\d+/)?.[0] ?? 0) : 0, split: s.split };
}

/**
 * A seeded pick among `list` of an element passing `ok` (a few random probes, then a scan from a
 * random start), or null when none passes.
 */
export function pickWhere<T>(list: readonly T[], ok: (x: T) => boolean, rng: Rng): T | null {
  if (!list.length) return null;
  for (let tries = 0; tries < 16; tries++) {
    const x = list[rng.int(list.length)]!;
    if (ok(x)) return x;
  }
  const start = rng.int(list.length);
  for (let i = 0; i < list.length; i++) {
    const x = list[(start + i) % list.length]!;
    if (ok(x)) return x;
  }
  return null;
}

/** Statistics of the visual corpora beyond CorpusStats (which they also fill, so `corpus stats` and the report read them). */
export interface VisualExtraStats {
  setting: 'caption' | 'image';
  inputs: { file: string; kind: string; records: number; dialogs_or_images: number }[];
  sequences: { visdial: number; coco: number };
  dialogs: number;
  rounds: number;
  rounds_without_answer: number;
  coco_images: number;
  coco_captions: number;
  images: number;
  compounds: number;
}

export type VisualCorpusStats = CorpusStats & { visual: VisualExtraStats };

export function summariseVisual(
  setting: 'caption' | 'image',
  src: VisualSources,
  seqs: readonly VisualSeq[],
  encoded: Record<SplitName, Encoded>,
  vocabSize: number,
  diagnostics: readonly VisualDiagnostic[],
  targets: TargetsFile,
  minEnv: number,
  minLan: number,
  items: readonly EvalItem[],
  words: Map<string, number>,
): VisualCorpusStats {
  const perSource = (kind: 'visdial' | 'coco') => {
    const ss = seqs.filter((s) => s.source === kind);
    let env = 0;
    let lan = 0;
    for (const s of ss) {
      for (const l of s.env) env += l.length;
      for (const l of s.lan) lan += l.words.length;
    }
    return { transcripts: ss.length, utterances: ss.reduce((a, s) => a + s.lan.length, 0), action_only: 0, env_lines: { caption: ss.reduce((a, s) => a + s.env.length, 0) }, env_tokens: env, lan_tokens: lan, diagnostics: diagnostics.filter((d) => src.inputs.some((i) => i.kind === kind && i.file === d.file)).length };
  };
  const per_corpus: CorpusStats['per_corpus'] = {};
  if (seqs.some((s) => s.source === 'coco')) per_corpus.coco = perSource('coco');
  if (seqs.some((s) => s.source === 'visdial')) per_corpus.visdial = perSource('visdial');
  const corpusItemWords = new Set(items.map((i) => i.word));
  return {
    transcripts: seqs.length,
    utterances: seqs.reduce((a, s) => a + s.lan.length, 0),
    utterances_skipped: 0,
    action_only: 0,
    turns: seqs.reduce((a, s) => a + s.env.length + s.lan.length, 0),
    env_lines: { caption: seqs.reduce((a, s) => a + s.env.length, 0) },
    env_segments: { before: seqs.reduce((a, s) => a + s.env.length, 0), after: 0 },
    env_tokens: splitTotal(encoded, 'env_tokens'),
    lan_tokens: splitTotal(encoded, 'lan_tokens'),
    unk_tokens: splitTotal(encoded, 'unk_tokens'),
    vocab_size: vocabSize,
    splits: Object.fromEntries(SPLITS.map((s) => [s, encoded[s].stats])) as Record<SplitName, SplitStats>,
    per_corpus,
    diagnostics: diagnosticSummary(diagnostics),
    targets: { rule: targets.rule, count: targets.words.length, min_env: minEnv, min_lan: minLan },
    paper_targets: paperTargetCoverage(words, minEnv, minLan),
    items: { corpus: items.length, template: 0, words_with_corpus_items: corpusItemWords.size, words_with_template_items: 0 },
    visual: {
      setting,
      inputs: [
        ...src.visdial.map((f) => ({ file: f.file, kind: 'visdial', records: f.records, dialogs_or_images: f.dialogs.length })),
        ...src.coco.map((f) => ({ file: f.file, kind: 'coco', records: f.records, dialogs_or_images: f.images.length })),
      ],
      sequences: { visdial: seqs.filter((s) => s.source === 'visdial').length, coco: seqs.filter((s) => s.source === 'coco').length },
      dialogs: src.dialogs.length,
      rounds: src.dialogs.reduce((a, d) => a + d.rounds.length, 0),
      rounds_without_answer: src.dialogs.reduce((a, d) => a + d.rounds.filter((r) => r.answer === null).length, 0),
      coco_images: src.cocoImages.length,
      coco_captions: src.cocoImages.reduce((a, im) => a + im.captions.length, 0),
      images: new Set(seqs.map((s) => s.image)).size,
      compounds: src.compounds,
    },
  };
}

/** What a visual corpus directory holds besides manifest.json. */
export interface VisualCorpusOutputs {
  vocab: string[];
  encoded: Record<SplitName, Encoded>;
  targets: TargetsFile;
  items: readonly EvalItem[];
  /** Image-grounded corpus: prefix.json. */
  prefix?: PrefixInfo;
  stats: VisualCorpusStats;
  diagnostics: readonly VisualDiagnostic[];
  seqs: readonly VisualSeq[];
}

/**
 * Writes the contract files, prefix.json (image setting), stats.json, diagnostics.jsonl and
 * sequences.jsonl; then manifest.json: its kind, the given record, the code version and every
 * output's hash.
 */
export function writeVisualCorpus(out: string, o: VisualCorpusOutputs, record: { setting: 'caption' | 'image'; options: object; target_rule: string; inputs: unknown; features?: unknown }): void {
  const outputs = writeCorpusFiles(out, {
    ...contractFiles(o.vocab, o.encoded, o.targets, o.items),
    ...(o.prefix ? { 'prefix.json': jsonText(o.prefix) } : {}),
    'stats.json': jsonText(o.stats),
    'diagnostics.jsonl': toJsonl(o.diagnostics as VisualDiagnostic[]),
    'sequences.jsonl': toJsonl(o.seqs.map((s) => ({ key: s.key, source: s.source, image: s.image, split: s.split }))),
  });
  writeJson(join(out, 'manifest.json'), { kind: 'groundlab-visual-corpus', ...record, code_version: codeVersion(), outputs });
}

/** The options as a manifest records them: inputs by display name (not where the data lives), no output path or progress switch. */
export function recordedOptions<T extends object>(opts: T, src: VisualSources, overrides: Record<string, unknown> = {}): object {
  return { ...opts, ...recordedInputs(src), ...overrides, out: undefined, quiet: undefined };
}

/** The input options as recorded: display names (file or archive:entry), not absolute paths. */
export function recordedInputs(src: { inputs: { file: string; kind: string }[] }): { visdial: string[]; coco: string[] } {
  return { visdial: src.inputs.filter((i) => i.kind === 'visdial').map((i) => i.file), coco: src.inputs.filter((i) => i.kind === 'coco').map((i) => i.file) };
}

/** Progress lines on stderr, unless --quiet. */
export function builderLog(quiet: boolean, command: string): (line: string) => void {
  return (line) => {
    if (!quiet) process.stderr.write(`groundlab ${command}: ${line}\n`);
  };
}

export { VISUAL_DIAGNOSTIC_CODES };
export type { VisualDiagnostics };
