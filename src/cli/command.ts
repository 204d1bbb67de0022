/**
 * A tiny command framework driven by zod schemas.
 *
 * Each command declares its options as a zod object whose fields carry `.describe()` text and
 * `.default()` values; from that one schema we get the TypeScript type, argv parsing
 * (`--key value`, `--key=value`, dotted overrides `--model.n_layer=12`, `--flag` / `--no-flag`,
 * repeated flags for arrays), `--help` text listing every option with its default, and the
 * resolved config that commands write beside their outputs.
 */
import { z } from 'zod';

export interface CommandSpec<S extends z.ZodObject = z.ZodObject> {
  /** Full command path, e.g. "corpus build". */
  name: string;
  summary: string;
  /** Option fields that may also be given positionally, in order. The last may be an array. */
  positional?: string[];
  options: S;
  /** Optional extra help text shown after the option list. */
  details?: string;
  run(opts: z.infer<S>): Promise<void> | void;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

type AnyZod = z.ZodType;

function unwrap(t: AnyZod): AnyZod {
  let cur: any = t;
  while (cur?.def && (cur.def.type === 'default' || cur.def.type === 'optional' || cur.def.type === 'nullable' || cur.def.type === 'prefault')) {
    cur = cur.def.innerType;
  }
  return cur;
}

function kindOf(t: AnyZod): string {
  return (unwrap(t) as any).def.type as string;
}

/** Walks nested object schemas to the field for a dotted key. */
function fieldAt(schema: z.ZodObject, path: string[]): AnyZod | undefined {
  let cur: AnyZod = schema;
  for (const p of path) {
    const u = unwrap(cur) as any;
    if (u.def.type !== 'object') return undefined;
    cur = u.shape[p];
    if (!cur) return undefined;
  }
  return cur;
}

function coerce(field: AnyZod, raw: string, key: string): unknown {
  const k = kindOf(field);
  switch (k) {
    case 'number': {
      const v = Number(raw);
      if (raw.trim() === '' || Number.isNaN(v)) throw new UsageError(`--${key} expects a number, got "${raw}"`);
      return v;
    }
    case 'int': {
      const v = Number(raw);
      if (!Number.isInteger(v)) throw new UsageError(`--${key} expects an integer, got "${raw}"`);
      return v;
    }
    case 'boolean':
      if (['true', '1', 'yes'].includes(raw)) return true;
      if (['false', '0', 'no'].includes(raw)) return false;
      throw new UsageError(`--${key} expects true or false, got "${raw}"`);
    case 'array': {
      const el = (unwrap(field) as any).def.element as AnyZod;
      return splitList(raw).map((s) => coerce(el, s, key));
    }
    default:
      return raw;
  }
}

/**
 * A list option's value: comma-separated, with "\\," for a comma inside one element (a path such
 * as "data/a\\,b.cha"); or repeat the flag, each value one element. Empty elements are dropped.
 */
export function splitList(raw: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (ch === '\\' && raw[i + 1] === ',') {
      cur += ',';
      i++;
    } else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.filter((s) => s !== '');
}

/** The note --help shows under commands that take list options. */
export const LIST_OPTIONS_NOTE = 'List options (type "x,..."): repeat the flag (--childes a --childes b) or separate with commas; write \\, for a comma inside a value (--childes "data/a\\,b.cha"). Positional arguments are never split at commas.';

function setPath(target: Record<string, any>, path: string[], value: unknown, append: boolean): void {
  let cur = target;
  for (let i = 0; i < path.length - 1; i++) {
    cur[path[i]!] ??= {};
    cur = cur[path[i]!];
  }
  const last = path[path.length - 1]!;
  if (append && Array.isArray(cur[last]) && Array.isArray(value)) cur[last] = [...cur[last], ...value];
  else cur[last] = value;
}

/** Parses argv (after the command words) into a raw object, validated by the schema afterwards. */
export function parseArgv<S extends z.ZodObject>(spec: CommandSpec<S>, argv: string[]): Record<string, any> {
  const raw: Record<string, any> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--') || a === '--') {
      positional.push(a);
      continue;
    }
    let key = a.slice(2);
    let value: string | undefined;
    const eq = key.indexOf('=');
    if (eq >= 0) {
      value = key.slice(eq + 1);
      key = key.slice(0, eq);
    }
    let path = key.split('.');
    let field = fieldAt(spec.options, path);
    if (!field && key.startsWith('no-') && value === undefined) {
      path = key.slice(3).split('.');
      field = fieldAt(spec.options, path);
      if (field && kindOf(field) === 'boolean') {
        setPath(raw, path, false, false);
        continue;
      }
      field = undefined;
    }
    if (!field) throw new UsageError(`unknown option --${key} for "groundlab ${spec.name}" (see --help)`);
    const k = kindOf(field);
    if (value === undefined) {
      if (k === 'boolean') {
        const next = argv[i + 1];
        if (next !== undefined && ['true', 'false'].includes(next)) {
          value = next;
          i++;
        } else {
          setPath(raw, path, true, false);
          continue;
        }
      } else {
        value = argv[++i];
        if (value === undefined) throw new UsageError(`--${key} needs a value`);
      }
    }
    setPath(raw, path, coerce(field, value, key), k === 'array');
  }
  const names = spec.positional ?? [];
  for (let j = 0; j < positional.length; j++) {
    const name = names[Math.min(j, names.length - 1)];
    if (name === undefined) throw new UsageError(`unexpected argument "${positional[j]}" for "groundlab ${spec.name}"`);
    const field = spec.options.shape[name] as AnyZod;
    if (kindOf(field) === 'array') {
      // One positional argument is one element: the shell already separated them, so a comma is part of the path.
      const el = (unwrap(field) as any).def.element as AnyZod;
      raw[name] = [...(Array.isArray(raw[name]) ? raw[name] : []), coerce(el, positional[j]!, name)];
    } else if (j >= names.length) {
      throw new UsageError(`unexpected argument "${positional[j]}" for "groundlab ${spec.name}"`);
    } else {
      raw[name] = coerce(field, positional[j]!, name);
    }
  }
  return raw;
}

