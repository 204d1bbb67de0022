/**
 * Damaged checkpoints and resume states, concurrent writers, output paths: every case ends in a
 * one-line user error naming the file and a next step (the damage is done by the test itself).
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { listCheckpoints, loadCheckpoint, loadResumeState, saveCheckpoint, saveResumeState, verifiedCheckpointSha } from '../../src/train/checkpoint.js';
import { train, type TrainOptions } from '../../src/train/trainer.js';
import { createModel } from '../../src/models/index.js';
import { UserError } from '../../src/util/errors.js';
import { sha256File } from '../../src/util/files.js';
import { readSafetensorsHeader, serializeSafetensors } from '../../src/util/safetensors.js';
import { writeToyCorpus } from '../helpers/toy-corpus.js';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), `gl-int-${p}-`));

/** Flips one bit at `offset` (negative: from the end) of a file in place. */
function flipBit(path: string, offset: number): void {
  const b = readFileSync(path);
  const i = offset < 0 ? b.length + offset : offset;
  b[i]! ^= 0x10;
  writeFileSync(path, b);
}

/** Offset of the first byte of tensor data (after the 8-byte length and the JSON header). */
const dataStart = (path: string) => 8 + Number(readFileSync(path).readBigUInt64LE(0));

/** Expects a UserError whose message is one line matching every pattern. */
function expectUserError(fn: () => unknown, ...patterns: RegExp[]): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(UserError);
  const msg = (err as Error).message;
  expect(msg.includes('\n'), msg).toBe(false);
  for (const p of patterns) expect(msg).toMatch(p);
}

async function expectUserErrorAsync(p: Promise<unknown>, ...patterns: RegExp[]): Promise<void> {
  const err = await p.then(
    () => null,
    (e) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  const msg = (err as Error).message;
  expect(msg.includes('\n'), msg).toBe(false);
  for (const q of patterns) expect(msg).toMatch(q);
}

const esc = (s: string) => new RegExp(s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));

