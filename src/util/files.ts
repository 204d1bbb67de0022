/** File helpers shared by every stage: atomic writes, hashes, tidy tables (CSV, JSONL). */
import { createHash } from 'node:crypto';
import { appendFileSync, closeSync, fsyncSync, rmSync, mkdirSync, openSync, readFileSync, renameSync, writeSync, existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from './errors.js';

/** Writes a file so that readers see either the old or the new content, never a torn one (tmp + fsync + rename). */
export function writeFileAtomic(path: string, data: string | Uint8Array | Uint8Array[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    const parts = Array.isArray(data) ? data : [data];
    for (const p of parts) {
      if (typeof p === 'string') writeSync(fd, p);
      else {
        let off = 0;
        while (off < p.byteLength) off += writeSync(fd, p, off, p.byteLength - off);
      }
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  removeStaleTemps(path);
}

/** Whether a process with this id exists (EPERM: it exists but belongs to another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes PATH.tmp-PID files left by writers killed mid-write (their pid is gone): no debris after a resume. */
function removeStaleTemps(path: string): void {
  const dir = dirname(path);
  const prefix = `${basename(path)}.tmp-`;
  for (const n of readdirSync(dir)) {
    if (!n.startsWith(prefix)) continue;
    const pid = Number(n.slice(prefix.length));
    if (Number.isInteger(pid) && pid !== process.pid && !pidAlive(pid)) rmSync(join(dir, n), { force: true });
  }
}

/** JSON with 2-space indentation and a trailing newline; keys keep insertion order (deterministic for our objects). */
export function writeJson(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** Parses a JSON file; a damaged one is a user error naming it (not a bare SyntaxError). */
export function readJson<T = unknown>(path: string): T {
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new UserError(`${path} is not valid JSON (${(e as Error).message}); the file is damaged or truncated: restore it, or delete it and rerun the command that wrote it`);
  }
}

/**
 * Appends whole lines to a log-like output (losses.csv, eval tables). Not atomic by nature: a
 * kill mid-append can leave a torn last line, so every reader of these files drops a last line
 * without its newline (see dropTornLine) and resuming rewrites them atomically.
 */
export function appendLines(path: string, text: string): void {
  appendFileSync(path, text);
}

/** Text up to its last newline: a line cut by a kill mid-append is dropped. */
export function dropTornLine(text: string): string {
  return text === '' || text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1);
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha256File(path: string): string {
  return sha256(readFileSync(path));
}

/** Hash of a directory's files (name + content), sorted by name: identifies a corpus. */
export function sha256Dir(dir: string, filter: (name: string) => boolean = () => true): string {
  const h = createHash('sha256');
  const names = readdirSync(dir).filter((n) => filter(n) && statSync(join(dir, n)).isFile()).sort();
  for (const n of names) {
    h.update(n + '\0');
    h.update(readFileSync(join(dir, n)));
  }
  return h.digest('hex');
}

export function ensureDir(path: string): string {
  if (existsSync(path) && !statSync(path).isDirectory()) throw new UserError(`${path} exists and is not a directory; choose another output path or move that file away`);
  mkdirSync(path, { recursive: true });
  return path;
}

export { existsSync };

/** One CSV field, quoted per RFC 4180 when needed; numbers written with full precision, NaN as empty (NA). */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : v !== v ? '' : v > 0 ? 'Inf' : '-Inf';
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A tidy table as CSV text: the header comes from `columns` (or the first row's keys). */
export function toCsv(rows: Record<string, unknown>[], columns?: string[]): string {
  const cols = columns ?? (rows.length ? Object.keys(rows[0]!) : []);
  const out = [cols.map(csvField).join(',')];
  for (const r of rows) out.push(cols.map((c) => csvField(r[c])).join(','));
  return out.join('\n') + '\n';
}

export function writeCsv(path: string, rows: Record<string, unknown>[], columns?: string[]): void {
  writeFileAtomic(path, toCsv(rows, columns));
}

/** Parses CSV written by toCsv (RFC 4180 quoting). Values stay strings. */
export function parseCsv(text: string): Record<string, string>[] {
  const records: string[][] = [];
  let field = '';
  let row: string[] = [];
  let inQ = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inQ) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQ = false;
      } else field += ch;
    } else if (ch === '"') inQ = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      records.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length) {
    row.push(field);
    records.push(row);
  }
  const [header, ...body] = records;
  if (!header) return [];
  return body.map((r) => Object.fromEntries(header.map((h, j) => [h, r[j] ?? ''])));
}

export function toJsonl(rows: unknown[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
}

export function writeJsonl(path: string, rows: unknown[]): void {
  writeFileAtomic(path, toJsonl(rows));
}

export function readJsonl<T = unknown>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}