export function parseOptions<S extends z.ZodObject>(spec: CommandSpec<S>, argv: string[]): z.infer<S> {
  const raw = parseArgv(spec, argv);
  const res = spec.options.safeParse(raw);
  if (!res.success) {
    const msgs = res.error.issues.map((iss) => `--${iss.path.join('.')}: ${iss.message}`);
    throw new UsageError(`invalid options for "groundlab ${spec.name}":\n  ${msgs.join('\n  ')}`);
  }
  return res.data;
}

function defaultOf(t: AnyZod): unknown {
  let cur: any = t;
  while (cur?.def) {
    if (cur.def.type === 'default') return cur.def.defaultValue;
    if (cur.def.type === 'optional' || cur.def.type === 'nullable') cur = cur.def.innerType;
    else break;
  }
  return undefined;
}

function describeType(t: AnyZod): string {
  const u = unwrap(t) as any;
  switch (u.def.type) {
    case 'enum':
      return Object.values(u.def.entries).join('|');
    case 'array':
      return `${describeType(u.def.element)},...`;
    case 'literal':
      return JSON.stringify(u.def.values?.[0] ?? u.def.value);
    default:
      return u.def.type;
  }
}

function helpLines(schema: z.ZodObject, prefix: string, out: string[][]): void {
  for (const [key, field] of Object.entries(schema.shape) as [string, AnyZod][]) {
    const u = unwrap(field) as any;
    const name = prefix + key;
    if (u.def.type === 'object') {
      helpLines(u, name + '.', out);
      continue;
    }
    const def = defaultOf(field);
    const defText = def === undefined ? '' : `(default: ${JSON.stringify(def)})`;
    const desc = (field as any).description ?? u.description ?? '';
    out.push([`--${name} <${describeType(field)}>`, `${desc} ${defText}`.trim()]);
  }
}

export function helpText(spec: CommandSpec): string {
  const rows: string[][] = [];
  helpLines(spec.options, '', rows);
  const width = Math.min(44, Math.max(...rows.map((r) => r[0]!.length), 10) + 2);
  const pos = (spec.positional ?? []).map((p) => `[${p}...]`).join(' ');
  const lines = [`groundlab ${spec.name} ${pos}`.trimEnd(), '', spec.summary, '', 'Options:'];
  for (const [flag, desc] of rows) lines.push(`  ${flag!.length >= width - 1 ? flag + '  ' : flag!.padEnd(width)}${desc}`);
  if (spec.details) lines.push('', spec.details);
  if (rows.some(([flag]) => flag!.includes(',...>'))) lines.push('', LIST_OPTIONS_NOTE);
  return lines.join('\n');
}

/** Declares a command with its option types inferred from the schema. */
export function defineCommand<S extends z.ZodObject>(spec: CommandSpec<S>): CommandSpec<S> {
  return spec;
}
