/**
 * Words of VisDial and COCO text (captions, questions, answers). These are plain English prose,
 * not CHAT, so the rules are few and fixed:
 *   - lowercase (Unicode), accents kept;
 *   - anything that is not a letter, a digit, an apostrophe or a hyphen separates words
 *     ("dog." → dog, "3:30" → 3, 30), so punctuation never sticks to a word;
 *   - apostrophes and hyphens are kept inside a word (don't, t-shirt) and stripped at its ends
 *     ('dogs' → dogs, "- " → nothing);
 *   - multi-word compounds from a phrase list are joined with "_" (teddy bear → teddy_bear), longest
 *     match first, so they match the CDI forms (`high chair` → high_chair) and the CHILDES rule that
 *     writes compounds as one word. The default list is the CDI's multi-word noun forms.
 */

/** A phrase list compiled for matching: first word → phrases (as word arrays), longest first. */
export class CompoundJoiner {
  private readonly byFirst = new Map<string, string[][]>();
  readonly size: number;

  /** `phrases` in either form: "teddy bear" or "teddy_bear". Single words are ignored. */
  constructor(phrases: Iterable<string>) {
    let n = 0;
    for (const p of phrases) {
      const words = p.toLowerCase().split(/[\s_]+/).filter(Boolean);
      if (words.length < 2) continue;
      const list = this.byFirst.get(words[0]!) ?? [];
      if (list.some((w) => w.join(' ') === words.join(' '))) continue;
      list.push(words);
      this.byFirst.set(words[0]!, list);
      n++;
    }
    for (const list of this.byFirst.values()) list.sort((a, b) => b.length - a.length || (a.join(' ') < b.join(' ') ? -1 : 1));
    this.size = n;
  }

  join(words: string[]): string[] {
    if (this.size === 0) return words;
    const out: string[] = [];
    for (let i = 0; i < words.length; ) {
      const cands = this.byFirst.get(words[i]!);
      const hit = cands?.find((p) => p.every((w, k) => words[i + k] === w));
      if (hit) {
        out.push(hit.join('_'));
        i += hit.length;
      } else out.push(words[i++]!);
    }
    return out;
  }
}

const SEPARATOR = /[^\p{L}\p{N}'’-]+/u;
const EDGE = /^['’-]+|['’-]+$/g;

/** The words of a caption, question or answer (see the module comment). */
export function textWords(text: string, joiner?: CompoundJoiner): string[] {
  const words: string[] = [];
  for (const raw of text.toLowerCase().split(SEPARATOR)) {
    const w = raw.replace(/’/g, "'").replace(EDGE, '');
    if (w) words.push(w);
  }
  return joiner ? joiner.join(words) : words;
}
