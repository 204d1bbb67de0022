/**
 * The one rule for empty sets, shared by every builder (CHILDES, visual dialog) and every command
 * reading a corpus: a corpus without target words or without evaluation items is an error, never
 * an exit 0 that makes the next command fail. The message says which threshold no word reached.
 */
import { UserError } from '../util/errors.js';

export interface ThresholdRule {
  rule: string;
  minEnv: number;
  minLan: number;
  candidates: readonly string[];
  envCount: (w: string) => number;
  lanCount: (w: string) => number;
}

/** Throws when a threshold rule chose no word, naming the thresholds and the closest candidates. */
export function requireNonEmptyTargets(chosen: readonly unknown[], r: ThresholdRule): void {
  if (chosen.length) return;
  const best = (count: (w: string) => number) => {
    let top = '';
    for (const w of r.candidates) if (!top || count(w) > count(top)) top = w;
    return top ? `"${top}" ${count(top)}` : 'none';
  };
  const bothBest = [...r.candidates].sort((a, b) => Math.min(r.envCount(b), r.lanCount(b)) - Math.min(r.envCount(a), r.lanCount(a)))[0];
  const closest = bothBest ? `; closest: "${bothBest}" with ENV ${r.envCount(bothBest)}, LAN ${r.lanCount(bothBest)}` : '';
  throw new UserError(
    `the ${r.rule} rule chose 0 target words: none of its ${r.candidates.length} candidates reached --min_env ${r.minEnv} and --min_lan ${r.minLan} in the training split ` +
      `(highest ENV count ${best(r.envCount)}, highest LAN count ${best(r.lanCount)}${closest}); lower --min_env/--min_lan, give more data, or pass --targets FILE`,
  );
}

/** Throws when a corpus (or an item selection) has no evaluation items, saying why and what to do. */
export function requireNonEmptyItems(items: readonly unknown[], where: string, why: string): void {
  if (items.length) return;
  throw new UserError(`${where}: 0 evaluation items (${why})`);
}
