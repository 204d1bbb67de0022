/**
 * Concurrent shards of one study (a cluster array): three `reproduce --shard i/3` processes started
 * at once write different runs of one study directory and share its corpus, built once under
 * STUDY/corpus.lock while the others wait. Each run is locked by its own writer only.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCorpus } from '../../src/data/contract.js';
import { readJson } from '../../src/util/files.js';

const CHILD = join(__dirname, 'cli-child.ts');

function runCli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, GROUNDLAB_THREADS: '1' } });
    let stderr = '';
    c.stderr.on('data', (d) => (stderr += d));
    c.on('error', reject);
    c.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('reproduce --shard i/3, three processes at once on one study', () => {
  it('all finish, share one corpus, and write their own runs', async () => {
    const study = join(mkdtempSync(join(tmpdir(), 'gl-shards-')), 'study');
    const args = (i: number) => ['reproduce', '--preset', 'tiny', '--out', study, '--labels', 'gpt2', '--seeds', '1,2,3', '--shard', `${i}/3`, '--stages', 'corpus,train,eval', '--quiet'];
    const results = await Promise.all([1, 2, 3].map((i) => runCli(args(i))));
    for (const [i, r] of results.entries()) expect(r.code, `shard ${i + 1}: ${r.stderr}`).toBe(0);
    // Exactly one shard built the corpus; the others waited for it (and said so) or found it done.
    const built = results.filter((r) => /building the synthetic world/.test(r.stderr));
    expect(built.length).toBe(1);
    const hash = loadCorpus(join(study, 'corpus')).hash;
    const runs = readdirSync(join(study, 'runs')).sort();
    expect(runs).toEqual(['gpt2-s1', 'gpt2-s2', 'gpt2-s3']);
    for (const r of runs) {
      const m = readJson<{ status: string; corpus_hash: string }>(join(study, 'runs', r, 'manifest.json'));
      expect(m.status).toBe('complete');
      expect(m.corpus_hash).toBe(hash);
      expect(existsSync(join(study, 'runs', r, 'eval', 'grounding_summary.csv'))).toBe(true);
      expect(existsSync(join(study, 'runs', r, '.groundlab.lock'))).toBe(false);
    }
    expect(existsSync(join(study, 'corpus.lock'))).toBe(false);
  }, 300_000);
});
