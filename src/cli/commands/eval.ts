/** `groundlab eval grounding`: the grounding evaluation of a run, or of every run of a study. */
import { z } from 'zod';
import { type CommandSpec, defineCommand, UsageError } from '../command.js';
import { evaluateRun, evaluateStudy } from '../../study/evaluate.js';
import { formatHeadline, headlineRows, parseShard } from '../../study/study.js';

const fmtP = (p: number) => (!Number.isFinite(p) ? 'NA' : p < 1e-4 ? p.toExponential(1) : p.toPrecision(2));

const grounding = defineCommand({
  name: 'eval grounding',
  summary: 'surprisal of each target in matched and mismatched contexts at every checkpoint, G per word, tests, co-occurrence R²',
  options: z.object({
    run: z.string().optional().describe('run directory (from "groundlab train"); writes RUN/eval/*.csv'),
    study: z.string().optional().describe('study directory: evaluates every run in it (or one shard) and writes STUDY/eval/*.csv'),
    shard: z.string().optional().describe('with --study: only the i-th of n (entry, seed) jobs, "i/n" with i = 1..n'),
    corpus: z.string().optional().describe('with --run: corpus directory (default: the one in run_config.json; its hash must match)'),
    items: z.enum(['all', 'corpus', 'template']).default('all').describe('items to evaluate: corpus-derived, template, or both (each summarised separately)'),
    steps: z.array(z.number().int()).optional().describe('only these checkpoint steps (default: all)'),
    force: z.boolean().default(false).describe('evaluate every checkpoint again (default: skip checkpoints already evaluated)'),
    bootstrap_seed: z.number().int().default(1).describe('seed of the bootstrap resampling over words'),
    iterations: z.number().int().positive().default(10000).describe('bootstrap resamples'),
    batch_tokens: z.number().int().positive().optional().describe('tokens per forward pass (default: from the model size, about 256 MiB of activations)'),
    threads: z.number().int().positive().optional().describe('CPU threads (default: all cores, or GROUNDLAB_THREADS)'),
    quiet: z.boolean().default(false).describe('no progress bar'),
  }),
  details: [
    'Outputs per run (RUN/eval/): grounding.csv (long form: one row per checkpoint, item, condition and mismatch word),',
    'grounding_words.csv (G(v) per word), grounding_summary.csv (per checkpoint: means, bootstrap interval of mean G, Wilcoxon over words),',
    'cooccurrence_r2.csv (R² of G(v) on each co-occurrence statistic), grounding_manifest.json. Re-running skips evaluated checkpoints.',
    'Examples:',
    '  groundlab eval grounding --run studies/demo/runs/gpt2-s42',
    '  groundlab eval grounding --study studies/cpu --shard 2/3',
  ].join('\n'),
  async run(o) {
    if (!o.run === !o.study) throw new UsageError('give exactly one of --run RUN or --study DIR');
    const common = { items: o.items, force: o.force, steps: o.steps, bootstrapSeed: o.bootstrap_seed, iterations: o.iterations, batchTokens: o.batch_tokens, threads: o.threads, quiet: o.quiet };
    if (o.run) {
      if (o.shard) throw new UsageError('--shard goes with --study');
      const r = await evaluateRun({ ...common, run: o.run, corpus: o.corpus });
      console.log(`${o.run}: ${r.evaluated.length} checkpoint(s) evaluated, ${r.reused.length} already done; tables in ${o.run}/eval/`);
      console.log('  step   items     matched  mismatched       G   [95% CI]            Wilcoxon p  words');
      for (const s of r.summary) {
        const n = (k: string) => Number(s[k]);
        console.log(
          `  ${String(s.step).padStart(6)} ${String(s.items).padEnd(9)} ${n('mean_matched').toFixed(3).padStart(7)} ${n('mean_mismatched').toFixed(3).padStart(11)} ${n('mean_G').toFixed(3).padStart(7)}   [${n('G_lo').toFixed(3)}, ${n('G_hi').toFixed(3)}]  ${fmtP(n('wilcoxon_p')).padStart(10)}  ${s.n_words}`,
        );
      }
      return;
    }
    if (o.corpus) throw new UsageError('--corpus goes with --run (a study uses STUDY/corpus)');
    const res = await evaluateStudy({ ...common, study: o.study!, shard: o.shard ? parseShard(o.shard) : undefined });
    console.log(`${o.study}: ${res.results.length} run(s) evaluated${res.missing.length ? `, ${res.missing.length} not trained yet` : ''}; study tables in ${o.study}/eval/`);
    console.log(formatHeadline(headlineRows(res.aggregate)));
  },
});

export const commands: CommandSpec<any>[] = [grounding];
