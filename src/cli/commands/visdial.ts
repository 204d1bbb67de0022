/**
 * `groundlab visdial build|images|features`: the visual-dialog replications (SPEC §7) from the CLI.
 * The option schemas are the builders' own (src/data/visdial/options.ts).
 */
import { z } from 'zod';
import type { CommandSpec } from '../command.js';
import { CaptionCorpusOptionsSchema, ImageCorpusOptionsSchema } from '../../data/visdial/options.js';

const fmt = (n: number) => n.toLocaleString('en-US');

const build: CommandSpec<typeof CaptionCorpusOptionsSchema> = {
  name: 'visdial build',
  summary: 'build the caption-grounded corpus: caption words as ENV, dialog questions and answers as LAN (VisDial, COCO)',
  options: CaptionCorpusOptionsSchema,
  details: [
    'One dialog is one sequence: <doc> <CAP> caption<ENV> <Q> question<LAN> <A> answer<LAN> ... A COCO image is one sequence too:',
    'its first caption as ENV, its other captions as <D> descriptions (LAN); --coco_mode caption-only gives ENV-only sequences.',
    'Mismatched contexts take the caption of another sequence (same split) that names the mismatch word and not the target.',
    'Examples:',
    '  groundlab visdial build --visdial visdial_1.0_train.zip --out corpora/visdial-cap',
    '  groundlab visdial build --visdial ../shared/data/visdial --coco ../shared/data/coco --out c --min_env 3 --min_lan 3 --split 0.7,0.05,0.25',
    'Outputs: vocab.json, train/val/test.bin, targets.json, items.jsonl, stats.json, diagnostics.jsonl, sequences.jsonl, manifest.json.',
  ].join('\n'),
  async run(opts) {
    const { buildCaptionCorpus } = await import('../../data/visdial/caption-corpus.js');
    const r = await buildCaptionCorpus(opts);
    const s = r.stats;
    console.log(`caption-grounded corpus written to ${r.dir}`);
    console.log(`  ${fmt(s.visual.sequences.visdial)} dialog and ${fmt(s.visual.sequences.coco)} COCO sequences, ${fmt(s.env_tokens)} ENV and ${fmt(s.lan_tokens)} LAN tokens, vocabulary ${fmt(s.vocab_size)}`);
    console.log(`  ${r.targets.words.length} target words (rule ${r.targets.rule}), ${r.items} evaluation items, ${r.diagnostics} diagnostics`);
    console.log(`  next: groundlab corpus stats ${r.dir}`);
  },
};

const images: CommandSpec<typeof ImageCorpusOptionsSchema> = {
  name: 'visdial images',
  summary: 'build the image-grounded corpus: image patch features as a continuous prefix, then the dialog (or captions) as LAN',
  options: ImageCorpusOptionsSchema,
  details: [
    'Each sequence is one image: its k patch vectors (mapped to d_model by the model\'s trained prefix layer) precede <doc> and the',
    'dialog\'s <Q>/<A> words, or, for COCO images without a dialog, its captions (<D>): image-grounded captioning.',
    'Mismatched contexts replace the image by another image (same split) whose text says the mismatch word and not the target.',
    'Examples:',
    '  groundlab visdial features --images ../shared/data/coco/images --out coco.safetensors',
    '  groundlab visdial images --coco ../shared/data/coco --features coco.safetensors --out corpora/coco-img --min_env 3 --min_lan 3',
    '  groundlab visdial images --visdial visdial_1.0_train.zip --features dinov2.safetensors --out corpora/visdial-img',
    'Outputs: the corpus files, prefix.json (features, k, dim, the image of every document) and features.safetensors.',
  ].join('\n'),
  async run(opts) {
    const { buildImageCorpus } = await import('../../data/visdial/image-corpus.js');
    const r = await buildImageCorpus(opts);
    const s = r.stats;
    console.log(`image-grounded corpus written to ${r.dir}`);
    console.log(`  ${fmt(s.visual.sequences.visdial)} dialog and ${fmt(s.visual.sequences.coco)} captioning sequences over ${fmt(s.visual.images)} images (${fmt(r.missingFeatures)} images of the text have no features)`);
    console.log(`  prefix ${r.prefix.k} × ${r.prefix.dim} (${r.prefix.norm} normalised), ${fmt(s.lan_tokens)} LAN tokens, vocabulary ${fmt(s.vocab_size)}`);
    console.log(`  ${r.targets.words.length} target words (rule ${r.targets.rule}), ${r.items} evaluation items, ${r.diagnostics} diagnostics`);
  },
};

const FeaturesOptions = z.object({
  images: z.array(z.string()).describe('JPEG images: files or directory trees (repeat or comma-separate)'),
  out: z.string().describe('features file to write (safetensors, one [49 × 1280] F32 tensor per image id)'),
  id: z.enum(['number', 'stem']).default('number').describe('image id: the number ending the file name (000000000790.jpg → 790, as VisDial/COCO ids), or the whole file stem'),
  crop: z.enum(['squash', 'center']).default('squash').describe('"squash": the whole image resized to 224×224; "center": its central square'),
  backend: z.enum(['wasm', 'cpu']).default('wasm').describe('TensorFlow.js backend (wasm: WebAssembly with SIMD, about 10× faster than cpu)'),
  limit: z.number().int().min(0).default(0).describe('encode only the first N images in path order (0: all)'),
  quiet: z.boolean().default(false).describe('no progress bar'),
});

const features: CommandSpec<typeof FeaturesOptions> = {
  name: 'visdial features',
  summary: 'compute image patch features with the built-in frozen encoder (MobileNetV2 from nsfwjs, TensorFlow.js, offline)',
  positional: ['images'],
  options: FeaturesOptions,
  details: [
    'The encoder is frozen and deterministic: each image is decoded (jpeg-js), resized to 224×224 by area averaging, scaled to [0, 1]',
    'and encoded alone; its last feature map (layer out_relu, 7×7 × 1280) gives 49 patch vectors. To use other features (e.g. DINOv2),',
    'write a safetensors file with one [patches × dim] tensor per image id (F32/F16/BF16) and pass it to "visdial images --features".',
  ].join('\n'),
  async run(opts) {
    const { encodeImages } = await import('../../data/images/encode.js');
    const r = await encodeImages({ ...opts });
    console.log(`features of ${fmt(r.images)} images written to ${r.out} (${(r.bytes / 2 ** 20).toFixed(1)} MiB): ${r.k} patches × ${r.dim}, ${r.encoder}, backend ${r.backend}`);
    console.log(`  ${r.ms.total.toFixed(0)} ms per image (decoding and resizing ${r.ms.decode.toFixed(0)} ms, encoder ${r.ms.encode.toFixed(0)} ms)`);
  },
};

export const commands: CommandSpec<any>[] = [build, images, features];
