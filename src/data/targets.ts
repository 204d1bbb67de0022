/**
 * Target words (SPEC §2) and their co-occurrence statistics (SPEC §4).
 *
 * Rules: "cdi" (CDI Words & Sentences items in the noun categories whose ENV and LAN forms each
 * reach a minimum count in the training split; the most frequent by min(ENV, LAN)), "paper" (the
 * paper's 100 words, kept whatever their counts), a user file (kept as given), or a list filtered by
 * the minimum counts (the synthetic world). Statistics are over training turns (one utterance with
 * its ENV lines): turns with both forms, P(LAN in turn | ENV in turn), and PMI of the two events.
 */
import { requireNonEmptyTargets } from './nonempty.js';
import { readFileSync, existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { packageRoot } from '../util/version.js';
import { UserError } from '../util/errors.js';
import { parseCsv } from '../util/files.js';
import { envToken, lanToken, type TargetWord } from './contract.js';
import type { ItemTarget } from './items.js';
import type { Turn } from './transcript.js';

/** The paper's 100 target words (Wu et al. 2025), in the paper's order. */
export const PAPER_TARGETS: readonly string[] = [
  'box', 'book', 'ball', 'hand', 'paper', 'table', 'toy', 'head', 'car', 'chair', 'room', 'picture', 'doll', 'cup', 'towel',
  'door', 'mouth', 'camera', 'duck', 'face', 'truck', 'bottle', 'puzzle', 'bird', 'tape', 'finger', 'bucket', 'block', 'stick',
  'elephant', 'hat', 'bed', 'arm', 'dog', 'kitchen', 'spoon', 'hair', 'blanket', 'horse', 'tray', 'train', 'cow', 'foot', 'couch',
  'necklace', 'cookie', 'plate', 'telephone', 'window', 'brush', 'ear', 'pig', 'purse', 'hammer', 'cat', 'shoulder', 'garage',
  'button', 'monkey', 'pencil', 'shoe', 'drawer', 'leg', 'bear', 'milk', 'egg', 'bowl', 'juice', 'ladder', 'basket', 'coffee',
  'bus', 'food', 'apple', 'bench', 'sheep', 'airplane', 'comb', 'bread', 'eye', 'animal', 'knee', 'shirt', 'cracker', 'glass',
  'light', 'game', 'cheese', 'sofa', 'giraffe', 'turtle', 'stove', 'clock', 'star', 'refrigerator', 'banana', 'napkin', 'bunny',
  'farm', 'money',
];

export interface CdiItem {
  /** Word form as it appears in the corpus: definition without "(...)" sense notes, spaces → "_". */
  word: string;
  /** Category of the form's first item. */
  category: string;
  /** Every category the form appears in ("can": household and helping_verbs). */
  categories: string[];
}

/** Reads a wordbank item list (columns item, type, category, definition); keeps `type == word` rows, one entry per form. */
export function readCdi(path: string): CdiItem[] {
  // The default (../shared/data/cdi/...) is relative to the repository: also try it from the package root.
  if (!existsSync(path) && !isAbsolute(path) && existsSync(join(packageRoot, path))) path = join(packageRoot, path);
  if (!existsSync(path)) {
    throw new UserError(`CDI item list not found: ${path}. Download English_American_WS.csv from wordbank (langcog/wordbank raw_data) and pass --cdi PATH, or use --targets paper`);
  }
  const rows = parseCsv(readFileSync(path, 'utf8'));
  if (rows.length === 0 || !('definition' in rows[0]!) || !('category' in rows[0]!)) {
    throw new UserError(`${path}: expected a wordbank CSV with columns item, type, category, definition`);
  }
  const byForm = new Map<string, CdiItem>();
  for (const r of rows) {
    if (r.type !== undefined && r.type !== 'word') continue;
    const word = cdiForm(r.definition ?? r.item ?? '');
    if (!word) continue;
    const category = r.category ?? '';
    const item = byForm.get(word);
    if (!item) byForm.set(word, { word, category, categories: [category] });
    else if (!item.categories.includes(category)) item.categories.push(category);
  }
  return [...byForm.values()];
}

/**
 * The CDI rule's candidates: forms with an item in a noun category, minus (optionally) homographs
 * that are also CDI items of another kind ("can" the helping verb, "watch" the action, "orange"
 * the colour), whose LAN counts mostly measure the other sense. The category is the first noun one.
 */
export function cdiNouns(items: readonly CdiItem[], nounCategories: readonly string[], excludeHomographs: boolean): CdiItem[] {
  const isNoun = (c: string): boolean => nounCategories.includes(c);
  return items
    .filter((i) => i.categories.some(isNoun) && !(excludeHomographs && i.categories.some((c) => !isNoun(c))))
    .map((i) => ({ ...i, category: i.categories.find(isNoun)! }));
}

/** "chicken (animal)" → "chicken", "high chair" → "high_chair", "teddybear*" → "teddybear". */
export function cdiForm(definition: string): string {
  return definition
    .replace(/\([^)]*\)/g, ' ')
    .replace(/[*/]/g, ' ')
    .trim()
    .toLowerCase()
    .replace(/\s+/g, '_');
}

