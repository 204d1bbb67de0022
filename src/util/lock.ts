/**
 * Lock files: one writer per run directory (RUN/.groundlab.lock), one builder per study corpus.
 *
 * A lock file holds the holder's pid, host and the process's start time from /proc/PID/stat, so a
 * pid recycled by another process after a kill -9 is not mistaken for the holder. It is created
 * complete (written to a private temp file, then hard-linked to the lock name: link fails if the
 * name exists), so no reader ever sees a half-written lock.
 *
 * Stale locks (holder dead, or its pid now belongs to a process with another start time) are taken
 * over in two steps: the taker first creates LOCK.break exclusively (a mutex for the takeover),
 * re-reads the lock under it and removes it only if it is still the same stale content, then
 * releases LOCK.break and competes for LOCK like everyone else. So two takers can never both remove
 * a lock and both win: only link() decides the winner. A LOCK.break left by a taker killed inside
 * that few-syscall window is itself removed when its own holder is dead.
 */
import { existsSync, linkSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { UserError } from './errors.js';
import { pidAlive } from './files.js';

export interface LockHolder {
  pid: number;
  host: string;
  /** Start time of the process (clock ticks since boot, /proc/PID/stat field 22); null where /proc is absent. */
  start: number | null;
  purpose: string;
  acquired_at: string;
}

export const RUN_LOCK = '.groundlab.lock';

/** Start time of a process from /proc (Linux); null when unknown. */
export function processStartTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = Number(fields[19]); // field 22 overall
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

/** True when the holder is certainly gone: same host, and its pid is dead or now names another process. */
export function isStale(h: LockHolder): boolean {
  if (h.host !== hostname()) return false; // cannot tell for another machine
  if (!Number.isInteger(h.pid) || h.pid <= 0 || !pidAlive(h.pid)) return true;
  if (h.start === null || h.start === undefined) return false;
  const now = processStartTime(h.pid);
  return now !== null && now !== h.start;
}

function readRaw(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

function parseHolder(raw: string | null): LockHolder | null {
  if (raw === null) return null;
  try {
    const h = JSON.parse(raw) as Partial<LockHolder>;
    if (typeof h.pid !== 'number') return null;
    return { pid: h.pid, host: String(h.host ?? ''), start: typeof h.start === 'number' ? h.start : null, purpose: String(h.purpose ?? 'unknown'), acquired_at: String(h.acquired_at ?? '') };
  } catch {
    return null;
  }
}

/** Creates `path` with `content` only if it does not exist, never exposing a partial file. */
function createExclusive(path: string, content: string): boolean {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, content);
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Blocks the thread for ms milliseconds (tryLock is synchronous). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Tests widen the takeover's race window with GROUNDLAB_LOCK_RACE_MS: a pause between deciding a
 * lock is stale and removing it, where a naive takeover lets two takers both win.
 */
const raceDelay = () => Number(process.env.GROUNDLAB_LOCK_RACE_MS ?? 0);

/** Removes the lock at `path` if it still holds `staleRaw`, under the LOCK.break mutex; false if another taker holds the mutex. */
function breakStale(path: string, staleRaw: string): boolean {
  const breakPath = `${path}.break`;
  const me = JSON.stringify(holderRecord('break'));
  if (!createExclusive(breakPath, me)) {
    const raw = readRaw(breakPath);
    const b = parseHolder(raw);
    if (b && isStale(b) && readRaw(breakPath) === raw) rmSync(breakPath, { force: true });
    return false; // someone else is taking over (or was killed doing so): compete again
  }
  try {
    if (raceDelay()) sleepSync(raceDelay());
    if (readRaw(path) === staleRaw) unlinkSync(path);
  } finally {
    rmSync(breakPath, { force: true });
  }
  return true;
}

function holderRecord(purpose: string): LockHolder {
  return { pid: process.pid, host: hostname(), start: processStartTime(process.pid), purpose, acquired_at: new Date().toISOString() };
}

/** Locks held by this process (path → depth): re-entrant, so reproduce → train → eval nest freely. */
const held = new Map<string, number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of held.keys()) {
      const h = parseHolder(readRaw(p));
      if (h && h.pid === process.pid) rmSync(p, { force: true });
    }
  });
}

export type TryLock = { ok: true; release: () => void } | { ok: false; holder: LockHolder | null };

/** One attempt to take the lock (taking over a stale one). */
export function tryLock(pathIn: string, purpose: string): TryLock {
  const path = resolve(pathIn); // one key per file however it is spelled
  const depth = held.get(path);
  if (depth) {
    held.set(path, depth + 1);
    return { ok: true, release: () => releaseLock(path) };
  }
  const deadline = Date.now() + 10_000; // takeovers take microseconds; this only bounds pathological cases
  while (Date.now() < deadline) {
    if (createExclusive(path, JSON.stringify(holderRecord(purpose)) + '\n')) {
      held.set(path, 1);
      installExitHook();
      return { ok: true, release: () => releaseLock(path) };
    }
    const raw = readRaw(path);
    if (raw === null) continue; // released meanwhile
    const holder = parseHolder(raw);
    if (!holder || !isStale(holder)) return { ok: false, holder };
    if (!breakStale(path, raw)) sleepSync(2);
  }
  return { ok: false, holder: parseHolder(readRaw(path)) };
}

function releaseLock(path: string): void {
  const depth = held.get(path) ?? 0;
  if (depth > 1) {
    held.set(path, depth - 1);
    return;
  }
  held.delete(path);
  const h = parseHolder(readRaw(path));
  if (h && h.pid === process.pid) rmSync(path, { force: true });
}

export function describeHolder(h: LockHolder | null): string {
  return h ? `pid ${h.pid} on ${h.host} (${h.purpose}, since ${h.acquired_at})` : 'another process (unreadable lock file)';
}

/**
 * Runs fn while holding RUN/.groundlab.lock; a second writer on the same run is refused with the
 * holder's pid (no waiting: two trainings of one run are a mistake, not a queue).
 */
export async function withRunLock<T>(runDir: string, purpose: string, fn: () => Promise<T> | T): Promise<T> {
  if (!existsSync(runDir)) return fn(); // not a run (yet): fn reports that by name
  const path = join(runDir, RUN_LOCK);
  const r = tryLock(path, purpose);
  if (!r.ok) {
    throw new UserError(`${runDir} is in use by ${describeHolder(r.holder)}; wait for it to finish or stop it (if no such process is running, delete ${path})`);
  }
  try {
    return await fn();
  } finally {
    r.release();
  }
}

/** Runs fn under a lock, waiting (polling) while a live process holds it: for shared work such as a study's corpus. */
export async function withWaitingLock<T>(path: string, purpose: string, fn: () => Promise<T>, opts: { log?: (s: string) => void; timeoutMs?: number; pollMs?: number } = {}): Promise<T> {
  const start = Date.now();
  const timeoutMs = opts.timeoutMs ?? 60 * 60 * 1000;
  let announced = false;
  for (;;) {
    const r = tryLock(path, purpose);
    if (r.ok) {
      try {
        return await fn();
      } finally {
        r.release();
      }
    }
    if (Date.now() - start > timeoutMs) throw new UserError(`${path} is held by ${describeHolder(r.holder)}; delete it if that process is not running`);
    if (!announced) opts.log?.(`waiting for ${describeHolder(r.holder)} to finish (${path})`);
    announced = true;
    await new Promise((res) => setTimeout(res, opts.pollMs ?? 500));
  }
}
