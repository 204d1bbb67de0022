/**
 * `buildCorpus`: CHAT inputs → a corpus directory (the contract of contract.ts, plus stats.json,
 * diagnostics.jsonl and manifest.json). Steps: read and clean every transcript (best effort, with
 * diagnostics), split by transcript with a seeded shuffle, count the training split, choose the
 * target words, build the vocabulary, encode the splits, compute the co-occurrence statistics and
 * the evaluation items, write everything. Same inputs and options give byte-identical files.
 */
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UserError } from '../util/errors.js';
import { toJsonl, writeJson } from '../util/files.js';
import { Progress } from '../util/progress.js';
import { codeVersion, packageRoot } from '../util/version.js';
import { DiagnosticSink, type Diagnostic } from './chat/diagnostics.js';
import { requireNonEmptyItems } from './nonempty.js';
import { DOC, envToken, lanToken, SPLITS, UNK, type EvalItem, type SplitName, type TargetsFile } from './contract.js';
import { contractFiles, diagnosticSummary, jsonText, paperTargetCoverage, parseOptions, seededSplit, SplitEncoder, splitTotal, writeCorpusFiles } from './corpus-common.js';
import { collectInputs } from './input.js';
import { corpusItems, readTemplates, templateItems, vocabEncoder } from './items.js';
import { BuildOptionsSchema, type BuildOptions, type BuildOptionsInput } from './options.js';
import { countCooccurrence, selectByCounts, targetRows, targetsByRule, type ChosenTargets } from './targets.js';
import { forEachTurnToken, readTranscript, type Transcript, type Turn } from './transcript.js';
import { corpusVocab } from './vocab.js';

/** A target list decided by the caller (the synthetic world), optionally filtered by min counts. */
export interface TargetListOverride {
  rule: string;
  words: string[];
  categories?: Record<string, string>;
  /** Keep only words reaching min_env and min_lan (ranked by min(ENV, LAN), capped at max_targets). */
  filter: boolean;
}

export interface BuildExtras {
  targetList?: TargetListOverride;
}

export interface SplitStats {
  transcripts: number;
  turns: number;
  tokens: number;
  env_tokens: number;
  lan_tokens: number;
  unk_tokens: number;
}

export interface CorpusStats {
  transcripts: number;
  utterances: number;
  utterances_skipped: number;
  action_only: number;
  turns: number;
  env_lines: Record<string, number>;
  env_segments: { before: number; after: number };
  env_tokens: number;
  lan_tokens: number;
  unk_tokens: number;
  vocab_size: number;
  splits: Record<SplitName, SplitStats>;
  per_corpus: Record<string, { transcripts: number; utterances: number; action_only: number; env_lines: Record<string, number>; env_tokens: number; lan_tokens: number; diagnostics: number }>;
  diagnostics: { total: number; by_severity: Record<string, number>; by_code: Record<string, number> };
  targets: { rule: string; count: number; min_env: number; min_lan: number; min_env_seen?: number; left_out?: { word: string; env_count: number }[] };
  paper_targets: { reaching_min_env_and_lan: number; min_env: number; min_lan: number; words: { word: string; env_count: number; lan_count: number }[] };
  items: {
    corpus: number;
    template: number;
    words_with_corpus_items: number;
    words_with_template_items: number;
    /** Splits the corpus items come from, and template processing (ours | paper-code). */
    item_splits?: string[];
    template_processing?: string;
    /** Items per word and source. */
    per_word?: Record<string, { corpus: number; template: number }>;
  };
}

export interface BuildResult {
  dir: string;
  stats: CorpusStats;
  targets: TargetsFile;
  items: number;
  diagnostics: number;
}

/**
 * Resolves `--templates ours` to the shipped file (our own templates in the paper's style; the
 * paper's templates are not public); other values are paths. "paper" is refused so that no output
 * calls our templates the paper's.
 */
export function resolveTemplatesPath(value: string): string {
  if (value === 'paper') throw new UserError('--templates paper: the shipped templates are our own, written in the paper\'s style, not the paper\'s; pass --templates ours (or a path to your own file)');
  return value === 'ours' ? join(packageRoot, 'assets', 'templates', 'ours.json') : value;
}

/**
 * Path of an input as recorded in outputs: relative to the corpus directory when inside it (the
 * synthetic world's chat/ and templates.json), relative to the package for shipped assets, else as
 * given. So a corpus does not change with where it is written.
 */
