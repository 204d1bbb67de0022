/**
 * Main-tier cleaning (SPEC §2): CHAT utterance text → the list of spoken words.
 *
 * The text is read into a small tree: words, <angle-bracket groups>, and [annotations] attached
 * to the word or group just before them (CHAT's scoping rule). Retracing and replacement
 * annotations act on that scope; every other annotation ([= ...], [!], [<], [* ...], postcodes)
 * is dropped. Each remaining word is cleaned on its own (special forms, fragments, fillers,
 * shortenings, compounds, prosodic marks, punctuation). Each rule is a switch in CleaningOptions.
 */
import type { CleaningOptions } from '../options.js';
import type { DiagnosticSink } from './diagnostics.js';
import { UNK } from '../contract.js';

interface WordNode {
  kind: 'word';
  text: string;
  annotations: string[];
}
interface GroupNode {
  kind: 'group';
  children: Node[];
  annotations: string[];
}
type Node = WordNode | GroupNode;

type Token = { kind: 'word'; text: string } | { kind: 'annotation'; text: string } | { kind: 'open' } | { kind: 'close' };

export interface CleanedUtterance {
  /** Cleaned words; unintelligible or masked forms appear as "<unk>". */
  words: string[];
  /** The main tier is only "0" (an action-only turn: `*MOT: 0 .`). */
  actionOnly: boolean;
  /** The utterance could not be read (reported); callers skip it. */
  malformed: boolean;
}

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\u00a0';
const GROUP_OPEN = new Set(['<', '\u2039']); // < and the CA group mark ‹
const GROUP_CLOSE = new Set(['>', '\u203a']); // > and ›

/** Splits main-tier text into words, [annotations] and group marks. Returns null on an unclosed "[". */
function tokenize(text: string): Token[] | null {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (isSpace(c)) {
      i++;
    } else if (c === '[') {
      const end = text.indexOf(']', i);
      if (end < 0) return null;
      tokens.push({ kind: 'annotation', text: text.slice(i + 1, end).trim() });
      i = end + 1;
    } else if (GROUP_OPEN.has(c)) {
      tokens.push({ kind: 'open' });
      i++;
    } else if (GROUP_CLOSE.has(c)) {
      tokens.push({ kind: 'close' });
      i++;
    } else {
      // A word runs to the next space, "[" or group close. Terminators and linkers that start
      // with "+" (+..., +/., +<, +") are read whole so their "<" is not taken for a group.
      let j = i + 1;
      const separator = c === '+';
      while (j < text.length && !isSpace(text[j]!) && text[j] !== '[' && (separator || !GROUP_CLOSE.has(text[j]!))) j++;
      tokens.push({ kind: 'word', text: text.slice(i, j) });
      i = j;
    }
  }
  return tokens;
}

/** Builds the word/group tree; unmatched ">" is ignored and groups left open are closed (reported). */
function buildTree(tokens: Token[], line: number, sink: DiagnosticSink): Node[] {
  const root: GroupNode = { kind: 'group', children: [], annotations: [] };
  const stack: GroupNode[] = [root];
  let unbalanced = false;
  for (const t of tokens) {
    const top = stack[stack.length - 1]!;
    if (t.kind === 'word') top.children.push({ kind: 'word', text: t.text, annotations: [] });
    else if (t.kind === 'open') {
      const g: GroupNode = { kind: 'group', children: [], annotations: [] };
      top.children.push(g);
      stack.push(g);
    } else if (t.kind === 'close') {
      if (stack.length > 1) stack.pop();
      else unbalanced = true;
    } else {
      // An annotation scopes over the word or group just before it; with nothing before it
      // (e.g. a [- spa] precode), it concerns the whole utterance and changes no word.
      const prev = top.children[top.children.length - 1];
      if (prev) prev.annotations.push(t.text);
    }
  }
  if (unbalanced || stack.length > 1) sink.report(line, 'unbalanced-group', 'unbalanced "<" / ">" on the main tier; repaired');
  return root.children;
}

function isRepetition(a: string): boolean {
  return a === '/';
}
function isRetracing(a: string): boolean {
  return a === '//' || a === '///' || a === '/-' || a === '/?';
}
/** `[: target]` and `[:: target]` give the intended word(s). */
function replacementOf(a: string): string | null {
  const m = /^::?\s+(.+)$/s.exec(a) ?? /^::?(\S.*)$/s.exec(a);
  return m ? m[1]!.trim() : null;
}

