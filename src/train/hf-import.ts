/**
 * Imports a Hugging Face checkpoint directory (config.json + model.safetensors), e.g. the public
 * gpt2 weights or a model trained in PyTorch, as a groundlab run with one checkpoint, so the
 * analyses can read it. Only safetensors weights are read (convert pytorch_model.bin first).
 *
 * Name mapping for GPT-2: keys with or without the "transformer." prefix are accepted; the
 * causal-mask buffers (attn.bias, attn.masked_bias) are dropped; lm_head.weight must equal the
 * tied wte.weight when present (groundlab models tie embeddings).
 * Mamba2ForCausalLM directories load as they are (groundlab's Mamba-2 uses Hugging Face's names),
 * for the configurations groundlab implements (n_groups 1, no projection bias, tied embeddings).
 *
 * The run gets a run_config.json like a trained run's (preset "imported", seed 0, training
 * settings unused except `context`), so `eval grounding`, `analyze` and `report` accept it. With
 * a corpus (the one whose vocabulary the model uses) its directory and hash are recorded and the
 * vocabulary sizes must agree; without, the hash is empty and those commands need --corpus.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadCorpus } from '../data/contract.js';
import { createModel } from '../models/index.js';
import type { Arch } from '../models/types.js';
import { UserError } from '../util/errors.js';
import { ensureDir, readJson, writeJson } from '../util/files.js';
import { readSafetensors, toFloat32 } from '../util/safetensors.js';
import { codeVersion } from '../util/version.js';
import { checkpointName, saveCheckpoint } from './checkpoint.js';
import { getPreset, type RunConfig } from './config.js';

interface HfGpt2Config {
  model_type?: string;
  vocab_size: number;
  n_positions: number;
  n_embd: number;
  n_layer: number;
  n_head: number;
  layer_norm_epsilon?: number;
  activation_function?: string;
  groundlab_prefix_dim?: number;
}

function gpt2FromHf(cfg: HfGpt2Config, tensors: Map<string, Float32Array>) {
  if (cfg.activation_function && cfg.activation_function !== 'gelu_new') throw new UserError(`unsupported activation_function "${cfg.activation_function}" (groundlab's GPT-2 uses gelu_new)`);
  const model = { vocab_size: cfg.vocab_size, n_positions: cfg.n_positions, n_embd: cfg.n_embd, n_layer: cfg.n_layer, n_head: cfg.n_head, layer_norm_epsilon: cfg.layer_norm_epsilon ?? 1e-5, prefix_dim: cfg.groundlab_prefix_dim ?? 0 };
  const renamed = new Map<string, Float32Array>();
  for (const [name, data] of tensors) {
    if (/\.attn\.(bias|masked_bias)$/.test(name)) continue;
    if (name === 'lm_head.weight') continue;
    renamed.set(name.startsWith('transformer.') || name.startsWith('prefix_proj.') ? name : `transformer.${name}`, data);
  }
  const lm = tensors.get('lm_head.weight');
  const wte = renamed.get('transformer.wte.weight');
  if (lm && wte && lm.some((v, i) => v !== wte[i])) throw new UserError('lm_head.weight differs from wte.weight: groundlab GPT-2 models tie the input and output embeddings');
  return { arch: 'gpt2' as Arch, model, weights: renamed };
}

interface HfMamba2Config {
  model_type?: string;
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  state_size: number;
  expand: number;
  head_dim: number;
  num_heads?: number;
  n_groups?: number;
  conv_kernel: number;
  chunk_size?: number;
  layer_norm_epsilon?: number;
  hidden_act?: string;
  use_bias?: boolean;
  use_conv_bias?: boolean;
  rms_norm?: boolean;
  tie_word_embeddings?: boolean;
  groundlab_prefix_dim?: number;
}

/** Mamba2ForCausalLM: groundlab's Mamba-2 already uses its parameter names; only the subset it implements is accepted. */
function mamba2FromHf(cfg: HfMamba2Config, tensors: Map<string, Float32Array>) {
  const no = (what: string) => new UserError(`Mamba2ForCausalLM with ${what} is not supported (groundlab's Mamba-2: n_groups 1, no in/out projection bias, conv bias, gated RMSNorm, silu, tied embeddings)`);
  if ((cfg.n_groups ?? 1) !== 1) throw no(`n_groups ${cfg.n_groups}`);
  if (cfg.use_bias) throw no('use_bias true');
  if (cfg.use_conv_bias === false) throw no('use_conv_bias false');
  if (cfg.rms_norm === false) throw no('rms_norm false');
  if (cfg.hidden_act && cfg.hidden_act !== 'silu') throw no(`hidden_act ${cfg.hidden_act}`);
  if (cfg.num_heads !== undefined && cfg.num_heads * cfg.head_dim !== cfg.expand * cfg.hidden_size) throw new UserError(`config.json: num_heads ${cfg.num_heads} × head_dim ${cfg.head_dim} is not expand × hidden_size`);
  const model = {
    vocab_size: cfg.vocab_size,
    hidden_size: cfg.hidden_size,
    num_hidden_layers: cfg.num_hidden_layers,
    state_size: cfg.state_size,
    expand: cfg.expand,
    head_dim: cfg.head_dim,
    conv_kernel: cfg.conv_kernel,
    chunk_size: cfg.chunk_size ?? 64,
    layer_norm_epsilon: cfg.layer_norm_epsilon ?? 1e-5,
    prefix_dim: cfg.groundlab_prefix_dim ?? 0,
  };
  const weights = new Map([...tensors].filter(([n]) => n !== 'lm_head.weight'));
  const lm = tensors.get('lm_head.weight');
  const emb = weights.get('backbone.embeddings.weight');
  if (lm && emb && lm.some((v, i) => v !== emb[i])) throw new UserError('lm_head.weight differs from backbone.embeddings.weight: groundlab Mamba-2 models tie the input and output embeddings');
  return { arch: 'mamba2' as Arch, model, weights };
}

