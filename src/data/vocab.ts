/**
 * The word-level vocabulary (SPEC §2, corpus contract): ids 0..2 are <pad>, <unk>, <doc>; then the
 * speaker tokens; then word<ENV>/word<LAN> tokens by training-split frequency, ties broken by
 * code-unit order of the token (locale-independent, hence deterministic). A min_count or max_vocab
 * cap drops rare words, but the ENV and LAN forms of every target word are always kept.
 */
import { envToken, lanToken, SPECIAL_TOKENS } from './contract.js';

const byCountThenToken = (counts: Map<string, number>) => (a: string, b: string): number =>
  counts.get(b)! - counts.get(a)! || (a < b ? -1 : a > b ? 1 : 0);

export interface VocabOptions {
  minCount: number;
  /** Total size cap including special and speaker tokens; 0 for none. */
  maxVocab: number;
  /** Tokens kept whatever their count (target forms), even when absent from the training split. */
  keep: Iterable<string>;
}

/** `speakers` and `words` map training-split tokens to their counts. */
export function buildVocab(speakers: Map<string, number>, words: Map<string, number>, opts: VocabOptions): string[] {
  const vocab: string[] = [...SPECIAL_TOKENS];
  vocab.push(...[...speakers.keys()].sort(byCountThenToken(speakers)));
  const counts = new Map(words);
  const keep = new Set<string>();
  for (const t of opts.keep) {
    keep.add(t);
    if (!counts.has(t)) counts.set(t, 0);
  }
  const ranked = [...counts.keys()].sort(byCountThenToken(counts));
  const budget = opts.maxVocab > 0 ? opts.maxVocab - vocab.length : Infinity;
  // Kept tokens reserve their places first; the others fill what is left in frequency order.
  let free = budget - keep.size;
  const chosen = new Set<string>();
  for (const t of ranked) {
    if (keep.has(t)) chosen.add(t);
    else if (free > 0 && counts.get(t)! >= opts.minCount) {
      chosen.add(t);
      free--;
    }
  }
  for (const t of ranked) if (chosen.has(t)) vocab.push(t);
  return vocab;
}

/**
 * A corpus builder's vocabulary (options min_count and max_vocab), keeping every target word's ENV
 * and LAN forms, or its LAN form only (`lanOnly`: a corpus whose environment is not tokens).
 */
export function corpusVocab(speakers: Map<string, number>, words: Map<string, number>, targets: readonly { word: string }[], opts: { min_count: number; max_vocab: number }, lanOnly = false): string[] {
  return buildVocab(speakers, words, {
    minCount: opts.min_count,
    maxVocab: opts.max_vocab,
    keep: targets.flatMap((t) => (lanOnly ? [lanToken(t.word)] : [envToken(t.word), lanToken(t.word)])),
  });
}