function recordedPath(path: string, outDir: string): string {
  const abs = resolve(path);
  for (const base of [resolve(outDir), packageRoot]) {
    const rel = relative(base, abs);
    if (rel && !rel.startsWith('..') && !isAbsolute(rel)) return rel.split(sep).join('/');
  }
  return path;
}

function splitTranscripts(transcripts: Transcript[], fractions: number[], seed: number): Record<SplitName, Transcript[]> {
  const parts = seededSplit(transcripts, fractions, seed);
  const byName = (a: Transcript, b: Transcript): number => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0);
  return { val: parts.val.sort(byName), test: parts.test.sort(byName), train: parts.train.sort(byName) };
}

function* turnsOf(transcripts: readonly Transcript[]): Iterable<Turn> {
  for (const t of transcripts) yield* t.turns;
}

function countTrainTokens(train: readonly Transcript[]): { speakers: Map<string, number>; words: Map<string, number> } {
  const speakers = new Map<string, number>();
  const words = new Map<string, number>();
  for (const turn of turnsOf(train)) {
    forEachTurnToken(turn, (tok, kind) => {
      if (kind === 'unk') return;
      const m = kind === 'speaker' ? speakers : words;
      m.set(tok, (m.get(tok) ?? 0) + 1);
    });
  }
  return { speakers, words };
}

function chooseTargets(opts: BuildOptions, extras: BuildExtras, words: Map<string, number>): ChosenTargets & { leftOut: { word: string; env_count: number }[] } {
  const env = (w: string): number => words.get(envToken(w)) ?? 0;
  const lan = (w: string): number => words.get(lanToken(w)) ?? 0;
  const override = extras.targetList;
  if (override) {
    const list = override.filter ? selectByCounts(override.words, env, lan, opts.min_env, opts.min_lan, opts.max_targets) : override.words;
    return { rule: override.rule, targets: list.map((word) => ({ word, category: override.categories?.[word] })), leftOut: [] };
  }
  const chosen = targetsByRule(opts, env, lan);
  if (opts.targets !== 'paper') return { ...chosen, leftOut: [] };
  // The paper's list keeps words whatever their counts; a word whose ENV form was (nearly) never trained
  // has an ENV embedding near its initialisation, which as a mismatch inflates G: leave it out.
  const keep = chosen.targets.filter((t) => env(t.word) >= opts.min_env_seen);
  const leftOut = chosen.targets.filter((t) => env(t.word) < opts.min_env_seen).map((t) => ({ word: t.word, env_count: env(t.word) }));
  return { rule: opts.min_env_seen > 0 ? `${chosen.rule} (ENV seen >= ${opts.min_env_seen})` : chosen.rule, targets: keep, leftOut };
}

function encodeSplit(transcripts: readonly Transcript[], ids: Map<string, number>): { data: Uint8Array; stats: SplitStats } {
  const enc = new SplitEncoder(ids);
  enc.stats.transcripts = transcripts.length;
  for (const t of transcripts) {
    enc.push(DOC, 'doc');
    enc.stats.turns += t.turns.length;
    for (const turn of t.turns) forEachTurnToken(turn, (tok, kind) => enc.push(tok, kind));
  }
  return enc.finish();
}

