/**
 * Per-step training time of every study entry of a preset at the preset's shapes (batch, context,
 * vocabulary cap), on this machine (issue 14: the presets' time estimates come from these numbers).
 * Each entry: its model built with the preset's config, BENCH_STEPS training steps on random tokens
 * (bench/workers/step-timing.ts: forward, cross-entropy, backward, clipping, AdamW), the median
 * after 2 warm-up steps, wall and process CPU time. The load average is printed before and after:
 * on a shared machine wall time grows with the load, so estimates say which load they were taken at.
 *
 *   npx tsx bench/preset-steps.ts cpu            BENCH_STEPS=6
 *   npx tsx bench/preset-steps.ts mid
 *   BENCH_MODEL='{"n_layer":8,"n_embd":256,"n_head":8}' npx tsx bench/preset-steps.ts cpu gpt2   (one entry, shape overrides)
 */
import { availableParallelism, loadavg } from 'node:os';
import * as E from '../src/engine/index.js';
import { createModel } from '../src/models/index.js';
import { getPreset } from '../src/train/config.js';
import { medianAfterWarmup, timeTrainingSteps } from './workers/step-timing.js';

const presetName = process.argv[2] ?? 'cpu';
const only = process.argv[3];
const steps = Number(process.env.BENCH_STEPS ?? '6');
const preset = getPreset(presetName);
const vocab = Number((preset.corpusOptions?.max_vocab as number | undefined) || process.env.BENCH_VOCAB || 5000);
const extra = process.env.BENCH_MODEL ? (JSON.parse(process.env.BENCH_MODEL) as Record<string, number>) : {};
const la = () => loadavg().map((x) => x.toFixed(2)).join(' ');
console.log(`preset ${preset.name}: batch ${preset.train.batch_size} × context ${preset.train.context}, vocabulary ${vocab}, ${E.getThreads()} threads on ${availableParallelism()} cores; load average before: ${la()}`);
const rows: Record<string, unknown>[] = [];
for (const entry of preset.study) {
  if (only && entry.label !== only) continue;
  const train = { ...preset.train, ...(entry.train ?? {}) };
  const cfg: Record<string, number> = { ...entry.model, ...extra, vocab_size: vocab };
  if ('n_positions' in cfg && cfg.n_positions! < train.context) cfg.n_positions = train.context;
  const model = createModel(entry.arch, cfg);
  const t = timeTrainingSteps(model, { vocab, batch: train.batch_size, seq: train.context }, steps);
  const ms = medianAfterWarmup(t.times);
  const cpu = medianAfterWarmup(t.cpu);
  const row = { label: entry.label, arch: entry.arch, params: model.params.count, model: JSON.stringify({ ...entry.model, ...extra }), steps: train.steps, ms_per_step: Math.round(ms), cpu_ms_per_step: Math.round(cpu), train_hours_per_seed: +((ms * train.steps) / 3.6e6).toFixed(2), load: la() };
  rows.push(row);
  console.log(JSON.stringify(row));
  E.pool.clear();
}
console.log(`load average after: ${la()}`);
