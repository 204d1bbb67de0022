import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { helpText } from '../../src/cli/command.js';
import { commands } from '../../src/cli/commands/visdial.js';
import { main } from '../../src/cli/main.js';
import { loadTargets } from '../../src/data/contract.js';
import { readStats, renderStats } from '../../src/data/report.js';
import { FeatureStore } from '../../src/data/images/features.js';
import { CDI, COCO, informativeFeatures, VISDIAL } from './helpers.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'gl-visdial-cli-'));

/** Runs `groundlab ...` in-process; returns the exit code and what was printed. */
async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    vi.restoreAllMocks();
  }
}

describe('groundlab visdial CLI', () => {
  afterEach(() => vi.restoreAllMocks());

  it('declares build, images and features with described options', () => {
    expect(commands.map((c) => c.name)).toEqual(['visdial build', 'visdial images', 'visdial features']);
    for (const c of commands) {
      for (const line of helpText(c).split('\n').filter((l) => l.trim().startsWith('--'))) expect(line.trim().split(/\s{2,}/).length, line).toBeGreaterThan(1);
    }
  });

  it('build: the caption-grounded corpus of the shared sample, readable by "corpus stats"', async () => {
    const dir = tmp();
    const r = await cli(['visdial', 'build', '--visdial', VISDIAL, '--coco', COCO, '--cdi', CDI, '--out', dir, '--min_env', '3', '--min_lan', '3', '--split', '0.7,0.05,0.25', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/165 dialog and 159 COCO sequences/);
    expect(loadTargets(dir).words.length).toBeGreaterThan(10);
    expect(renderStats(dir, readStats(dir), loadTargets(dir))).toMatch(/visdial/);
  });

  it('images: the image-grounded corpus from a features file', async () => {
    const dir = tmp();
    informativeFeatures(join(dir, 'f.safetensors'));
    const r = await cli(['visdial', 'images', '--coco', COCO, '--cdi', CDI, '--features', join(dir, 'f.safetensors'), '--out', join(dir, 'c'), '--min_env', '3', '--min_lan', '3', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/0 dialog and 159 captioning sequences over 159 images/);
    expect(r.out).toMatch(/prefix 4 × 24 \(rms normalised\)/);
    expect(existsSync(join(dir, 'c', 'prefix.json'))).toBe(true);
  });

  it('features: encodes images with the built-in encoder', async () => {
    const dir = tmp();
    const r = await cli(['visdial', 'features', join(COCO, 'images', 'val2017'), '--out', join(dir, 'f.safetensors'), '--limit', '2', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/features of 2 images written .* 49 patches × 1280/);
    expect(FeatureStore.read(join(dir, 'f.safetensors')).ids().length).toBe(2);
  });

  it('reports bad inputs as user errors (exit 1, no stack)', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'visdial_bad.json'), JSON.stringify({ data: { questions: [], answers: [] } }));
    const r = await cli(['visdial', 'build', '--visdial', join(dir, 'visdial_bad.json'), '--out', join(dir, 'o'), '--quiet']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/groundlab visdial build: .*visdial_bad\.json: data\.dialogs must be an array/);
    const n = await cli(['visdial', 'images', '--coco', COCO, '--features', join(dir, 'none.safetensors'), '--out', join(dir, 'o2'), '--quiet']);
    expect(n.code).toBe(1);
    expect(n.err).toMatch(/features file not found/);
    const p = await cli(['reproduce', '--images', join(COCO, 'images'), '--out', join(dir, 's')]);
    expect(p.code).toBe(1);
    expect(p.err).toMatch(/also pass --visdial PATH/);
  });
});
