/**
 * Options of the corpus builder, as zod schemas: one source for the TypeScript types, the CLI
 * flags (`groundlab corpus build --clean.drop_retracings false`), the --help text and the
 * manifest. Every SPEC §2 rule is a switch here, with the SPEC's choice as its default.
 */
import { z } from 'zod';

/** Main-tier cleaning (SPEC §2). Each field is one rule. */
export const CleaningOptionsSchema = z.object({
  lowercase: z.boolean().default(true).describe('lowercase every word (main tier, ENV tiers, templates)'),
  unintelligible: z
    .enum(['unk', 'drop'])
    .default('unk')
    .describe('xxx / yyy / www (unintelligible or untranscribed speech): "unk" writes <unk>, "drop" removes them'),
  unk_forms: z
    .array(z.string())
    .default(['b', 'c', 'f', 'wp'])
    .describe('special-form markers whose words become <unk> (babbling @b, child-invented @c, family @f, word play @wp); other @x markers are stripped and the word kept'),
  drop_fragments: z.boolean().default(true).describe('remove phonological fragments &+frag (and old-style &frag)'),
  drop_nonwords: z.boolean().default(true).describe('remove nonwords &~gaga'),
  keep_fillers: z.boolean().default(true).describe('keep fillers &-uh as the word "uh" (false removes them)'),
  drop_events: z.boolean().default(true).describe('remove simple events &=laughs (false keeps the event word, e.g. "laughs")'),
  use_replacements: z.boolean().default(true).describe('"word [: target]" keeps the target instead of the spoken form'),
  drop_repetitions: z.boolean().default(true).describe('remove material repeated with [/] (keep only the final copy)'),
  drop_retracings: z.boolean().default(true).describe('remove material retraced with [//], [///], [/-] or [/?] (keep the corrected material)'),
  restore_shortenings: z.boolean().default(true).describe('"(be)cause" becomes "because" (false: "cause")'),
  join_compounds: z.boolean().default(true).describe('"ice+cream" and "ice_cream" become one word "ice_cream" (false splits them)'),
  drop_omitted: z.boolean().default(true).describe('remove omitted words written 0word (they were not said)'),
});
export type CleaningOptions = z.infer<typeof CleaningOptionsSchema>;

/** Environment tiers (SPEC §2): which tiers become ENV tokens and how their words are read. */
export const EnvOptionsSchema = z.object({
  tiers: z.array(z.string()).default(['act', 'sit', 'gpx']).describe('dependent tiers whose words become word<ENV> tokens (without "%"; e.g. add com,exp)'),
  aft_after: z.boolean().default(true).describe('events scoped <aft> follow the utterance (false: every event precedes it)'),
  compounds: z
    .enum(['join', 'split'])
    .default('join')
    .describe('"jack+in+the+box" on an ENV tier: "join" gives one word jack_in_the_box (matching the main-tier compound rule), "split" gives jack, in, the, box'),
  drop_codes: z.boolean().default(true).describe('drop $CODES on ENV tiers (e.g. "$DIS" on Rollins %gpx)'),
});
export type EnvOptions = z.infer<typeof EnvOptionsSchema>;

/** CDI noun categories of the Words & Sentences form (all but people, which the paper's list has none of). */
export const CDI_NOUN_CATEGORIES = [
  'animals',
  'vehicles',
  'toys',
  'food_drink',
  'clothing',
  'body_parts',
  'household',
  'furniture_rooms',
  'outside',
  'places',
];

