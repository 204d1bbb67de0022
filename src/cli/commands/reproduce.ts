/** `groundlab reproduce`: corpus → training → evaluation → report for a whole preset, resumable. */
import { z } from 'zod';
import type { StudyAggregate } from '../../study/study.js';
import { type CommandSpec, defineCommand } from '../command.js';
import { presetNames } from '../../train/config.js';
import { UserError } from '../../util/errors.js';

const ReproduceCliOptions = z.object({
    preset: z.enum(presetNames).default('demo').describe('demo: synthetic world, minutes on 2 cores; cpu: CHILDES on 2 cores; paper: SPEC §5 sizes'),
    out: z.string().optional().describe('study directory (default studies/<preset>)'),
    childes: z.array(z.string()).default([]).describe('CHAT inputs for the cpu and paper presets (default ../shared/data/childes when present)'),
    corpus: z.string().optional().describe('use this already built corpus directory instead of building one'),
    seeds: z.array(z.number().int()).default([]).describe('seeds to run (default: the preset\'s)'),
    labels: z.array(z.string()).default([]).describe('study entries to run, by label (default: every entry whose architecture is available)'),
    shard: z.string().optional().describe('"i/n": run only the i-th of n (entry, seed) jobs (i = 1..n), e.g. --shard $SLURM_ARRAY_TASK_ID/N'),
    stages: z.array(z.enum(['corpus', 'train', 'eval', 'analyze', 'report'])).default(['corpus', 'train', 'eval', 'analyze', 'report']).describe('stages to run (analyze: saliency, tuned lens, aggregate heads; see "groundlab analyze")'),
    items: z.enum(['all', 'corpus', 'template']).default('all').describe('evaluation items (each source summarised separately)'),
    visdial: z.array(z.string()).default([]).describe('visual dialog (SPEC §7): VisDial v1.0 JSON (files, .zip, directories); runs the caption- and image-grounded studies (preset visdial)'),
    coco: z.array(z.string()).default([]).describe('visual dialog: COCO caption JSON as a second source of captions (and of image-grounded captioning)'),
    images: z.array(z.string()).default([]).describe('visual dialog: JPEG images (named by image id) to encode with the built-in MobileNetV2 for the image-grounded setting'),
    features: z.string().optional().describe('visual dialog: precomputed image features (safetensors, one [patches × dim] tensor per image id, e.g. DINOv2) instead of --images'),
    check: z.boolean().default(false).describe('open the report in headless Chromium afterwards and fail on errors'),
    threads: z.number().int().positive().optional().describe('CPU threads (default: all cores, or GROUNDLAB_THREADS)'),
    quiet: z.boolean().default(false).describe('no progress bars'),
  });
type ReproduceCliOptions = z.infer<typeof ReproduceCliOptions>;

const reproduceCommand = defineCommand({
  name: 'reproduce',
  summary: 'the whole study of a preset in one resumable command: corpus, training, evaluation, report',
  options: ReproduceCliOptions,
  details: [
    'Re-running skips finished work: complete runs are not retrained, unfinished ones resume, evaluated checkpoints are skipped.',
    'Study layout: STUDY/study.json, STUDY/corpus/, STUDY/runs/<label>-s<seed>/ (eval/ and mechanistic/ inside), STUDY/eval/*.csv, STUDY/mechanistic/*.csv, STUDY/report.html.',
    'Examples:',
    '  groundlab reproduce --preset demo',
    '  groundlab reproduce --preset cpu --childes ../shared/data/childes --labels gpt2 --seeds 42',
    '  groundlab reproduce --preset paper --out /scratch/paper --shard $SLURM_ARRAY_TASK_ID/15   # SLURM --array=1-15',
    '  groundlab reproduce --visdial ../shared/data/visdial --coco ../shared/data/coco --images ../shared/data/coco/images   # visual dialog, both settings',
  ].join('\n'),
  async run(o): Promise<void> {
    if (o.visdial.length || o.coco.length || o.preset === 'visdial') return runVisual(o);
    if (o.images.length || o.features) throw new UserError('--images and --features belong to the visual-dialog study: also pass --visdial PATH (and/or --coco PATH)');
    const { reproduce } = await import('../../study/reproduce.js');
    const { formatHeadline } = await import('../../study/study.js');
    const res = await reproduce({ ...studyOptions(o), preset: o.preset, childes: o.childes, corpus: o.corpus, writeReport: await reportWriter() });
    const s = res.seconds;
    console.log(`study ${res.study} (preset ${o.preset})`);
    console.log(formatHeadline(res.headline));
    const { formatClaims } = await import('../../analysis/claims.js');
    console.log(`claims scorecard (${res.study}/claims.csv):`);
    console.log(formatClaims(res.claims));
    console.log(`time: corpus ${s.corpus.toFixed(0)} s, training ${s.train.toFixed(0)} s, evaluation ${s.eval.toFixed(0)} s, mechanistic analyses ${s.analyze.toFixed(0)} s, report ${s.report.toFixed(0)} s, total ${s.total.toFixed(0)} s`);
    for (const e of res.skippedEntries) console.log(`not run: ${e}`);
    await finish(res.report, o.check, res.failures);
  },
});

