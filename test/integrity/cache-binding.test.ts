/**
 * Cached results are tied to the checkpoint bytes they came from: a checkpoint bit-flipped after
 * `eval` / `analyze` is refused by name on the next run (not reported as "already done"), and one
 * flipped before evaluation is never evaluated under its recorded hash.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { synthesizeWorld } from '../../src/data/synth/world.js';
import { listCheckpoints } from '../../src/train/checkpoint.js';

const root = mkdtempSync(join(tmpdir(), 'gl-cache-'));
const corpus = join(root, 'corpus');

async function cli(argv: string[]): Promise<{ code: number; err: string[]; out: string[] }> {
  const err: string[] = [];
  const out: string[] = [];
  const e = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const o = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  try {
    return { code: await main(argv), err, out };
  } finally {
    e.mockRestore();
    o.mockRestore();
  }
}

function flipByte(path: string, from = 0.6): void {
  const b = readFileSync(path);
  b[Math.floor(b.length * from)]! ^= 0x01;
  writeFileSync(path, b);
}

describe('cached results and the checkpoint hash', () => {
  const run = join(root, 'run');
  beforeAll(async () => {
    await synthesizeWorld({ out: corpus, transcripts: 6, episodes: 40, objects: 8, scene_size: 6, min_count: 2, items_per_word: 3, mismatches: 3, quiet: true });
    const t = await cli(['train', '--corpus', corpus, '--out', run, '--preset', 'tiny', '--train.steps', '20', '--train.checkpoints', 'list:0,20', '--quiet']);
    expect(t.code, t.err.join('\n')).toBe(0);
    for (const args of [['eval', 'grounding', '--run', run, '--quiet'], ['analyze', 'saliency', '--run', run, '--quiet']]) {
      const r = await cli(args);
      expect(r.code, r.err.join('\n')).toBe(0);
    }
  }, 120_000);
  afterEach(() => vi.restoreAllMocks());

  it('unchanged: the second eval reuses its results', async () => {
    const r = await cli(['eval', 'grounding', '--run', run, '--quiet']);
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toMatch(/0 checkpoint\(s\) evaluated, 2 already done/);
  });

  it('bit-flipped after eval and analyze: both refuse by name instead of reusing cached numbers', async () => {
    const ckpt = listCheckpoints(run).pop()!.path;
    flipByte(ckpt);
    for (const args of [['eval', 'grounding', '--run', run, '--quiet'], ['analyze', 'saliency', '--run', run, '--quiet']]) {
      const r = await cli(args);
      expect(r.code).toBe(1);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toContain(`${ckpt} has changed since it was written`);
      expect(r.out.join('\n')).not.toMatch(/already done/);
    }
    // Mutation check: with listCheckpoints(run, { verify: false }) in the pipelines, eval prints "2 already done" here.
    flipByte(ckpt); // restored: accepted again, cached results reused
    const r = await cli(['eval', 'grounding', '--run', run, '--quiet']);
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toMatch(/2 already done/);
  });
});
