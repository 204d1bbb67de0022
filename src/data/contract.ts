/**
 * The corpus contract shared by the corpus builder (writer) and the trainer / evaluators (readers).
 *
 * A corpus directory holds:
 *   vocab.json        array of token strings, id = index. Ids 0..2 are always <pad>, <unk>, <doc>.
 *   train.bin         little-endian uint32 token ids; each transcript is preceded by <doc>
 *   val.bin, test.bin
 *   targets.json      TargetsFile (target words with counts and co-occurrence statistics)
 *   items.jsonl       one EvalItem per line (matched contexts + mismatch words)
 *   prefix.json       optional (image-grounded corpora): the continuous prefix of each document
 *                     (image features), see src/data/prefix.ts
 *   stats.json, diagnostics.jsonl, manifest.json (builder-specific; see src/data/build.ts)
 *
 * Token spelling: `word<ENV>` (environment), `word<LAN>` (language), `<MOT>` / `<CHI>` / ... (speakers),
 * `<pad>`, `<unk>`, `<doc>`.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { readJson, sha256Dir, writeFileAtomic, writeJson } from '../util/files.js';

export const PAD = '<pad>';
export const UNK = '<unk>';
export const DOC = '<doc>';
export const SPECIAL_TOKENS = [PAD, UNK, DOC] as const;

export const envToken = (w: string): string => `${w}<ENV>`;
export const lanToken = (w: string): string => `${w}<LAN>`;
export const speakerToken = (code: string): string => `<${code}>`;

export type SplitName = 'train' | 'val' | 'test';
export const SPLITS: SplitName[] = ['train', 'val', 'test'];

export interface TargetWord {
  word: string;
  env_id: number;
  lan_id: number;
  /** Occurrences of word<ENV> / word<LAN> in the training split. */
  env_count: number;
  lan_count: number;
  /** SPEC §4, training split: turns with both forms, P(LAN in turn | ENV in turn), PMI of the two events over turns. */
  turns_both: number;
  p_lan_given_env: number;
  pmi: number;
  /** CDI category when known (e.g. "toys", "animals"). */
  category?: string;
}

export interface TargetsFile {
  /** How the list was chosen: "cdi" | "paper" | "file:<path>" | "synthetic". */
  rule: string;
  /** Turns in the training split (denominator of the co-occurrence statistics). */
  train_turns: number;
  words: TargetWord[];
}

export interface EvalItem {
  /** Unique id, e.g. "ball/corpus/3" or "ball/template/0". */
  id: string;
  word: string;
  source: { kind: 'corpus' | 'template'; file: string; line: number; split?: SplitName };
  /** Token ids of the matched context, ending right before the target. */
  context: number[];
  /** Id of word<LAN>, the token whose surprisal is measured after the context. */
  target: number;
  /** Positions (into context) of all ENV tokens. */
  env_positions: number[];
  /** Positions holding word<ENV>: replaced by u<ENV> to build a mismatched context. */
  swap_positions: number[];
  /** The M mismatch words u with the id of u<ENV> (seeded draw). */
  mismatches: EvalMismatch[];
  /**
   * Image-grounded items (visual dialog): id of the image whose feature prefix precedes `context`
   * in the matched condition (see prefix.json). The prefix occupies model positions 0..k-1, which
   * are the ENV positions; `env_positions` and `swap_positions` are then empty.
   */
  prefix?: string;
}

export interface EvalMismatch {
  word: string;
  /** Id of u<ENV>; -1 when the corpus has no ENV tokens (image-grounded items). */
  env_id: number;
  /**
   * The whole mismatched context, when it is not the matched one with swapped tokens (visual dialog:
   * another sequence's caption followed by the same language). Then `swap_positions` do not apply.
   */
  context?: number[];
  /** Image-grounded items: the image whose features replace the matched image's prefix. */
  prefix?: string;
  /** Where the mismatched environment comes from (e.g. the sequence whose caption was taken). */
  from?: string;
}

