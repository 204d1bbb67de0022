/**
 * `buildCaptionCorpus`: the caption-grounded visual-dialog corpus (SPEC §7): VisDial dialogs (and
 * COCO images) → a corpus directory with the contract of data/contract.ts (vocab.json,
 * train/val/test.bin, targets.json, items.jsonl) plus stats.json, diagnostics.jsonl, manifest.json.
 * Same inputs and options give byte-identical files.
 *
 * Sequences: see sequences.ts. Targets: the CHILDES builder's rules over the training counts of
 * caption words (ENV) and dialog words (LAN). Co-occurrence statistics: over training sequences
 * (ENV = caption, LAN = the language of the same sequence).
 *
 * Items, from the items split (default test): a sequence whose caption names v and whose language
 * says v; the context is `<doc> <CAP> caption<ENV> <Q> ... <A> ...` up to the first v<LAN>. Up to N
 * per word (seeded). Mismatches: M other target words u (seeded, data/items.ts drawMismatches among
 * the words that can be mismatched); for each u the environment comes from another sequence of the
 * same split (--mismatch_pool) whose caption names u and not v (seeded pick), followed by the same language: `mismatches[j].context`
 * holds that whole context (SPEC §7 "another dialog's caption"). With --mismatch_env swap the
 * mismatched context is the matched one with every v<ENV> replaced by u<ENV> (SPEC §3).
 */
import { UserError } from '../../util/errors.js';
import { deriveSeed, Rng } from '../../util/rng.js';
import { envToken, lanToken, speakerToken, type EvalItem, type TargetsFile } from '../contract.js';
import { drawMismatches, type ItemTarget } from '../items.js';
import { chooseTargets, ContextBuilder, countTraining, encodeSplits, jsonText, summariseVisual, targetRows, toJsonl, trainUnits, vocabulary, writeVisualCorpus, type VisualCorpusStats } from './common.js';
import { ROLES, CaptionCorpusOptionsSchema, type CaptionCorpusOptions, type CaptionCorpusOptionsInput } from './options.js';
import { assignSplits, captionSequences, type VisualSeq } from './sequences.js';
import { readVisualSources } from './sources.js';

export interface VisualBuildResult {
  dir: string;
  stats: VisualCorpusStats;
  targets: TargetsFile;
  items: number;
  diagnostics: number;
}

