/**
 * The built-in frozen image encoder: MobileNetV2 (Sandler et al. 2018, width 1.0, 224×224 input)
 * with the weights that ship inside the `nsfwjs` npm package (dist/models/mobilenet_v2: a Keras
 * model converted to TensorFlow.js, uint8-quantised weights, ImageNet-initialised and fine-tuned by
 * nsfwjs for its 5-way classifier), run offline with TensorFlow.js on its WebAssembly backend (pure
 * Wasm, no native binary, no network).
 *
 * Patch features: the last feature map, layer `out_relu` (the ReLU6 after the final 1×1 conv to 1280
 * channels), [7, 7, 1280] for a 224×224 input: 49 patch vectors of 1280 values, row-major over the
 * 7×7 grid (patch p = row·7 + col, each covering 32×32 input pixels). The classifier head on top
 * (pooling, dense layers) is not used. Input: see image.ts (pixel/255, area resize).
 *
 * Determinism: images are encoded one at a time (batch 1), so an image's features do not depend on
 * which other images are encoded or in what order; the Wasm kernels are deterministic on a machine.
 * TensorFlow.js is imported lazily, only by this module.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { UserError } from '../../util/errors.js';

export interface ImageEncoder {
  /** Name and version recorded in features files. */
  readonly name: string;
  readonly inputSize: number;
  /** Patches per image and values per patch. */
  readonly k: number;
  readonly dim: number;
  readonly backend: string;
  /** Patch features [k × dim] of one preprocessed image [inputSize, inputSize, 3]. */
  encode(input: Float32Array): Promise<Float32Array>;
  dispose(): void;
}

export type TfBackend = 'wasm' | 'cpu';

const require = createRequire(import.meta.url);

/** Paths of the MobileNetV2 bundle inside the installed nsfwjs package. */
export function mobilenetBundlePaths(): { model: string; weights: string; version: string } {
  let main: string;
  try {
    main = require.resolve('nsfwjs'); // .../nsfwjs/dist/cjs/index.js
  } catch {
    throw new UserError('the nsfwjs package is not installed: it provides the MobileNetV2 weights of the built-in encoder (npm install nsfwjs), or bring precomputed features with --features');
  }
  const dist = dirname(dirname(main));
  const pkg = require(join(dirname(dist), 'package.json')) as { version: string };
  return { model: join(dist, 'models', 'mobilenet_v2', 'model.min.js'), weights: join(dist, 'models', 'mobilenet_v2', 'group1-shard1of1.min.js'), version: pkg.version };
}

interface ModelJson {
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: unknown[] }[];
}

/** Loads MobileNetV2 from nsfwjs and returns the patch-feature encoder (layer out_relu). */
export async function loadMobileNetV2(opts: { backend?: TfBackend; layer?: string } = {}): Promise<ImageEncoder> {
  const paths = mobilenetBundlePaths();
  const tf = await import('@tensorflow/tfjs');
  const backend = opts.backend ?? 'wasm';
  // The Emscripten glue of the Wasm backend installs process handlers that rethrow every uncaught
  // error from inside its minified source (printing all of it); groundlab handles its own errors,
  // so the handlers it adds are removed again.
  const before = { exc: process.listeners('uncaughtException'), rej: process.listeners('unhandledRejection') };
  try {
    if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
    if (tf.getBackend() !== backend) {
      const ok = await tf.setBackend(backend);
      if (!ok) throw new UserError(`TensorFlow.js backend "${backend}" could not be initialised (try --backend cpu)`);
    }
    await tf.ready();
  } finally {
    for (const l of process.listeners('uncaughtException')) if (!before.exc.includes(l)) process.removeListener('uncaughtException', l);
    for (const l of process.listeners('unhandledRejection')) if (!before.rej.includes(l)) process.removeListener('unhandledRejection', l);
  }
  tf.enableProdMode();
  const json = require(paths.model) as ModelJson;
  const base64 = require(paths.weights) as string;
  // The bundle's weights file is one base64 string for the single shard named in the manifest.
  if (typeof base64 !== 'string' || json.weightsManifest.length !== 1 || json.weightsManifest[0]!.paths.length !== 1) {
    throw new UserError(`${paths.weights}: unexpected nsfwjs bundle layout (one base64 weight shard expected)`);
  }
  const bytes = Buffer.from(base64, 'base64');
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const full = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology as object, weightSpecs: json.weightsManifest[0]!.weights as never, weightData }),
  );
  const layerName = opts.layer ?? 'out_relu';
  let layer;
  try {
    layer = full.getLayer(layerName);
  } catch {
    throw new UserError(`MobileNetV2 has no layer "${layerName}"`);
  }
  const shape = layer.outputShape as (number | null)[];
  if (shape.length !== 4) throw new UserError(`layer ${layerName} has output shape [${shape.join(', ')}], not a feature map [1, rows, cols, channels]`);
  const [rows, cols, dim] = [shape[1]!, shape[2]!, shape[3]!];
  const features = tf.model({ inputs: full.inputs, outputs: layer.output as never });
  const inputSize = (full.inputs[0]!.shape as number[])[1]!;
  return {
    name: `MobileNetV2 (nsfwjs ${paths.version} mobilenet_v2 bundle, layer ${layerName})`,
    inputSize,
    k: rows * cols,
    dim,
    backend: tf.getBackend(),
    async encode(input: Float32Array): Promise<Float32Array> {
      if (input.length !== inputSize * inputSize * 3) throw new Error(`encoder input must be ${inputSize}×${inputSize}×3 floats, got ${input.length}`);
      const x = tf.tensor4d(input, [1, inputSize, inputSize, 3]);
      const y = features.predict(x) as InstanceType<typeof tf.Tensor>;
      try {
        return Float32Array.from(await y.data());
      } finally {
        x.dispose();
        y.dispose();
      }
    },
    dispose() {
      full.dispose(); // also releases the layers the feature model shares with it
    },
  };
}
