import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as E from '../../src/engine/index.js';
import { listCheckpoints, loadCheckpoint } from '../../src/train/checkpoint.js';
import { importHfCheckpoint } from '../../src/train/hf-import.js';
import { readSafetensors, toInt32, writeSafetensors, type TensorEntry } from '../../src/util/safetensors.js';

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
});
