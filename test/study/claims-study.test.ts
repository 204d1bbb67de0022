/**
 * The claims scorecard on a real study directory (issue 14 acceptance): `reproduce --preset tiny`
 * writes STUDY/claims.csv and prints it; a study whose GPT-2 cannot tell ENV tokens apart (every
 * ENV embedding row replaced by their mean in every checkpoint, so matched and mismatched
 * contexts give the same input) gets claim 1 "not supported".
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLAIM_COLUMNS } from '../../src/analysis/claims.js';
import { loadCorpus } from '../../src/data/contract.js';
import { reproduce, type ReproduceResult } from '../../src/study/reproduce.js';
import { CLAIMS_FILE, readClaims, writeStudyClaims } from '../../src/study/claims-study.js';
import { evaluateRun } from '../../src/study/evaluate.js';
import { listCheckpoints, loadCheckpoint, readCheckpointMeta, saveCheckpoint } from '../../src/train/checkpoint.js';
import type { RunManifest } from '../../src/train/trainer.js';
import { parseCsv, readJson, writeJson } from '../../src/util/files.js';

const root = mkdtempSync(join(tmpdir(), 'gl-claims-'));
const study = join(root, 'tiny');
let res: ReproduceResult;

beforeAll(async () => {
  res = await reproduce({ preset: 'tiny', out: study, labels: ['gpt2'], stages: ['corpus', 'train', 'eval', 'report'], quiet: true, log: () => {} });
}, 300_000);

describe('claims.csv of a study', () => {
  it('reproduce writes claims.csv with the scorecard columns, one claim-1 row per item set, and returns it', () => {
    expect(existsSync(join(study, CLAIMS_FILE))).toBe(true);
    const text = readFileSync(join(study, CLAIMS_FILE), 'utf8');
    expect(text.split('\n')[0]).toBe(CLAIM_COLUMNS.join(','));
    const rows = parseCsv(text);
    expect(rows.filter((r) => r.claim === '1').map((r) => r.items).sort()).toEqual(['corpus', 'template']);
    for (const r of rows) expect(['supported', 'not supported', 'inconclusive']).toContain(r.verdict);
    expect(res.claims.length).toBe(rows.length);
    expect(existsSync(join(study, 'eval', 'study_r2.csv'))).toBe(true);
    expect(existsSync(join(study, 'eval', 'grounding_age.csv'))).toBe(true);
    // Per-word tables carry item counts, and words with few items are flagged.
    const words = parseCsv(readFileSync(join(study, 'eval', 'study_words.csv'), 'utf8'));
    expect(words.every((w) => Number(w.n_items) >= 1 && (w.few_items === '1') === Number(w.n_items) < 5)).toBe(true);
    const ages = parseCsv(readFileSync(join(study, 'eval', 'grounding_age.csv'), 'utf8'));
    expect(ages.length).toBeGreaterThan(0);
    expect(ages.every((a) => (a.few_items === '1') === Number(a.n_items) < 5)).toBe(true);
    // Without the mechanistic suite, claims 3 and 4 are inconclusive and say why.
    for (const r of rows.filter((x) => x.claim === '3' || x.claim === '4')) expect(r.verdict).toBe('inconclusive');
  });

  it('negative control: a GPT-2 blind to which ENV token it sees gets claim 1 "not supported"', async () => {
    const run = join(study, 'runs', 'gpt2-s42');
    const corpus = loadCorpus(join(study, 'corpus'));
    const envIds = corpus.vocab.map((t, i) => (t.endsWith('<ENV>') ? i : -1)).filter((i) => i >= 0);
    const manifestPath = join(run, 'manifest.json');
    const manifest = readJson<RunManifest>(manifestPath);
    for (const c of listCheckpoints(run)) {
      const { model } = loadCheckpoint(c.path);
      const wte = model.params.get('transformer.wte.weight');
      const d = wte.shape[1]!;
      const meanRow = new Float32Array(d);
      for (const id of envIds) for (let j = 0; j < d; j++) meanRow[j]! += wte.data[id * d + j]! / envIds.length;
      for (const id of envIds) wte.data.set(meanRow, id * d);
      const sha = saveCheckpoint(c.path, model, readCheckpointMeta(c.path));
      manifest.checkpoints.find((k) => k.step === c.step)!.sha256 = sha;
    }
    writeJson(manifestPath, manifest);
    await evaluateRun({ run, corpus: join(study, 'corpus'), force: true, quiet: true });
    const { claims } = writeStudyClaims(study);
    const c1 = claims.filter((c) => c.claim === 1);
    expect(c1.length).toBe(2);
    for (const c of c1) {
      expect(Math.abs(c.statistic)).toBeLessThan(1e-4);
      expect(c.verdict).toBe('not supported');
    }
    expect(readClaims(join(study, CLAIMS_FILE)).filter((c) => Number(c.claim) === 1).every((c) => c.verdict === 'not supported')).toBe(true);
  }, 300_000);
});
