/**
 * The data half of groundlab, as a library: build a grounded corpus from CHAT, synthesise the
 * grounded world, read CHAT, and the corpus contract that trainers and evaluators read.
 *
 *   const r = await buildCorpus({ childes: ['childes/'], out: 'corpora/childes', templates: 'ours' });
 *   const w = await synthesizeWorld({ out: 'corpora/synth', seed: 1 });
 */
export * from './contract.js';
export { buildCorpus, resolveTemplatesPath, type BuildExtras, type BuildResult, type CorpusStats, type SplitStats, type TargetListOverride } from './build.js';
export { synthesizeWorld, SynthOptionsSchema, GROUNDING_LEVELS, LEVEL_PARAMS, type SynthOptions, type SynthOptionsInput, type SynthResult, type GroundingLevel, type LevelParams } from './synth/world.js';
export {
  BuildOptionsSchema,
  CleaningOptionsSchema,
  EnvOptionsSchema,
  TargetOptionsSchema,
  ItemOptionsSchema,
  CDI_NOUN_CATEGORIES,
  type BuildOptions,
  type BuildOptionsInput,
  type CleaningOptions,
  type EnvOptions,
  type TargetOptions,
  type ItemOptions,
} from './options.js';
export { parseChat, decodeChat, type ChatFile, type Utterance, type DependentTier, type Header, type Participant, type IdHeader } from './chat/parse.js';
export { cleanUtterance, cleanMainWord } from './chat/main-tier.js';
export { splitScopes, envWords } from './chat/env-tier.js';
export { DIAGNOSTIC_CODES, DiagnosticSink, type Diagnostic, type DiagnosticCode } from './chat/diagnostics.js';
export { collectInputs, type InputFile } from './input.js';
export { readTranscript, transcriptTokens, type Transcript, type Turn, type EnvLine } from './transcript.js';
export { PAPER_TARGETS, readCdi, cdiNouns } from './targets.js';
export { readTemplates, TemplatesSchema, type Templates } from './items.js';
export { renderStats, renderWord, renderItem } from './report.js';
