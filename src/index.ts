/**
 * groundlab as a library. Namespaces follow the folders:
 *   engine   tensors, autograd, ops, hooks (withHooks, hookPoint), parameters, kernels
 *   models   GPT-2, Mamba-2, LSTM, the registry and the LanguageModel interface
 *   train    trainer, presets, checkpoints, Hugging Face import
 *   data     the corpus contract (loadCorpus, loadItems, loadTargets)
 */
export * as engine from './engine/index.js';
export * as models from './models/index.js';
export * as train from './train/index.js';
export * as data from './data/contract.js';