function corpusStats(transcripts: readonly Transcript[], diagsByFile: Map<string, number>, envTiers: string[]): CorpusStats['per_corpus'] {
  const per: CorpusStats['per_corpus'] = {};
  for (const t of transcripts) {
    const c = (per[t.corpus] ??= { transcripts: 0, utterances: 0, action_only: 0, env_lines: Object.fromEntries(envTiers.map((x) => [x, 0])), env_tokens: 0, lan_tokens: 0, diagnostics: 0 });
    c.transcripts++;
    c.utterances += t.counts.utterances;
    c.action_only += t.counts.action_only;
    for (const [tier, n] of Object.entries(t.counts.env_lines)) c.env_lines[tier] = (c.env_lines[tier] ?? 0) + n;
    for (const turn of t.turns) {
      for (const l of turn.env) c.env_tokens += l.words.length;
      c.lan_tokens += turn.lan.filter((w) => w !== UNK).length;
    }
    c.diagnostics += diagsByFile.get(t.file) ?? 0;
  }
  return Object.fromEntries(Object.entries(per).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The first diagnostics (errors first) in one line: what a user needs when nothing could be read. */
export function diagnosticDigest(diagnostics: readonly Diagnostic[], max = 4): string {
  const rank = (d: Diagnostic) => (d.severity === 'error' ? 0 : d.severity === 'warning' ? 1 : 2);
  const shown = [...diagnostics].sort((a, b) => rank(a) - rank(b)).slice(0, max);
  const text = shown.map((d) => `${d.file}${d.line ? `:${d.line}` : ''}: ${d.code}: ${d.message}`).join('; ');
  return diagnostics.length > max ? `${text}; and ${diagnostics.length - max} more` : text || 'no diagnostics';
}

/** Builds a corpus directory from CHAT inputs. Throws UserError on bad options or inputs; bad data only yields diagnostics. */
export async function buildCorpus(input: BuildOptionsInput, extras: BuildExtras = {}): Promise<BuildResult> {
  const opts = parseOptions(BuildOptionsSchema, input, 'corpus');
  const envTiers = opts.env.tiers.map((t) => t.replace(/^%/, ''));
  const files = collectInputs(opts.childes);

  // 1. Read every transcript; a file that fails entirely is a diagnostic, never an abort.
  const diagnostics: Diagnostic[] = [];
  const transcripts: Transcript[] = [];
  const progress = new Progress({ total: files.length, label: 'reading CHAT', unit: 'files', quiet: opts.quiet || undefined });
  for (const f of files) {
    const sink = new DiagnosticSink(f.path);
    try {
      const t = readTranscript(f, opts.clean, opts.env, sink);
      if (!sink.items.some((d) => d.code === 'empty-file')) transcripts.push(t);
    } catch (err) {
      sink.report(0, 'unreadable-file', `could not read: ${(err as Error).message}`);
    }
    diagnostics.push(...sink.items);
    progress.tick();
  }
  progress.done(`${transcripts.length} transcripts`);
  if (transcripts.length === 0) throw new UserError(`no transcript could be read: ${diagnosticDigest(diagnostics)}; fix or replace these files`);

  // 2. Split by transcript; count the training split; choose targets; build the vocabulary.
  const splits = splitTranscripts(transcripts, opts.split, opts.seed);
  const { speakers, words } = countTrainTokens(splits.train);
  const chosen = chooseTargets(opts, extras, words);
  const targetSink = new DiagnosticSink('targets');
  for (const t of chosen.leftOut) targetSink.report(0, 'target-env-unseen', `"${t.word}": its ENV form occurs ${t.env_count} time(s) in the training split (< min_env_seen ${opts.min_env_seen}); left out of the targets and the mismatch draws`);
  for (const t of chosen.targets) {
    if (!words.has(envToken(t.word)) && !words.has(lanToken(t.word))) targetSink.report(0, 'target-not-in-vocab', `"${t.word}" occurs in neither form in the training split`);
  }
  diagnostics.push(...targetSink.items);
  const vocab = corpusVocab(speakers, words, chosen.targets, opts);
  const ids = new Map(vocab.map((t, i) => [t, i]));
  const enc = vocabEncoder(ids);

  // 3. Encode; statistics of the targets on the training split.
  const encoded = Object.fromEntries(SPLITS.map((s) => [s, encodeSplit(splits[s], ids)])) as Record<SplitName, ReturnType<typeof encodeSplit>>;
  const co = countCooccurrence(turnsOf(splits.train), chosen.targets.map((t) => t.word));
  const trainCount = { env: (w: string): number => words.get(envToken(w)) ?? 0, lan: (w: string): number => words.get(lanToken(w)) ?? 0 };
  const targetsFile: TargetsFile = { rule: chosen.rule, train_turns: co.turns, words: targetRows(chosen.targets, co, trainCount, enc.id, opts.pmi_pseudocount) };

  // 4. Items: corpus-derived from the held-out splits (item_splits), then templates.
  const itemSplits = [...new Set(opts.item_splits)].sort((a, b) => SPLITS.indexOf(a) - SPLITS.indexOf(b));
  const items: EvalItem[] = corpusItems(itemSplits.map((s) => ({ split: s, transcripts: splits[s] })), null, chosen.targets, opts, opts.seed, enc);
  let templatesRecorded: string | null = null;
  if (opts.templates) {
    const path = resolveTemplatesPath(opts.templates);
    templatesRecorded = recordedPath(path, opts.out);
    const sink = new DiagnosticSink(templatesRecorded);
    items.push(...templateItems(readTemplates(path), chosen.targets, opts, opts.env, opts.clean.lowercase, opts.seed, enc, sink));
    diagnostics.push(...sink.items);
  }

  requireNonEmptyItems(items, `corpus ${opts.out}`, `${chosen.targets.length} target words, but no test-split utterance (${splits.test.length} transcripts) gave an item${opts.templates ? ' and no template matched a target' : ''}; give more data, a larger test share (--split), or --templates`);

  // 5. Statistics and outputs.
  const diagsByFile = new Map<string, number>();
  for (const d of diagnostics) diagsByFile.set(d.file, (diagsByFile.get(d.file) ?? 0) + 1);
  const stats = summarise(opts, transcripts, encoded, vocab.length, diagnostics, diagsByFile, envTiers, targetsFile, items, words, chosen.leftOut);
  const outputs = writeCorpusFiles(opts.out, { ...contractFiles(vocab, encoded, targetsFile, items), 'stats.json': jsonText(stats), 'diagnostics.jsonl': toJsonl(diagnostics) });
  writeJson(join(opts.out, 'manifest.json'), {
    kind: 'groundlab-corpus',
    code_version: codeVersion(),
    // The output path and the progress switch do not change the corpus, so they stay out of the record.
    options: { ...opts, childes: opts.childes.map((p) => recordedPath(p, opts.out)), templates: templatesRecorded ?? '', out: undefined, quiet: undefined },
    target_rule: chosen.rule,
    templates: templatesRecorded,
    split_files: Object.fromEntries(SPLITS.map((s) => [s, splits[s].map((t) => t.file)])),
    inputs: files.map((f) => ({ file: f.path, sha256: f.sha256, bytes: f.bytes.byteLength })),
    outputs,
  });
  return { dir: opts.out, stats, targets: targetsFile, items: items.length, diagnostics: diagnostics.length };
}

function summarise(
  opts: BuildOptions,
  transcripts: readonly Transcript[],
  encoded: Record<SplitName, { stats: SplitStats }>,
  vocabSize: number,
  diagnostics: readonly Diagnostic[],
  diagsByFile: Map<string, number>,
  envTiers: string[],
  targets: TargetsFile,
  items: readonly EvalItem[],
  trainWords: Map<string, number>,
  leftOut: { word: string; env_count: number }[],
): CorpusStats {
  const envLines: Record<string, number> = Object.fromEntries(envTiers.map((t) => [t, 0]));
  const segments = { before: 0, after: 0 };
  let utterances = 0;
  let skipped = 0;
  let actionOnly = 0;
  let turns = 0;
  for (const t of transcripts) {
    utterances += t.counts.utterances;
    skipped += t.counts.skipped;
    actionOnly += t.counts.action_only;
    turns += t.turns.length;
    for (const [tier, n] of Object.entries(t.counts.env_lines)) envLines[tier] = (envLines[tier] ?? 0) + n;
    for (const turn of t.turns) for (const l of turn.env) segments[l.position]++;
  }
  const corpusItemWords = new Set(items.filter((i) => i.source.kind === 'corpus').map((i) => i.word));
  const templateItemWords = new Set(items.filter((i) => i.source.kind === 'template').map((i) => i.word));
  return {
    transcripts: transcripts.length,
    utterances,
    utterances_skipped: skipped,
    action_only: actionOnly,
    turns,
    env_lines: envLines,
    env_segments: segments,
    env_tokens: splitTotal(encoded, 'env_tokens'),
    lan_tokens: splitTotal(encoded, 'lan_tokens'),
    unk_tokens: splitTotal(encoded, 'unk_tokens'),
    vocab_size: vocabSize,
    splits: Object.fromEntries(SPLITS.map((s) => [s, encoded[s].stats])) as Record<SplitName, SplitStats>,
    per_corpus: corpusStats(transcripts, diagsByFile, envTiers),
    diagnostics: diagnosticSummary(diagnostics),
    targets: { rule: targets.rule, count: targets.words.length, min_env: opts.min_env, min_lan: opts.min_lan, min_env_seen: opts.min_env_seen, left_out: leftOut },
    paper_targets: paperTargetCoverage(trainWords, opts.min_env, opts.min_lan),
    items: {
      corpus: items.filter((i) => i.source.kind === 'corpus').length,
      template: items.filter((i) => i.source.kind === 'template').length,
      words_with_corpus_items: corpusItemWords.size,
      words_with_template_items: templateItemWords.size,
      item_splits: [...opts.item_splits],
      template_processing: opts.template_processing,
      per_word: Object.fromEntries(
        targets.words.map((t) => [t.word, { corpus: items.filter((i) => i.word === t.word && i.source.kind === 'corpus').length, template: items.filter((i) => i.word === t.word && i.source.kind === 'template').length }]),
      ),
    },
  };
}
