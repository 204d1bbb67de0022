/**
 * `groundlab visdial features`: a directory (tree) of JPEG images → a features file (features.ts)
 * with one [patches × dim] tensor per image id, computed by the built-in frozen encoder.
 *
 * Image ids: the number at the end of the file name without leading zeros
 * (000000000790.jpg → "790", COCO_train2014_000000000790.jpg → "790",
 * VisualDialog_val2018_000000239030.jpg → "239030"), as VisDial's image_id and COCO's image id;
 * `--id stem` keeps the whole file name without its extension. Two files with the same id are an
 * error. Files are encoded in path order; each image alone (see mobilenet.ts), so the output is the
 * same whatever the order, and a file's features are a pure function of its bytes.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, relative, resolve } from 'node:path';
import { UserError } from '../../util/errors.js';
import { sha256 } from '../../util/files.js';
import { Progress } from '../../util/progress.js';
import { writeFeatures } from './features.js';
import { type CropMode, decodeJpeg, toModelInput } from './image.js';
import { type ImageEncoder, loadMobileNetV2, type TfBackend } from './mobilenet.js';

export interface ImageFile {
  path: string;
  /** Path relative to its input root (recorded). */
  rel: string;
  id: string;
}

export type IdMode = 'number' | 'stem';

export function imageId(file: string, mode: IdMode = 'number'): string {
  const stem = basename(file, extname(file));
  if (mode === 'stem') return stem;
  const m = /(\d+)$/.exec(stem);
  return m ? String(BigInt(m[1]!)) : stem;
}

/** Every .jpg / .jpeg under the inputs (files or directory trees), sorted by relative path; ids must be unique. */
export function listImages(inputs: readonly string[], mode: IdMode = 'number'): ImageFile[] {
  const out: ImageFile[] = [];
  const isJpeg = (n: string) => /\.jpe?g$/i.test(n);
  const walk = (dir: string, root: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.')) continue;
      const p = join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p, root);
      else if (st.isFile() && isJpeg(name)) out.push({ path: p, rel: relative(root, p).split('\\').join('/'), id: imageId(name, mode) });
    }
  };
  for (const input of inputs) {
    if (!existsSync(input)) throw new UserError(`--images ${input}: no such file or directory`);
    const abs = resolve(input);
    if (statSync(abs).isDirectory()) walk(abs, resolve(abs, '..'));
    else out.push({ path: abs, rel: basename(abs), id: imageId(abs, mode) });
  }
  if (!out.length) throw new UserError(`no .jpg images found under ${inputs.join(', ')}`);
  out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  const seen = new Map<string, string>();
  for (const f of out) {
    const prev = seen.get(f.id);
    if (prev) throw new UserError(`${prev} and ${f.rel} have the same image id "${f.id}"${mode === 'number' ? ' (use --id stem to key by file name)' : ''}`);
    seen.set(f.id, f.rel);
  }
  return out;
}

export interface EncodeOptions {
  images: string[];
  out: string;
  id?: IdMode;
  crop?: CropMode;
  backend?: TfBackend;
  /** Encode only the first N images (0: all). */
  limit?: number;
  quiet?: boolean;
}

export interface EncodeResult {
  out: string;
  images: number;
  k: number;
  dim: number;
  encoder: string;
  backend: string;
  bytes: number;
  /** Mean milliseconds per image: decoding + resizing, and the encoder's forward pass. */
  ms: { decode: number; encode: number; total: number };
}

/** Features of one image file with an encoder (decode, resize, forward). */
export async function encodeImageFile(encoder: ImageEncoder, path: string, crop: CropMode = 'squash'): Promise<Float32Array> {
  const img = decodeJpeg(readFileSync(path), path);
  return encoder.encode(toModelInput(img, encoder.inputSize, crop));
}

export async function encodeImages(opts: EncodeOptions): Promise<EncodeResult> {
  let files = listImages(opts.images, opts.id ?? 'number');
  if (opts.limit && opts.limit > 0) files = files.slice(0, opts.limit);
  const encoder = await loadMobileNetV2({ backend: opts.backend });
  const crop = opts.crop ?? 'squash';
  const features = new Map<string, Float32Array>();
  const bar = new Progress({ total: files.length, label: 'encoding images', unit: 'images', quiet: opts.quiet });
  let tDecode = 0;
  let tEncode = 0;
  const hashes: string[] = [];
  try {
    for (const f of files) {
      const bytes = readFileSync(f.path);
      hashes.push(`${f.id} ${sha256(bytes)}`);
      let t0 = performance.now();
      const input = toModelInput(decodeJpeg(bytes, f.rel), encoder.inputSize, crop);
      tDecode += performance.now() - t0;
      t0 = performance.now();
      features.set(f.id, await encoder.encode(input));
      tEncode += performance.now() - t0;
      bar.tick(1, f.rel);
    }
  } finally {
    encoder.dispose();
  }
  bar.done(`${files.length} images`);
  const bytes = writeFeatures(opts.out, features, encoder.k, encoder.dim, {
    encoder: encoder.name,
    input: `${encoder.inputSize}x${encoder.inputSize} RGB, pixel/255, area resize (${crop})`,
    grid: `${Math.sqrt(encoder.k)}x${Math.sqrt(encoder.k)} patches, row-major`,
    images_sha256: sha256(hashes.join('\n')),
  });
  const n = Math.max(1, files.length);
  return {
    out: opts.out,
    images: files.length,
    k: encoder.k,
    dim: encoder.dim,
    encoder: encoder.name,
    backend: encoder.backend,
    bytes,
    ms: { decode: tDecode / n, encode: tEncode / n, total: (tDecode + tEncode) / n },
  };
}