export const TargetOptionsSchema = z.object({
  targets: z
    .string()
    .default('cdi')
    .describe('target words: "cdi" (rule over the CDI noun list), "paper" (the paper\'s 100 words), or a file (JSON array or one word per line)'),
  cdi: z.string().default('../shared/data/cdi/English_American_WS.csv').describe('CDI Words & Sentences item list (wordbank CSV: item, type, category, definition)'),
  cdi_categories: z.array(z.string()).default(CDI_NOUN_CATEGORIES).describe('CDI categories that count as nouns for the "cdi" rule'),
  cdi_exclude_homographs: z
    .boolean()
    .default(true)
    .describe('"cdi" rule: leave out noun forms that are also CDI items of another kind (can, watch, orange, drink, slide, swing, work)'),
  min_env: z.number().int().min(0).default(100).describe('"cdi" rule: minimum word<ENV> occurrences in the training split'),
  min_lan: z.number().int().min(0).default(100).describe('"cdi" rule: minimum word<LAN> occurrences in the training split'),
  max_targets: z.number().int().min(1).default(100).describe('"cdi" rule: keep the most frequent words by min(ENV, LAN) count'),
  min_env_seen: z
    .number()
    .int()
    .min(0)
    .default(10)
    .describe('--targets paper: keep only targets whose word<ENV> occurs at least this many times in the training split (an ENV embedding trained on fewer occurrences is close to its random initialisation and would inflate G as a mismatch); the others are left out and reported (stats.json targets.left_out, diagnostics). 0 keeps every word'),
  pmi_pseudocount: z
    .number()
    .min(0)
    .default(0.5)
    .describe('pseudo-count added to the turn counts of the PMI (keeps PMI finite when the forms never co-occur; the raw PMI is in pmi_raw)'),
});
export type TargetOptions = z.infer<typeof TargetOptionsSchema>;

export const ItemOptionsSchema = z.object({
  templates: z
    .string()
    .default('')
    .describe('templates JSON {word: [{env, lan}]} for template items: "ours" (shipped: our own templates in the paper\'s style, not the paper\'s), a path, or "" for none'),
  template_processing: z
    .enum(['ours', 'paper-code'])
    .default('ours')
    .describe('how template text becomes tokens: "ours" (speaker --template_speaker, default MOT, ENV text as written, so "the child" stays as ENV words) or "paper-code" (our reading of the paper\'s released processing: speaker CHI, a leading "The child" removed from the ENV text)'),
  items_per_word: z.number().int().min(0).default(10).describe('corpus-derived items per target word (N), drawn from the --item_splits transcripts with the seed'),
  item_splits: z
    .array(z.enum(['val', 'test']))
    .min(1)
    .default(['val', 'test'])
    .describe('held-out splits whose transcripts give corpus-derived items (default validation + test: the 5% test split alone gives few items per word)'),
  mismatches: z.number().int().min(1).default(10).describe('mismatch words per item (M), drawn with the seed from the other target words'),
  mismatch_mode: z
    .enum(['random', 'all', 'same-category'])
    .default('random')
    .describe('"random": M other targets; "all": every other target; "same-category": up to M from the same CDI category (random if it has none)'),
  template_speaker: z.string().default('MOT').describe('speaker token placed before the ENV and LAN parts of a template item (template_processing "ours"; "paper-code" uses CHI)'),
});
export type ItemOptions = z.infer<typeof ItemOptionsSchema>;

export const BuildOptionsSchema = z.object({
  childes: z.array(z.string()).default([]).describe('CHAT inputs: .cha files, directory trees, TalkBank .zip archives (repeat or comma-separate)'),
  out: z.string().describe('output corpus directory'),
  seed: z.number().int().default(42).describe('seed of the split shuffle, item sampling and mismatch draws'),
  split: z
    .array(z.number().min(0))
    .length(3)
    .default([0.9, 0.05, 0.05])
    .describe('train/val/test fractions of the transcripts (split by transcript, never inside one)'),
  min_count: z.number().int().min(1).default(1).describe('drop words seen fewer times in the training split (they become <unk>); target forms are always kept'),
  max_vocab: z.number().int().min(0).default(0).describe('cap on the vocabulary size including special and speaker tokens (0: no cap); target forms are always kept'),
  ...TargetOptionsSchema.shape,
  ...ItemOptionsSchema.shape,
  clean: CleaningOptionsSchema.prefault({}),
  env: EnvOptionsSchema.prefault({}),
  quiet: z.boolean().default(false).describe('no progress bar'),
});
export type BuildOptions = z.infer<typeof BuildOptionsSchema>;
/** What callers pass: every field with a default may be left out. */
export type BuildOptionsInput = z.input<typeof BuildOptionsSchema>;
