/**
 * LSTM learning-rate sweep on validation loss (issue 14: "a fair LSTM"). Trains the LSTM of a
 * preset (default cpu: its shapes, batch and context) once per learning rate on one corpus, with
 * the preset's warm-up share and linear decay over --steps, and prints the validation loss
 * (the trainer's losses.csv, split val) at every evaluation and at the end. The lowest final
 * validation loss wins. Run it on the preset's own corpus when time allows; a shorter run on a
 * CHILDES slice is only a proxy (say so where the number is used).
 *
 *   npx tsx scripts/sweeps/lstm-lr.ts --corpus CORPUS --out DIR --steps 300 --lrs 1e-3,3e-3,1e-2 [--preset cpu] [--threads 1]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getPreset } from '../../src/train/config.js';
import { train } from '../../src/train/trainer.js';
import { parseCsv } from '../../src/util/files.js';

const { values } = parseArgs({
  options: {
    corpus: { type: 'string' },
    out: { type: 'string' },
    preset: { type: 'string', default: 'cpu' },
    steps: { type: 'string', default: '300' },
    lrs: { type: 'string', default: '1e-3,3e-3,1e-2' },
    seed: { type: 'string', default: '42' },
    threads: { type: 'string', default: '1' },
  },
});
if (!values.corpus || !values.out) throw new Error('--corpus and --out are required');
const preset = getPreset(values.preset!);
const steps = Number(values.steps);
const warmup = Math.max(1, Math.round((preset.train.warmup / preset.train.steps) * steps));
const results: { lr: number; final_val: number; curve: string; seconds: number }[] = [];
for (const lr of values.lrs!.split(',').map(Number)) {
  const out = join(values.out, `lstm-lr${lr}`);
  const m = await train({
    corpus: values.corpus,
    out,
    arch: 'lstm',
    preset: preset.name,
    seed: Number(values.seed),
    label: `lstm-lr${lr}`,
    threads: Number(values.threads),
    quiet: true,
    train: { steps, lr, warmup, checkpoints: `list:${steps}`, eval_every: Math.max(1, Math.round(steps / 4)), state_every: steps },
  });
  const val = parseCsv(readFileSync(join(out, 'losses.csv'), 'utf8')).filter((r) => r.split === 'val');
  const final = Number(val[val.length - 1]!.loss);
  results.push({ lr, final_val: final, curve: val.map((r) => `${r.step}:${Number(r.loss).toFixed(3)}`).join(' '), seconds: Math.round(m.train_seconds) });
  console.log(JSON.stringify(results[results.length - 1]));
}
const best = results.reduce((a, b) => (b.final_val < a.final_val ? b : a));
console.log(`best lr ${best.lr} (final validation loss ${best.final_val.toFixed(4)} after ${steps} steps, warm-up ${warmup})`);
