/**
 * Image features: JPEG decoding and the area resize, the features file layouts, and the built-in
 * MobileNetV2 encoder on real COCO images (deterministic, [49 × 1280], independent of what else is
 * encoded).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/util/safetensors.js';
import { encodeImageFile, encodeImages, imageId, listImages } from '../../src/data/images/encode.js';
import { FeatureStore, rmsNormalise, writeFeatures } from '../../src/data/images/features.js';
import { decodeJpeg, toModelInput } from '../../src/data/images/image.js';
import { loadMobileNetV2 } from '../../src/data/images/mobilenet.js';
import { COCO } from './helpers.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'gl-visdial-feat-'));
const IMAGES = join(COCO, 'images');

describe('images', () => {
  it('decodes JPEG to RGB and resizes by area averaging', () => {
    // A 4×2 image: left half red, right half blue, encoded at top quality.
    const w = 4;
    const h = 2;
    const data = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(x < 2 ? [255, 0, 0, 255] : [0, 0, 255, 255], (y * w + x) * 4);
    const img = decodeJpeg(jpeg.encode({ width: w, height: h, data }, 100).data);
    expect([img.width, img.height, img.data.length]).toEqual([4, 2, 24]);
    // Area resize of a synthetic image: each output pixel is the mean of the block it covers.
    const src = { width: 4, height: 4, data: Uint8Array.from({ length: 48 }, (_, i) => (Math.floor(i / 3) % 4 < 2 ? 0 : 200)) };
    const out = toModelInput(src, 2);
    expect(Array.from(out).map((v) => Math.round(v * 255))).toEqual([0, 0, 0, 200, 200, 200, 0, 0, 0, 200, 200, 200]);
    const up = toModelInput({ width: 1, height: 1, data: Uint8Array.of(51, 102, 153) }, 3);
    for (let p = 0; p < 9; p++) expect(Array.from(up.slice(p * 3, p * 3 + 3))).toEqual([0.2, 0.4, 0.6].map((v) => Math.fround(v)));
    const center = toModelInput({ width: 3, height: 1, data: Uint8Array.of(0, 0, 0, 90, 90, 90, 0, 0, 0) }, 1, 'center');
    expect(Math.round(center[0]! * 255)).toBe(90);
    expect(() => decodeJpeg(Uint8Array.of(1, 2, 3), 'x.jpg')).toThrow(/x\.jpg: not a decodable JPEG/);
  });

  it('names images by the number ending their file name', () => {
    expect(imageId('000000000790.jpg')).toBe('790');
    expect(imageId('COCO_train2014_000000000790.jpg')).toBe('790');
    expect(imageId('VisualDialog_val2018_000000239030.jpg')).toBe('239030');
    expect(imageId('kitchen.jpeg')).toBe('kitchen');
    expect(imageId('000000000790.jpg', 'stem')).toBe('000000000790');
    const files = listImages([IMAGES]);
    expect(files.length).toBe(239);
    expect(files[0]!.rel).toBe('images/train2017/000000000790.jpg');
  });
});

describe('features files', () => {
  it('round-trips the per-image layout and reads the stacked and grid layouts', () => {
    const dir = tmp();
    const a = Float32Array.from({ length: 6 }, (_, i) => i + 1);
    const b = Float32Array.from({ length: 6 }, (_, i) => -i);
    writeFeatures(join(dir, 'f.safetensors'), new Map([['22', b], ['3', a]]), 2, 3, { encoder: 'test' });
    const s = FeatureStore.read(join(dir, 'f.safetensors'));
    expect(s.ids()).toEqual(['3', '22']); // numeric order
    expect([s.k, s.dim, s.metadata.encoder]).toEqual([2, 3, 'test']);
    expect(s.get('3')).toEqual(a);
    // rms: each patch row divided by its root mean square.
    const n = s.withNorm('rms').get('3');
    expect(Array.from(n.slice(0, 3)).map((x) => +x.toFixed(5))).toEqual([1, 2, 3].map((x) => +(x / Math.sqrt(14 / 3)).toFixed(5)));
    expect(rmsNormalise(new Float32Array(3), 1, 3)).toEqual(new Float32Array(3));
    // Stacked: features [N, P, D] + image_ids.
    writeSafetensors(join(dir, 's.safetensors'), { features: { dtype: 'F32', shape: [2, 2, 3], data: Float32Array.from([...a, ...b]) }, image_ids: { dtype: 'I64', shape: [2], data: BigInt64Array.of(7n, 9n) } });
    const st = FeatureStore.read(join(dir, 's.safetensors'));
    expect(st.get('9')).toEqual(b);
    // A [rows, cols, dim] grid in F16 (DINOv2-style files often are half precision).
    writeSafetensors(join(dir, 'g.safetensors'), { '5': { dtype: 'F16', shape: [1, 2, 3], data: Uint16Array.of(0x3c00, 0x4000, 0x4200, 0, 0xbc00, 0x3800) } });
    const g = FeatureStore.read(join(dir, 'g.safetensors'));
    expect([g.k, g.dim]).toEqual([2, 3]);
    expect(Array.from(g.get('5'))).toEqual([1, 2, 3, 0, -1, 0.5]);
  });

  it('rejects files it cannot use, with the reason', () => {
    const dir = tmp();
    writeSafetensors(join(dir, 'm.safetensors'), { '1': { dtype: 'F32', shape: [2, 3], data: new Float32Array(6) }, '2': { dtype: 'F32', shape: [3, 3], data: new Float32Array(9) } });
    expect(() => FeatureStore.read(join(dir, 'm.safetensors'))).toThrow(/every image needs the same shape/);
    writeSafetensors(join(dir, 'i.safetensors'), { '1': { dtype: 'I32', shape: [2, 3], data: new Int32Array(6) } });
    expect(() => FeatureStore.read(join(dir, 'i.safetensors'))).toThrow(/must be F32, F16, BF16 or F64/);
    writeFileSync(join(dir, 'x.safetensors'), 'nope');
    expect(() => FeatureStore.read(join(dir, 'x.safetensors'))).toThrow(/not a readable safetensors file/);
    expect(() => FeatureStore.read(join(dir, 'missing.safetensors'))).toThrow(/features file not found/);
    expect(() => FeatureStore.read(join(dir, 'm.safetensors')).get('nope')).toThrow();
  });
});

describe('MobileNetV2 encoder (nsfwjs weights, TensorFlow.js Wasm)', () => {
  it('gives deterministic [49 × 1280] ReLU6 patch features of real COCO images, whatever else is encoded', async () => {
    const files = listImages([IMAGES]).slice(0, 3);
    const enc = await loadMobileNetV2();
    expect([enc.k, enc.dim, enc.inputSize, enc.backend]).toEqual([49, 1280, 224, 'wasm']);
    const first = await encodeImageFile(enc, files[0]!.path);
    const second = await encodeImageFile(enc, files[1]!.path);
    const again = await encodeImageFile(enc, files[0]!.path);
    enc.dispose();
    expect(first.length).toBe(49 * 1280);
    expect(again).toEqual(first);
    expect(second).not.toEqual(first);
    expect(Math.min(...first)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...first)).toBeLessThanOrEqual(6);
    expect(first.filter((x) => x > 0).length).toBeGreaterThan(500); // not a dead map
    // A fresh encoder, the file encoded after a different one, through the features file: the same bytes.
    const dir = tmp();
    const r = await encodeImages({ images: [files[2]!.path, files[0]!.path], out: join(dir, 'f.safetensors'), quiet: true });
    expect(r.images).toBe(2);
    const s = FeatureStore.read(join(dir, 'f.safetensors'));
    expect(s.ids()).toEqual([files[0]!.id, files[2]!.id].sort((a, b) => Number(a) - Number(b)));
    expect(s.get(files[0]!.id)).toEqual(first);
    expect(s.metadata.encoder).toMatch(/MobileNetV2/);
    expect(readFileSync(join(dir, 'f.safetensors')).length).toBe(r.bytes);
  });
});
