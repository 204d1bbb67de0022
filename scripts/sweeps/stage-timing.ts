/**
 * Per-checkpoint cost of the evaluation and the mechanistic suite at a preset's shapes (issue 14:
 * the presets' time estimates). Trains one entry of the preset for --steps updates on a corpus
 * (checkpoints 0 and --steps), then times the grounding evaluation and the mechanistic suite
 * (saliency, tuned lens with the preset's early stopping, heads) of the last checkpoint. Prints
 * wall and process CPU seconds per stage, the item count and the load average.
 *
 *   npx tsx scripts/sweeps/stage-timing.ts --corpus CORPUS --out DIR --preset cpu --label gpt2 --steps 100
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { analyzeRun } from '../../src/study/mechanistic.js';
import { evaluateRun } from '../../src/study/evaluate.js';
import { loadItems } from '../../src/data/contract.js';
import { getPreset } from '../../src/train/config.js';
import { train } from '../../src/train/trainer.js';

const { values } = parseArgs({
  options: {
    corpus: { type: 'string' },
    out: { type: 'string' },
    preset: { type: 'string', default: 'cpu' },
    label: { type: 'string', default: 'gpt2' },
    steps: { type: 'string', default: '100' },
  },
});
const preset = getPreset(values.preset!);
const entry = preset.study.find((e) => e.label === values.label);
if (!entry || !values.corpus || !values.out) throw new Error('--corpus, --out and a --label of the preset are required');
const steps = Number(values.steps);
const timed = async <T>(f: () => Promise<T>) => {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r = await f();
  const c = process.cpuUsage(c0);
  return { r, wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
};
const la = () => loadavg().map((x) => x.toFixed(1)).join(' ');
console.log(`load before ${la()}`);
const tr = await timed(() =>
  train({ corpus: values.corpus!, out: values.out!, arch: entry.arch, preset: preset.name, seed: 42, label: entry.label, model: entry.model, quiet: true, train: { ...(entry.train ?? {}), steps, checkpoints: `list:0,${steps}`, eval_every: steps, state_every: steps } }),
);
console.log(JSON.stringify({ stage: 'train', steps, wall_s: +tr.wall.toFixed(1), cpu_s: +tr.cpu.toFixed(1), load: la() }));
const items = loadItems(values.corpus!);
const ev = await timed(() => evaluateRun({ run: values.out!, corpus: values.corpus!, steps: [steps], quiet: true }));
console.log(JSON.stringify({ stage: 'eval, one checkpoint', items: items.length, corpus_items: items.filter((i) => i.source.kind === 'corpus').length, wall_s: +ev.wall.toFixed(1), cpu_s: +ev.cpu.toFixed(1), load: la() }));
const an = await timed(() => analyzeRun({ run: values.out!, corpus: values.corpus!, steps: [steps], quiet: true }));
console.log(JSON.stringify({ stage: 'mechanistic suite, one checkpoint', wall_s: +an.wall.toFixed(1), cpu_s: +an.cpu.toFixed(1), load: la() }));