const PAUSE = /^\(\.+\)$|^\([\d.:]+\)$/;
const UNINTELLIGIBLE = new Set(['xxx', 'yyy', 'www', 'xx', 'yy']);
/** Characters a cleaned word may keep: letters (any script), combining marks, digits, apostrophe, hyphen, underscore. */
const NOT_WORD_CHAR = /[^\p{L}\p{M}\p{N}'_-]/gu;

/** Cleans one main-tier word into zero, one or several words (compounds may split), or <unk>. */
export function cleanMainWord(raw: string, opts: CleaningOptions): string[] {
  let w = raw;
  if (w.startsWith('+') || PAUSE.test(w)) return []; // terminators, linkers, pauses
  if (w.startsWith('&')) {
    const kind = w[1];
    if (kind === '=') return opts.drop_events ? [] : finish(w.slice(2).split(':').pop()!, opts); // &=imit:dog → dog
    if (kind === '-') return opts.keep_fillers ? finish(w.slice(2), opts) : [];
    if (kind === '~') return opts.drop_nonwords ? [] : finish(w.slice(2), opts);
    if (kind === '*' || kind === '{' || kind === '}') return []; // other speaker's interposed word; long-feature marks
    if (kind === '+') return opts.drop_fragments ? [] : finish(w.slice(2), opts);
    return opts.drop_fragments ? [] : finish(w.slice(1), opts); // old-style &frag
  }
  if (w === '0') return [];
  if (w.startsWith('0') && /\p{L}/u.test(w[1] ?? '')) return opts.drop_omitted ? [] : finish(w.slice(1), opts);
  const at = w.indexOf('@');
  if (at > 0) {
    const form = w.slice(at + 1).split(/[:$]/)[0]!.toLowerCase();
    if (opts.unk_forms.includes(form)) return [UNK];
    w = w.slice(0, at);
  }
  const bare = w.replace(NOT_WORD_CHAR, '').toLowerCase();
  if (UNINTELLIGIBLE.has(bare)) return opts.unintelligible === 'unk' ? [UNK] : [];
  // Shortenings: (be)cause → because, or cause when not restored.
  w = opts.restore_shortenings ? w.replace(/[()]/g, '') : w.replace(/\([^)]*\)/g, '');
  return finish(w, opts);
}

/** Compounds, marks and punctuation, case: the steps shared by every kept word. */
function finish(w: string, opts: CleaningOptions): string[] {
  const parts = opts.join_compounds ? [w.replace(/\+/g, '_')] : w.split(/[+_]/);
  const out: string[] = [];
  for (const p of parts) {
    let c = p.replace(NOT_WORD_CHAR, '');
    c = c.replace(/^['_-]+|['_-]+$/g, ''); // quotes and dangling joiners at the edges
    if (!c) continue;
    out.push(opts.lowercase ? c.toLowerCase() : c);
  }
  return out;
}

function collectWords(nodes: Node[], opts: CleaningOptions, out: string[]): void {
  for (const node of nodes) {
    const anns = node.annotations;
    if (opts.drop_repetitions && anns.some(isRepetition)) continue;
    if (opts.drop_retracings && anns.some(isRetracing)) continue;
    const replacement = opts.use_replacements ? anns.map(replacementOf).find((r) => r !== null) : undefined;
    if (replacement) {
      for (const part of replacement.split(/\s+/)) out.push(...cleanMainWord(part, opts));
    } else if (node.kind === 'group') {
      collectWords(node.children, opts, out);
    } else {
      out.push(...cleanMainWord(node.text, opts));
    }
  }
}

/**
 * Marks that are not words and could be misread as ones: CA overlap brackets with their index
 * (⌈2 two ⌉2), self-repeated segments (↫s-s-s↫segment), stress marks (ˈ ˌ) and CA voice marks
 * written with Greek letters (Ϋ yawn, Ἡ laugh).
 */
function stripMarks(text: string): string {
  return text
    .replace(/[⌈⌉⌊⌋]\d*/g, ' ')
    .replace(/↫[^↫]*↫/g, '')
    .replace(/[ˈˌΫἩ]/g, '');
}

/** Cleans a main tier (bullets already removed). Never throws; problems are reported to `sink`. */
export function cleanUtterance(text: string, line: number, opts: CleaningOptions, sink: DiagnosticSink): CleanedUtterance {
  if (text.trim() === '') {
    sink.report(line, 'empty-utterance', 'main tier with no content');
    return { words: [], actionOnly: false, malformed: true };
  }
  const tokens = tokenize(stripMarks(text));
  if (!tokens) {
    sink.report(line, 'unclosed-annotation', '"[" without "]" on the main tier; utterance skipped');
    return { words: [], actionOnly: false, malformed: true };
  }
  const tree = buildTree(tokens, line, sink);
  const words: string[] = [];
  collectWords(tree, opts, words);
  const actionOnly = tree.some((n) => n.kind === 'word' && n.text === '0') && words.length === 0;
  return { words, actionOnly, malformed: false };
}
