/**
 * Images for the frozen encoder: JPEG decoding (jpeg-js, pure JS) and the resize to the encoder's
 * input, written here in plain TypeScript so the encoder's input is deterministic and independent of
 * the tensor library.
 *
 *   decodeJpeg   bytes → RGB bytes [height, width, 3] (grayscale and CMYK JPEGs come back as RGB)
 *   toModelInput RGB → float [size, size, 3] in [0, 1] (the nsfwjs MobileNetV2 convention: pixel/255),
 *                resized by area averaging (a box filter with fractional pixel coverage: every source
 *                pixel counts, no aliasing when shrinking a 640×480 photo to 224×224); the whole image
 *                is squeezed to a square ("squash", as nsfwjs does) or its central square is taken
 *                ("center").
 */
import jpeg from 'jpeg-js';
import { UserError } from '../../util/errors.js';

export interface RgbImage {
  width: number;
  height: number;
  /** Row-major RGB bytes, width × height × 3. */
  data: Uint8Array;
}

export function decodeJpeg(bytes: Uint8Array, name = 'image'): RgbImage {
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: 200, maxMemoryUsageInMB: 2048 });
  } catch (e) {
    throw new UserError(`${name}: not a decodable JPEG (${(e as Error).message})`);
  }
  const n = img.width * img.height;
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    rgb[i * 3] = img.data[i * 4]!;
    rgb[i * 3 + 1] = img.data[i * 4 + 1]!;
    rgb[i * 3 + 2] = img.data[i * 4 + 2]!;
  }
  return { width: img.width, height: img.height, data: rgb };
}

export type CropMode = 'squash' | 'center';

/** Weights of the source pixels covering each output pixel along one axis (box filter). */
function axisWeights(from: number, length: number, out: number): { start: number; weights: Float64Array }[] {
  const scale = length / out;
  const res: { start: number; weights: Float64Array }[] = [];
  for (let o = 0; o < out; o++) {
    const a = from + o * scale;
    const b = from + (o + 1) * scale;
    const start = Math.floor(a);
    const end = Math.min(Math.ceil(b), from + length);
    const w = new Float64Array(end - start);
    for (let s = start; s < end; s++) w[s - start] = Math.max(0, Math.min(b, s + 1) - Math.max(a, s));
    let total = 0;
    for (const x of w) total += x;
    for (let i = 0; i < w.length; i++) w[i]! /= total;
    res.push({ start, weights: w });
  }
  return res;
}

/** The encoder's input: [size, size, 3] floats in [0, 1], row-major (see the module comment). */
export function toModelInput(img: RgbImage, size: number, crop: CropMode = 'squash'): Float32Array {
  let x0 = 0;
  let y0 = 0;
  let w = img.width;
  let h = img.height;
  if (crop === 'center') {
    const side = Math.min(w, h);
    x0 = Math.floor((w - side) / 2);
    y0 = Math.floor((h - side) / 2);
    w = h = side;
  }
  const xs = axisWeights(x0, w, size);
  const ys = axisWeights(y0, h, size);
  const out = new Float32Array(size * size * 3);
  const row = new Float64Array(size * 3); // one output row accumulated over the source rows it covers
  for (let oy = 0; oy < size; oy++) {
    row.fill(0);
    const { start: sy, weights: wy } = ys[oy]!;
    for (let j = 0; j < wy.length; j++) {
      const base = (sy + j) * img.width * 3;
      for (let ox = 0; ox < size; ox++) {
        const { start: sx, weights: wx } = xs[ox]!;
        let r = 0;
        let g = 0;
        let b = 0;
        for (let i = 0; i < wx.length; i++) {
          const p = base + (sx + i) * 3;
          r += wx[i]! * img.data[p]!;
          g += wx[i]! * img.data[p + 1]!;
          b += wx[i]! * img.data[p + 2]!;
        }
        row[ox * 3] += wy[j]! * r;
        row[ox * 3 + 1] += wy[j]! * g;
        row[ox * 3 + 2] += wy[j]! * b;
      }
    }
    for (let i = 0; i < size * 3; i++) out[oy * size * 3 + i] = row[i]! / 255;
  }
  return out;
}