/** A user word list: a JSON array of strings or one word per line (# comments allowed). */
export function readWordList(path: string): string[] {
  if (!existsSync(path)) throw new UserError(`target word file not found: ${path}`);
  const text = readFileSync(path, 'utf8');
  if (text.trim().startsWith('[')) {
    const parsed = JSON.parse(text) as unknown;
    if (!Array.isArray(parsed) || parsed.some((w) => typeof w !== 'string')) throw new UserError(`${path}: expected a JSON array of words`);
    return dedupe(parsed as string[]);
  }
  return dedupe(
    text
      .split('\n')
      .map((l) => l.replace(/#.*$/, '').trim())
      .filter(Boolean),
  );
}

function dedupe(words: string[]): string[] {
  return [...new Set(words.map((w) => w.trim().toLowerCase()).filter(Boolean))];
}

/** Ranks candidates by min(ENV, LAN) count (ties alphabetical) and keeps those reaching both minima. */
export function selectByCounts(
  candidates: readonly string[],
  envCount: (w: string) => number,
  lanCount: (w: string) => number,
  minEnv: number,
  minLan: number,
  max: number,
): string[] {
  return candidates
    .filter((w) => envCount(w) >= minEnv && lanCount(w) >= minLan)
    .map((w) => ({ w, score: Math.min(envCount(w), lanCount(w)) }))
    .sort((a, b) => b.score - a.score || (a.w < b.w ? -1 : a.w > b.w ? 1 : 0))
    .slice(0, max)
    .map((x) => x.w);
}

/** The target-choice options every builder has (options.ts, visdial/options.ts). */
export interface TargetRuleOptions {
  targets: string;
  cdi: string;
  cdi_categories: string[];
  cdi_exclude_homographs: boolean;
  min_env: number;
  min_lan: number;
  max_targets: number;
}

export interface ChosenTargets {
  rule: string;
  targets: ItemTarget[];
}

/**
 * The target words by `--targets`: "cdi" (CDI nouns reaching min_env and min_lan by the given
 * training counts), "paper", or a word file (both kept as given, with their CDI category when the
 * CDI list can be read).
 */
export function targetsByRule(opts: TargetRuleOptions, envCount: (w: string) => number, lanCount: (w: string) => number): ChosenTargets {
  if (opts.targets === 'cdi') {
    const cdi = cdiNouns(readCdi(opts.cdi), opts.cdi_categories, opts.cdi_exclude_homographs);
    const cat = new Map(cdi.map((i) => [i.word, i.category]));
    const chosen = selectByCounts(
      cdi.map((i) => i.word),
      envCount,
      lanCount,
      opts.min_env,
      opts.min_lan,
      opts.max_targets,
    );
    requireNonEmptyTargets(chosen, { rule: 'cdi', minEnv: opts.min_env, minLan: opts.min_lan, candidates: cdi.map((i) => i.word), envCount, lanCount });
    return { rule: 'cdi', targets: chosen.map((word) => ({ word, category: cat.get(word) })) };
  }
  const named = opts.targets === 'paper' ? [...PAPER_TARGETS] : readWordList(opts.targets);
  let cat = new Map<string, string>();
  try {
    cat = new Map(cdiNouns(readCdi(opts.cdi), opts.cdi_categories, false).map((i) => [i.word, i.category]));
  } catch {
    // categories are optional for named and user lists
  }
  return { rule: opts.targets === 'paper' ? 'paper' : `file:${opts.targets}`, targets: named.map((word) => ({ word, category: cat.get(word) })) };
}

export interface CooccurrenceCounts {
  turns: number;
  envTurns: Map<string, number>;
  lanTurns: Map<string, number>;
  bothTurns: Map<string, number>;
}

/** Turn-level counts for the given words: turns containing word<ENV> (any ENV line), word<LAN>, both. */
export function countCooccurrence(turns: Iterable<Turn>, words: readonly string[]): CooccurrenceCounts {
  const wanted = new Set(words);
  const envTurns = new Map<string, number>(words.map((w) => [w, 0]));
  const lanTurns = new Map(envTurns);
  const bothTurns = new Map(envTurns);
  let n = 0;
  const inc = (m: Map<string, number>, w: string): void => void m.set(w, m.get(w)! + 1);
  for (const turn of turns) {
    n++;
    const env = new Set<string>();
    for (const l of turn.env) for (const w of l.words) if (wanted.has(w)) env.add(w);
    const lan = new Set<string>();
    for (const w of turn.lan) if (wanted.has(w)) lan.add(w);
    for (const w of env) inc(envTurns, w);
    for (const w of lan) {
      inc(lanTurns, w);
      if (env.has(w)) inc(bothTurns, w);
    }
  }
  return { turns: n, envTurns, lanTurns, bothTurns };
}

/** PMI (nats) of "word<ENV> in turn" and "word<LAN> in turn", with a pseudo-count on each count. */
export function pmi(both: number, env: number, lan: number, turns: number, pseudo: number): number | null {
  const num = (both + pseudo) * turns;
  const den = (env + pseudo) * (lan + pseudo);
  if (num <= 0 || den <= 0) return null;
  return Math.log(num / den);
}

export type TargetStats = Omit<TargetWord, 'env_id' | 'lan_id'> & {
  env_turns: number;
  lan_turns: number;
  /** PMI without pseudo-counts; null when the forms never co-occur (or one never occurs). */
  pmi_raw: number | null;
};

export function targetStats(
  word: string,
  co: CooccurrenceCounts,
  envCount: number,
  lanCount: number,
  pseudo: number,
  category: string | undefined,
): TargetStats {
  const env = co.envTurns.get(word) ?? 0;
  const lan = co.lanTurns.get(word) ?? 0;
  const both = co.bothTurns.get(word) ?? 0;
  const stats: TargetStats = {
    word,
    env_count: envCount,
    lan_count: lanCount,
    turns_both: both,
    p_lan_given_env: env > 0 ? both / env : 0,
    pmi: pmi(both, env, lan, co.turns, pseudo) ?? 0,
    env_turns: env,
    lan_turns: lan,
    pmi_raw: pmi(both, env, lan, co.turns, 0),
  };
  if (category) stats.category = category;
  return stats;
}

/**
 * targets.json rows: the contract fields (word, env_id, lan_id, counts, turns_both, P, PMI,
 * category), then env_turns, lan_turns and pmi_raw, in that order.
 */
export function targetRows(
  targets: readonly ItemTarget[],
  co: CooccurrenceCounts,
  counts: { env(w: string): number; lan(w: string): number },
  id: (token: string) => number,
  pseudo: number,
): TargetWord[] {
  return targets.map((t) => {
    const env_id = id(envToken(t.word));
    const lan_id = id(lanToken(t.word));
    const { word, env_count, lan_count, turns_both, p_lan_given_env, pmi, category, env_turns, lan_turns, pmi_raw } = targetStats(t.word, co, counts.env(t.word), counts.lan(t.word), pseudo, t.category);
    return { word, env_id, lan_id, env_count, lan_count, turns_both, p_lan_given_env, pmi, ...(category ? { category } : {}), env_turns, lan_turns, pmi_raw } as TargetWord;
  });
}