export interface Corpus {
  dir: string;
  vocab: string[];
  ids: Map<string, number>;
  splits: Record<SplitName, Uint32Array>;
  padId: number;
  unkId: number;
  docId: number;
  /** sha256 over the contract files: what a run was trained against. */
  hash: string;
}

export function readTokenFile(path: string): Uint32Array {
  const buf = readFileSync(path);
  if (buf.byteLength % 4 !== 0) throw new UserError(`${path}: size ${buf.byteLength} is not a multiple of 4 (expected uint32 token ids)`);
  const out = new Uint32Array(buf.byteLength / 4);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = dv.getUint32(i * 4, true);
  return out;
}

export function encodeTokenFile(ids: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(ids.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < ids.length; i++) dv.setUint32(i * 4, ids[i]!, true);
  return out;
}

/** Loads and validates a corpus directory; errors name the file and what is wrong. */
export function loadCorpus(dir: string): Corpus {
  const vocabPath = join(dir, 'vocab.json');
  if (!existsSync(vocabPath)) throw new UserError(`${dir} is not a corpus directory: vocab.json is missing (build one with "groundlab corpus build" or "groundlab corpus synth")`);
  const vocab = readJson<string[]>(vocabPath);
  if (!Array.isArray(vocab) || vocab.some((t) => typeof t !== 'string')) throw new UserError(`${vocabPath}: expected a JSON array of strings`);
  const ids = new Map<string, number>();
  vocab.forEach((t, i) => ids.set(t, i));
  for (const [i, t] of SPECIAL_TOKENS.entries()) {
    if (vocab[i] !== t) throw new UserError(`${vocabPath}: token ${i} must be ${t}, found ${JSON.stringify(vocab[i])}`);
  }
  const splits = {} as Record<SplitName, Uint32Array>;
  for (const s of SPLITS) {
    const p = join(dir, `${s}.bin`);
    if (!existsSync(p)) throw new UserError(`${dir}: ${s}.bin is missing`);
    const toks = readTokenFile(p);
    for (let i = 0; i < toks.length; i++) {
      if (toks[i]! >= vocab.length) throw new UserError(`${p}: token id ${toks[i]} at index ${i} is outside the vocabulary (${vocab.length})`);
    }
    splits[s] = toks;
  }
  // prefix.json (image-grounded corpora) records the features' hash, so it is part of what a run trained on.
  const hash = sha256Dir(dir, (n) => n === 'vocab.json' || n.endsWith('.bin') || n === 'prefix.json');
  return { dir, vocab, ids, splits, padId: 0, unkId: 1, docId: 2, hash };
}

export function loadTargets(dir: string): TargetsFile {
  const p = join(dir, 'targets.json');
  if (!existsSync(p)) throw new UserError(`${dir}: targets.json is missing`);
  return readJson<TargetsFile>(p);
}

export function loadItems(dir: string, file = 'items.jsonl'): EvalItem[] {
  const p = join(dir, file);
  if (!existsSync(p)) throw new UserError(`${dir}: ${file} is missing`);
  return readFileSync(p, 'utf8')
    .split('\n')
    .map((l, i) => [l, i + 1] as const)
    .filter(([l]) => l.trim())
    .map(([l, line]) => {
      try {
        return JSON.parse(l) as EvalItem;
      } catch {
        throw new UserError(`${p}:${line} is not valid JSON; the corpus is damaged: rebuild it with "groundlab corpus build" (or synth)`);
      }
    });
}

/** Writes the minimal contract (vocab + splits). Used by tests and by the corpus builder. */
export function writeCorpusCore(dir: string, vocab: string[], splits: Record<SplitName, ArrayLike<number>>): void {
  writeJson(join(dir, 'vocab.json'), vocab);
  for (const s of SPLITS) writeFileAtomic(join(dir, `${s}.bin`), encodeTokenFile(splits[s]));
}
