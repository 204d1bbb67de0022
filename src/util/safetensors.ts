/**
 * The safetensors file format (huggingface/safetensors), read and written without dependencies.
 *
 * Layout: 8 bytes little-endian u64 N; N bytes of UTF-8 JSON header
 * `{"__metadata__": {string: string}, name: {"dtype", "shape", "data_offsets": [begin, end]}, …}`
 * padded with spaces to a multiple of 8; then the data section, each tensor's raw little-endian
 * C-order bytes at [begin, end) relative to the start of the data section. Tensors tile the data
 * section exactly: contiguous, no gaps, no overlap, the last one ending at the end of the file.
 *
 * Tensor order. The reference writer (Rust `prepare`, also behind the Python package) sorts by
 * dtype in descending alignment order, then by name, so every tensor is aligned for zero-copy
 * reads; its header lists `__metadata__` first and then the tensors in data order, compact JSON
 * with keys dtype, shape, data_offsets. We write the same header format. The order is an option:
 * 'given' (default: the caller's order, a Map's insertion order or a plain object's property
 * order, deterministic for our own objects), 'name'
 * (sorted by name: deterministic whatever order the caller built the record in) or 'reference'
 * (the Rust order; byte-identical to the reference for the same tensors and metadata). With
 * 'given' or 'name' a tensor may land at an unaligned offset; readers (ours, numpy, the
 * reference) handle that, ours by copying that tensor.
 */
import { UserError } from './errors.js';
import { Buffer } from 'node:buffer';
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { writeFileAtomic } from './files.js';

/** Element types we read and write (all of the reference's except the two FP8 formats). */
export type Dtype = 'BOOL' | 'U8' | 'I8' | 'I16' | 'U16' | 'F16' | 'BF16' | 'I32' | 'U32' | 'F32' | 'F64' | 'I64' | 'U64';

/** The typed array holding each dtype's elements; F16 and BF16 are kept as raw 16-bit patterns. */
export interface DtypeArrays {
  BOOL: Uint8Array;
  U8: Uint8Array;
  I8: Int8Array;
  I16: Int16Array;
  U16: Uint16Array;
  F16: Uint16Array;
  BF16: Uint16Array;
  I32: Int32Array;
  U32: Uint32Array;
  F32: Float32Array;
  F64: Float64Array;
  I64: BigInt64Array;
  U64: BigUint64Array;
}

/** One tensor: dtype, shape (C order) and its elements in the dtype's typed array. */
export type TensorEntry = { [D in Dtype]: { dtype: D; shape: number[]; data: DtypeArrays[D] } }[Dtype];

export type TensorOrder = 'given' | 'name' | 'reference';

export interface SerializeOptions {
  /** Layout order of the tensors in the file (see the module comment). Default 'given'. */
  order?: TensorOrder;
}

export interface SafetensorsFile {
  metadata: Record<string, string>;
  /** Tensors in file (offset) order. */
  tensors: Map<string, TensorEntry>;
}

export interface HeaderEntry {
  dtype: Dtype;
  shape: number[];
  /** [begin, end) byte offsets relative to the data section. */
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  metadata: Record<string, string>;
  /** Tensor descriptions in file (offset) order. */
  entries: Map<string, HeaderEntry>;
  /** Absolute byte offset of the data section (8 + header length). */
  dataStart: number;
}

type TypedArrayCtor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): ArrayBufferView; new (length: number): ArrayBufferView; name: string };

interface DtypeInfo {
  size: number;
  ctor: TypedArrayCtor;
  /** Position in the reference's Dtype enum (increasing alignment): the 'reference' order sorts on it. */
  rank: number;
}

const DTYPES: Record<Dtype, DtypeInfo> = {
  BOOL: { size: 1, ctor: Uint8Array, rank: 0 },
  U8: { size: 1, ctor: Uint8Array, rank: 1 },
  I8: { size: 1, ctor: Int8Array, rank: 2 },
  // ranks 3 and 4 are F8_E5M2 and F8_E4M3, unsupported here
  I16: { size: 2, ctor: Int16Array, rank: 5 },
  U16: { size: 2, ctor: Uint16Array, rank: 6 },
  F16: { size: 2, ctor: Uint16Array, rank: 7 },
  BF16: { size: 2, ctor: Uint16Array, rank: 8 },
  I32: { size: 4, ctor: Int32Array, rank: 9 },
  U32: { size: 4, ctor: Uint32Array, rank: 10 },
  F32: { size: 4, ctor: Float32Array, rank: 11 },
  F64: { size: 8, ctor: Float64Array, rank: 12 },
  I64: { size: 8, ctor: BigInt64Array as unknown as TypedArrayCtor, rank: 13 },
  U64: { size: 8, ctor: BigUint64Array as unknown as TypedArrayCtor, rank: 14 },
};