describe('checkpoint integrity', () => {
  const corpus = writeToyCorpus();
  const base: TrainOptions = { corpus, out: '', arch: 'gpt2', preset: 'tiny', seed: 5, quiet: true, train: { steps: 20, checkpoints: 'list:0,20', state_every: 10 } };
  let run: string;
  beforeAll(async () => {
    run = tmp('run');
    await train({ ...base, out: run });
  });

  it('a checkpoint bit-flipped after training is refused by name on load (sha256 vs manifest.json)', () => {
    const damaged = tmp('flip');
    const src = listCheckpoints(run).pop()!;
    copyFileSync(join(run, 'manifest.json'), join(damaged, 'manifest.json'));
    const path = join(damaged, 'checkpoints', 'step_000020.safetensors');
    mkdirSync(join(damaged, 'checkpoints'), { recursive: true });
    copyFileSync(src.path, path);
    expect(loadCheckpoint(path).sha256).toBe(sha256File(src.path)); // intact: loads, hash returned
    flipBit(path, dataStart(path) + 101);
    // Mutation check: dropping checkSha from loadCheckpoint makes this load silently (test fails).
    expectUserError(() => loadCheckpoint(path), esc(path), /has changed since it was written/, /manifest\.json records/, /restore the file/);
    expectUserError(() => verifiedCheckpointSha(path), /has changed since it was written/);
    // Hashed once per process, but re-hashed when the file changes (the flip above rewrote it).
    flipBit(path, dataStart(path) + 101);
    expect(verifiedCheckpointSha(path)).toBe(sha256File(src.path));
  });

  it('a truncated checkpoint or a corrupt header: one line naming the file, no stack trace', () => {
    const dir = tmp('trunc');
    const path = join(dir, 'step_000020.safetensors');
    copyFileSync(listCheckpoints(run).pop()!.path, path);
    truncateSync(path, 1000);
    expectUserError(() => loadCheckpoint(path), esc(path), /is damaged/, /truncated/, /restore it/);
    copyFileSync(listCheckpoints(run).pop()!.path, path);
    flipBit(path, 12); // inside the JSON header
    expectUserError(() => loadCheckpoint(path), esc(path), /is damaged|not a groundlab checkpoint|metadata/);
  });

  it('NaN and Inf weights are named by checkpoint, step and tensor', () => {
    const dir = tmp('nan');
    const { model, meta } = loadCheckpoint(listCheckpoints(run).pop()!.path);
    model.params.data[7] = Number.NaN;
    const path = join(dir, 'checkpoints', 'step_000020.safetensors');
    saveCheckpoint(path, model, meta);
    expectUserError(() => loadCheckpoint(path), esc(path), /\(step 20\) holds NaN weights \(tensor [\w.]+, element \d+\)/, /earlier checkpoint/);
    model.params.data[7] = Number.POSITIVE_INFINITY;
    saveCheckpoint(path, model, meta);
    expectUserError(() => loadCheckpoint(path), /holds Inf weights/);
  });

  it('a bit-flipped or truncated resume state is refused (checksum inside the file); an old state without one resumes with a warning', async () => {
    const model = createModel('gpt2', { vocab_size: 44, n_embd: 32, n_layer: 2, n_head: 2, n_positions: 32 });
    const n = model.params.count;
    const m = new Float32Array(n).fill(0.5);
    const v = new Float32Array(n).fill(0.25);
    const dir = tmp('state');
    const path = join(dir, 'state.safetensors');
    saveResumeState(path, model, m, v, { step: 10, adamStep: 10, seed: 5 });
    expect(loadResumeState(path, model, m, v).step).toBe(10);
    flipBit(path, -9); // inside exp_avg_sq: still a well-formed file
    // Mutation check: skipping the checksum comparison makes this resume silently.
    expectUserError(() => loadResumeState(path, model, m, v), esc(path), /is damaged: its contents do not match the checksum/, /delete .* to restart this run from step 0/);
    saveResumeState(path, model, m, v, { step: 10, adamStep: 10, seed: 5 });
    truncateSync(path, 5000);
    expectUserError(() => loadResumeState(path, model, m, v), /is damaged \(.*truncated/);
    // A state written before checksums existed: same tensors, no groundlab_checksum.
    const old = serializeSafetensors(
      { params: { dtype: 'F32', shape: [n], data: model.params.data }, exp_avg: { dtype: 'F32', shape: [n], data: m }, exp_avg_sq: { dtype: 'F32', shape: [n], data: v } },
      { format: 'pt', groundlab_resume: JSON.stringify({ step: 10, adamStep: 10, seed: 5 }) },
    );
    writeFileSync(path, Buffer.concat(old));
    const warnings: string[] = [];
    expect(loadResumeState(path, model, m, v, (s) => warnings.push(s)).step).toBe(10);
    expect(warnings.join()).toMatch(/has no checksum .* resuming from it unverified/);
    expect(Object.keys(readSafetensorsHeader(path).metadata ?? {})).not.toContain('groundlab_checksum');
  });

  it('train refuses to resume from a bit-flipped state, and restarts cleanly once it is deleted', async () => {
    const out = tmp('resume');
    await train({ ...base, out, stopAfter: 10 });
    const state = join(out, 'resume', 'state.safetensors');
    flipBit(state, dataStart(state) + 64);
    await expectUserErrorAsync(train({ ...base, out }), esc(state), /checksum/);
    (await import('node:fs')).rmSync(state);
    await train({ ...base, out });
    expect(sha256File(listCheckpoints(out).pop()!.path)).toBe(sha256File(listCheckpoints(run).pop()!.path));
  });

  it('a kill between the state and the manifest writes never loses a checkpoint from the manifest', async () => {
    const out = tmp('order');
    const opts = { ...base, out, train: { steps: 40, checkpoints: 'list:0,20,40', state_every: 10 } };
    await train({ ...opts, stopAfter: 20 }); // state and checkpoint at step 20, then "killed"
    // The window of the old write order: the state at step 20 saved, the manifest not yet.
    const manifestPath = join(out, 'manifest.json');
    const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
    m.checkpoints = m.checkpoints.filter((c: { step: number }) => c.step < 20);
    writeFileSync(manifestPath, JSON.stringify(m));
    const done = await train(opts);
    // Mutation check: without the reconciliation on resume, step 20 stays missing here.
    expect(done.checkpoints.map((c) => c.step)).toEqual([0, 20, 40]);
    expect(done.checkpoints[1]!.sha256).toBe(sha256File(join(out, 'checkpoints', 'step_000020.safetensors')));
  });

  it('--out naming an existing file is a user error', async () => {
    const file = join(tmp('file'), 'not-a-dir');
    writeFileSync(file, 'x');
    await expectUserErrorAsync(train({ ...base, out: file }), esc(file), /exists and is not a directory/);
  });

  it('a second train on the same --out is refused while the first runs, naming its pid', async () => {
    const out = tmp('two');
    const opts = { ...base, out, train: { steps: 400, checkpoints: 'list:0,400', state_every: 50 } };
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'train', 'train-child.ts'), JSON.stringify(opts)], { stdio: 'ignore' });
    try {
      const lock = join(out, '.groundlab.lock');
      for (let i = 0; i < 400 && !existsSync(lock); i++) await new Promise((r) => setTimeout(r, 25));
      expect(existsSync(lock)).toBe(true);
      await expectUserErrorAsync(train(opts), new RegExp(`is in use by pid ${child.pid} on .*\\(train, since`));
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.on('exit', r));
    }
    // The holder was killed (-9): its lock is stale, the next train takes it over and finishes the run.
    const m = await train(opts);
    expect(m.status).toBe('complete');
    const steps = readFileSync(join(out, 'losses.csv'), 'utf8').split('\n').filter((l) => /^\d+,train,/.test(l)).map((l) => Number(l.split(',')[0]));
    expect(steps).toEqual(Array.from({ length: 400 }, (_, i) => i + 1)); // one row per step, none doubled
  });
});

