/**
 * Kill train, eval and analyze at random moments (SIGKILL, several times each), resume, and
 * compare every output file with an uninterrupted run: byte-identical, except the fields that
 * record time (wall-clock seconds, timestamps, throughput). Then three `reproduce --shard i/3`
 * processes started at once on one study share its corpus and each write their own runs.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthesizeWorld } from '../../src/data/synth/world.js';
import { parseCsv, readJson } from '../../src/util/files.js';
import { Rng } from '../../src/util/rng.js';

const root = mkdtempSync(join(tmpdir(), 'gl-kill-'));
const corpus = join(root, 'corpus');
const CHILD = join(__dirname, 'cli-child.ts');
const TRAIN = ['--corpus', corpus, '--preset', 'tiny', '--seed', '7', '--train.steps', '60', '--train.checkpoints', 'list:0,20,40,60', '--train.state_every', '5', '--quiet'];

/**
 * Runs the CLI in a child. With `killWhen`, the child is SIGKILLed once the predicate holds (polled
 * every 5 ms) plus `delayMs`: moments chosen by progress, so a kill lands inside the work.
 */
function runCli(args: string[], killWhen?: () => boolean, delayMs = 0): Promise<{ code: number | null; killed: boolean; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, GROUNDLAB_THREADS: '1' } });
    let stderr = '';
    c.stderr.on('data', (d) => (stderr += d));
    let killed = false;
    const poll = killWhen
      ? setInterval(() => {
          if (!killWhen()) return;
          clearInterval(poll!);
          setTimeout(() => ((killed = true), c.kill('SIGKILL')), delayMs);
        }, 5)
      : null;
    c.on('error', reject);
    c.on('exit', (code) => {
      if (poll) clearInterval(poll);
      resolve({ code, killed: killed && code === null, stderr });
    });
  });
}

const lineCount = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8').split('\n').length : 0);
const fileCount = (d: string): number => (existsSync(d) ? readdirSync(d).reduce((a, n) => a + (statSync(join(d, n)).isDirectory() ? fileCount(join(d, n)) : 1), 0) : 0);

const TIME_KEYS = new Set(['started_at', 'finished_at', 'train_seconds', 'seconds', 'evaluated_at', 'computed_at', 'sequences_per_s', 'tokens_per_s', 'acquired_at', 'elapsed_s']);
/** JSON without the fields that record time. */
function stripTimes(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripTimes);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => !TIME_KEYS.has(k)).map(([k, x]) => [k, stripTimes(x)]));
  return v;
}

/** Every file of a run as comparable content: bytes, JSON without times, losses.csv without its timing columns. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const rel = relative(dir, p);
        if (n.endsWith('.json')) out.set(rel, JSON.stringify(stripTimes(readJson(p))));
        else if (n.endsWith('.csv')) out.set(rel, JSON.stringify(parseCsv(readFileSync(p, 'utf8')).map(stripTimes)));
        else if (n.endsWith('.jsonl')) out.set(rel, readFileSync(p, 'utf8').split('\n').map((l) => (l ? JSON.stringify(stripTimes(JSON.parse(l))) : l)).join('\n'));
        else out.set(rel, readFileSync(p).toString('base64'));
      }
    }
  };
  walk(dir);
  return out;
}

describe('kill at random moments, resume, byte-identical outputs', () => {
  const reference = join(root, 'reference');
  const killed = join(root, 'killed');
  const rng = new Rng(17);
  const kills: Record<string, number[]> = { train: [], eval: [], analyze: [] };
  /** The reference run's files after each command. */
  const after: Record<string, Map<string, string>> = {};

  beforeAll(async () => {
    await synthesizeWorld({ out: corpus, transcripts: 6, episodes: 40, objects: 8, scene_size: 6, min_count: 2, items_per_word: 3, mismatches: 3, quiet: true });
    for (const [cmd, args] of [
      ['train', ['train', '--out', reference, ...TRAIN]],
      ['eval', ['eval', 'grounding', '--run', reference, '--quiet']],
      ['analyze', ['analyze', 'all', '--run', reference, '--quiet']],
    ] as const) {
      const r = await runCli([...args]);
      expect(r.code, `${cmd}: ${r.stderr}`).toBe(0);
      after[cmd] = snapshot(reference);
    }
  }, 300_000);

  for (const [cmd, argsOf] of [
    ['train', (out: string) => ['train', '--out', out, ...TRAIN]],
    ['eval', (out: string) => ['eval', 'grounding', '--run', out, '--quiet']],
    ['analyze', (out: string) => ['analyze', 'all', '--run', out, '--quiet']],
  ] as const) {
    it(`${cmd}: killed 3 times at random moments, then resumed`, async () => {
      for (let k = 0; k < 3; k++) {
        // Progress so far, then a random further amount of progress and a random delay (0-60 ms).
        const progress = cmd === 'train' ? () => lineCount(join(killed, 'losses.csv')) : cmd === 'eval' ? () => fileCount(join(killed, 'eval')) + lineCount(join(killed, 'eval', 'grounding.csv')) : () => fileCount(join(killed, 'mechanistic'));
        const target = progress() + 1 + rng.int(cmd === 'train' ? 20 : 2);
        const delay = rng.int(60);
        const r = await runCli(argsOf(killed), () => progress() >= target, delay);
        if (r.killed) kills[cmd]!.push(target);
        else expect(r.code, r.stderr).toBe(0);
      }
      const done = await runCli(argsOf(killed));
      expect(done.code, done.stderr).toBe(0);
      const a = after[cmd]!;
      const b = snapshot(killed);
      expect([...b.keys()]).toEqual([...a.keys()]);
      for (const [file, content] of a) expect(b.get(file), `${cmd}: ${file} differs after resuming`).toBe(content);
      expect(existsSync(join(killed, '.groundlab.lock'))).toBe(false);
    }, 120_000);
  }

  it('each command was killed mid-work (at least 6 kills in all)', () => {
    console.log(`kills (at progress targets: loss lines, eval files+rows, mechanistic files): ${JSON.stringify(kills)}`);
    // A kill can miss when the command finishes within the delay; each command must still have been hit.
    for (const c of ['train', 'eval', 'analyze']) expect(kills[c]!.length, c).toBeGreaterThanOrEqual(1);
    expect(kills.train.length + kills.eval.length + kills.analyze.length).toBeGreaterThanOrEqual(6);
  });
});
