/**
 * `groundlab analyze saliency|lens|heads|all`: the mechanistic suite (SPEC §6) over the
 * checkpoints of a run, or of every run of a study. Tables in RUN/mechanistic/ (and
 * STUDY/mechanistic/ across seeds); see src/study/mechanistic-tables.ts.
 */
import { z } from 'zod';
import { type CommandSpec, defineCommand, UsageError } from '../command.js';
import type { Analysis, MechanisticOptions } from '../../study/mechanistic.js';

const fmtP = (p: number) => (!Number.isFinite(p) ? 'NA' : p < 1e-4 ? p.toExponential(1) : p.toPrecision(2));
const f3 = (x: unknown) => (Number.isFinite(Number(x)) && x !== '' ? Number(x).toFixed(3) : 'NA');

const common = {
  run: z.string().optional().describe('run directory (from "groundlab train"); writes RUN/mechanistic/'),
  study: z.string().optional().describe('study directory: every run in it (or one shard), then STUDY/mechanistic/ across seeds'),
  shard: z.string().optional().describe('with --study: only the i-th of n (entry, seed) jobs, "i/n"'),
  corpus: z.string().optional().describe('with --run: corpus directory (default: the one in run_config.json; its hash must match)'),
  steps: z.string().optional().describe('checkpoints: all | last | every:N | list:a,b,c (default: the preset\'s; demo every:200, others all)'),
  items: z.enum(['auto', 'corpus', 'template']).default('auto').describe('matched items analysed (auto: corpus-derived items when the corpus has them)'),
  max_items: z.number().int().positive().optional().describe('at most this many items, spread over words'),
  batch_size: z.number().int().positive().default(32).describe('items per forward/backward pass of the saliency'),
  force: z.boolean().default(false).describe('recompute every checkpoint (default: reuse RUN/mechanistic/parts)'),
  threads: z.number().int().positive().optional().describe('CPU threads (default: all cores, or GROUNDLAB_THREADS)'),
  quiet: z.boolean().default(false).describe('no progress bar'),
};

const saliencyOpts = {
  map_layer: z.number().int().positive().optional().describe('layer (1-based) of the displayed token × token saliency (default: where the ENV flow peaks)'),
  map_head: z.number().int().positive().optional().describe('with --map_layer: one head (1-based; default: the whole layer, |Σ_h A ⊙ ∂L/∂A|)'),
  map_items: z.enum(['per-word', 'all', 'none']).default('per-word').describe('items whose map is written to saliency_maps.jsonl'),
};

const lensOpts = {
  lens_steps: z.number().int().nonnegative().optional().describe('tuned-lens AdamW updates per checkpoint, a cap: training stops earlier on a validation-KL plateau (0: logit lens only; default: the preset\'s: tiny 8, demo, cpu and mid 600, paper 4000)'),
  lens_lr: z.number().positive().optional().describe('tuned-lens peak learning rate (default: the preset\'s; paper 5e-4)'),
  lens_warmup: z.number().int().nonnegative().optional().describe('tuned-lens warm-up steps (paper 1,000)'),
  lens_batch: z.number().int().positive().optional().describe('training sequences per update'),
  lens_context: z.number().int().positive().optional().describe('tokens per training sequence (at most the run\'s context)'),
  lens_rows: z.number().int().nonnegative().optional().describe('positions per update entering the KL (0: all)'),
};

const headOpts = {
  head_rule: z
    .string()
    .optional()
    .describe('head selection rules, comma-separated: METRIC>=X | top:K[:METRIC] | legacy (ENV share ≥ 0.30), each optionally +floor:F; METRIC: env_share, ground_share, env_enrichment, ground_enrichment, env_flow, ground_flow, layer_flow_share, total (default: ground_enrichment>=2+floor:0.05,layer_flow_share>=0.3+floor:0.05,legacy)'),
  ablation: z.enum(['zero', 'mean']).default('zero').describe('ablate a head by zeroing its output, or by its mean output over training positions'),
  controls: z.number().int().positive().optional().describe("random control sets of as many heads per test, seeded (default: the preset's: tiny 5, demo 10, else 20)"),
  control_seed: z.number().int().default(1).describe('seed of the control draws'),
  layer_matched: z.boolean().default(true).describe('draw each control head from the layer of the head it stands for (nearest layer when that layer runs out; --no-layer_matched: any layer)'),
  cross_fit: z.boolean().default(true).describe('select heads on one half of the words and test them on the other (--no-cross_fit: select and test on all items)'),
  max_mismatches: z.number().int().positive().optional().describe("mismatches per item in the ablation tests (default: the preset's: tiny 2, demo 3, cpu 5, else all; fewer is faster)"),
  patching: z.boolean().default(false).describe('also patch each selected head from matched into mismatched contexts and back (% of G restored)'),
};

type Opts = { [k: string]: any };