/** The reference refuses headers above 100 MB; so do we (a corrupt length must not allocate gigabytes). */
const MAX_HEADER_SIZE = 100_000_000;

function isDtype(s: unknown): s is Dtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, s);
}

/** Typed arrays are read and written in host byte order; the format is little-endian. */
function assertLittleEndian(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new Error('safetensors: big-endian hosts are not supported');
  }
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function bytesOf(data: ArrayBufferView): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

function checkTensor(name: string, t: TensorEntry): void {
  if (name === '' || name === '__metadata__') throw new Error(`safetensors: invalid tensor name '${name}'`);
  if (!isDtype(t.dtype)) throw new Error(`safetensors: tensor '${name}' has unknown dtype '${String(t.dtype)}'`);
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`safetensors: tensor '${name}' shape must be non-negative integers, got ${JSON.stringify(t.shape)}`);
  }
  const { ctor } = DTYPES[t.dtype];
  if (!(t.data instanceof ctor)) {
    throw new Error(`safetensors: tensor '${name}' (${t.dtype}) needs a ${ctor.name}, got ${t.data?.constructor?.name}`);
  }
  const expected = elementCount(t.shape);
  if (t.data.length !== expected) {
    throw new Error(
      `safetensors: tensor '${name}' shape [${t.shape.join(', ')}] has ${expected} elements but data has ${t.data.length}`,
    );
  }
}

/**
 * Tensors as a Map (its insertion order is kept exactly) or a plain object (JS property order:
 * integer-like names such as "0" come first in ascending order, then the rest in insertion order).
 */
export type TensorCollection = Map<string, TensorEntry> | Record<string, TensorEntry>;

/** UTF-8 byte order of names, as Rust compares Strings (differs from UTF-16 order only beyond the BMP). */
function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Entries in the requested layout order. */
function orderEntries(tensors: TensorCollection, order: TensorOrder): [string, TensorEntry][] {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  if (order === 'given') return entries;
  if (order === 'name') return entries.sort(([a], [b]) => compareNames(a, b));
  if (order === 'reference') {
    return entries.sort(([a, ta], [b, tb]) => DTYPES[tb.dtype].rank - DTYPES[ta.dtype].rank || compareNames(a, b));
  }
  throw new Error(`safetensors: order must be 'given', 'name' or 'reference', got '${String(order)}'`);
}

/** A JSON object from ordered [key, JSON-value-text] pairs; built by hand because JS objects move integer-like keys first. */
function jsonObject(entries: [string, string][]): string {
  return '{' + entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',') + '}';
}

/**
 * The file as a list of byte parts: [length prefix + padded header, tensor 1 bytes, tensor 2
 * bytes, …]. Tensor parts are views onto the callers' typed arrays (no copy); concatenated they
 * are the file. Header: `__metadata__` first (omitted when metadata is undefined), tensors in
 * layout order, compact JSON, spaces to a multiple of 8 bytes, as the reference writes it.
 * Note: the tensor parts alias the input arrays, so serialize-then-mutate changes the parts.
 */
