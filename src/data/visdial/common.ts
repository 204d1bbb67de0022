/**
 * What the caption- and image-grounded builders share: counting the training split, choosing the
 * target words (the CHILDES builder's rules, targets.ts), the vocabulary (vocab.ts), the
 * co-occurrence statistics (targets.ts over the units of sequences.ts), encoding, and writing the
 * corpus contract with stats.json and a manifest.
 */
import { join } from 'node:path';
import { ensureDir, sha256, toJsonl, writeFileAtomic, writeJson } from '../../util/files.js';
import { codeVersion } from '../../util/version.js';
import { DOC, encodeTokenFile, envToken, lanToken, SPLITS, UNK, type EvalItem, type SplitName, type TargetsFile, type TargetWord } from '../contract.js';
import type { CorpusStats, SplitStats } from '../build.js';
import { cdiNouns, countCooccurrence, PAPER_TARGETS, readCdi, readWordList, selectByCounts, targetStats, type TargetStats } from '../targets.js';
import { buildVocab } from '../vocab.js';
import type { ItemTarget } from '../items.js';
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

export interface TargetChoiceOptions {
  targets: string;
  cdi: string;
  cdi_categories: string[];
  cdi_exclude_homographs: boolean;
  min_env: number;
  min_lan: number;
  max_targets: number;
}

/** The target words by the CHILDES builder's rules: "cdi" over the given counts, "paper", or a word file. */
export function chooseTargets(opts: TargetChoiceOptions, envCount: (w: string) => number, lanCount: (w: string) => number): { rule: string; targets: ItemTarget[] } {
  if (opts.targets === 'cdi') {
    const cdi = cdiNouns(readCdi(opts.cdi), opts.cdi_categories, opts.cdi_exclude_homographs);
    const cat = new Map(cdi.map((i) => [i.word, i.category]));
    const chosen = selectByCounts(cdi.map((i) => i.word), envCount, lanCount, opts.min_env, opts.min_lan, opts.max_targets);
    return { rule: 'cdi', targets: chosen.map((word) => ({ word, category: cat.get(word) })) };
  }
  let cat = new Map<string, string>();
  try {
    cat = new Map(cdiNouns(readCdi(opts.cdi), opts.cdi_categories, false).map((i) => [i.word, i.category]));
  } catch {
    // categories are optional for named and user lists
  }
  const named = opts.targets === 'paper' ? [...PAPER_TARGETS] : readWordList(opts.targets);
  return { rule: opts.targets === 'paper' ? 'paper' : `file:${opts.targets}`, targets: named.map((word) => ({ word, category: cat.get(word) })) };
}

/** targets.json rows: the contract fields, then env_turns, lan_turns, pmi_raw (as the CHILDES builder writes them). */
export function targetRows(targets: readonly ItemTarget[], seqs: readonly VisualSeq[], counts: { env(w: string): number; lan(w: string): number }, ids: Map<string, number>, pseudo: number): TargetsFile['words'] {
  const co = countCooccurrence(unitTurns(seqs.filter((s) => s.split === 'train')), targets.map((t) => t.word));
  const idOf = (tok: string): number => ids.get(tok) ?? ids.get(UNK)!;
  return targets.map((t) => {
    const st: TargetStats = targetStats(t.word, co, counts.env(t.word), counts.lan(t.word), pseudo, t.category);
    const { word, env_count, lan_count, turns_both, p_lan_given_env, pmi, category, env_turns, lan_turns, pmi_raw } = st;
    return { word, env_id: idOf(envToken(word)), lan_id: idOf(lanToken(word)), env_count, lan_count, turns_both, p_lan_given_env, pmi, ...(category ? { category } : {}), env_turns, lan_turns, pmi_raw } as TargetWord;
  });
}

/** Training units (denominator of the co-occurrence statistics). */
export function trainUnits(seqs: readonly VisualSeq[]): number {
  let n = 0;
  for (const s of seqs) if (s.split === 'train') n += s.units.length;
  return n;
}

export function vocabulary(counts: TrainCounts, targets: readonly ItemTarget[], opts: { min_count: number; max_vocab: number }, withEnv: boolean): string[] {
  return buildVocab(counts.roles, counts.words, {
    minCount: opts.min_count,
    maxVocab: opts.max_vocab,
    keep: targets.flatMap((t) => (withEnv ? [envToken(t.word), lanToken(t.word)] : [lanToken(t.word)])),
  });
}

export interface Encoded {
  data: Uint8Array;
  stats: SplitStats;
  /** Image of each document, in order. */
  images: string[];
}

