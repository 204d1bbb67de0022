/**
 * Evaluation items (SPEC §3): matched contexts `<SPK> e1<ENV> … v<ENV> … <SPK> l1<LAN> … lk<LAN>`
 * ending right before v<LAN>, and for each the M mismatch words whose u<ENV> replaces every v<ENV>.
 *
 * Corpus items come from the held-out splits (validation + test by default, item_splits): turns whose utterance holds v<LAN> and whose preceding ENV
 * lines hold v<ENV>; the context is those ENV lines plus the utterance up to the first v<LAN>. Up to
 * N per word are drawn with the seed (then kept in file order). Template items come from a JSON file
 * {word: [{env, lan}]}; the LAN text is cut before the last occurrence of the word. Template text is
 * processed our way (speaker MOT, ENV text as written) or, as an option, the way we read the paper's
 * released code (template_processing paper-code: speaker CHI, a leading "The child" removed).
 */
import { readFileSync, existsSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '../util/errors.js';
import { deriveSeed, Rng } from '../util/rng.js';
import { envToken, lanToken, speakerToken, UNK, type EvalItem, type SplitName } from './contract.js';
import type { DiagnosticSink } from './chat/diagnostics.js';
import { envWords } from './chat/env-tier.js';
import type { EnvOptions, ItemOptions } from './options.js';
import type { Transcript, Turn } from './transcript.js';

export interface ItemTarget {
  word: string;
  category?: string;
}

export interface Encoder {
  id(token: string): number;
}

/** Token → id by a vocabulary's ids, out-of-vocabulary tokens as <unk>. */
export function vocabEncoder(ids: Map<string, number>): Encoder {
  return { id: (token) => ids.get(token) ?? ids.get(UNK)! };
}

/**
 * A context under construction for an item of `word`: token ids plus where the ENV tokens and
 * word<ENV> sit (CHAT and caption-grounded items; image-grounded items have no ENV tokens).
 */
export class ContextBuilder {
  readonly ids: number[] = [];
  readonly envPositions: number[] = [];
  readonly swapPositions: number[] = [];
  constructor(
    private readonly enc: Encoder,
    private readonly word: string,
  ) {}

  token(token: string): void {
    this.ids.push(this.enc.id(token));
  }
  speaker(code: string): void {
    this.token(speakerToken(code));
  }
  env(words: readonly string[]): void {
    for (const w of words) {
      if (w === this.word) this.swapPositions.push(this.ids.length);
      this.envPositions.push(this.ids.length);
      this.ids.push(this.enc.id(envToken(w)));
    }
  }
  lan(words: readonly string[]): void {
    for (const w of words) this.ids.push(this.enc.id(w === UNK ? UNK : lanToken(w)));
  }

  /** The item whose context this is (fields in the order items.jsonl has them). */
  item(id: string, source: EvalItem['source'], mismatches: EvalItem['mismatches']): EvalItem {
    return {
      id,
      word: this.word,
      source,
      context: this.ids,
      target: this.enc.id(lanToken(this.word)),
      env_positions: this.envPositions,
      swap_positions: this.swapPositions,
      mismatches,
    };
  }
}

/** Up to n of `all` drawn with the seed and the key, kept in their original order. */
export function sampleInOrder<T>(all: readonly T[], n: number, seed: number, ...key: (string | number)[]): T[] {
  if (all.length <= n) return [...all];
  const order = new Map(all.map((c, i) => [c, i]));
  return new Rng(deriveSeed(seed, ...key)).sample(all, n).sort((a, b) => order.get(a)! - order.get(b)!);
}

/** Draws the mismatch words of one item (seeded by the item id, so each item's draw is stable). */
export function drawMismatches(
  item: string,
  target: ItemTarget,
  targets: readonly ItemTarget[],
  opts: Pick<ItemOptions, 'mismatches' | 'mismatch_mode'>,
  seed: number,
  enc: Encoder,
): EvalItem['mismatches'] {
  let pool = targets.filter((t) => t.word !== target.word);
  if (opts.mismatch_mode === 'same-category' && target.category) {
    const same = pool.filter((t) => t.category === target.category);
    if (same.length > 0) pool = same;
  }
  const k = opts.mismatch_mode === 'all' ? pool.length : Math.min(opts.mismatches, pool.length);
  const drawn = opts.mismatch_mode === 'all' ? pool : new Rng(deriveSeed(seed, 'mismatch', item)).sample(pool, k);
  return drawn.map((t) => ({ word: t.word, env_id: enc.id(envToken(t.word)) }));
}

interface Candidate {
  split: SplitName;
  file: string;
  turn: Turn;
  cut: number;
}

/**
 * Corpus-derived items from the held-out transcripts (SPEC §3 a): one split, or several
 * ({split, transcripts} parts, e.g. validation + test), whose candidates are pooled before the draw.
 */
export function corpusItems(
  transcripts: readonly Transcript[] | readonly { split: SplitName; transcripts: readonly Transcript[] }[],
  split: SplitName | null,
  targets: readonly ItemTarget[],
  opts: Pick<ItemOptions, 'items_per_word' | 'mismatches' | 'mismatch_mode'>,
  seed: number,
  enc: Encoder,
): EvalItem[] {
  const wanted = new Set(targets.map((t) => t.word));
  const candidates = new Map<string, Candidate[]>();
  const parts = split !== null ? [{ split, transcripts: transcripts as readonly Transcript[] }] : (transcripts as readonly { split: SplitName; transcripts: readonly Transcript[] }[]);
  for (const { split: sp, transcripts: ts } of parts) for (const t of ts) {
    for (const turn of t.turns) {
      const before = new Set<string>();
      for (const l of turn.env) if (l.position === 'before') for (const w of l.words) if (wanted.has(w)) before.add(w);
      for (const word of before) {
        const cut = turn.lan.indexOf(word);
        if (cut < 0) continue;
        if (!candidates.has(word)) candidates.set(word, []);
        candidates.get(word)!.push({ file: t.file, turn, cut, split: sp });
      }
    }
  }
  const items: EvalItem[] = [];
  for (const target of targets) {
    sampleInOrder(candidates.get(target.word) ?? [], opts.items_per_word, seed, 'items', target.word).forEach((c, k) => {
      const ctx = new ContextBuilder(enc, target.word);
      for (const l of c.turn.env) {
        if (l.position !== 'before') continue;
        ctx.speaker(c.turn.speaker);
        ctx.env(l.words);
      }
      ctx.speaker(c.turn.speaker);
      ctx.lan(c.turn.lan.slice(0, c.cut));
      const id = `${target.word}/corpus/${k}`;
      items.push(ctx.item(id, { kind: 'corpus', file: c.file, line: c.turn.line, split: c.split }, drawMismatches(id, target, targets, opts, seed, enc)));
    });
  }
  return items;
}

export const TemplatesSchema = z.record(z.string(), z.array(z.object({ env: z.string(), lan: z.string() })));
export type Templates = z.infer<typeof TemplatesSchema>;

export function readTemplates(path: string): Templates {
  if (!existsSync(path)) throw new UserError(`templates file not found: ${path}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UserError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  const res = TemplatesSchema.safeParse(parsed);
  if (!res.success) throw new UserError(`${path}: expected {"word": [{"env": "...", "lan": "..."}]}: ${res.error.issues[0]?.message}`);
  return res.data;
}

/** Template items (SPEC §3 b), for the template words that are target words; `sink` names the templates file. */
export function templateItems(
  templates: Templates,
  targets: readonly ItemTarget[],
  opts: Pick<ItemOptions, 'mismatches' | 'mismatch_mode' | 'template_speaker'> & Partial<Pick<ItemOptions, 'template_processing'>>,
  env: Pick<EnvOptions, 'compounds' | 'drop_codes'>,
  lowercase: boolean,
  seed: number,
  enc: Encoder,
  sink: DiagnosticSink,
): EvalItem[] {
  const byWord = new Map(targets.map((t) => [t.word, t]));
  const items: EvalItem[] = [];
  for (const word of Object.keys(templates)) {
    if (!byWord.has(word.toLowerCase())) sink.report(0, 'template-unknown-word', `"${word}" is not a target word here; its templates are skipped`);
  }
  for (const target of targets) {
    const list = templates[target.word] ?? [];
    list.forEach((tpl, k) => {
      const line = k + 1; // a template's "line" is its 1-based index in the word's list
      // Template text is plain prose: the ENV reader (lowercase, punctuation out) serves both parts.
      const paperCode = opts.template_processing === 'paper-code';
      const envPart = envWords(paperCode ? stripLeadingChild(tpl.env) : tpl.env, env, lowercase);
      const lanPart = envWords(tpl.lan, { ...env, drop_codes: false }, lowercase);
      const cut = lanPart.lastIndexOf(target.word);
      if (cut < 0 || !envPart.includes(target.word)) {
        sink.report(line, 'template-missing-word', `template ${k} of "${target.word}" lacks the word in its ${cut < 0 ? 'lan' : 'env'} text`);
        return;
      }
      const ctx = new ContextBuilder(enc, target.word);
      const speaker = paperCode ? 'CHI' : opts.template_speaker;
      ctx.speaker(speaker);
      ctx.env(envPart);
      ctx.speaker(speaker);
      ctx.lan(lanPart.slice(0, cut));
      const id = `${target.word}/template/${k}`;
      items.push(ctx.item(id, { kind: 'template', file: sink.file, line }, drawMismatches(id, target, targets, opts, seed, enc)));
    });
  }
  return items;
}

/** "The child rolls the ball" → "rolls the ball" (template_processing paper-code); other subjects stay. */
export function stripLeadingChild(text: string): string {
  return text.replace(/^\s*the\s+child\s+/i, '');
}
