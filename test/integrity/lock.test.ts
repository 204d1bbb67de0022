/** Run lock: refusal by pid, stale takeover (dead pid, recycled pid), and a 5-process race for a stale lock. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isStale, processStartTime, RUN_LOCK, tryLock, withRunLock } from '../../src/util/lock.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'gl-lock-'));
const lockRecord = (pid: number, start: number | null) => JSON.stringify({ pid, host: hostname(), start, purpose: 'test', acquired_at: '2026-01-01T00:00:00Z' });

/** A pid that certainly belongs to no process any more: a child that has exited. */
async function deadPid(): Promise<number> {
  const c = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => c.on('exit', r));
  return c.pid!;
}

describe('run lock', () => {
  it('reads the process start time from /proc (Linux)', () => {
    expect(processStartTime(process.pid)).toBeGreaterThan(0);
  });

  it('refuses a second writer, naming the live holder pid; re-entrant within one process', async () => {
    const dir = tmp();
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      await new Promise((r) => setTimeout(r, 100));
      writeFileSync(join(dir, RUN_LOCK), lockRecord(sleeper.pid!, processStartTime(sleeper.pid!)));
      await expect(withRunLock(dir, 'train', () => 1)).rejects.toThrow(new RegExp(`is in use by pid ${sleeper.pid} on .*delete ${join(dir, RUN_LOCK).replace(/[.]/g, '\\.')}`));
    } finally {
      sleeper.kill('SIGKILL');
    }
    // Holder killed (kill -9): the lock is stale and taken over.
    await new Promise((r) => setTimeout(r, 100));
    expect(await withRunLock(dir, 'train', () => withRunLock(dir, 'eval', () => 'nested'))).toBe('nested');
    // The same directory spelled differently is the same lock (re-entrant, not a refusal of ourselves).
    expect(await withRunLock(dir, 'train', () => withRunLock(join(dir, '.', '..', basename(dir)), 'eval', () => 'same'))).toBe('same');
    expect(existsSync(join(dir, RUN_LOCK))).toBe(false); // released
  });

  it('takes over a lock whose pid is dead, and one whose pid was recycled (other start time)', async () => {
    const dir = tmp();
    const path = join(dir, RUN_LOCK);
    writeFileSync(path, lockRecord(await deadPid(), 12345));
    let r = tryLock(path, 'x');
    expect(r.ok).toBe(true);
    if (r.ok) r.release();
    // Our own pid with another start time: a recycled pid, not the holder. (Mutation check: ignoring
    // the start time in isStale makes this lock look live and this test fail.)
    const recycled = { pid: process.pid, host: hostname(), start: processStartTime(process.pid)! - 1, purpose: 'x', acquired_at: '' };
    expect(isStale(recycled)).toBe(true);
    expect(isStale({ ...recycled, start: processStartTime(process.pid) })).toBe(false);
    expect(isStale({ ...recycled, host: 'another-machine' })).toBe(false); // cannot tell: never taken over
    writeFileSync(path, JSON.stringify(recycled));
    r = tryLock(path, 'x');
    expect(r.ok).toBe(true);
    expect(JSON.parse(readFileSync(path, 'utf8')).start).toBe(processStartTime(process.pid));
    if (r.ok) r.release();
  });

  // GROUNDLAB_LOCK_RACE_MS widens the window between "this lock is stale" and removing it. Mutation
  // check: replacing breakStale by "sleep, then rmSync(path)" (no mutex, no re-check) lets several win.
  it('five processes racing for one stale lock: exactly one wins, the others name the winner', async () => {
    const dir = tmp();
    const path = join(dir, RUN_LOCK);
    writeFileSync(path, lockRecord(await deadPid(), 1));
    const go = join(dir, 'go');
    const children = Array.from({ length: 5 }, () => {
      const c = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'lock-child.ts'), path, '3000', go], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, GROUNDLAB_LOCK_RACE_MS: '200' } });
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      return new Promise<{ pid: number; won: boolean; holder?: number | null }>((res) => c.on('exit', () => res(JSON.parse(out))));
    });
    await new Promise((r) => setTimeout(r, 2500)); // let all five load tsx and spin on the go file
    writeFileSync(go, '');
    const results = await Promise.all(children);
    const winners = results.filter((r) => r.won);
    expect(winners.length).toBe(1);
    for (const r of results.filter((x) => !x.won)) expect(r.holder).toBe(winners[0]!.pid);
    expect(existsSync(path)).toBe(false);
    expect(existsSync(`${path}.break`)).toBe(false);
  });
});
