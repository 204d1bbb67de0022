/**
 * groundlab as a library. Namespaces follow the folders:
 *   engine   tensors, autograd, ops, hooks (withHooks, hookPoint), parameters, kernels
 *   models   GPT-2, Mamba-2, LSTM, the registry and the LanguageModel interface
 *   train    trainer, presets, checkpoints, Hugging Face import
 *   data     the corpus contract (loadCorpus, loadItems, loadTargets)
 * Deep imports (groundlab/<folder>/<file>.js) follow dist/; the files moved out of analysis/ and
 * vision/ keep their old paths through package.json "exports" (vision/prefix.js now holds the
 * prefix format only: the batch sampler is train/prefix-batches.js).
 */
export * as engine from './engine/index.js';
export * as models from './models/index.js';
export * as train from './train/index.js';
export * as data from './data/contract.js';
