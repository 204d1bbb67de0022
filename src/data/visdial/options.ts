/**
 * Options of the two visual-dialog corpora, as zod schemas (one source for the types, the CLI flags,
 * --help and the manifest). Target and item options are the CHILDES builder's own fields
 * (src/data/options.ts) with defaults sized for VisDial.
 */
import { z } from 'zod';
import { CDI_NOUN_CATEGORIES } from '../options.js';

/** Inputs and split: shared by both corpora. */
const SourceShape = {
  visdial: z.array(z.string()).default([]).describe('VisDial v1.0 JSON inputs: .json files, .zip archives as downloaded, or directories of them (repeat or comma-separate)'),
  coco: z.array(z.string()).default([]).describe('COCO caption JSON inputs (captions_train2017.json, ...; files, .zip or directories)'),
  out: z.string().describe('output corpus directory'),
  seed: z.number().int().default(42).describe('seed of the split shuffle, item sampling and mismatch draws'),
  split_mode: z
    .enum(['shuffle', 'official'])
    .default('shuffle')
    .describe('"shuffle": seeded shuffle of images into train/val/test by --split; "official": each file\'s own split (VisDial "split" field or a train/val/test in the file name)'),
  split: z.array(z.number().min(0)).length(3).default([0.9, 0.05, 0.05]).describe('train/val/test fractions of the images (split by image, never inside one)'),
  compounds: z
    .string()
    .default('cdi')
    .describe('multi-word nouns joined with "_" (teddy bear → teddy_bear): "cdi" (the CDI\'s multi-word forms), "none", or a file (one phrase per line)'),
  min_count: z.number().int().min(1).default(1).describe('drop words seen fewer times in the training split (they become <unk>); target forms are always kept'),
  max_vocab: z.number().int().min(0).default(0).describe('cap on the vocabulary size including special and role tokens (0: no cap); target forms are always kept'),
};

const TargetShape = {
  targets: z.string().default('cdi').describe('target words: "cdi" (CDI nouns frequent here), "paper" (the paper\'s 100 words), or a file (JSON array or one word per line)'),
  cdi: z.string().default('../shared/data/cdi/English_American_WS.csv').describe('CDI Words & Sentences item list (wordbank CSV)'),
  cdi_categories: z.array(z.string()).default(CDI_NOUN_CATEGORIES).describe('CDI categories that count as nouns for the "cdi" rule'),
  cdi_exclude_homographs: z.boolean().default(true).describe('"cdi" rule: leave out noun forms that are also CDI items of another kind (orange, can, swing...)'),
  min_env: z.number().int().min(0).default(10).describe('"cdi" rule: minimum ENV count in the training split (caption words; image corpus: images described with the word)'),
  min_lan: z.number().int().min(0).default(10).describe('"cdi" rule: minimum word<LAN> count in the training split'),
  max_targets: z.number().int().min(1).default(100).describe('"cdi" rule: keep the most frequent words by min(ENV, LAN)'),
  pmi_pseudocount: z.number().min(0).default(0.5).describe('pseudo-count added to the unit counts of the PMI (raw value in pmi_raw)'),
};

const ItemShape = {
  items_per_word: z.number().int().min(0).default(10).describe('evaluation items per target word (N), drawn with the seed'),
  items_split: z.enum(['test', 'val', 'train']).default('test').describe('split the evaluation items come from'),
  mismatches: z.number().int().min(1).default(10).describe('mismatch words per item (M), drawn with the seed from the other target words'),
  mismatch_pool: z
    .enum(['split', 'all'])
    .default('split')
    .describe('where mismatched environments (captions, images) come from: "split" = sequences of the item\'s own split (held-out like the matched one, default), "all" = any split (trained-on environments make mismatches more familiar than the held-out match)'),
  mismatch_mode: z
    .enum(['random', 'all', 'same-category'])
    .default('random')
    .describe('"random": M other targets; "all": every other target; "same-category": from the same CDI category when it has any'),
};

export const CaptionCorpusOptionsSchema = z.object({
  ...SourceShape,
  ...TargetShape,
  ...ItemShape,
  coco_mode: z
    .enum(['describe', 'caption-only'])
    .default('describe')
    .describe('COCO images: "describe" = first caption as ENV, the other captions as <LAN> descriptions (<D>); "caption-only" = each caption as an ENV-only sequence'),
  mismatch_env: z
    .enum(['caption', 'swap'])
    .default('caption')
    .describe('mismatched environment: "caption" = the caption of another sequence that names the mismatch word and not the target (SPEC §7); "swap" = the matched caption with v<ENV> replaced by u<ENV> (SPEC §3)'),
  quiet: z.boolean().default(false).describe('no progress output'),
});
export type CaptionCorpusOptions = z.infer<typeof CaptionCorpusOptionsSchema>;
export type CaptionCorpusOptionsInput = z.input<typeof CaptionCorpusOptionsSchema>;

export const ImageCorpusOptionsSchema = z.object({
  ...SourceShape,
  ...TargetShape,
  ...ItemShape,
  features: z.string().describe('features file (safetensors: one tensor [patches × dim] per image id, F32/F16/BF16); from "groundlab visdial features" or brought (e.g. DINOv2)'),
  copy_features: z
    .boolean()
    .default(true)
    .describe('copy the features of the corpus\'s images into OUT/features.safetensors (self-contained); false records the path of --features instead'),
  feature_norm: z
    .enum(['rms', 'none'])
    .default('rms')
    .describe('normalisation of each patch vector when read: "rms" divides it by its root mean square (unit scale whatever the encoder), "none" keeps it'),
  include_caption: z.boolean().default(false).describe('VisDial: also give the caption as <LAN> text (<CAP>) after the image (default: the image alone is the environment)'),
  coco_dialogs: z.boolean().default(true).describe('COCO images without a dialog become captioning sequences (<D> caption ... for each caption)'),
  quiet: z.boolean().default(false).describe('no progress output'),
});
export type ImageCorpusOptions = z.infer<typeof ImageCorpusOptionsSchema>;
export type ImageCorpusOptionsInput = z.input<typeof ImageCorpusOptionsSchema>;

/** Role tokens (speaker-like, untagged): before the caption, each question, each answer, each COCO description. */
export const ROLES = { caption: 'CAP', question: 'Q', answer: 'A', description: 'D' } as const;
