/**
 * CHAT inputs: single .cha files, directory trees and TalkBank .zip archives (read in memory with
 * fflate, no shell-out). Every file gets a display path that does not depend on where the input
 * lives on disk (`<root dir name>/<relative path>`, or `<archive>.zip:<entry>`), so outputs built
 * from the same data elsewhere are byte-identical. Files come back sorted by display path.
 */
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { unzipSync } from 'fflate';
import { UserError } from '../util/errors.js';
import { sha256 } from '../util/files.js';

export interface InputFile {
  /** Stable name used in diagnostics, items and the manifest. */
  path: string;
  bytes: Uint8Array;
  sha256: string;
}

const isChat = (name: string): boolean => name.toLowerCase().endsWith('.cha');
/** macOS archive debris (`__MACOSX/`, `._name`) is not data. */
const isDebris = (path: string): boolean => path.split('/').some((p) => p === '__MACOSX' || p.startsWith('._'));

function walk(dir: string, rel: string, out: { abs: string; rel: string }[]): void {
  const entries = readdirSync(dir, { withFileTypes: true }).map((e) => e.name).sort();
  for (const name of entries) {
    if (name.startsWith('.')) continue;
    const abs = join(dir, name);
    const r = rel ? `${rel}/${name}` : name;
    const st = statSync(abs);
    if (st.isDirectory()) walk(abs, r, out);
    else if (st.isFile() && (isChat(name) || name.toLowerCase().endsWith('.zip'))) out.push({ abs, rel: r });
  }
}

function readZip(bytes: Uint8Array, display: string): InputFile[] {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, { filter: (f) => isChat(f.name) && !isDebris(f.name) });
  } catch (err) {
    throw new UserError(`${display}: not a readable zip archive (${(err as Error).message})`);
  }
  return Object.keys(entries).map((name) => ({ path: `${display}:${name}`, bytes: entries[name]!, sha256: sha256(entries[name]!) }));
}

function readOne(abs: string, display: string): InputFile[] {
  const bytes = readFileSync(abs);
  if (abs.toLowerCase().endsWith('.zip')) return readZip(bytes, display);
  return [{ path: display, bytes, sha256: sha256(bytes) }];
}

/** Reads every CHAT file under the given paths. Throws UserError for a missing path or an empty input. */
export function collectInputs(paths: string[]): InputFile[] {
  if (paths.length === 0) throw new UserError('no CHAT input given (pass --childes PATH: .cha files, directories or TalkBank .zip archives)');
  const files = new Map<string, InputFile>();
  const seenAbs = new Set<string>();
  for (const p of paths) {
    if (!existsSync(p)) throw new UserError(`${p}: no such file or directory`);
    const abs = resolve(p);
    const found: { abs: string; rel: string }[] = [];
    if (statSync(abs).isDirectory()) walk(abs, basename(abs), found);
    else found.push({ abs, rel: basename(abs) });
    for (const f of found) {
      if (seenAbs.has(f.abs)) continue;
      seenAbs.add(f.abs);
      for (const file of readOne(f.abs, f.rel)) {
        if (files.has(file.path)) throw new UserError(`two inputs have the same name ${file.path}; pass their common parent directory instead`);
        files.set(file.path, file);
      }
    }
  }
  if (files.size === 0) throw new UserError(`no .cha files found under ${paths.join(', ')}`);
  return [...files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