function toOptions(o: Opts, analyses: Analysis[]): Omit<MechanisticOptions, 'run'> {
  if (o.map_head !== undefined && o.map_layer === undefined) throw new UsageError('--map_head needs --map_layer');
  const lens: Record<string, number> = {};
  if (o.lens_steps !== undefined) lens.steps = o.lens_steps;
  if (o.lens_lr !== undefined) lens.lr = o.lens_lr;
  if (o.lens_warmup !== undefined) lens.warmup = o.lens_warmup;
  if (o.lens_batch !== undefined) lens.batchSize = o.lens_batch;
  if (o.lens_context !== undefined) lens.context = o.lens_context;
  if (o.lens_rows !== undefined) lens.rows = o.lens_rows;
  return {
    analyses,
    steps: o.steps,
    items: o.items,
    maxItems: o.max_items,
    batchSize: o.batch_size,
    force: o.force,
    threads: o.threads,
    quiet: o.quiet,
    map: o.map_layer !== undefined ? { layer: o.map_layer, head: o.map_head ?? null } : 'auto',
    mapItems: o.map_items,
    lens,
    headRules: o.head_rule ? String(o.head_rule).split(',').map((r: string) => r.trim()).filter(Boolean) : undefined,
    ablation: o.ablation,
    draws: o.controls,
    controlSeed: o.control_seed,
    layerMatched: o.layer_matched,
    crossFit: o.cross_fit,
    maxMismatches: o.max_mismatches,
    patching: o.patching,
  };
}

async function execute(o: Opts, analyses: Analysis[]): Promise<void> {
  if (!o.run === !o.study) throw new UsageError('give exactly one of --run RUN or --study DIR');
  const { analyzeRun, analyzeStudy } = await import('../../study/mechanistic.js');
  const { aggregateMechanistic } = await import('../../study/mechanistic-study.js');
  const { parseShard } = await import('../../study/study.js');
  const opts = toOptions(o, analyses);
  if (o.run) {
    if (o.shard) throw new UsageError('--shard goes with --study');
    const r = await analyzeRun({ ...opts, run: o.run, corpus: o.corpus });
    const done = analyses.map((a) => `${a}: ${r.computed[a].length} computed, ${r.reused[a].length} reused`).join('; ');
    console.log(`${o.run}: ${done} (${r.seconds.toFixed(0)} s); tables in ${o.run}/mechanistic/`);
  } else {
    if (o.corpus) throw new UsageError('--corpus goes with --run (a study uses STUDY/corpus)');
    const res = await analyzeStudy({ ...opts, study: o.study, shard: o.shard ? parseShard(o.shard) : undefined, onRun: (j) => !o.quiet && console.error(`== ${j.label} seed ${j.seed}`) });
    console.log(`${o.study}: ${res.results.length} run(s) analysed${res.missing.length ? `, ${res.missing.length} without checkpoints` : ''}; study tables in ${o.study}/mechanistic/`);
  }
  // A short summary of what was computed (study: means over seeds).
  if (o.study) {
    const agg = aggregateMechanistic(o.study, { write: false });
    printSummary(agg.studySaliency, agg.studyIntervention, analyses);
  } else {
    const { readCsvTable } = await import('../../study/tables.js');
    const T = await import('../../study/mechanistic-tables.js');
    const dir = `${o.run}/${T.MECH_DIR}`;
    printSummary(readCsvTable(`${dir}/${T.MECH_FILES.saliency}`, T.SALIENCY_NUMERIC), readCsvTable(`${dir}/${T.MECH_FILES.intervention}`, T.INTERVENTION_NUMERIC), analyses);
  }
}

