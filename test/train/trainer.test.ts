import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as E from '../../src/engine/index.js';
import { availableArchs } from '../../src/models/index.js';
import { getPreset } from '../../src/train/config.js';
import { listCheckpoints, loadCheckpoint, readCheckpointMeta } from '../../src/train/checkpoint.js';
import { type TrainOptions, TrainingDivergedError, train } from '../../src/train/trainer.js';
import { checkpointSteps, learningRate } from '../../src/train/schedule.js';
import { BatchSampler } from '../../src/train/data.js';
import { parseCsv, sha256File } from '../../src/util/files.js';
import { readSafetensors } from '../../src/util/safetensors.js';
import { writeToyCorpus } from '../helpers/toy-corpus.js';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), `gl-${p}-`));

describe('schedules and data order', () => {
  it('learning rate warms up linearly then decays linearly to the floor', () => {
    const s = { lr: 1, warmup: 10, steps: 110, decay: 'linear' as const, minRatio: 0 };
    expect(learningRate(s, 0)).toBeCloseTo(0.1);
    expect(learningRate(s, 9)).toBeCloseTo(1);
    expect(learningRate(s, 60)).toBeCloseTo(0.5);
    expect(learningRate(s, 110)).toBeCloseTo(0);
  });

  it('checkpoint schedules: the paper rule, every, log and list', () => {
    expect(checkpointSteps('paper', 2000)).toEqual([0, 150, 300, 500, 1000, 1500, 2000]);
    expect(checkpointSteps('every:25', 60)).toEqual([0, 25, 50, 60]);
    expect(checkpointSteps('log:3', 1000)).toEqual([0, 10, 100, 1000]);
    expect(checkpointSteps('list:0,7,3', 10)).toEqual([0, 3, 7, 10]);
    expect(() => checkpointSteps('weekly', 10)).toThrow(/unknown checkpoint schedule/);
  });

  it('batch k is a pure function of (seed, k)', () => {
    const toks = Uint32Array.from({ length: 5000 }, (_, i) => i % 97);
    const a = new BatchSampler(toks, 4, 16, 7).batch(123);
    const b = new BatchSampler(toks, 4, 16, 7).batch(123);
    const c = new BatchSampler(toks, 4, 16, 8).batch(123);
    expect(a.ids).toEqual(b.ids);
    expect(a.ids).not.toEqual(c.ids);
    for (let i = 0; i < a.ids.length; i++) expect(a.targets[i]).toBe((a.ids[i]! + 1) % 97);
  });
});