export function encodeSplits(seqs: readonly VisualSeq[], ids: Map<string, number>): Record<SplitName, Encoded> {
  const unk = ids.get(UNK)!;
  const out = {} as Record<SplitName, Encoded>;
  for (const split of SPLITS) {
    const tokens: number[] = [];
    const images: string[] = [];
    const stats: SplitStats = { transcripts: 0, turns: 0, tokens: 0, env_tokens: 0, lan_tokens: 0, unk_tokens: 0 };
    for (const s of seqs) {
      if (s.split !== split) continue;
      stats.transcripts++;
      stats.turns += s.env.length + s.lan.length;
      images.push(s.image);
      sequenceTokens(s, (tok, kind) => {
        const id = ids.get(tok) ?? unk;
        tokens.push(id);
        if (kind === 'env') stats.env_tokens++;
        if (kind === 'lan') stats.lan_tokens++;
        if (id === unk) stats.unk_tokens++;
      });
    }
    stats.tokens = tokens.length;
    out[split] = { data: encodeTokenFile(tokens), stats, images };
  }
  return out;
}

/** A context under construction: ids, ENV positions, and the positions of one word's ENV token. */
export class ContextBuilder {
  readonly ids: number[] = [];
  readonly envPositions: number[] = [];
  readonly swapPositions: number[] = [];
  constructor(
    private readonly ids_: Map<string, number>,
    private readonly word: string,
  ) {}
  private id(tok: string): number {
    return this.ids_.get(tok) ?? this.ids_.get(UNK)!;
  }
  token(tok: string): void {
    this.ids.push(this.id(tok));
  }
  env(words: readonly string[]): void {
    for (const w of words) {
      if (w === this.word) this.swapPositions.push(this.ids.length);
      this.envPositions.push(this.ids.length);
      this.ids.push(this.id(envToken(w)));
    }
  }
  lan(words: readonly string[]): void {
    for (const w of words) this.ids.push(this.id(lanToken(w)));
  }
  doc(): void {
    this.token(DOC);
  }
}

function tally<T>(xs: readonly T[], key: (x: T) => string): Record<string, number> {
  const m: Record<string, number> = {};
  for (const x of xs) m[key(x)] = (m[key(x)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : 1)));
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
  const split = (k: keyof SplitStats): number => SPLITS.reduce((a, s) => a + encoded[s].stats[k], 0);
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
  const paperWords = PAPER_TARGETS.map((word) => ({ word, env_count: words.get(envToken(word)) ?? 0, lan_count: words.get(lanToken(word)) ?? 0 }));
  const corpusItemWords = new Set(items.map((i) => i.word));
  return {
    transcripts: seqs.length,
    utterances: seqs.reduce((a, s) => a + s.lan.length, 0),
    utterances_skipped: 0,
    action_only: 0,
    turns: seqs.reduce((a, s) => a + s.env.length + s.lan.length, 0),
    env_lines: { caption: seqs.reduce((a, s) => a + s.env.length, 0) },
    env_segments: { before: seqs.reduce((a, s) => a + s.env.length, 0), after: 0 },
    env_tokens: split('env_tokens'),
    lan_tokens: split('lan_tokens'),
    unk_tokens: split('unk_tokens'),
    vocab_size: vocabSize,
    splits: Object.fromEntries(SPLITS.map((s) => [s, encoded[s].stats])) as Record<SplitName, SplitStats>,
    per_corpus,
    diagnostics: { total: diagnostics.length, by_severity: tally(diagnostics, (d) => d.severity), by_code: tally(diagnostics, (d) => d.code) },
    targets: { rule: targets.rule, count: targets.words.length, min_env: minEnv, min_lan: minLan },
    paper_targets: {
      reaching_min_env_and_lan: paperWords.filter((w) => w.env_count >= minEnv && w.lan_count >= minLan).length,
      min_env: minEnv,
      min_lan: minLan,
      words: paperWords,
    },
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

/** Writes the contract files, stats, diagnostics and extra files; then manifest.json with every output's hash. */
export function writeVisualCorpus(
  out: string,
  files: Record<string, string | Uint8Array>,
  manifest: Record<string, unknown>,
): void {
  ensureDir(out);
  for (const [name, data] of Object.entries(files)) writeFileAtomic(join(out, name), data);
  writeJson(join(out, 'manifest.json'), {
    ...manifest,
    code_version: codeVersion(),
    outputs: Object.fromEntries(Object.entries(files).map(([name, data]) => [name, sha256(data)])),
  });
}

export const jsonText = (v: unknown): string => JSON.stringify(v, null, 2) + '\n';
export { toJsonl, VISUAL_DIAGNOSTIC_CODES };
export type { VisualDiagnostics };
