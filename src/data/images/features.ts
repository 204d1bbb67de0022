/**
 * Image features files: the frozen encoder's patch vectors per image, in safetensors.
 *
 * Layouts read (F32, F16, BF16 or F64 values):
 *   per image   one tensor per image, named by the image id, shape [patches, dim] (also accepted:
 *               [1, patches, dim] and a grid [rows, cols, dim], read row-major as rows·cols patches).
 *               This is what `groundlab visdial features` writes and the simplest way to bring
 *               features computed elsewhere (e.g. DINOv2 patch tokens: [256, 768] per image).
 *   stacked     a tensor "features" [images, patches, dim] with an integer tensor "image_ids" [images].
 * Every image must have the same [patches, dim]. Metadata (encoder name, input size, ...) is kept.
 *
 * Normalisation (applied when a vector is read, never stored): "rms" divides each patch vector by its
 * root mean square, so the prefix has unit scale whatever the encoder (MobileNetV2's ReLU6 outputs
 * and DINOv2's tokens differ by orders of magnitude); "none" keeps the values.
 */
import { existsSync, statSync } from 'node:fs';
import { UserError } from '../../util/errors.js';
import { readSafetensors, type TensorEntry, toFloat32, toInt32, writeSafetensors } from '../../util/safetensors.js';

export type FeatureNorm = 'rms' | 'none';

/** What the evaluation and the trainer need: the prefix of an image as [k × dim] floats. */
export interface PrefixLookup {
  readonly k: number;
  readonly dim: number;
  has(image: string): boolean;
  /** The image's prefix, row-major [k, dim], normalised. Throws for an unknown image. */
  get(image: string): Float32Array;
}

const isFloat = (e: TensorEntry): boolean => e.dtype === 'F32' || e.dtype === 'F16' || e.dtype === 'BF16' || e.dtype === 'F64';

/** Divides each of the k rows of x (k × dim) by its root mean square (rows of zeros stay zero). */
export function rmsNormalise(x: Float32Array, k: number, dim: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let p = 0; p < k; p++) {
    let ss = 0;
    for (let j = 0; j < dim; j++) ss += x[p * dim + j]! * x[p * dim + j]!;
    const rms = Math.sqrt(ss / dim);
    const inv = rms > 0 ? 1 / rms : 0;
    for (let j = 0; j < dim; j++) out[p * dim + j] = x[p * dim + j]! * inv;
  }
  return out;
}

export class FeatureStore implements PrefixLookup {
  private readonly cache = new Map<string, Float32Array>();

  private constructor(
    readonly path: string,
    private readonly raw: Map<string, Float32Array>,
    readonly k: number,
    readonly dim: number,
    readonly metadata: Record<string, string>,
    readonly norm: FeatureNorm,
  ) {}