export function serializeSafetensors(
  tensors: TensorCollection,
  metadata?: Record<string, string>,
  options: SerializeOptions = {},
): Uint8Array[] {
  assertLittleEndian();
  const ordered = orderEntries(tensors, options.order ?? 'given');
  for (const [name, t] of ordered) checkTensor(name, t);

  const headerEntries: [string, string][] = [];
  if (metadata !== undefined) {
    const meta = Object.entries(metadata);
    for (const [k, v] of meta) {
      if (typeof v !== 'string') throw new Error(`safetensors: metadata '${k}' must be a string, got ${typeof v}`);
    }
    headerEntries.push(['__metadata__', jsonObject(meta.map(([k, v]) => [k, JSON.stringify(v)]))]);
  }
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const [name, t] of ordered) {
    const bytes = bytesOf(t.data);
    const info = `{"dtype":${JSON.stringify(t.dtype)},"shape":${JSON.stringify(t.shape)},"data_offsets":[${offset},${offset + bytes.byteLength}]}`;
    headerEntries.push([name, info]);
    parts.push(bytes);
    offset += bytes.byteLength;
  }

  const json = new TextEncoder().encode(jsonObject(headerEntries));
  const headerLength = Math.ceil(json.byteLength / 8) * 8;
  const head = new Uint8Array(8 + headerLength).fill(0x20, 8); // space padding
  new DataView(head.buffer).setBigUint64(0, BigInt(headerLength), true);
  head.set(json, 8);
  return [head, ...parts];
}

/**
 * Writes tensors (and optional string metadata) as a safetensors file, atomically (tmp file +
 * rename via writeFileAtomic), streaming each tensor's own bytes without concatenating them.
 * Returns the file size in bytes.
 */
export function writeSafetensors(
  path: string,
  tensors: TensorCollection,
  metadata?: Record<string, string>,
  options: SerializeOptions = {},
): number {
  const parts = serializeSafetensors(tensors, metadata, options);
  writeFileAtomic(path, parts);
  return parts.reduce((s, p) => s + p.byteLength, 0);
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/** A damaged or foreign file: a user error (no stack trace), naming the file and the defect. */
export class SafetensorsFormatError extends UserError {
  override name = 'SafetensorsFormatError';
  constructor(
    readonly source: string,
    readonly defect: string,
  ) {
    super(`safetensors: ${source}: ${defect}; the file is damaged or not a safetensors file: restore or re-create it`);
  }
}

function fail(source: string, message: string): never {
  throw new SafetensorsFormatError(source, message);
}

/** Header length from the 8-byte prefix, checked against the limit and the file size. */
function headerLength(prefix: Uint8Array, fileSize: number, source: string): number {
  if (fileSize < 8) fail(source, `truncated file: ${fileSize} bytes, shorter than the 8-byte header length`);
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_SIZE)) fail(source, `header length ${n} exceeds the ${MAX_HEADER_SIZE}-byte limit (corrupt file?)`);
  const len = Number(n);
  if (8 + len > fileSize) fail(source, `truncated file: header needs ${len} bytes but only ${fileSize - 8} follow the length`);
  return len;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isOffsetPair(v: unknown): v is [number, number] {
  return Array.isArray(v) && v.length === 2 && v.every((x) => Number.isSafeInteger(x) && x >= 0);
}

/**
 * Parses and validates the JSON header against a data section of `dataLength` bytes: known
 * dtypes, sizes matching shapes, tensors tiling the data section exactly (sorted by offset).
 */
