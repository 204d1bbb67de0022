/**
 * Imports a Hugging Face checkpoint directory (config.json + model.safetensors), e.g. the public
 * gpt2 weights or a model trained in PyTorch, as a groundlab run with one checkpoint, so the
 * analyses can read it. Only safetensors weights are read (convert pytorch_model.bin first).
 *
 * Name mapping for GPT-2: keys with or without the "transformer." prefix are accepted; the
 * causal-mask buffers (attn.bias, attn.masked_bias) are dropped; lm_head.weight must equal the
 * tied wte.weight when present (groundlab models tie embeddings).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createModel } from '../models/index.js';
import type { Arch } from '../models/types.js';
import { UserError } from '../util/errors.js';
import { ensureDir, writeJson } from '../util/files.js';
import { readSafetensors, toFloat32 } from '../util/safetensors.js';
import { codeVersion } from '../util/version.js';
import { checkpointName, saveCheckpoint } from './checkpoint.js';

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

export interface ImportResult {
  out: string;
  arch: Arch;
  parameters: number;
}

export function importHfCheckpoint(from: string, out: string, label = 'imported'): ImportResult {
  const cfgPath = join(from, 'config.json');
  const wPath = join(from, 'model.safetensors');
  if (!existsSync(cfgPath)) throw new UserError(`${from}: config.json is missing (expected a Hugging Face model directory)`);
  if (!existsSync(wPath)) throw new UserError(`${from}: model.safetensors is missing${existsSync(join(from, 'pytorch_model.bin')) ? ' (found pytorch_model.bin: convert it to safetensors first, e.g. with safetensors.torch.save_file)' : ''}`);
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as HfGpt2Config;
  const file = readSafetensors(wPath);
  const tensors = new Map([...file.tensors].filter(([, t]) => t.dtype === 'F32' || t.dtype === 'F16' || t.dtype === 'BF16').map(([n, t]) => [n, toFloat32(t)]));
  if (cfg.model_type !== 'gpt2') throw new UserError(`model_type "${cfg.model_type}" is not supported by import yet (supported: gpt2)`);
  const { arch, model: modelCfg, weights } = gpt2FromHf(cfg, tensors);
  const model = createModel(arch, modelCfg);
  model.params.load(new Map([...weights].map(([n, d]) => [n, { shape: model.params.params.get(n)?.shape ?? [d.length], data: d }])));
  ensureDir(join(out, 'checkpoints'));
  const meta = { arch, step: 0, seed: 0, label, model: modelCfg, corpus_hash: '' };
  const sha = saveCheckpoint(join(out, 'checkpoints', checkpointName(0)), model, meta);
  writeJson(join(out, 'config.json'), model.hfConfig());
  writeJson(join(out, 'manifest.json'), {
    imported_from: from,
    config: { arch, label, seed: 0, model: modelCfg },
    code_version: codeVersion(),
    parameters: model.params.count,
    checkpoints: [{ step: 0, file: `checkpoints/${checkpointName(0)}`, sha256: sha }],
    status: 'complete',
  });
  return { out, arch, parameters: model.params.count };
}