function printSummary(saliency: Record<string, unknown>[], intervention: Record<string, unknown>[], analyses: Analysis[]): void {
  if (analyses.includes('saliency') && saliency.length) {
    console.log('  where the ENV saliency flow peaks (layer, 1-based):');
    const key = (r: Record<string, unknown>) => `${r.label}\t${r.step}`;
    const best = new Map<string, Record<string, unknown>>();
    const bestShare = new Map<string, Record<string, unknown>>();
    for (const r of saliency) {
      if (r.unit !== 'layer') continue;
      if (!best.has(key(r)) || Number(r.env_flow) > Number(best.get(key(r))!.env_flow)) best.set(key(r), r);
      if (!bestShare.has(key(r)) || Number(r.env_share) > Number(bestShare.get(key(r))!.env_share)) bestShare.set(key(r), r);
    }
    for (const [k, r] of best) {
      const q = bestShare.get(k)!;
      console.log(`    ${String(r.label).padEnd(10)} step ${String(r.step).padStart(6)}  layer ${r.layer} (ENV flow ${Number(r.env_flow).toPrecision(3)}, share ${f3(r.env_share)});  largest ENV share: layer ${q.layer} (${f3(q.env_share)})`);
    }
    const uniform = Number(saliency.find((r) => r.uniform_share !== undefined && r.uniform_share !== '')?.uniform_share);
    if (Number.isFinite(uniform)) {
      console.log(`  ENV positions are ${(100 * uniform).toFixed(0)}% of the items' contexts: uniform saliency alone gives an ENV share of ${f3(uniform)} (column uniform_share)${uniform >= 0.3 ? '; the legacy 0.30 rule then selects almost every head' : ''}`);
    }
  }
  if (analyses.includes('heads') && intervention.length) {
    console.log('  intervention: heads of each rule ablated (each fold on its held-out words) vs random same-size sets');
    console.log('    model      step   rule                                heads  matched: ablated control unablated   p     ΔG ablated  control  p(ΔG)');
    for (const r of intervention) {
      console.log(
        `    ${String(r.label).padEnd(10)} ${String(r.step).padStart(6)}  ${String(r.selection).padEnd(34)} ${String(Number(r.n_heads).toFixed(r.n_seeds && Number(r.n_seeds) > 1 ? 2 : 0)).padStart(5)}  ${f3(r.intervened).padStart(15)} ${f3(r.control).padStart(7)} ${f3(r.original).padStart(9)}  ${fmtP(Number(r.p ?? r.p_items)).padStart(7)}  ${f3(r.dG).padStart(8)}  ${f3(r.dG_control).padStart(8)}  ${fmtP(Number(r.p_dG ?? r.p_dG_items))}${controlNote(r)}`,
      );
    }
  }
}

/** Flags intervention rows without a test: no heads selected, or too few other heads for a control of the same size (NA). */
function controlNote(r: Record<string, unknown>): string {
  if (r.na) return `  (NA: ${r.na})`;
  if (r.control === undefined || r.control === null || r.control === '' || !Number.isFinite(Number(r.control))) return '  (NA: no heads selected, or too few other heads for a control of the same size)';
  return '';
}

const examples = (sub: string) =>
  ['Examples:', `  groundlab analyze ${sub} --run studies/demo/runs/gpt2-s42`, `  groundlab analyze ${sub} --study studies/cpu --steps every:1000`].join('\n');

const saliency = defineCommand({
  name: 'analyze saliency',
  summary: 'attention saliency |A ⊙ ∂L/∂A| from ENV tokens to the prediction, per layer and head, at every checkpoint',
  options: z.object({ ...common, ...saliencyOpts }),
  details: [
    'Outputs (RUN/mechanistic/): saliency_items.csv (per item, layer, head), saliency.csv (means over items),',
    'saliency_maps.jsonl (token × token saliency of one layer or head for one item per word). Mamba-2: the SSD\'s',
    'implicit attention; LSTM: gradient × input of each layer\'s input.',
    examples('saliency'),
  ].join('\n'),
  run: (o) => execute(o, ['saliency']),
});

const lens = defineCommand({
  name: 'analyze lens',
  summary: 'tuned lens (trained per checkpoint, base frozen) and logit lens: target surprisal per layer, adjacent-layer tests',
  options: z.object({ ...common, ...lensOpts }),
  details: [
    'Outputs (RUN/mechanistic/): lens_items.csv, lens.csv (per layer, matched and mismatched contexts), lens_tests.csv',
    '(one-sided Welch t-test: is layer l+1 lower than layer l; paired t-test too), lens_training.csv (validation KL),',
    'lens/step_N.safetensors (the lens, with the sha256 of the unembedding it was trained against).',
    examples('lens'),
  ].join('\n'),
  run: (o) => execute(o, ['lens']),
});

const heads = defineCommand({
  name: 'analyze heads',
  summary: 'grounding heads: named selection rules, each head and set ablated (zero or mean) against same-size random controls on held-out words; ΔG, Holm-corrected verdicts, the SPEC §1 table',
  options: z.object({ ...common, ...saliencyOpts, ...headOpts }),
  details: [
    'Computes the saliency of each checkpoint first (reused when present). Outputs (RUN/mechanistic/): heads.csv',
    '(per rule and head: metrics, per-fold selection and test, ΔG vs controls, p_holm, verdict grounding 1/0),',
    'intervention.csv (per checkpoint and rule: matched surprisal ablated / control / unablated, ΔG and its control,',
    'one-sided paired t-tests), intervention_items.csv. The LSTM has no heads (skipped).',
    examples('heads'),
  ].join('\n'),
  run: (o) => execute(o, ['saliency', 'heads']),
});

const all = defineCommand({
  name: 'analyze all',
  summary: 'saliency, tuned lens and heads in one pass over the checkpoints',
  options: z.object({ ...common, ...saliencyOpts, ...lensOpts, ...headOpts }),
  details: examples('all'),
  run: (o) => execute(o, ['saliency', 'lens', 'heads']),
});

export const commands: CommandSpec<any>[] = [saliency, lens, heads, all];
