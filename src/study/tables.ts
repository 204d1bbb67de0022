/**
 * The tidy tables of the grounding evaluation: file names, column lists, the evaluation manifest
 * type and a CSV reader that restores numbers. No engine code here, so reports and aggregation can
 * import it without loading the native addon. What each file holds: see evaluate.ts and study.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { SkippedItem } from '../analysis/grounding.js';
import { parseCsv } from '../util/files.js';

/** Which items to evaluate: all, or one source (corpus-derived or template). */
export type ItemSelection = 'all' | 'corpus' | 'template';

export const GROUNDING_COLUMNS = ['arch', 'label', 'seed', 'step', 'source', 'word', 'item', 'condition', 'mismatch_word', 'surprisal'];
export const WORD_COLUMNS = ['arch', 'label', 'seed', 'step', 'items', 'word', 'category', 'n_items', 'matched', 'mismatched', 'G'];
export const SUMMARY_COLUMNS = [
  'arch', 'label', 'seed', 'step', 'items', 'n_words', 'n_items', 'mean_matched', 'mean_mismatched', 'mean_G', 'G_lo', 'G_hi',
  'frac_positive', 'wilcoxon_W', 'wilcoxon_p', 'wilcoxon_method',
];
export const R2_COLUMNS = ['arch', 'label', 'seed', 'step', 'items', 'statistic', 'r2', 'slope', 'intercept', 'r', 'p_value', 'n'];

export const EVAL_FILES = {
  grounding: 'grounding.csv',
  words: 'grounding_words.csv',
  summary: 'grounding_summary.csv',
  r2: 'cooccurrence_r2.csv',
  manifest: 'grounding_manifest.json',
} as const;

export interface EvalKey {
  format: number;
  corpus_hash: string;
  items_sha256: string;
  items: ItemSelection;
  max_len: number;
  bootstrap_seed: number;
  iterations: number;
}

export interface EvalManifest {
  key: EvalKey;
  code_version: string;
  run: { arch: string; label: string; seed: number };
  skipped_items: SkippedItem[];
  /** Per evaluated step. */
  steps: Record<string, { checkpoint_sha256: string; sequences: number; seconds: number; sequences_per_s: number; evaluated_at: string }>;
}

export type SummaryRow = Record<string, string | number>;

/** Parses numeric-looking CSV fields back into numbers (empty fields become NaN for numeric columns). */
export function readCsvTable(path: string, numeric: readonly string[] = []): SummaryRow[] {
  if (!existsSync(path)) return [];
  const num = new Set(numeric);
  return parseCsv(readFileSync(path, 'utf8')).map((r) => {
    const o: SummaryRow = {};
    for (const [k, v] of Object.entries(r)) o[k] = num.has(k) ? (v === '' ? NaN : Number(v)) : v;
    return o;
  });
}

export const SUMMARY_NUMERIC = ['seed', 'step', 'n_words', 'n_items', 'mean_matched', 'mean_mismatched', 'mean_G', 'G_lo', 'G_hi', 'frac_positive', 'wilcoxon_W', 'wilcoxon_p'];
export const WORD_NUMERIC = ['seed', 'step', 'n_items', 'matched', 'mismatched', 'G'];
export const R2_NUMERIC = ['seed', 'step', 'r2', 'slope', 'intercept', 'r', 'p_value', 'n'];
