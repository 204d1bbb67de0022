import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bf16BitsToFloat32,
  f16BitsToFloat32,
  float32ToBf16Bits,
  float32ToF16Bits,
  int32ToI64,
  readSafetensors,
  readSafetensorsHeader,
  serializeSafetensors,
  toFloat32,
  toInt32,
  writeSafetensors,
  type TensorEntry,
} from '../../src/util/safetensors.js';
import { TS_METADATA, tsFixtureTensors } from '../fixtures/safetensors/ts_tensors.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/safetensors/${name}`, import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'groundlab-safetensors-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Num = number | 'NaN' | 'Infinity' | '-Infinity';
const num = (v: Num) => (typeof v === 'number' ? v : v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : -Infinity);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

/** A file from header text (unpadded) and data bytes, to build malformed inputs. */
function craft(header: string | object, data: Uint8Array = new Uint8Array(0), lengthOverride?: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(lengthOverride ?? json.byteLength), true);
  return concat([prefix, json, data]);
}

function headerText(bytes: Uint8Array): string {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return new TextDecoder().decode(bytes.subarray(8, 8 + n));
}

function sample(): Map<string, TensorEntry> {
  return new Map<string, TensorEntry>([
    ['w', { dtype: 'F32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6.5]) }],
    ['tok', { dtype: 'U8', shape: [3], data: new Uint8Array([7, 8, 9]) }],
    ['b', { dtype: 'F64', shape: [2], data: new Float64Array([Math.E, -0]) }],
    ['n', { dtype: 'I64', shape: [2], data: new BigInt64Array([-(2n ** 62n), 5n]) }],
    ['h', { dtype: 'F16', shape: [2], data: new Uint16Array([0x3c00, 0xc000]) }],
    ['s', { dtype: 'I32', shape: [], data: new Int32Array([-9]) }],
    ['e', { dtype: 'F32', shape: [3, 0], data: new Float32Array(0) }],
  ]);
}

function expectSameTensors(actual: Map<string, TensorEntry>, expected: Map<string, TensorEntry>): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [name, e] of expected) {
    const a = actual.get(name)!;
    expect(a.dtype, name).toBe(e.dtype);
    expect(a.shape, name).toEqual(e.shape);
    expect(a.data.constructor, name).toBe(e.data.constructor);
    expect(Array.from(a.data as ArrayLike<number | bigint>), name).toEqual(Array.from(e.data as ArrayLike<number | bigint>));
  }
}

describe('round trip', () => {
  for (const order of ['given', 'name', 'reference'] as const) {
    it(`writes and reads every dtype back, order '${order}'`, () => {
      const path = join(tmp, `rt-${order}.safetensors`);
      const size = writeSafetensors(path, sample(), { run: 'x', seed: '42' }, { order });
      const bytes = readFileSync(path);
      expect(bytes.byteLength).toBe(size);
      expect(Number(bytes.readBigUInt64LE(0)) % 8).toBe(0);
      const file = readSafetensors(path);
      expect(file.metadata).toEqual({ run: 'x', seed: '42' });
      expectSameTensors(file.tensors, sample());
      // -0 survives (bit-exact data).
      expect(Object.is((file.tensors.get('b')!.data as Float64Array)[1], -0)).toBe(true);
    });
  }

  it('lays tensors out in the requested order', () => {
    const names = (order: 'given' | 'name' | 'reference') =>
      [...readSafetensors(concat(serializeSafetensors(sample(), undefined, { order }))).tensors.keys()];
    expect(names('given')).toEqual(['w', 'tok', 'b', 'n', 'h', 's', 'e']);
    expect(names('name')).toEqual(['b', 'e', 'h', 'n', 's', 'tok', 'w']);
    // Reference: descending dtype alignment rank (I64 > F64 > F32 > I32 > F16 > U8), then name.
    expect(names('reference')).toEqual(['n', 'b', 'e', 'w', 's', 'h', 'tok']);
  });

  it('returns aligned tensors as zero-copy views and unaligned ones as aligned copies', () => {
    const bytes = concat(serializeSafetensors(sample())); // 'given': F64 'b' follows 3 U8 bytes
    const file = readSafetensors(bytes);
    const w = file.tensors.get('w')!.data;
    const b = file.tensors.get('b')!.data;
    expect(w.buffer).toBe(bytes.buffer); // view
    expect(b.buffer).not.toBe(bytes.buffer); // copied: offset 24 + 3 is not a multiple of 8
    expect(b.byteOffset % 8).toBe(0);
    const copied = readSafetensors(bytes, { copy: true });
    expect(copied.tensors.get('w')!.data.buffer).not.toBe(bytes.buffer);
  });

  it('serializes without copying tensor data', () => {
    const t = sample();
    const parts = serializeSafetensors(t);
    expect(parts.length).toBe(1 + t.size);
    expect(parts[1]!.buffer).toBe(t.get('w')!.data.buffer);
  });

  it('is deterministic, and a plain object with an integer-like name follows JS property order', () => {
    const a = concat(serializeSafetensors(sample(), { k: 'v' }));
    const b = concat(serializeSafetensors(sample(), { k: 'v' }));
    expect(a).toEqual(b);
    const obj: Record<string, TensorEntry> = { x: { dtype: 'U8', shape: [1], data: new Uint8Array([1]) } };
    obj['0'] = { dtype: 'U8', shape: [1], data: new Uint8Array([2]) };
    expect([...readSafetensors(concat(serializeSafetensors(obj))).tensors.keys()]).toEqual(['0', 'x']);
  });

  it('reads only the header of a file', () => {
    const path = join(tmp, 'header.safetensors');
    writeSafetensors(path, sample(), { a: 'b' }, { order: 'name' });
    const h = readSafetensorsHeader(path);
    expect(h.metadata).toEqual({ a: 'b' });
    expect([...h.entries.keys()]).toEqual(['b', 'e', 'h', 'n', 's', 'tok', 'w']);
    expect(h.entries.get('b')).toEqual({ dtype: 'F64', shape: [2], dataOffsets: [0, 16] });
    expect(h.dataStart % 8).toBe(0);
  });
});

