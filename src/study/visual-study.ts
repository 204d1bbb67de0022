/**
 * `groundlab reproduce --visdial PATH [--coco PATH] [--images DIR | --features FILE]`: both
 * visual-dialog settings of SPEC §7 as two studies, trained and evaluated by the standard
 * `reproduce` (study/reproduce.ts) on corpora built here, with one report.
 *
 * Layout of the study directory STUDY (default studies/visdial):
 *   STUDY/                  the caption-grounded study (study.json, runs/, eval/; preset "visdial")
 *   STUDY/corpus/           its corpus (data/visdial/caption-corpus.ts)
 *   STUDY/features.safetensors   image features computed from --images (unless --features is given)
 *   STUDY/image/            the image-grounded study, same layout, corpus in STUDY/image/corpus/
 *   STUDY/visual.json       what was built from what (inputs, corpus options, features)
 *   STUDY/eval/visual_saliency.csv, STUDY/image/eval/visual_saliency.csv   saliency ENV share per
 *                           layer and head at each run's last checkpoint (study/visual-saliency.ts)
 *   STUDY/eval/visual_heads.csv, visual_intervention.csv (+ .json), and the same in STUDY/image/eval/
 *                           aggregate heads and their zero-ablation against random controls, on the
 *                           same items at the same checkpoints (study/visual-heads.ts; not the LSTM)
 *   STUDY/report.html       the report: the standard sections draw the caption-grounded study, the
 *                           "Visual dialog" section both settings side by side (report/sections/visual-dialog.ts)
 * Resumable like `reproduce`: corpora and features are built once (delete them to rebuild), complete
 * runs are skipped, evaluated checkpoints are not evaluated again.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildCaptionCorpus } from '../data/visdial/caption-corpus.js';
import { buildImageCorpus } from '../data/visdial/image-corpus.js';
import type { CaptionCorpusOptionsInput, ImageCorpusOptionsInput } from '../data/visdial/options.js';
import { reproduce, type ReproduceOptions, type ReproduceResult, type Stage, STAGES } from './reproduce.js';
import { aggregateStudy, type StudyAggregate } from './study.js';
import { UserError } from '../util/errors.js';
import { ensureDir, readJson, writeJson } from '../util/files.js';
import { packageRoot } from '../util/version.js';
import { encodeImages } from '../data/images/encode.js';
import { studyVisualHeads } from './visual-heads.js';
import { studyVisualSaliency } from './visual-saliency.js';

/**
 * Corpus options of the "visdial" preset, for the small shared sample (173 dialogs, 159 COCO
 * images): targets need only 3 ENV and 3 LAN occurrences in training, and a quarter of the images
 * is held out so the test split yields items. Defaults of the builders otherwise (sized for the
 * full VisDial); override with `corpusOptions`.
 */
export const VISDIAL_PRESET_CORPUS: Partial<CaptionCorpusOptionsInput & ImageCorpusOptionsInput> = {
  min_env: 3,
  min_lan: 3,
  split: [0.7, 0.05, 0.25],
};

export interface VisualReproduceOptions extends Omit<ReproduceOptions, 'preset' | 'childes' | 'corpus' | 'out' | 'writeReport'> {
  visdial: string[];
  coco: string[];
  /** JPEG images to encode with the built-in encoder (directories or files). */
  images: string[];
  /** A features file to use instead of encoding images. */
  features?: string;
  out?: string;
  preset?: string;
  /** Options for both corpus builders (over VISDIAL_PRESET_CORPUS). */
  corpusOptions?: Partial<CaptionCorpusOptionsInput & ImageCorpusOptionsInput>;
  writeReport?: (studyDir: string, aggregate: StudyAggregate) => Promise<string>;
}

export interface VisualReproduceResult {
  study: string;
  caption: ReproduceResult;
  image: ReproduceResult | null;
  report: string | null;
  features: string | null;
  seconds: { features: number; corpora: number; caption: number; image: number; saliency: number; heads: number; report: number; total: number };
}

const built = (dir: string) => existsSync(join(dir, 'manifest.json')) && existsSync(join(dir, 'vocab.json'));

function findShared(rel: string): string | undefined {
  for (const p of [resolve(rel), resolve(packageRoot, rel)]) if (existsSync(p)) return p;
  return undefined;
}