export interface ImportResult {
  out: string;
  arch: Arch;
  parameters: number;
}

export interface ImportOptions {
  /** The corpus whose vocabulary the model uses (recorded in run_config.json; vocabulary sizes must agree). */
  corpus?: string;
  /** Context length the analyses cut items to (default: the model's positions, at most 512). */
  context?: number;
}

/** The preset name of imported runs: analyses fall back to their default budgets. */
export const IMPORTED_PRESET = 'imported';

/**
 * A corpus is usable with a run when it is the recorded one (same hash), or, for an imported run
 * recorded without a corpus, when its vocabulary has the model's size. Returns an error message, or null.
 */
export function corpusMismatch(cfg: RunConfig, corpus: { dir: string; hash: string; vocab: readonly string[] }, run: string): string | null {
  if (cfg.corpus.hash) {
    return corpus.hash === cfg.corpus.hash ? null : `${corpus.dir} is not the corpus ${run} was trained on (hash ${corpus.hash.slice(0, 12)} vs ${cfg.corpus.hash.slice(0, 12)} in run_config.json)`;
  }
  const V = cfg.model.vocab_size;
  return V === corpus.vocab.length ? null : `${corpus.dir} has ${corpus.vocab.length} tokens but the model of ${run} has vocab_size ${V}: pass the corpus whose vocabulary the model uses`;
}

export function importHfCheckpoint(from: string, out: string, label = 'imported', opts: ImportOptions = {}): ImportResult {
  const cfgPath = join(from, 'config.json');
  const wPath = join(from, 'model.safetensors');
  if (!existsSync(cfgPath)) throw new UserError(`${from}: config.json is missing (expected a Hugging Face model directory)`);
  if (!existsSync(wPath)) throw new UserError(`${from}: model.safetensors is missing${existsSync(join(from, 'pytorch_model.bin')) ? ' (found pytorch_model.bin: convert it to safetensors first, e.g. with safetensors.torch.save_file)' : ''}`);
  const cfg = readJson<{ model_type?: string }>(cfgPath);
  const file = readSafetensors(wPath);
  const tensors = new Map([...file.tensors].filter(([, t]) => t.dtype === 'F32' || t.dtype === 'F16' || t.dtype === 'BF16').map(([n, t]) => [n, toFloat32(t)]));
  if (cfg.model_type !== 'gpt2' && cfg.model_type !== 'mamba2') throw new UserError(`model_type "${cfg.model_type}" is not supported by import yet (supported: gpt2, mamba2)`);
  const { arch, model: modelCfg, weights } = cfg.model_type === 'gpt2' ? gpt2FromHf(cfg as HfGpt2Config, tensors) : mamba2FromHf(cfg as HfMamba2Config, tensors);
  const positions = 'n_positions' in modelCfg ? modelCfg.n_positions : Infinity;
  const corpus = opts.corpus ? loadCorpus(opts.corpus) : null;
  if (corpus && corpus.vocab.length !== modelCfg.vocab_size) throw new UserError(`${opts.corpus} has ${corpus.vocab.length} tokens but ${from}/config.json has vocab_size ${modelCfg.vocab_size}: pass the corpus whose vocabulary the model uses`);
  const model = createModel(arch, modelCfg);
  model.params.load(new Map([...weights].map(([n, d]) => [n, { shape: model.params.params.get(n)?.shape ?? [d.length], data: d }])));
  ensureDir(join(out, 'checkpoints'));
  const meta = { arch, step: 0, seed: 0, label, model: modelCfg, corpus_hash: corpus?.hash ?? '' };
  const sha = saveCheckpoint(join(out, 'checkpoints', checkpointName(0)), model, meta);
  writeJson(join(out, 'config.json'), model.hfConfig());
  const context = opts.context ?? Math.min(positions, 512);
  if (context > positions) throw new UserError(`--context ${context} exceeds the model's n_positions ${positions}`);
  const runConfig: RunConfig & { imported_from: string } = {
    arch,
    label,
    seed: 0,
    preset: IMPORTED_PRESET,
    corpus: corpus ? { dir: resolve(corpus.dir), hash: corpus.hash } : { dir: '', hash: '' },
    model: modelCfg,
    train: { ...getPreset('tiny').train, steps: 1, context }, // not trained here: only context is read
    imported_from: resolve(from),
  };
  writeJson(join(out, 'run_config.json'), runConfig);
  writeJson(join(out, 'manifest.json'), {
    imported_from: from,
    config: { arch, label, seed: 0, model: modelCfg },
    corpus_hash: corpus?.hash ?? '',
    code_version: codeVersion(),
    parameters: model.params.count,
    checkpoints: [{ step: 0, file: `checkpoints/${checkpointName(0)}`, sha256: sha }],
    status: 'complete',
  });
  return { out, arch, parameters: model.params.count };
}
