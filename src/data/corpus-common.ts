/**
 * What every corpus builder shares (the CHAT builder, build.ts, and the two visual-dialog builders,
 * visdial/): reading the options, the seeded split, encoding a split with its statistics, the
 * summary statistics that stats.json has in every corpus, and writing the files with their hashes.
 * Each helper writes exactly what the builders wrote before it existed: corpora are byte-reproducible.
 */
import { join } from 'node:path';
import type { z } from 'zod';
import { UserError } from '../util/errors.js';
import { ensureDir, sha256, toJsonl, writeFileAtomic } from '../util/files.js';
import { deriveSeed, Rng } from '../util/rng.js';
import type { CorpusStats, SplitStats } from './build.js';
import { encodeTokenFile, envToken, lanToken, SPLITS, UNK, type EvalItem, type SplitName, type TargetsFile } from './contract.js';
import { PAPER_TARGETS } from './targets.js';

/** Validates builder options with their zod schema; a failure is a UserError naming every bad field. */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) throw new UserError(`invalid ${what} options: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

/** A JSON output file: two-space indent and a final newline. */
export const jsonText = (v: unknown): string => JSON.stringify(v, null, 2) + '\n';

/**
 * A seeded shuffle of `units` (transcripts, images) cut into val, test and train by the fractions.
 * With a handful of units, a non-zero split still gets one (from 3 units up); training keeps at
 * least one. Each part keeps the shuffled order.
 */
export function seededSplit<T>(units: readonly T[], fractions: readonly number[], seed: number): Record<SplitName, T[]> {
  const total = fractions.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new UserError('--split fractions must not all be zero');
  const n = units.length;
  const shuffled = new Rng(deriveSeed(seed, 'split')).shuffle(units.slice());
  let nVal = Math.round((n * fractions[1]!) / total);
  let nTest = Math.round((n * fractions[2]!) / total);
  if (fractions[1]! > 0 && nVal === 0 && n >= 3) nVal = 1;
  if (fractions[2]! > 0 && nTest === 0 && n >= 3) nTest = 1;
  if (nVal + nTest >= n) {
    nVal = Math.min(nVal, Math.max(0, n - 1 - nTest));
    nTest = Math.min(nTest, Math.max(0, n - 1 - nVal));
  }
  return { val: shuffled.slice(0, nVal), test: shuffled.slice(nVal, nVal + nTest), train: shuffled.slice(nVal + nTest) };
}

export type TokenKind = 'doc' | 'speaker' | 'role' | 'env' | 'lan' | 'unk';

/** One split's token file under construction, with its SplitStats (documents and turns are counted by the caller). */
export class SplitEncoder {
  readonly stats: SplitStats = { transcripts: 0, turns: 0, tokens: 0, env_tokens: 0, lan_tokens: 0, unk_tokens: 0 };
  private readonly tokens: number[] = [];
  private readonly unk: number;
  constructor(private readonly ids: Map<string, number>) {
    this.unk = ids.get(UNK)!;
  }
  /** Appends a token (out-of-vocabulary ones as <unk>), counting ENV, LAN and <unk> tokens. */
  push(token: string, kind: TokenKind): void {
    const id = this.ids.get(token) ?? this.unk;
    this.tokens.push(id);
    if (kind === 'env') this.stats.env_tokens++;
    if (kind === 'lan') this.stats.lan_tokens++;
    if (id === this.unk) this.stats.unk_tokens++;
  }
  finish(): { data: Uint8Array; stats: SplitStats } {
    this.stats.tokens = this.tokens.length;
    return { data: encodeTokenFile(this.tokens), stats: this.stats };
  }
}

/** Sum of one SplitStats field over the three splits. */
export function splitTotal(encoded: Record<SplitName, { stats: SplitStats }>, key: keyof SplitStats): number {
  return SPLITS.reduce((a, s) => a + encoded[s].stats[key], 0);
}

function tally<T>(xs: readonly T[], key: (x: T) => string): Record<string, number> {
  const m: Record<string, number> = {};
  for (const x of xs) m[key(x)] = (m[key(x)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** stats.json `diagnostics`: the total, then counts by severity and by code (sorted). */
export function diagnosticSummary(diagnostics: readonly { severity: string; code: string }[]): CorpusStats['diagnostics'] {
  return { total: diagnostics.length, by_severity: tally(diagnostics, (d) => d.severity), by_code: tally(diagnostics, (d) => d.code) };
}

/** stats.json `paper_targets`: the training counts of the paper's 100 words and how many reach both minima. */
export function paperTargetCoverage(trainWords: Map<string, number>, minEnv: number, minLan: number): CorpusStats['paper_targets'] {
  const words = PAPER_TARGETS.map((word) => ({ word, env_count: trainWords.get(envToken(word)) ?? 0, lan_count: trainWords.get(lanToken(word)) ?? 0 }));
  return {
    reaching_min_env_and_lan: words.filter((w) => w.env_count >= minEnv && w.lan_count >= minLan).length,
    min_env: minEnv,
    min_lan: minLan,
    words,
  };
}

/** The files of the corpus contract (contract.ts), in the order every builder writes and hashes them. */
export function contractFiles(vocab: readonly string[], encoded: Record<SplitName, { data: Uint8Array }>, targets: TargetsFile, items: readonly EvalItem[]): Record<string, string | Uint8Array> {
  return {
    'vocab.json': jsonText(vocab),
    'train.bin': encoded.train.data,
    'val.bin': encoded.val.data,
    'test.bin': encoded.test.data,
    'targets.json': jsonText(targets),
    'items.jsonl': toJsonl(items as EvalItem[]),
  };
}

/** Writes every file into `out` (created if needed); returns name → sha256, the manifest's `outputs`. */
export function writeCorpusFiles(out: string, files: Record<string, string | Uint8Array>): Record<string, string> {
  ensureDir(out);
  for (const [name, data] of Object.entries(files)) writeFileAtomic(join(out, name), data);
  return Object.fromEntries(Object.entries(files).map(([name, data]) => [name, sha256(data)]));
}
