/**
 * `buildImageCorpus`: the image-grounded visual-dialog corpus (SPEC §7, second setting). The
 * environment is the image itself, k patch vectors of a frozen encoder placed before the tokens
 * (the model's trained linear prefix layer maps them to d_model); the tokens are language only:
 * the dialog's questions and answers, or, for a COCO image without a dialog, its captions
 * (image-grounded captioning). See sequences.ts for the layouts.
 *
 * Outputs: the corpus contract (vocab.json, train/val/test.bin with one <doc> per sequence,
 * targets.json, items.jsonl), prefix.json (features file, k, dim, normalisation, the image of every
 * document; data/prefix.ts), features.safetensors (the corpus's images, unless
 * --copy_features false), stats.json, diagnostics.jsonl, sequences.jsonl, manifest.json.
 *
 * Targets: the CHILDES rules with ENV count = training units whose independent description names the
 * word (sequences.ts: VisDial caption; COCO: the image's other captions), LAN count = word<LAN>
 * tokens. Co-occurrence statistics over the same units.
 *
 * Items, from the items split: a sequence that says v; the context is `<doc>` + the dialog up to the
 * first v<LAN> (VisDial), or `<doc> <D>` + the first caption that says v, up to v (COCO: the other
 * captions would give v away as text). `prefix` = the sequence's image. Mismatches: M other target
 * words u (seeded), each with the image of another sequence of the same split (--mismatch_pool:
 * held out like the matched image, so neither was trained on) whose text says u and not v (seeded
 * pick): `mismatches[j].prefix`. env_positions and swap_positions are empty (the ENV positions are
 * the k prefix positions of the model input).
 */
import { statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { requireNonEmptyItems } from '../nonempty.js';
import { UserError } from '../../util/errors.js';
import { ensureDir, sha256File } from '../../util/files.js';
import { deriveSeed, Rng } from '../../util/rng.js';
import { FeatureStore, writeFeatures } from '../images/features.js';
import type { PrefixInfo } from '../prefix.js';
import { DOC, lanToken, SPLITS, type EvalItem, type SplitName, type TargetsFile } from '../contract.js';
import { parseOptions } from '../corpus-common.js';
import { ContextBuilder, drawMismatches, sampleInOrder, vocabEncoder, type ItemTarget } from '../items.js';
import { countCooccurrence, targetsByRule } from '../targets.js';
import { corpusVocab } from '../vocab.js';
import type { VisualBuildResult } from './caption-corpus.js';
import { builderLog, countTraining, encodeSplits, firstMention, itemSource, languageUntil, pickWhere, recordedOptions, summariseVisual, trainUnits, unitTargetRows, writeVisualCorpus } from './common.js';
import { ImageCorpusOptionsSchema, ROLES, type ImageCorpusOptions, type ImageCorpusOptionsInput } from './options.js';
import { assignSplits, imageSequences, unitTurns, type VisualSeq } from './sequences.js';
import { readVisualSources } from './sources.js';

export interface ImageBuildResult extends VisualBuildResult {
  prefix: PrefixInfo;
  /** Images of the text data without features (their sequences are left out). */
  missingFeatures: number;
}

export function imageItems(seqs: readonly VisualSeq[], targets: readonly ItemTarget[], opts: ImageCorpusOptions, ids: Map<string, number>, warn: (file: string, record: string, message: string) => void): EvalItem[] {
  // Words describing each image: every word of every sequence of the image (captions and dialogs).
  const described = new Map<string, Set<string>>();
  const firstSeq = new Map<string, VisualSeq>();
  const splitOf = new Map(seqs.map((s) => [s.image, s.split]));
  for (const s of seqs) {
    const set = described.get(s.image) ?? new Set<string>();
    for (const u of s.units) {
      for (const w of u.env) set.add(w);
      for (const w of u.lan) set.add(w);
    }
    described.set(s.image, set);
    if (!firstSeq.has(s.image)) firstSeq.set(s.image, s);
  }
  const wanted = new Set(targets.map((t) => t.word));
  const saying = new Map<string, string[]>(); // word → images whose text says it (sorted)
  for (const [im, words] of [...described].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    for (const w of words) if (wanted.has(w)) (saying.get(w) ?? saying.set(w, []).get(w)!).push(im);
  }
  const enc = vocabEncoder(ids);
  const items: EvalItem[] = [];
  for (const target of targets) {
    const v = target.word;
    const cands = seqs.filter((s) => s.split === opts.items_split && firstMention(s, v));
    sampleInOrder(cands, opts.items_per_word, opts.seed, 'items', v).forEach((s, k) => {
      const id = `${v}/corpus/${k}`;
      const at = firstMention(s, v)!;
      const ctx = new ContextBuilder(enc, v);
      ctx.token(DOC);
      // Dialogs keep the rounds before the mention; captioning keeps only the caption that says v.
      languageUntil(ctx, s, at, s.source === 'coco' ? at.line : 0);
      const usable = (u: string) => (saying.get(u) ?? []).filter((im) => im !== s.image && (opts.mismatch_pool === 'all' || splitOf.get(im) === s.split));
      const free = (im: string) => !described.get(im)!.has(v);
      const pool = targets.filter((t) => t.word !== v && usable(t.word).some(free));
      if (!pool.length) {
        warn(s.key, s.record, `item ${id}: no other image to take a mismatched environment from; item skipped`);
        return;
      }
      const drawn = drawMismatches(id, target, [target, ...pool], opts, opts.seed, { id: () => -1 });
      const mismatches = drawn.map((m) => {
        const im = pickWhere(usable(m.word), free, new Rng(deriveSeed(opts.seed, 'mismatch-image', id, m.word)))!;
        return { word: m.word, env_id: -1, prefix: im, from: firstSeq.get(im)!.key };
      });
      // The context has no ENV tokens (env_positions and swap_positions stay empty): the image is the prefix.
      items.push({ ...ctx.item(id, itemSource(s), mismatches), prefix: s.image });
    });
  }
  return items;
}

/** Builds the image-grounded corpus. Throws UserError on bad options, inputs or features. */
export async function buildImageCorpus(input: ImageCorpusOptionsInput): Promise<ImageBuildResult> {
  const opts = parseOptions(ImageCorpusOptionsSchema, input, 'image corpus');
  const log = builderLog(opts.quiet, 'visdial images');
  const src = readVisualSources(opts);
  const store = FeatureStore.read(opts.features, 'none');
  const all = imageSequences(src, { includeCaption: opts.include_caption, cocoCaptioning: opts.coco_dialogs });
  const missing = new Set<string>();
  for (const s of all) {
    if (store.has(s.image) || missing.has(s.image)) continue;
    missing.add(s.image);
    src.diagnostics.report(s.file, s.record, 'no-features', `image ${s.image} has no features in ${basename(opts.features)}`);
  }
  const kept = all.filter((s) => store.has(s.image));
  if (!kept.length) {
    throw new UserError(`none of the ${all.length} sequences has an image in ${opts.features} (its ids look like ${store.ids().slice(0, 3).join(', ')}; the text data's like ${all.slice(0, 3).map((s) => s.image).join(', ')})`);
  }
  const seqs = assignSplits(kept, opts.split_mode, opts.split, opts.seed);
  log(`${src.dialogs.length} dialogs, ${src.cocoImages.length} COCO images → ${seqs.length} sequences with features (${missing.size} images without)`);

  const counts = countTraining(seqs);
  const trainSeqs = seqs.filter((s) => s.split === 'train');
  // ENV count: training units whose description names the word (only candidate words are counted).
  const candidates = [...new Set([...counts.words.keys()].map((t) => t.replace(/<LAN>$/, '')))];
  const co = countCooccurrence(unitTurns(trainSeqs), candidates);
  const env = (w: string) => co.envTurns.get(w) ?? 0;
  const lan = (w: string) => counts.words.get(lanToken(w)) ?? 0;
  const chosen = targetsByRule(opts, env, lan);
  for (const t of chosen.targets) if (!lan(t.word)) src.diagnostics.report('targets', t.word, 'target-not-in-vocab', `"${t.word}" is never said in the training split`);
  const vocab = corpusVocab(counts.roles, counts.words, chosen.targets, opts, true);
  const ids = new Map(vocab.map((t, i) => [t, i]));
  const encoded = encodeSplits(seqs, ids);
  const rows = unitTargetRows(chosen.targets, seqs, { env, lan }, ids, opts.pmi_pseudocount).map((r) => ({ ...r, env_id: -1 }));
  const targets: TargetsFile = { rule: chosen.rule, train_turns: trainUnits(seqs), words: rows };
  const items = imageItems(seqs, chosen.targets, opts, ids, (file, record, message) => src.diagnostics.report(file, record, 'no-mismatch-source', message));
  requireNonEmptyItems(items, `corpus ${opts.out}`, `${chosen.targets.length} target words, but no sequence of the ${opts.items_split} split mentions one; give more data or another --items_split`);

  // Features: a copy of the corpus's images (self-contained corpus), or the given file by path.
  const used = new Set(seqs.map((s) => s.image));
  let featuresRef: string;
  let featuresPathAbs: string;
  if (opts.copy_features) {
    featuresRef = 'features.safetensors';
    featuresPathAbs = join(ensureDir(opts.out), featuresRef);
    const subset = new Map([...used].map((im) => [im, store.rawOf(im)]));
    const { kind: _k, layout: _l, patches: _p, dim: _d, ...meta } = store.metadata;
    writeFeatures(featuresPathAbs, subset, store.k, store.dim, { ...meta, copied_from: basename(opts.features) });
  } else {
    featuresPathAbs = resolve(opts.features);
    featuresRef = featuresPathAbs;
  }
  const documents = Object.fromEntries(SPLITS.map((s) => [s, encoded[s].images])) as Record<SplitName, string[]>;
  const prefix: PrefixInfo = {
    kind: 'groundlab-prefix',
    format: 1,
    features: featuresRef,
    features_sha256: sha256File(featuresPathAbs),
    features_bytes: statSync(featuresPathAbs).size,
    k: store.k,
    dim: store.dim,
    norm: opts.feature_norm,
    encoder: store.metadata,
    documents,
  };
  const diags = src.diagnostics.items;
  const stats = summariseVisual('image', src, seqs, encoded, vocab.length, diags, targets, opts.min_env, opts.min_lan, items, counts.words);
  writeVisualCorpus(
    opts.out,
    { vocab, encoded, targets, items, prefix, stats, diagnostics: diags, seqs },
    {
      setting: 'image',
      options: recordedOptions(opts, src, { features: basename(opts.features) }),
      target_rule: chosen.rule,
      inputs: src.inputs,
      features: { file: basename(opts.features), sha256: sha256File(opts.features), copied: opts.copy_features, images_used: used.size, k: store.k, dim: store.dim },
    },
  );
  log(`${vocab.length} tokens in the vocabulary, ${targets.words.length} targets, ${items.length} items, prefix [${store.k} × ${store.dim}] → ${opts.out}`);
  return { dir: opts.out, stats, targets, items: items.length, diagnostics: diags.length, prefix, missingFeatures: missing.size };
}

export { ROLES };