  /** Reads a features file in either layout (see the module comment); errors name the file and the tensor. */
  static read(path: string, norm: FeatureNorm = 'none'): FeatureStore {
    if (!existsSync(path) || !statSync(path).isFile()) throw new UserError(`features file not found: ${path} (write one with "groundlab visdial features --images DIR --out FILE", or bring safetensors with one [patches × dim] tensor per image id)`);
    let file;
    try {
      file = readSafetensors(path);
    } catch (e) {
      throw new UserError(`${path}: not a readable safetensors file (${(e as Error).message})`);
    }
    const raw = new Map<string, Float32Array>();
    let k = -1;
    let dim = -1;
    const setShape = (name: string, p: number, d: number) => {
      if (k < 0) [k, dim] = [p, d];
      else if (p !== k || d !== dim) throw new UserError(`${path}: image "${name}" has [${p} × ${d}] patch features, the others [${k} × ${dim}]; every image needs the same shape`);
    };
    const stacked = file.tensors.get('features');
    const ids = file.tensors.get('image_ids');
    if (stacked && ids) {
      if (!isFloat(stacked) || stacked.shape.length !== 3) throw new UserError(`${path}: "features" must be a float tensor [images, patches, dim], found ${stacked.dtype} [${stacked.shape.join(', ')}]`);
      let idv: Int32Array;
      try {
        idv = toInt32(ids);
      } catch {
        throw new UserError(`${path}: "image_ids" must be an integer tensor [images]`);
      }
      const [n, p, d] = stacked.shape as [number, number, number];
      if (idv.length !== n) throw new UserError(`${path}: "image_ids" has ${idv.length} ids for ${n} images in "features"`);
      const all = toFloat32(stacked);
      setShape('features', p, d);
      for (let i = 0; i < n; i++) raw.set(String(idv[i]), all.subarray(i * p * d, (i + 1) * p * d));
    } else {
      for (const [name, e] of file.tensors) {
        if (!isFloat(e)) throw new UserError(`${path}: tensor "${name}" is ${e.dtype}; features must be F32, F16, BF16 or F64`);
        const s = e.shape;
        let p: number;
        let d: number;
        if (s.length === 2) [p, d] = s as [number, number];
        else if (s.length === 3 && s[0] === 1) [p, d] = [s[1]!, s[2]!];
        else if (s.length === 3) [p, d] = [s[0]! * s[1]!, s[2]!];
        else throw new UserError(`${path}: tensor "${name}" has shape [${s.join(', ')}]; expected [patches, dim] (or [1, patches, dim], or a [rows, cols, dim] grid)`);
        setShape(name, p, d);
        raw.set(name, toFloat32(e));
      }
    }
    if (!raw.size) throw new UserError(`${path}: no feature tensors`);
    return new FeatureStore(path, raw, k, dim, file.metadata, norm);
  }

  /** A store over features in memory (tests, the encoder's output before it is written). */
  static fromMap(features: Map<string, Float32Array>, k: number, dim: number, norm: FeatureNorm = 'none', metadata: Record<string, string> = {}): FeatureStore {
    for (const [id, v] of features) if (v.length !== k * dim) throw new Error(`features of "${id}": ${v.length} values, expected ${k} × ${dim}`);
    return new FeatureStore('<memory>', features, k, dim, metadata, norm);
  }

  /** The same features read with another normalisation. */
  withNorm(norm: FeatureNorm): FeatureStore {
    return new FeatureStore(this.path, this.raw, this.k, this.dim, this.metadata, norm);
  }

  ids(): string[] {
    return [...this.raw.keys()];
  }

  has(image: string): boolean {
    return this.raw.has(image);
  }

  /** Stored values, not normalised. */
  rawOf(image: string): Float32Array {
    const v = this.raw.get(image);
    if (!v) throw new UserError(`${this.path}: no features for image "${image}"`);
    return v;
  }

  get(image: string): Float32Array {
    if (this.norm === 'none') return this.rawOf(image);
    let v = this.cache.get(image);
    if (!v) {
      v = rmsNormalise(this.rawOf(image), this.k, this.dim);
      this.cache.set(image, v);
    }
    return v;
  }
}

const byId = (a: string, b: string): number => {
  const na = Number(a);
  const nb = Number(b);
  return Number.isFinite(na) && Number.isFinite(nb) && na !== nb ? na - nb : a < b ? -1 : a > b ? 1 : 0;
};

/**
 * Writes features in the per-image layout (F32, one [k, dim] tensor per image id, ids in numeric
 * order), atomically. Returns the file size in bytes.
 */
export function writeFeatures(path: string, features: Map<string, Float32Array>, k: number, dim: number, metadata: Record<string, string> = {}): number {
  const tensors = new Map<string, TensorEntry>();
  for (const id of [...features.keys()].sort(byId)) {
    const v = features.get(id)!;
    if (v.length !== k * dim) throw new Error(`features of "${id}": ${v.length} values, expected ${k} × ${dim}`);
    tensors.set(id, { dtype: 'F32', shape: [k, dim], data: v });
  }
  return writeSafetensors(path, tensors, { kind: 'groundlab-image-features', layout: 'one [patches, dim] F32 tensor per image id', patches: String(k), dim: String(dim), ...metadata });
}
