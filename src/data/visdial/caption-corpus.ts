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
import { requireNonEmptyItems } from '../nonempty.js';
import { UserError } from '../../util/errors.js';
import { deriveSeed, Rng } from '../../util/rng.js';
import { DOC, envToken, lanToken, type EvalItem, type TargetsFile } from '../contract.js';
import { parseOptions } from '../corpus-common.js';
import { ContextBuilder, drawMismatches, sampleInOrder, vocabEncoder, type Encoder, type ItemTarget } from '../items.js';
import { targetsByRule } from '../targets.js';
import { corpusVocab } from '../vocab.js';
import { builderLog, countTraining, encodeSplits, firstMention, itemSource, languageUntil, pickWhere, recordedOptions, summariseVisual, trainUnits, unitTargetRows, writeVisualCorpus, type VisualCorpusStats } from './common.js';
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

export function captionItems(seqs: readonly VisualSeq[], targets: readonly ItemTarget[], opts: CaptionCorpusOptions, ids: Map<string, number>, warn: (file: string, record: string, message: string) => void): EvalItem[] {
  const envSets = new Map<VisualSeq, Set<string>>(seqs.map((s) => [s, new Set(s.env.flat())]));
  const wanted = new Set(targets.map((t) => t.word));
  // Sequences whose caption names each target word (filtered by split below, unless --mismatch_pool all).
  const withEnv = new Map<string, VisualSeq[]>();
  for (const s of seqs) for (const w of envSets.get(s)!) if (wanted.has(w)) (withEnv.get(w) ?? withEnv.set(w, []).get(w)!).push(s);
  const enc = vocabEncoder(ids);
  const items: EvalItem[] = [];
  for (const target of targets) {
    const v = target.word;
    const cands = seqs.filter((s) => s.split === opts.items_split && envSets.get(s)!.has(v) && firstMention(s, v));
    sampleInOrder(cands, opts.items_per_word, opts.seed, 'items', v).forEach((s, k) => {
      const id = `${v}/corpus/${k}`;
      const at = firstMention(s, v)!;
      const ctx = captionContext(enc, v, s.env);
      const envEnd = ctx.ids.length;
      languageUntil(ctx, s, at);
      const language = ctx.ids.slice(envEnd);
      // Mismatch words: those with a caption elsewhere that names them and not v.
      const usable = (u: string): VisualSeq[] => (withEnv.get(u) ?? []).filter((o) => o !== s && (opts.mismatch_pool === 'all' || o.split === s.split));
      const free = (o: VisualSeq) => !envSets.get(o)!.has(v);
      const pool = opts.mismatch_env === 'swap' ? targets : targets.filter((t) => t.word !== v && usable(t.word).some(free));
      if (pool.length <= (pool.includes(target) ? 1 : 0)) {
        warn(s.key, s.record, `item ${id}: no other caption to take a mismatched environment from; item skipped`);
        return;
      }
      const drawn = drawMismatches(id, target, pool.includes(target) ? pool : [target, ...pool], opts, opts.seed, enc);
      const mismatches: EvalItem['mismatches'] = drawn.map((m) => {
        if (opts.mismatch_env === 'swap') return m;
        const other = pickWhere(usable(m.word), free, new Rng(deriveSeed(opts.seed, 'mismatch-caption', id, m.word)))!;
        return { ...m, context: [...captionContext(enc, v, other.env).ids, ...language], from: other.key };
      });
      items.push(ctx.item(id, itemSource(s), mismatches));
    });
  }
  return items;
}

/** `<doc>` and the caption lines: the start of a caption-grounded context for an item of `word`. */
function captionContext(enc: Encoder, word: string, env: readonly string[][]): ContextBuilder {
  const ctx = new ContextBuilder(enc, word);
  ctx.token(DOC);
  for (const line of env) {
    ctx.speaker(ROLES.caption);
    ctx.env(line);
  }
  return ctx;
}

/** Builds the caption-grounded corpus. Throws UserError on bad options or inputs; bad records only yield diagnostics. */
export async function buildCaptionCorpus(input: CaptionCorpusOptionsInput): Promise<VisualBuildResult> {
  const opts = parseOptions(CaptionCorpusOptionsSchema, input, 'caption corpus');
  const log = builderLog(opts.quiet, 'visdial build');
  const src = readVisualSources(opts);
  const seqs = assignSplits(captionSequences(src, opts.coco_mode), opts.split_mode, opts.split, opts.seed);
  if (!seqs.length) throw new UserError('no dialog or captioned image could be read (see the diagnostics)');
  log(`${src.dialogs.length} dialogs, ${src.cocoImages.length} COCO images → ${seqs.length} sequences`);

  const counts = countTraining(seqs);
  const env = (w: string) => counts.words.get(envToken(w)) ?? 0;
  const lan = (w: string) => counts.words.get(lanToken(w)) ?? 0;
  const chosen = targetsByRule(opts, env, lan);
  for (const t of chosen.targets) if (!env(t.word) && !lan(t.word)) src.diagnostics.report('targets', t.word, 'target-not-in-vocab', `"${t.word}" occurs in neither form in the training split`);
  const vocab = corpusVocab(counts.roles, counts.words, chosen.targets, opts);
  const ids = new Map(vocab.map((t, i) => [t, i]));
  const encoded = encodeSplits(seqs, ids);
  const targets: TargetsFile = { rule: chosen.rule, train_turns: trainUnits(seqs), words: unitTargetRows(chosen.targets, seqs, { env, lan }, ids, opts.pmi_pseudocount) };
  const items = captionItems(seqs, chosen.targets, opts, ids, (file, record, message) => src.diagnostics.report(file, record, 'no-mismatch-source', message));
  requireNonEmptyItems(items, `corpus ${opts.out}`, `${chosen.targets.length} target words, but no sequence of the ${opts.items_split} split mentions one; give more data or another --items_split`);
  const diags = src.diagnostics.items;
  const stats = summariseVisual('caption', src, seqs, encoded, vocab.length, diags, targets, opts.min_env, opts.min_lan, items, counts.words);
  writeVisualCorpus(
    opts.out,
    { vocab, encoded, targets, items, stats, diagnostics: diags, seqs },
    // Inputs by display name, so the manifest does not depend on where the data lives.
    { setting: 'caption', options: recordedOptions(opts, src), target_rule: chosen.rule, inputs: src.inputs },
  );
  log(`${vocab.length} tokens in the vocabulary, ${targets.words.length} targets, ${items.length} items → ${opts.out}`);
  return { dir: opts.out, stats, targets, items: items.length, diagnostics: diags.length };
}