describe('trainer', () => {
  const corpus = writeToyCorpus();

  it('a 2-layer GPT-2 lowers its loss, writes HF-named checkpoints with config and hashes', async () => {
    const out = tmp('run');
    const m = await train({ corpus, out, arch: 'gpt2', preset: 'tiny', seed: 3, quiet: true, train: { steps: 60, checkpoints: 'list:0,30,60' } });
    expect(m.status).toBe('complete');
    const rows = parseCsv(readFileSync(join(out, 'losses.csv'), 'utf8'));
    const val = rows.filter((r) => r.split === 'val' && ['0', '30', '60'].includes(r.step!)).map((r) => Number(r.loss));
    expect(val.length).toBe(3);
    expect(val[0]).toBeGreaterThan(3.5); // ~ln(44) at initialisation
    expect(val[2]).toBeLessThan(val[0]! - 1); // learnt the successor rule
    const ckpts = listCheckpoints(out);
    expect(ckpts.map((c) => c.step)).toEqual([0, 30, 60]);
    for (const c of m.checkpoints) expect(sha256File(join(out, c.file))).toBe(c.sha256);
    const st = readSafetensors(ckpts[2]!.path);
    expect([...st.tensors.keys()]).toContain('transformer.h.1.attn.c_attn.weight');
    expect(st.tensors.get('transformer.h.0.attn.c_attn.weight')!.shape).toEqual([32, 96]);
    expect(readCheckpointMeta(ckpts[2]!.path)).toMatchObject({ arch: 'gpt2', step: 60, seed: 3 });
    const hf = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(hf).toMatchObject({ model_type: 'gpt2', n_layer: 2, n_embd: 32, vocab_size: 44 });
    // Re-running a complete run does nothing.
    const again = await train({ corpus, out, arch: 'gpt2', preset: 'tiny', seed: 3, quiet: true, train: { steps: 60, checkpoints: 'list:0,30,60' } });
    expect(again.finished_at).toBe(m.finished_at);
    // A different config in the same directory is refused.
    await expect(train({ corpus, out, arch: 'gpt2', preset: 'tiny', seed: 4, quiet: true })).rejects.toThrow(/different configuration/);
  });

  it('a loaded checkpoint gives the same logits as the model that wrote it', async () => {
    const out = tmp('ck');
    await train({ corpus, out, arch: 'gpt2', preset: 'tiny', seed: 5, quiet: true, train: { steps: 10, checkpoints: 'list:10' } });
    const { model } = loadCheckpoint(listCheckpoints(out).pop()!.path);
    const ids = Int32Array.from({ length: 16 }, (_, i) => 4 + i);
    const a = E.noGrad(() => E.tidy(() => model.forward({ ids, batch: 1, seq: 16 }).toFloat32Array()));
    const { model: again } = loadCheckpoint(listCheckpoints(out).pop()!.path);
    const b = E.noGrad(() => E.tidy(() => again.forward({ ids, batch: 1, seq: 16 }).toFloat32Array()));
    expect(b).toEqual(a);
  });

  it('stops with a clear error when the loss diverges', async () => {
    const out = tmp('nan');
    await expect(train({ corpus, out, arch: 'gpt2', preset: 'tiny', seed: 1, quiet: true, train: { lr: 1e30, warmup: 0, grad_clip: 0, steps: 20 } })).rejects.toBeInstanceOf(TrainingDivergedError);
    expect(existsSync(join(out, 'resume', 'state.safetensors'))).toBe(true);
  });
});

/** Runs a training child process and kills it with SIGKILL once it has saved state past step 0. */
async function trainAndKill(opts: TrainOptions): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'train-child.ts'), JSON.stringify(opts)], { stdio: 'ignore', env: { ...process.env, GROUNDLAB_QUIET: '1' } });
  const lossPath = join(opts.out, 'losses.csv');
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      const rows = existsSync(lossPath) ? readFileSync(lossPath, 'utf8').split('\n').length : 0;
      if (rows > 25) {
        clearInterval(timer);
        child.kill('SIGKILL');
      }
    }, 5);
    child.on('exit', () => {
      clearInterval(timer);
      resolve();
    });
    child.on('error', reject);
  });
}

describe('resume after kill -9 is bit-identical', () => {
  const corpus = writeToyCorpus();
  for (const arch of availableArchs()) {
    const tiny = getPreset('tiny');
    it.skipIf(!tiny.models[arch])(`${arch}`, async () => {
      const base = { corpus, arch, preset: 'tiny', seed: 11, quiet: true, train: { steps: 60, checkpoints: 'list:0,30,60', state_every: 7 } } as const;
      const straight = tmp(`straight-${arch}`);
      await train({ ...base, out: straight });
      const killed = tmp(`killed-${arch}`);
      await trainAndKill({ ...base, out: killed });
      expect(JSON.parse(readFileSync(join(killed, 'manifest.json'), 'utf8')).status).toBe('running');
      const resumed = await train({ ...base, out: killed });
      expect(resumed.status).toBe('complete');
      const a = readSafetensors(listCheckpoints(straight).pop()!.path).tensors;
      const b = readSafetensors(listCheckpoints(killed).pop()!.path).tensors;
      for (const [name, t] of a) expect(Buffer.from((b.get(name)!.data as Float32Array).buffer).equals(Buffer.from((t.data as Float32Array).buffer)), name).toBe(true);
      // The loss log has every step exactly once.
      const rows = parseCsv(readFileSync(join(killed, 'losses.csv'), 'utf8')).filter((r) => r.split === 'train');
      expect(rows.map((r) => Number(r.step))).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    }, 120_000);
  }
});
