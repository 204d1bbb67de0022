/**
 * JSON inputs of the visual-dialog readers as users download them: a .json file, a .zip archive
 * holding .json files (VisDial ships visdial_1.0_train.zip), or a directory of either. Each file
 * gets a display path that does not depend on where it lives (`<name>` or `<archive>.zip:<entry>`),
 * so outputs built from the same data elsewhere are identical. Sorted by display path.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { unzipSync } from 'fflate';
import { UserError } from '../../util/errors.js';
import { sha256 } from '../../util/files.js';

export interface JsonInput {
  path: string;
  sha256: string;
  bytes: number;
  /** Parsed JSON. */
  value: unknown;
}

const isJson = (n: string): boolean => n.toLowerCase().endsWith('.json');
const isDebris = (p: string): boolean => p.split('/').some((s) => s === '__MACOSX' || s.startsWith('._'));

function parse(bytes: Uint8Array, display: string): JsonInput {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8').decode(bytes));
  } catch (err) {
    throw new UserError(`${display}: not valid JSON (${(err as Error).message})`);
  }
  return { path: display, sha256: sha256(bytes), bytes: bytes.byteLength, value };
}

function readOne(abs: string, display: string, accept: (name: string) => boolean): JsonInput[] {
  const bytes = readFileSync(abs);
  if (abs.toLowerCase().endsWith('.zip')) {
    let entries: Record<string, Uint8Array>;
    try {
      entries = unzipSync(bytes, { filter: (f) => isJson(f.name) && accept(basename(f.name)) && !isDebris(f.name) });
    } catch (err) {
      throw new UserError(`${display}: not a readable zip archive (${(err as Error).message})`);
    }
    return Object.keys(entries)
      .sort()
      .map((name) => parse(entries[name]!, `${display}:${name}`));
  }
  return [parse(bytes, display)];
}

/**
 * Reads every JSON input under `paths` whose file name passes `accept` (directories and archives
 * are filtered; files named explicitly are always read). `what` names the inputs in errors.
 */
export function readJsonInputs(paths: readonly string[], what: string, accept: (name: string) => boolean = () => true): JsonInput[] {
  const out = new Map<string, JsonInput>();
  for (const p of paths) {
    if (!existsSync(p)) throw new UserError(`${what} input ${p}: no such file or directory`);
    const abs = resolve(p);
    const found: { abs: string; display: string; filter: (n: string) => boolean }[] = [];
    if (statSync(abs).isDirectory()) {
      for (const name of readdirSync(abs).sort()) {
        const f = join(abs, name);
        if (name.startsWith('.') || !statSync(f).isFile()) continue;
        if ((isJson(name) && accept(name)) || name.toLowerCase().endsWith('.zip')) found.push({ abs: f, display: `${basename(abs)}/${name}`, filter: accept });
      }
    } else found.push({ abs, display: basename(abs), filter: abs.toLowerCase().endsWith('.zip') ? accept : () => true });
    for (const f of found) {
      for (const input of readOne(f.abs, f.display, f.filter)) {
        if (out.has(input.path)) throw new UserError(`two ${what} inputs have the same name ${input.path}; pass their common parent directory instead`);
        out.set(input.path, input);
      }
    }
  }
  if (out.size === 0) throw new UserError(`no ${what} JSON files found under ${paths.join(', ')}`);
  return [...out.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
