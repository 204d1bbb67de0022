import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as E from '../../src/engine/index.js';
import { listCheckpoints, loadCheckpoint } from '../../src/train/checkpoint.js';
import { importHfCheckpoint } from '../../src/train/hf-import.js';
import { readSafetensors, toInt32, writeSafetensors, type TensorEntry } from '../../src/util/safetensors.js';
import { corpusMismatch } from '../../src/train/hf-import.js';
import { readJson } from '../../src/util/files.js';
import type { RunConfig } from '../../src/train/config.js';
import { writeToyCorpus } from '../helpers/toy-corpus.js';
import { writePlantedHf } from '../helpers/planted-gpt2.js';
import { createModel } from '../../src/models/index.js';
import { Rng } from '../../src/util/rng.js';

describe('import of a Hugging Face GPT-2 directory', () => {
  it('maps unprefixed names, drops mask buffers, and reproduces the PyTorch logits', () => {
    const fx = readSafetensors(join(__dirname, '..', 'fixtures', 'gpt2', 'tiny.safetensors'));
    const cfg = JSON.parse(fx.metadata.config!);
    const hf = mkdtempSync(join(tmpdir(), 'gl-hf-'));
    // Write the weights the way old GPT-2 checkpoints name them: no "transformer." prefix, with causal-mask buffers.
    const tensors = new Map<string, TensorEntry>();
    for (const [n, t] of fx.tensors) if (n.startsWith('transformer.')) tensors.set(n.slice('transformer.'.length), t);
    tensors.set('h.0.attn.bias', { dtype: 'F32', shape: [1, 1, 16, 16], data: new Float32Array(256).fill(1) });
    tensors.set('lm_head.weight', fx.tensors.get('transformer.wte.weight')!);
    writeSafetensors(join(hf, 'model.safetensors'), tensors);
    writeFileSync(join(hf, 'config.json'), JSON.stringify({ model_type: 'gpt2', activation_function: 'gelu_new', ...cfg }));
    const out = mkdtempSync(join(tmpdir(), 'gl-imported-'));
    const r = importHfCheckpoint(hf, out);
    expect(r.arch).toBe('gpt2');
    const { model } = loadCheckpoint(listCheckpoints(out)[0]!.path);
    const ids = toInt32(fx.tensors.get('input_ids')!);
    const got = E.noGrad(() => E.tidy(() => model.forward({ ids, batch: 2, seq: 16 }).toFloat32Array()));
    const want = fx.tensors.get('logits')!.data as Float32Array;
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    expect(worst).toBeLessThan(1e-4);
  });

  it('explains what is missing', () => {
    const empty = mkdtempSync(join(tmpdir(), 'gl-hf-empty-'));
    expect(() => importHfCheckpoint(empty, join(empty, 'out'))).toThrow(/config.json is missing/);
  });

  it('writes a run_config.json (preset imported); a corpus must have the model’s vocabulary size', () => {
    const hf = writePlantedHf();
    const out = mkdtempSync(join(tmpdir(), 'gl-imported-cfg-'));
    importHfCheckpoint(hf, out, 'planted', { context: 12 });
    const cfg = readJson<RunConfig>(join(out, 'run_config.json'));
    expect(cfg).toMatchObject({ arch: 'gpt2', label: 'planted', seed: 0, preset: 'imported', corpus: { dir: '', hash: '' } });
    expect(cfg.train.context).toBe(12);
    expect(cfg.model.vocab_size).toBe(27);
    const toy = writeToyCorpus();
    expect(() => importHfCheckpoint(hf, mkdtempSync(join(tmpdir(), 'gl-imported-bad-')), 'x', { corpus: toy })).toThrow(/has 44 tokens but .*vocab_size 27: pass the corpus whose vocabulary the model uses/);
    // Without a recorded corpus, any corpus of the model's vocabulary size is accepted; with one, only that corpus.
    const c = (n: number, hash = 'h1') => ({ dir: 'C', hash, vocab: Array.from({ length: n }, (_, i) => String(i)) });
    expect(corpusMismatch(cfg, c(27), out)).toBeNull();
    expect(corpusMismatch(cfg, c(44), out)).toMatch(/vocab_size 27/);
    expect(corpusMismatch({ ...cfg, corpus: { dir: 'C', hash: 'h1' } }, c(44, 'h1'), out)).toBeNull();
    expect(corpusMismatch({ ...cfg, corpus: { dir: 'C', hash: 'h1' } }, c(27, 'h2'), out)).toMatch(/is not the corpus/);
  });

  it('imports a Mamba2ForCausalLM directory (groundlab names, tied lm_head) with the same logits', () => {
    const model = createModel('mamba2', { vocab_size: 30, hidden_size: 16, num_hidden_layers: 2, state_size: 8, expand: 2, head_dim: 8, conv_kernel: 4, chunk_size: 8, layer_norm_epsilon: 1e-5, prefix_dim: 0 });
    model.params.initialize(new Rng(3));
    const hf = mkdtempSync(join(tmpdir(), 'gl-hf-mamba2-'));
    const tensors = new Map<string, TensorEntry>();
    for (const [n, p] of model.params.params) tensors.set(n, { dtype: 'F32', shape: [...p.shape], data: Float32Array.from(p.data) });
    tensors.set('lm_head.weight', tensors.get('backbone.embeddings.weight')!);
    writeSafetensors(join(hf, 'model.safetensors'), tensors);
    writeFileSync(join(hf, 'config.json'), JSON.stringify(model.hfConfig()));
    const out = mkdtempSync(join(tmpdir(), 'gl-imported-mamba2-'));
    expect(importHfCheckpoint(hf, out, 'm', { context: 16 }).arch).toBe('mamba2');
    const { model: back } = loadCheckpoint(listCheckpoints(out)[0]!.path);
    const ids = Int32Array.from({ length: 24 }, (_, i) => (i * 7) % 30);
    const run = (m: typeof model) => E.noGrad(() => E.tidy(() => m.forward({ ids, batch: 2, seq: 12 }).toFloat32Array()));
    expect(run(back)).toEqual(run(model));
    expect(readJson<RunConfig>(join(out, 'run_config.json'))).toMatchObject({ arch: 'mamba2', train: { context: 16 } });
    writeFileSync(join(hf, 'config.json'), JSON.stringify({ ...model.hfConfig(), n_groups: 2 }));
    expect(() => importHfCheckpoint(hf, mkdtempSync(join(tmpdir(), 'gl-imported-bad-')))).toThrow(/n_groups 2 is not supported/);
  });
});