/** The options both studies take as given on the command line. */
function studyOptions(o: ReproduceCliOptions) {
  return { out: o.out, seeds: o.seeds, labels: o.labels.length ? o.labels : undefined, shard: o.shard, stages: o.stages, items: o.items, threads: o.threads, quiet: o.quiet };
}

/** Writes STUDY/report.html (chart warnings on stderr) when the report stage runs. */
async function reportWriter(title?: string): Promise<(dir: string, aggregate: StudyAggregate) => Promise<string>> {
  const { writeStudyReport } = await import('../../report/study-report.js');
  return async (dir, aggregate) => {
    const r = await writeStudyReport(dir, { aggregate, title });
    for (const w of r.warnings) console.error(`chart warning: ${w}`);
    return r.path;
  };
}

/** Names the report, checks it in headless Chromium with --check, and fails when runs failed. */
async function finish(report: string | null | undefined, check: boolean, failures: readonly { job: string; error: string }[]): Promise<void> {
  if (report) console.log(`report: ${report}`);
  if (report && check) {
    const { checkReportInBrowser } = await import('../../report/check.js');
    const c = await checkReportInBrowser(report);
    if (c.errors.length) throw new UserError(`the report has ${c.errors.length} problem(s) in Chromium:\n  ${c.errors.join('\n  ')}`);
    console.log(`report checked in headless Chromium: ${c.figures} figures, no errors`);
  }
  if (failures.length) throw new UserError(`${failures.length} run(s) failed:\n  ${failures.map((f) => `${f.job}: ${f.error}`).join('\n  ')}`);
}

/** `groundlab reproduce --visdial PATH [--coco PATH] [--images DIR | --features FILE]`: both visual-dialog settings (study/visual-study.ts). */
async function runVisual(o: ReproduceCliOptions): Promise<void> {
  const { reproduceVisual } = await import('../../study/visual-study.js');
  const { formatHeadline } = await import('../../study/study.js');
  const preset = o.preset === 'demo' ? 'visdial' : o.preset; // demo is the default: the visual study's own preset is visdial
  const res = await reproduceVisual({
    ...studyOptions(o),
    visdial: o.visdial,
    coco: o.coco,
    images: o.images,
    features: o.features,
    preset,
    writeReport: await reportWriter(`groundlab visual dialog study (preset ${preset})`),
  });
  console.log(`visual-dialog study ${res.study} (preset ${preset})`);
  console.log('caption-grounded:');
  console.log(formatHeadline(res.caption.headline));
  if (res.image) {
    console.log('image-grounded:');
    console.log(formatHeadline(res.image.headline));
  }
  const s = res.seconds;
  console.log(`time: features ${s.features.toFixed(0)} s, corpora ${s.corpora.toFixed(0)} s, caption study ${s.caption.toFixed(0)} s, image study ${s.image.toFixed(0)} s, saliency ${s.saliency.toFixed(0)} s, heads ${s.heads.toFixed(0)} s, report ${s.report.toFixed(0)} s, total ${s.total.toFixed(0)} s`);
  await finish(res.report, o.check, [...res.caption.failures, ...(res.image?.failures ?? [])]);
}

export const commands: CommandSpec<any>[] = [reproduceCommand];
