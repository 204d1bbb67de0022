/**
 * Free-text dependent tiers (%act, %sit, %gpx, %com, %exp) → ENV words (SPEC §2).
 *
 * A tier line may carry scope prefixes that time its events relative to the utterance: `<bef>`
 * (before), `<aft>` (after), `<dur>` (during), word spans `<1w>`, `<1w-2w>`, `<2-4>`, and
 * `<$=1>` (the first code). They may appear anywhere in the line ("CHI grabs ball . <aft> CHI
 * picks up ball"), so a line is cut into segments, each with the scope that opens it. Only `<aft>`
 * segments follow the utterance; the rest precede it.
 *
 * Words: lowercase, punctuation removed, `$CODES` dropped, "+" compounds joined (`jack+in+the+box`
 * → `jack_in_the_box`, the form the main-tier compound rule gives) or split, apostrophes and
 * hyphens kept inside words (`mother's`, like main-tier contractions). Speaker codes written in the
 * text (MOT, CHI) stay ordinary words (`mot<ENV>`). No lemmatisation: "balls" ≠ "ball".
 */
import type { EnvOptions } from '../options.js';

export type EnvPosition = 'before' | 'after';

export interface EnvSegment {
  /** The scope prefix without brackets ("bef", "1w-2w", "$=1"), or null when unscoped. */
  scope: string | null;
  position: EnvPosition;
  text: string;
}

/**
 * A scope prefix: bef/aft/dur, or a span made of digits, "w"/"u" units, "$=", dots and dashes
 * (`<1w-2w>`, `<$=1>`, `<2-4>`, and the sloppy `< .1-1>` or `<$= 1>` found in NewEngland).
 */
const SCOPE = /<\s*(bef|aft|dur|[$=\/\\\s.\dwu-]*\d[$=\/\\\s.\dwu-]*)\s*>/gi;

export function positionOf(scope: string | null, aftAfter: boolean): EnvPosition {
  return aftAfter && scope !== null && scope.toLowerCase() === 'aft' ? 'after' : 'before';
}

/** Cuts a tier line at its scope prefixes. Text before the first prefix is an unscoped segment. */
export function splitScopes(text: string, aftAfter = true): EnvSegment[] {
  const out: EnvSegment[] = [];
  let scope: string | null = null;
  let last = 0;
  const push = (end: number): void => {
    const t = text.slice(last, end).trim();
    if (t) out.push({ scope, position: positionOf(scope, aftAfter), text: t });
  };
  for (const m of text.matchAll(SCOPE)) {
    push(m.index);
    scope = m[1]!.replace(/\s+/g, '');
    last = m.index + m[0].length;
  }
  push(text.length);
  return out;
}

const CODE = /\$\S*/g;
/** Everything that is not part of a word becomes a space (so "cup,ball" gives two words). */
const SEPARATOR = /[^\p{L}\p{M}\p{N}'+_-]+/gu;

/** The ENV words of one segment of text. */
export function envWords(text: string, opts: Pick<EnvOptions, 'compounds' | 'drop_codes'>, lowercase = true): string[] {
  let t = opts.drop_codes ? text.replace(CODE, ' ') : text;
  t = t.replace(SEPARATOR, ' ');
  const out: string[] = [];
  for (const raw of t.split(' ')) {
    const parts = opts.compounds === 'join' ? [raw.replace(/\+/g, '_')] : raw.split(/[+_]/);
    for (const p of parts) {
      const w = p.replace(/^['_+-]+|['_+-]+$/g, '');
      if (w) out.push(lowercase ? w.toLowerCase() : w);
    }
  }
  return out;
}