export function parseOptions<T>(schema: { safeParse(x: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, input: unknown, what: string): T {
  const r = schema.safeParse(input);
  if (!r.success) throw new UserError(`invalid ${what} options: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

/** The input options as recorded: display names (file or archive:entry), not absolute paths. */
export function recordedInputs(src: { inputs: { file: string; kind: string }[] }): { visdial: string[]; coco: string[] } {
  return { visdial: src.inputs.filter((i) => i.kind === 'visdial').map((i) => i.file), coco: src.inputs.filter((i) => i.kind === 'coco').map((i) => i.file) };
}

/** Where the first v<LAN> of a sequence is: line and word index, or null. */
export function firstMention(s: VisualSeq, word: string): { line: number; word: number } | null {
  for (let l = 0; l < s.lan.length; l++) {
    const w = s.lan[l]!.words.indexOf(word);
    if (w >= 0) return { line: l, word: w };
  }
  return null;
}

/** Up to n candidates drawn with the seed, kept in their original order. */
export function sampleInOrder<T>(all: readonly T[], n: number, seed: number, ...key: (string | number)[]): T[] {
  if (all.length <= n) return [...all];
  const order = new Map(all.map((c, i) => [c, i]));
  return new Rng(deriveSeed(seed, ...key)).sample(all, n).sort((a, b) => order.get(a)! - order.get(b)!);
}

/**
 * A seeded pick among `list` of an element passing `ok` (a few random probes, then a scan from a
 * random start), or null when none passes.
 */
export function pickWhere<T>(list: readonly T[], ok: (x: T) => boolean, rng: Rng): T | null {
  if (!list.length) return null;
  for (let tries = 0; tries < 16; tries++) {
    const x = list[rng.int(list.length)]!;
    if (ok(x)) return x;
  }
  const start = rng.int(list.length);
  for (let i = 0; i < list.length; i++) {
    const x = list[(start + i) % list.length]!;
    if (ok(x)) return x;
  }
  return null;
}

export function captionItems(seqs: readonly VisualSeq[], targets: readonly ItemTarget[], opts: CaptionCorpusOptions, ids: Map<string, number>, warn: (file: string, record: string, message: string) => void): EvalItem[] {
  const envSets = new Map<VisualSeq, Set<string>>(seqs.map((s) => [s, new Set(s.env.flat())]));
  const wanted = new Set(targets.map((t) => t.word));
  // Sequences whose caption names each target word (filtered by split below, unless --mismatch_pool all).
  const withEnv = new Map<string, VisualSeq[]>();
  for (const s of seqs) for (const w of envSets.get(s)!) if (wanted.has(w)) (withEnv.get(w) ?? withEnv.set(w, []).get(w)!).push(s);
  const items: EvalItem[] = [];
  for (const target of targets) {
    const v = target.word;
    const cands = seqs.filter((s) => s.split === opts.items_split && envSets.get(s)!.has(v) && firstMention(s, v));
    sampleInOrder(cands, opts.items_per_word, opts.seed, 'items', v).forEach((s, k) => {
      const id = `${v}/corpus/${k}`;
      const at = firstMention(s, v)!;
      const ctx = new ContextBuilder(ids, v);
      ctx.doc();
      for (const line of s.env) {
        ctx.token(speakerToken(ROLES.caption));
        ctx.env(line);
      }
      const envEnd = ctx.ids.length;
      for (let l = 0; l <= at.line; l++) {
        const line = s.lan[l]!;
        ctx.token(speakerToken(line.role));
        ctx.lan(l < at.line ? line.words : line.words.slice(0, at.word));
      }
      const language = ctx.ids.slice(envEnd);
      // Mismatch words: those with a caption elsewhere that names them and not v.
      const usable = (u: string): VisualSeq[] => (withEnv.get(u) ?? []).filter((o) => o !== s && (opts.mismatch_pool === 'all' || o.split === s.split));
      const free = (o: VisualSeq) => !envSets.get(o)!.has(v);
      const pool = opts.mismatch_env === 'swap' ? targets : targets.filter((t) => t.word !== v && usable(t.word).some(free));
      if (pool.length <= (pool.includes(target) ? 1 : 0)) {
        warn(s.key, s.record, `item ${id}: no other caption to take a mismatched environment from; item skipped`);
        return;
      }
      const drawn = drawMismatches(id, target, pool.includes(target) ? pool : [target, ...pool], opts, opts.seed, { id: (t) => ids.get(t) ?? ids.get('<unk>')! });
      const mismatches: EvalItem['mismatches'] = drawn.map((m) => {
        if (opts.mismatch_env === 'swap') return m;
        const other = pickWhere(usable(m.word), free, new Rng(deriveSeed(opts.seed, 'mismatch-caption', id, m.word)))!;
        const mc = new ContextBuilder(ids, v);
        mc.doc();
        for (const line of other.env) {
          mc.token(speakerToken(ROLES.caption));
          mc.env(line);
        }
        return { ...m, context: [...mc.ids, ...language], from: other.key };
      });
      items.push({
        id,
        word: v,
        source: { kind: 'corpus', file: s.key, line: s.source === 'visdial' ? Number(s.record.match(/\d+/)?.[0] ?? 0) : 0, split: s.split },
        context: ctx.ids,
        target: ids.get(lanToken(v)) ?? ids.get('<unk>')!,
        env_positions: ctx.envPositions,
        swap_positions: ctx.swapPositions,
        mismatches,
      });
    });
  }
  return items;
}

/** Builds the caption-grounded corpus. Throws UserError on bad options or inputs; bad records only yield diagnostics. */
export async function buildCaptionCorpus(input: CaptionCorpusOptionsInput): Promise<VisualBuildResult> {
  const opts = parseOptions<CaptionCorpusOptions>(CaptionCorpusOptionsSchema as never, input, 'caption corpus');
  const log = (s: string) => {
    if (!opts.quiet) process.stderr.write(`groundlab visdial build: ${s}\n`);
  };
  const src = readVisualSources(opts);
  const seqs = assignSplits(captionSequences(src, opts.coco_mode), opts.split_mode, opts.split, opts.seed);
  if (!seqs.length) throw new UserError('no dialog or captioned image could be read (see the diagnostics)');
  log(`${src.dialogs.length} dialogs, ${src.cocoImages.length} COCO images → ${seqs.length} sequences`);

  const counts = countTraining(seqs);
  const env = (w: string) => counts.words.get(envToken(w)) ?? 0;
  const lan = (w: string) => counts.words.get(lanToken(w)) ?? 0;
  const chosen = chooseTargets(opts, env, lan);
  for (const t of chosen.targets) if (!env(t.word) && !lan(t.word)) src.diagnostics.report('targets', t.word, 'target-not-in-vocab', `"${t.word}" occurs in neither form in the training split`);
  const vocab = vocabulary(counts, chosen.targets, opts, true);
  const ids = new Map(vocab.map((t, i) => [t, i]));
  const encoded = encodeSplits(seqs, ids);
  const targets: TargetsFile = { rule: chosen.rule, train_turns: trainUnits(seqs), words: targetRows(chosen.targets, seqs, { env, lan }, ids, opts.pmi_pseudocount) };
  const items = captionItems(seqs, chosen.targets, opts, ids, (file, record, message) => src.diagnostics.report(file, record, 'no-mismatch-source', message));
  const diags = src.diagnostics.items;
  const stats = summariseVisual('caption', src, seqs, encoded, vocab.length, diags, targets, opts.min_env, opts.min_lan, items, counts.words);
  writeVisualCorpus(
    opts.out,
    {
      'vocab.json': jsonText(vocab),
      'train.bin': encoded.train.data,
      'val.bin': encoded.val.data,
      'test.bin': encoded.test.data,
      'targets.json': jsonText(targets),
      'items.jsonl': toJsonl(items),
      'stats.json': jsonText(stats),
      'diagnostics.jsonl': toJsonl(diags),
      'sequences.jsonl': toJsonl(seqs.map((s) => ({ key: s.key, source: s.source, image: s.image, split: s.split }))),
    },
    {
      kind: 'groundlab-visual-corpus',
      setting: 'caption',
      // Inputs by display name, so the manifest does not depend on where the data lives.
      options: { ...opts, ...recordedInputs(src), out: undefined, quiet: undefined },
      target_rule: chosen.rule,
      inputs: src.inputs,
    },
  );
  log(`${vocab.length} tokens in the vocabulary, ${targets.words.length} targets, ${items.length} items → ${opts.out}`);
  return { dir: opts.out, stats, targets, items: items.length, diagnostics: diags.length };
}