export async function reproduceVisual(opts: VisualReproduceOptions): Promise<VisualReproduceResult> {
  const t0 = Date.now();
  const log = opts.log ?? ((s: string) => process.stderr.write(`groundlab reproduce: ${s}\n`));
  if (!opts.visdial.length && !opts.coco.length) throw new UserError('the visual-dialog study needs --visdial PATH (VisDial v1.0 JSON) and/or --coco PATH (COCO captions)');
  if (opts.features && opts.images.length) throw new UserError('pass either --images DIR (encode them here) or --features FILE (precomputed), not both');
  const dir = resolve(opts.out ?? join('studies', 'visdial'));
  ensureDir(dir);
  const preset = opts.preset ?? 'visdial';
  const stages = new Set<Stage>(opts.stages ?? STAGES);
  const cdi = findShared('../shared/data/cdi/English_American_WS.csv');
  const common = { visdial: opts.visdial.map((p) => resolve(p)), coco: opts.coco.map((p) => resolve(p)), ...(cdi ? { cdi } : {}), ...VISDIAL_PRESET_CORPUS, ...(opts.corpusOptions ?? {}), quiet: opts.quiet };
  const seconds = { features: 0, corpora: 0, caption: 0, image: 0, saliency: 0, heads: 0, report: 0, total: 0 };

  // 1. Features: given, or computed once from --images into STUDY/features.safetensors.
  let t = Date.now();
  let features: string | null = opts.features ? resolve(opts.features) : null;
  if (!features && opts.images.length) {
    features = join(dir, 'features.safetensors');
    if (!existsSync(features)) {
      log(`encoding the images of ${opts.images.join(', ')} with the built-in MobileNetV2 into ${features}`);
      const r = await encodeImages({ images: opts.images, out: features, quiet: opts.quiet });
      log(`${r.images} images, ${r.k} × ${r.dim} patch features, ${r.ms.total.toFixed(0)} ms per image`);
    }
  }
  seconds.features = (Date.now() - t) / 1000;

  // 2. Corpora (built once).
  t = Date.now();
  const captionCorpus = join(dir, 'corpus');
  const imageDir = join(dir, 'image');
  const imageCorpus = join(imageDir, 'corpus');
  if (!built(captionCorpus)) {
    log(`building the caption-grounded corpus in ${captionCorpus}`);
    await buildCaptionCorpus({ ...common, out: captionCorpus });
  }
  if (features && !built(imageCorpus)) {
    log(`building the image-grounded corpus in ${imageCorpus}`);
    await buildImageCorpus({ ...common, features, out: imageCorpus });
  }
  if (!features) log('image-grounded setting skipped: pass --images DIR (JPEGs named by image id) or --features FILE');
  const visualPath = join(dir, 'visual.json');
  const prev = existsSync(visualPath) ? readJson<Record<string, unknown>>(visualPath) : {};
  writeJson(visualPath, { ...prev, kind: 'groundlab-visual-study', preset, visdial: common.visdial, coco: common.coco, images: opts.images.map((p) => resolve(p)), features, corpus_options: { ...VISDIAL_PRESET_CORPUS, ...(opts.corpusOptions ?? {}) }, settings: { caption: '.', image: features ? 'image' : null } });
  seconds.corpora = (Date.now() - t) / 1000;

  // 3. The two studies through the standard reproduce (train + eval); the report comes last.
  // Training and evaluation through reproduce; corpora are built here, the report comes last (one for
  // both), and the saliency and heads of steps 4-5 stand for the mechanistic suite (run "groundlab analyze
  // --study STUDY" for the full suite on the caption-grounded study; the image study's items need prefixes).
  const base: ReproduceOptions = { ...opts, preset, stages: [...stages].filter((s) => s === 'train' || s === 'eval'), writeReport: undefined, log };
  t = Date.now();
  log('caption-grounded study');
  const caption = await reproduce({ ...base, out: dir, corpus: captionCorpus });
  seconds.caption = (Date.now() - t) / 1000;
  t = Date.now();
  let image: ReproduceResult | null = null;
  if (features) {
    log('image-grounded study');
    image = await reproduce({ ...base, out: imageDir, corpus: imageCorpus });
  }
  seconds.image = (Date.now() - t) / 1000;

  // 4. Where the environment enters (saliency ENV share per layer at each run's last checkpoint).
  t = Date.now();
  const saliency = { caption: stages.has('eval') ? studyVisualSaliency(dir, 'caption') : [], image: stages.has('eval') && features ? studyVisualSaliency(imageDir, 'image') : [] };
  seconds.saliency = (Date.now() - t) / 1000;

  // 5. Aggregate heads and their ablation against random controls (attention models), from the saliency above.
  t = Date.now();
  if (stages.has('eval')) {
    const settings: [string, string, typeof saliency.caption][] = [['caption', dir, saliency.caption]];
    if (features) settings.push(['image', imageDir, saliency.image]);
    for (const [setting, sdir, rows] of settings) {
      const r = studyVisualHeads(sdir, setting, { saliency: rows });
      for (const run of r.runs) if (run.status === 'skipped') log(`heads (${setting}): ${run.label} seed ${run.seed} skipped: ${run.reason}`);
    }
  }
  seconds.heads = (Date.now() - t) / 1000;

  t = Date.now();
  let report: string | null = null;
  if (stages.has('report') && opts.writeReport) report = await opts.writeReport(dir, caption.aggregate ?? aggregateStudy(dir));
  seconds.report = (Date.now() - t) / 1000;
  seconds.total = (Date.now() - t0) / 1000;
  return { study: dir, caption, image, report, features, seconds };
}