describe('byte-exact agreement with the reference writer', () => {
  // Expected bytes from the unit tests of huggingface/safetensors (safetensors/src/tensor.rs:
  // test_serialization, test_serialization_forced_alignement, test_empty), restated as text.
  const f32s = new Float32Array([0, 1, 2, 3, 4, 5]);

  it('test_serialization: "attn.0" F32 [1,2,3], header of exactly 64 bytes', () => {
    const out = concat(serializeSafetensors({ 'attn.0': { dtype: 'F32', shape: [1, 2, 3], data: f32s } }));
    expect(Array.from(out.subarray(0, 8))).toEqual([64, 0, 0, 0, 0, 0, 0, 0]);
    expect(headerText(out)).toBe('{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}');
    expect(Array.from(out.subarray(72, 80))).toEqual([0, 0, 0, 0, 0, 0, 128, 63]);
    expect(out.byteLength).toBe(8 + 64 + 24);
  });

  it('test_serialization_forced_alignement: 7 spaces of padding', () => {
    const out = concat(serializeSafetensors({ attn0: { dtype: 'F32', shape: [1, 1, 2, 3], data: f32s } }));
    expect(Array.from(out.subarray(0, 8))).toEqual([72, 0, 0, 0, 0, 0, 0, 0]);
    expect(headerText(out)).toBe('{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       ');
  });

  it('test_empty: no tensors, with and without metadata', () => {
    expect(Array.from(concat(serializeSafetensors({})))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    const out = concat(serializeSafetensors({}, { framework: 'pt' }));
    expect(Array.from(out.subarray(0, 8))).toEqual([40, 0, 0, 0, 0, 0, 0, 0]);
    expect(headerText(out)).toBe('{"__metadata__":{"framework":"pt"}}     ');
    expect(readSafetensors(out).tensors.size).toBe(0);
  });
});

describe('cross-compatibility with torch/numpy (scripts/fixtures/safetensors_fixture.py)', () => {
  interface Expected {
    metadata: Record<string, string>;
    order: string[];
    tensors: Record<string, { dtype: string; shape: number[]; values: (Num | string)[]; bits?: number[] }>;
  }
  const expected = JSON.parse(readFileSync(fixture('python_written.json'), 'utf8')) as Expected;

  it('reads a file written by hand from torch tensors in the reference layout', () => {
    const file = readSafetensors(fixture('python_written.safetensors'));
    expect(file.metadata).toEqual(expected.metadata);
    expect([...file.tensors.keys()]).toEqual(expected.order);
    for (const [name, want] of Object.entries(expected.tensors)) {
      const t = file.tensors.get(name)!;
      expect(t.dtype, name).toBe(want.dtype);
      expect(t.shape, name).toEqual(want.shape);
      if (want.bits) {
        expect(Array.from(t.data as Uint16Array), name).toEqual(want.bits);
        const f = Array.from(toFloat32(t));
        want.values.forEach((v, i) => expect(f[i], `${name}[${i}]`).toBe(num(v as Num)));
      } else if (t.dtype === 'I64' || t.dtype === 'U64') {
        expect(Array.from(t.data, String), name).toEqual(want.values);
      } else {
        expect(Array.from(t.data as ArrayLike<number>), name).toEqual(want.values.map((v) => num(v as Num)));
      }
    }
  });

  it('re-serializes that file byte for byte with order "reference"', () => {
    const bytes = readFileSync(fixture('python_written.safetensors'));
    const file = readSafetensors(bytes, { copy: true });
    const again = concat(serializeSafetensors(file.tensors, file.metadata, { order: 'reference' }));
    expect(Buffer.from(again).equals(bytes)).toBe(true);
  });

  it('still writes the committed ts_written.safetensors, which torch loaded and checked', () => {
    // The Python check (torch.from_numpy over numpy.frombuffer, values compared to torch's own
    // tensors, f16/bf16 bit-exact) was run on this exact file; same bytes, same verdict.
    const committed = readFileSync(fixture('ts_written.safetensors'));
    const now = concat(serializeSafetensors(tsFixtureTensors(), TS_METADATA));
    expect(Buffer.from(now).equals(committed)).toBe(true);
    expectSameTensors(readSafetensors(committed).tensors, tsFixtureTensors());
  });
});

describe('float16 / bfloat16 conversions', () => {
  const conv = JSON.parse(readFileSync(fixture('conversions.json'), 'utf8')) as { values: Num[]; f16: number[]; bf16: number[] };
  const values = conv.values.map(num);

  it("round float32 to f16 and bf16 bits exactly as torch's .half() / .bfloat16()", () => {
    expect(Array.from(float32ToF16Bits(values))).toEqual(conv.f16);
    // NaN: torch 1.13's vectorised CPU path writes bf16 NaN as 0xFFFF, its scalar path (and we)
    // as the canonical quiet NaN 0x7FC0; any NaN pattern is acceptable, so compare only finite
    // and infinite values bit for bit.
    const bf16 = float32ToBf16Bits(values);
    values.forEach((v, i) => {
      if (Number.isNaN(v)) expect(Number.isNaN(bf16BitsToFloat32(bf16.subarray(i, i + 1))[0])).toBe(true);
      else expect(bf16[i], `bf16(${v})`).toBe(conv.bf16[i]);
    });
  });

  it('decode bits exactly (every f16 pattern round-trips; bf16 is the top half of float32)', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const f = f16BitsToFloat32(all);
    const back = float32ToF16Bits(f);
    for (let i = 0; i < 65536; i++) {
      const isNaN = (i & 0x7c00) === 0x7c00 && (i & 0x3ff) !== 0;
      if (isNaN) expect(Number.isNaN(f[i]!)).toBe(true);
      else if (back[i] !== i) throw new Error(`f16 pattern ${i.toString(16)} decoded to ${f[i]} re-encoded as ${back[i]!.toString(16)}`);
    }
    expect(Array.from(f16BitsToFloat32(new Uint16Array([0x3c00, 0x7bff, 0x0001, 0xfc00])))).toEqual([1, 65504, 2 ** -24, -Infinity]);
    expect(Array.from(bf16BitsToFloat32(new Uint16Array([0x3f80, 0xc049])))).toEqual([1, -3.140625]);
  });

  it('toFloat32 and toInt32 helpers', () => {
    const f32 = new Float32Array([1, 2]);
    expect(toFloat32({ dtype: 'F32', shape: [2], data: f32 })).toBe(f32);
    expect(Array.from(toFloat32({ dtype: 'BF16', shape: [1], data: new Uint16Array([0x4040]) }))).toEqual([3]);
    expect(Array.from(toFloat32({ dtype: 'I64', shape: [1], data: new BigInt64Array([-3n]) }))).toEqual([-3]);
    expect(Array.from(toInt32({ dtype: 'I64', shape: [2], data: int32ToI64([-5, 2147483647]) }))).toEqual([-5, 2147483647]);
    expect(() => toInt32({ dtype: 'I64', shape: [1], data: new BigInt64Array([2n ** 31n]) })).toThrow(/does not fit in int32/);
    expect(() => toInt32({ dtype: 'U32', shape: [1], data: new Uint32Array([4e9]) })).toThrow(/does not fit/);
    expect(() => toInt32({ dtype: 'F32', shape: [1], data: f32 })).toThrow(/not an integer dtype/);
    expect(Array.from(toInt32({ dtype: 'U8', shape: [2], data: new Uint8Array([0, 255]) }))).toEqual([0, 255]);
  });
});