function parseHeader(bytes: Uint8Array, dataLength: number, source: string): Omit<SafetensorsHeader, 'dataStart'> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    fail(source, 'header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail(source, `header does not start with '{' (not a safetensors file?)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    fail(source, `header is not valid JSON: ${(e as Error).message}`);
  }
  if (!isPlainObject(parsed)) fail(source, 'header is not a JSON object');

  let metadata: Record<string, string> = {};
  const raw: [string, HeaderEntry][] = [];
  for (const [name, value] of Object.entries(parsed)) {
    if (name === '__metadata__') {
      if (value === null) continue;
      if (!isPlainObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
        fail(source, '__metadata__ must map strings to strings');
      }
      metadata = value as Record<string, string>;
      continue;
    }
    if (!isPlainObject(value)) fail(source, `tensor '${name}': description is not an object`);
    const { dtype, shape, data_offsets: offsets } = value;
    if (typeof dtype !== 'string') fail(source, `tensor '${name}': missing dtype`);
    if (!isDtype(dtype)) fail(source, `tensor '${name}': unknown or unsupported dtype '${dtype}'`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(source, `tensor '${name}': shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    if (!isOffsetPair(offsets) || offsets[1] < offsets[0]) {
      fail(source, `tensor '${name}': data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offsets)}`);
    }
    const nbytes = elementCount(shape as number[]) * DTYPES[dtype].size;
    if (offsets[1] - offsets[0] !== nbytes) {
      fail(source, `tensor '${name}': shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${nbytes} bytes but data_offsets span ${offsets[1] - offsets[0]}`);
    }
    raw.push([name, { dtype, shape: shape as number[], dataOffsets: [offsets[0], offsets[1]] }]);
  }

  // Like the reference, order by offsets and require an exact tiling of the data section.
  raw.sort(([, a], [, b]) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  let expected = 0;
  let previous = '';
  for (const [name, e] of raw) {
    const [begin, end] = e.dataOffsets;
    if (end > dataLength) {
      fail(source, `tensor '${name}': data_offsets [${begin}, ${end}] reach past the ${dataLength}-byte data section (truncated file or corrupt header)`);
    }
    if (begin < expected) fail(source, `tensor '${name}': data_offsets [${begin}, ${end}] overlap tensor '${previous}' (which ends at ${expected})`);
    if (begin > expected) fail(source, `tensor '${name}': gap in the data section, bytes [${expected}, ${begin}) belong to no tensor`);
    expected = end;
    previous = name;
  }
  if (expected !== dataLength) {
    fail(source, `data section has ${dataLength} bytes but the tensors cover ${expected} (${dataLength - expected} trailing bytes)`);
  }
  return { metadata, entries: new Map(raw) };
}

/** A typed-array view of the tensor's bytes when aligned, else an aligned copy. */
function tensorData(buffer: Uint8Array, absoluteStart: number, e: HeaderEntry, copy: boolean): ArrayBufferView {
  const { size, ctor } = DTYPES[e.dtype];
  const count = elementCount(e.shape);
  const byteOffset = buffer.byteOffset + absoluteStart;
  if (!copy && byteOffset % size === 0) return new ctor(buffer.buffer, byteOffset, count);
  const out = new ctor(count);
  bytesOf(out).set(buffer.subarray(absoluteStart, absoluteStart + count * size));
  return out;
}

export interface ReadOptions {
  /**
   * Copy every tensor into its own buffer. Default false: tensors are views onto the file's
   * bytes (zero-copy) except those at unaligned offsets, which are copied. With a Uint8Array
   * source and copy false, the views alias the caller's buffer.
   */
  copy?: boolean;
}

/**
 * Reads a safetensors file (path) or buffer, validating it completely (see parseHeader):
 * truncated files, offsets out of range, overlaps, gaps, unknown dtypes and shape/size
 * mismatches throw an Error naming the source and the tensor. F16/BF16 come back as raw
 * Uint16Array bits (see toFloat32), I64 as BigInt64Array (see toInt32).
 */
export function readSafetensors(source: string | Uint8Array, options: ReadOptions = {}): SafetensorsFile {
  assertLittleEndian();
  const label = typeof source === 'string' ? source : '<buffer>';
  const buffer = typeof source === 'string' ? readFileSync(source) : source;
  const n = headerLength(buffer.subarray(0, 8), buffer.byteLength, label);
  const dataStart = 8 + n;
  const { metadata, entries } = parseHeader(buffer.subarray(8, dataStart), buffer.byteLength - dataStart, label);
  const tensors = new Map<string, TensorEntry>();
  for (const [name, e] of entries) {
    const data = tensorData(buffer, dataStart + e.dataOffsets[0], e, options.copy ?? false);
    tensors.set(name, { dtype: e.dtype, shape: e.shape, data } as TensorEntry);
  }
  return { metadata, tensors };
}

/**
 * Reads and validates only the header of a safetensors file (8 + N bytes from disk), for
 * inspecting large files: names, dtypes, shapes, offsets and metadata.
 */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const prefix = new Uint8Array(8);
    readSync(fd, prefix, 0, Math.min(8, size), 0);
    const n = headerLength(prefix, size, path);
    const header = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const r = readSync(fd, header, got, n - got, 8 + got);
      if (r === 0) fail(path, 'file shrank while reading the header');
      got += r;
    }
    return { ...parseHeader(header, size - 8 - n, path), dataStart: 8 + n };
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------------------------

let f16Table: Float32Array | null = null;

/** Value of an IEEE 754 binary16 bit pattern (exact in float32). */
function f16Value(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** float16 bit patterns → Float32Array (exact), through a 65,536-entry table built on first use. */
export function f16BitsToFloat32(bits: Uint16Array): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16Value(h);
  }
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = f16Table[bits[i]!]!;
  return out;
}

/** bfloat16 bit patterns → Float32Array (exact: bfloat16 is the top half of a float32). */
export function bf16BitsToFloat32(bits: Uint16Array): Float32Array {
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = bits[i]! << 16;
  return new Float32Array(out.buffer);
}

/** Float values → float16 bit patterns, rounding to nearest even like torch's `.half()`; overflow → ±Inf, NaN stays NaN. */
export function float32ToF16Bits(values: ArrayLike<number>): Uint16Array {
  const f = new Float32Array(values); // round to float32 first, as torch converts float32 tensors
  const u = new Uint32Array(f.buffer);
  const out = new Uint16Array(f.length);
  for (let i = 0; i < u.length; i++) out[i] = f32BitsToF16(u[i]!);
  return out;
}

function roundShift(m: number, shift: number): number {
  const kept = Math.floor(m / 2 ** shift);
  const rem = m - kept * 2 ** shift;
  const half = 2 ** (shift - 1);
  return rem > half || (rem === half && kept % 2 === 1) ? kept + 1 : kept;
}

function f32BitsToF16(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    return sign | roundShift(mant | 0x800000, 14 - e); // subnormal (a carry to 0x400 is the smallest normal)
  }
  // Rounding may carry into the exponent; a carry out of the largest finite value gives Inf, as it should.
  return sign | roundShift((e << 23) | mant, 13);
}

/** Float values → bfloat16 bit patterns, rounding to nearest even (torch's `.bfloat16()`); NaN stays a quiet NaN. */
export function float32ToBf16Bits(values: ArrayLike<number>): Uint16Array {
  const f = new Float32Array(values);
  const u = new Uint32Array(f.buffer);
  const out = new Uint16Array(f.length);
  for (let i = 0; i < u.length; i++) {
    const x = u[i]!;
    if ((x & 0x7fffffff) > 0x7f800000) out[i] = (x >>> 16) | 0x40;
    else out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}

/**
 * The tensor's values as a Float32Array: F32 as is (the same array), F16/BF16 decoded exactly,
 * F64 and integer types converted (rounded to float32; integers beyond 2^24 lose precision).
 */
export function toFloat32(entry: TensorEntry): Float32Array {
  switch (entry.dtype) {
    case 'F32':
      return entry.data;
    case 'F16':
      return f16BitsToFloat32(entry.data);
    case 'BF16':
      return bf16BitsToFloat32(entry.data);
    case 'I64':
    case 'U64':
      return Float32Array.from(entry.data, (v) => Number(v));
    default:
      return Float32Array.from(entry.data);
  }
}

/**
 * The tensor's values as an Int32Array: I32 as is, I64/U64 and the smaller integer types
 * converted when every value fits in int32 (otherwise throws). Float dtypes throw.
 */
export function toInt32(entry: TensorEntry): Int32Array {
  switch (entry.dtype) {
    case 'I32':
      return entry.data;
    case 'I64':
    case 'U64': {
      const out = new Int32Array(entry.data.length);
      for (let i = 0; i < entry.data.length; i++) {
        const v = entry.data[i]!;
        if (v < -2147483648n || v > 2147483647n) throw new Error(`safetensors: toInt32: element ${i} = ${v} does not fit in int32`);
        out[i] = Number(v);
      }
      return out;
    }
    case 'U32': {
      const i = entry.data.findIndex((v) => v > 2147483647);
      if (i >= 0) throw new Error(`safetensors: toInt32: element ${i} = ${entry.data[i]} does not fit in int32`);
      return Int32Array.from(entry.data);
    }
    case 'BOOL':
    case 'U8':
    case 'I8':
    case 'I16':
    case 'U16':
      return Int32Array.from(entry.data);
    default:
      throw new Error(`safetensors: toInt32: ${entry.dtype} is not an integer dtype`);
  }
}

/** Int32 values as an I64 tensor's BigInt64Array (for writing index tensors in torch's default integer type). */
export function int32ToI64(values: ArrayLike<number>): BigInt64Array {
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isSafeInteger(v)) throw new Error(`safetensors: int32ToI64: element ${i} = ${v} is not an integer`);
    out[i] = BigInt(v);
  }
  return out;
}
