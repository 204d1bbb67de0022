/**
 * Text renderings of a corpus directory for people: the stats table (`groundlab corpus stats`)
 * and a word's counts and items (`groundlab corpus inspect`). Pure functions returning strings.
 */
import { readJson } from '../util/files.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import type { CorpusStats } from './build.js';
import type { EvalItem, TargetsFile, TargetWord } from './contract.js';

const fmt = (n: number): string => n.toLocaleString('en-US');
const fix = (n: number | null | undefined, d = 3): string => (n === null || n === undefined || !Number.isFinite(n) ? 'n/a' : n.toFixed(d));

/** A plain table: first column left-aligned, the others right-aligned. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))];
  const widths = header.map((_, j) => Math.max(...cells.map((r) => String(r[j] ?? '').length)));
  const line = (r: (string | number)[]): string =>
    r.map((c, j) => (j === 0 ? String(c).padEnd(widths[j]!) : String(c).padStart(widths[j]!))).join('  ').trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function readStats(dir: string): CorpusStats {
  const p = join(dir, 'stats.json');
  if (!existsSync(p)) throw new UserError(`${dir}: stats.json is missing (is this a corpus built by "groundlab corpus build" or "synth"?)`);
  return readJson<CorpusStats>(p);
}

export function renderStats(dir: string, stats: CorpusStats, targets: TargetsFile | null, topTargets = 20): string {
  const tiers = Object.keys(stats.env_lines);
  const out: string[] = [];
  out.push(`corpus ${dir}`);
  out.push(
    `${fmt(stats.transcripts)} transcripts · ${fmt(stats.utterances)} utterances (${fmt(stats.action_only)} action-only, ${fmt(stats.utterances_skipped)} skipped) · vocabulary ${fmt(stats.vocab_size)}`,
  );
  out.push(`ENV lines: ${tiers.map((t) => `%${t} ${fmt(stats.env_lines[t]!)}`).join(' · ')} · segments before ${fmt(stats.env_segments.before)}, after ${fmt(stats.env_segments.after)}`);
  out.push(`tokens: ENV ${fmt(stats.env_tokens)} · LAN ${fmt(stats.lan_tokens)} · <unk> ${fmt(stats.unk_tokens)}`);
  out.push('');
  out.push(
    table(
      ['split', 'transcripts', 'turns', 'tokens', 'ENV', 'LAN', '<unk>'],
      Object.entries(stats.splits).map(([s, x]) => [s, x.transcripts, x.turns, x.tokens, x.env_tokens, x.lan_tokens, x.unk_tokens]),
    ),
  );
  out.push('');
  out.push(
    table(
      ['source corpus', 'files', 'utterances', 'action-only', ...tiers.map((t) => `%${t}`), 'ENV tok', 'LAN tok', 'diagnostics'],
      Object.entries(stats.per_corpus).map(([c, x]) => [c, x.transcripts, x.utterances, x.action_only, ...tiers.map((t) => x.env_lines[t] ?? 0), x.env_tokens, x.lan_tokens, x.diagnostics]),
    ),
  );
  out.push('');
  const codes = Object.entries(stats.diagnostics.by_code);
  out.push(`diagnostics: ${fmt(stats.diagnostics.total)}${codes.length ? ' (' + codes.map(([c, n]) => `${c} ${fmt(n)}`).join(', ') + ')' : ''}`);
  const p = stats.paper_targets;
  if (stats.targets.rule !== 'synthetic') out.push(`paper's 100 words with ≥${p.min_env} ENV and ≥${p.min_lan} LAN tokens in training: ${p.reaching_min_env_and_lan}`);
  out.push(
    `items: ${fmt(stats.items.corpus)} corpus-derived (${stats.items.words_with_corpus_items} words) · ${fmt(stats.items.template)} from templates (${stats.items.words_with_template_items} words)`,
  );
  if (targets) {
    out.push('');
    out.push(`targets: rule ${targets.rule}, ${targets.words.length} words, ${fmt(targets.train_turns)} training turns${targets.words.length > topTargets ? ` (first ${topTargets} shown)` : ''}`);
    out.push(targetTable(targets.words.slice(0, topTargets)));
  }
  return out.join('\n');
}

export function targetTable(words: TargetWord[]): string {
  return table(
    ['word', 'category', 'ENV', 'LAN', 'turns both', 'P(LAN|ENV)', 'PMI'],
    words.map((w) => [w.word, w.category ?? '', w.env_count, w.lan_count, w.turns_both, fix(w.p_lan_given_env), fix(w.pmi, 2)]),
  );
}

/** One item as readable text: ENV runs in [..], the swapped word in *..*, the target after →. */
export function renderItem(item: EvalItem, vocab: string[]): string {
  const swap = new Set(item.swap_positions);
  const parts: string[] = [];
  let run: { kind: 'ENV' | 'LAN'; words: string[] } | null = null;
  const flush = (): void => {
    if (run) parts.push(run.kind === 'ENV' ? `[${run.words.join(' ')}]` : run.words.join(' '));
    run = null;
  };
  item.context.forEach((id, pos) => {
    const tok = vocab[id] ?? `#${id}`;
    const m = /^(.*)<(ENV|LAN)>$/.exec(tok);
    if (!m) {
      flush();
      parts.push(tok);
      return;
    }
    const kind = m[2] as 'ENV' | 'LAN';
    const word = swap.has(pos) ? `*${m[1]}*` : m[1]!;
    if (run && run.kind === kind) run.words.push(word);
    else {
      flush();
      run = { kind, words: [word] };
    }
  });
  flush();
  const target = (vocab[item.target] ?? '').replace(/<LAN>$/, '');
  const where = item.source.kind === 'corpus' ? `${item.source.file}:${item.source.line} (${item.source.split ?? 'test'} split)` : `${item.source.file}, template ${item.source.line}`;
  // Visual dialog: an image prefix before the context; mismatches from another caption or image.
  const image = item.prefix !== undefined ? `{image ${item.prefix}} ` : '';
  const from = (m: EvalItem['mismatches'][number]) => (m.prefix !== undefined ? ` (image ${m.prefix})` : m.from ? ` (caption of ${m.from})` : '');
  return [`${item.id}  ${where}`, `  ${image}${parts.join(' ')} → ${target}`, `  mismatches: ${item.mismatches.map((m) => m.word + from(m)).join(', ')}`].join('\n');
}

export function renderWord(word: string, targets: TargetsFile, items: EvalItem[], vocab: string[], n: number): string {
  const t = targets.words.find((w) => w.word === word);
  if (!t) {
    const close = targets.words.map((w) => w.word).filter((w) => w.startsWith(word.slice(0, 2)));
    throw new UserError(`"${word}" is not a target word of this corpus${close.length ? ` (did you mean ${close.slice(0, 5).join(', ')}?)` : ''}; see "groundlab corpus stats"`);
  }
  const mine = items.filter((i) => i.word === word);
  const corpus = mine.filter((i) => i.source.kind === 'corpus');
  const template = mine.filter((i) => i.source.kind === 'template');
  const out = [
    `${word}${t.category ? ` (${t.category})` : ''}: ENV ${fmt(t.env_count)} · LAN ${fmt(t.lan_count)} · turns with both ${fmt(t.turns_both)} of ${fmt(targets.train_turns)} · P(LAN|ENV) ${fix(t.p_lan_given_env)} · PMI ${fix(t.pmi, 2)}`,
    `items: ${corpus.length} corpus-derived, ${template.length} from templates`,
  ];
  for (const item of [...corpus.slice(0, n), ...template.slice(0, n)]) out.push('', renderItem(item, vocab));
  return out.join('\n');
}