describe('validation', () => {
  const good = concat(serializeSafetensors(sample()));
  const f32 = (n: number) => new Uint8Array(4 * n);

  it('truncated files', () => {
    expect(() => readSafetensors(good.subarray(0, 5))).toThrow(/truncated file: 5 bytes/);
    expect(() => readSafetensors(good.subarray(0, 20))).toThrow(/truncated file: header needs/);
    expect(() => readSafetensors(good.subarray(0, good.byteLength - 1))).toThrow(/reach past the .*-byte data section \(truncated/);
    // From disk, the message names the file.
    const path = join(tmp, 'cut.safetensors');
    writeFileSync(path, good.subarray(0, good.byteLength - 2));
    expect(() => readSafetensors(path)).toThrow(`safetensors: ${path}: tensor`);
  });

  it('header length beyond the limit', () => {
    expect(() => readSafetensors(craft('{}', undefined, 200_000_000))).toThrow(/exceeds the 100000000-byte limit/);
  });

  it('offsets out of range, overlapping, with gaps, or leaving trailing bytes', () => {
    const t = (b: number, e: number, shape = [1]) => ({ dtype: 'F32', shape, data_offsets: [b, e] });
    expect(() => readSafetensors(craft({ a: t(0, 4), b: t(4, 8) }, f32(1)))).toThrow(/tensor 'b'.*reach past the 4-byte data section/);
    expect(() => readSafetensors(craft({ a: t(0, 8, [2]), b: t(4, 8) }, f32(2)))).toThrow(/tensor 'b'.*overlap tensor 'a'/);
    expect(() => readSafetensors(craft({ a: t(0, 4), b: t(8, 12) }, f32(3)))).toThrow(/gap in the data section, bytes \[4, 8\)/);
    expect(() => readSafetensors(craft({ a: t(4, 8) }, f32(2)))).toThrow(/gap/);
    expect(() => readSafetensors(craft({ a: t(0, 4) }, f32(2)))).toThrow(/4 trailing bytes/);
    expect(() => readSafetensors(craft({ a: t(8, 4) }, f32(2)))).toThrow(/0 <= begin <= end/);
    expect(() => readSafetensors(craft({ a: t(-4, 4) }, f32(2)))).toThrow(/data_offsets must be/);
  });

  it('unknown dtype and shape/size mismatch', () => {
    expect(() => readSafetensors(craft({ a: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)))).toThrow(
      /tensor 'a': unknown or unsupported dtype 'F8_E4M3'/,
    );
    expect(() => readSafetensors(craft({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f32(2)))).toThrow(
      /shape \[3\] of F32 needs 12 bytes but data_offsets span 8/,
    );
    expect(() => readSafetensors(craft({ a: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, f32(1)))).toThrow(/shape must be/);
  });

  it('malformed headers', () => {
    expect(() => readSafetensors(craft('{"a": '))).toThrow(/header is not valid JSON/);
    expect(() => readSafetensors(craft('[1, 2]'))).toThrow(/does not start with '\{'/);
    expect(() => readSafetensors(craft('{"__metadata__": {"k": 1}}'))).toThrow(/__metadata__ must map strings to strings/);
    const bad = craft('{"a":1}');
    bad[9] = 0xff;
    expect(() => readSafetensors(bad)).toThrow(/not valid UTF-8/);
  });

  it('refuses to write inconsistent tensors', () => {
    const bad = (entry: unknown) => serializeSafetensors({ x: entry as TensorEntry });
    expect(() => bad({ dtype: 'F32', shape: [3], data: new Float32Array(2) })).toThrow(/shape \[3\] has 3 elements but data has 2/);
    expect(() => bad({ dtype: 'F32', shape: [2], data: new Float64Array(2) })).toThrow(/needs a Float32Array, got Float64Array/);
    expect(() => bad({ dtype: 'I64', shape: [2], data: new Int32Array(2) })).toThrow(/needs a BigInt64Array/);
    expect(() => bad({ dtype: 'Q4', shape: [1], data: new Uint8Array(1) })).toThrow(/unknown dtype 'Q4'/);
    expect(() => bad({ dtype: 'U8', shape: [-1], data: new Uint8Array(1) })).toThrow(/non-negative integers/);
    expect(() => serializeSafetensors({}, { k: 3 as unknown as string })).toThrow(/metadata 'k' must be a string/);
    expect(() => serializeSafetensors({ __metadata__: { dtype: 'U8', shape: [0], data: new Uint8Array(0) } })).toThrow(/invalid tensor name/);
  });
});
