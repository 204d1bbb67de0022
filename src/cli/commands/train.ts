/** `groundlab train` and `groundlab presets`. */
import { z } from 'zod';
import { type CommandSpec, defineCommand } from '../command.js';
import { archEntry, availableArchs } from '../../models/index.js';
import type { Arch } from '../../models/types.js';
import { presetNames, presets, trainSchema } from '../../train/config.js';
import { train } from '../../train/trainer.js';

/** model.* options: every config field of every architecture, optional (defaults come from the preset). */
function modelOptions() {
  const shape: Record<string, z.ZodType> = {};
  for (const arch of availableArchs()) {
    for (const [field, desc] of Object.entries(archEntry(arch).describe)) {
      if (field === 'vocab_size') continue;
      const prev = shape[field]?.description;
      shape[field] = z.number().optional().describe(prev ? prev.replace(/\]$/, `, ${arch}]`) : `${desc} [${arch}]`);
    }
  }
  return z.object(shape).default({});
}

function trainOptions() {
  const shape: Record<string, z.ZodType> = {};
  for (const [k, v] of Object.entries(trainSchema.shape)) shape[k] = (v as z.ZodType).optional().describe(`${(v as z.ZodType).description} (default from the preset)`);
  return z.object(shape).default({});
}

function presetTable(): string {
  const lines = ['Presets (training defaults; model sizes per architecture):'];
  for (const p of presets.values()) {
    const t = p.train;
    lines.push(`  ${p.name.padEnd(6)} ${p.description}`);
    lines.push(`         steps ${t.steps}, batch ${t.batch_size} × context ${t.context}, lr ${t.lr}, warm-up ${t.warmup}, ${t.decay} decay, clip ${t.grad_clip}, checkpoints ${t.checkpoints}`);
    for (const [arch, m] of Object.entries(p.models)) lines.push(`         ${arch}: ${Object.entries(m).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }
  return lines.join('\n');
}

const trainCommand = defineCommand({
  name: 'train',
  summary: 'train one model from scratch on a corpus (resumes an interrupted run in the same --out)',
  options: z.object({
    corpus: z.string().describe('corpus directory (vocab.json, train.bin, val.bin, test.bin)'),
    out: z.string().describe('run directory; an existing unfinished run there is resumed, a finished one is left as is'),
    arch: z.enum(availableArchs() as [Arch, ...Arch[]]).default('gpt2').describe('architecture'),
    preset: z.enum(presetNames).default('demo').describe('size and schedule preset'),
    seed: z.number().int().default(42).describe('seed for initialisation and data order'),
    label: z.string().optional().describe('name of the run in studies and figures (default: the architecture)'),
    threads: z.number().int().positive().optional().describe('CPU threads (default: all cores, or GROUNDLAB_THREADS)'),
    quiet: z.boolean().default(false).describe('no progress bar'),
    model: modelOptions(),
    train: trainOptions(),
  }),
  details: presetTable() + '\n\nExample: groundlab train --corpus corpora/demo --out runs/gpt2-s42 --arch gpt2 --preset demo --model.n_layer=6 --train.steps=2000',
  async run(o) {
    const m = await train({
      corpus: o.corpus,
      out: o.out,
      arch: o.arch,
      preset: o.preset,
      seed: o.seed,
      label: o.label,
      threads: o.threads,
      quiet: o.quiet,
      model: o.model as Record<string, number>,
      train: o.train as Record<string, never>,
    });
    const last = m.checkpoints[m.checkpoints.length - 1];
    console.log(`run ${o.out}: ${m.status}, ${m.checkpoints.length} checkpoints (last: step ${last?.step}), ${m.parameters.toLocaleString('en-US')} parameters, ${m.train_seconds.toFixed(0)} s`);
  },
});

const presetsCommand = defineCommand({
  name: 'presets',
  summary: 'list the presets and their settings',
  options: z.object({}),
  run() {
    console.log(presetTable());
  },
});

export const commands: CommandSpec<any>[] = [trainCommand, presetsCommand];

const importCommand = defineCommand({
  name: 'import',
  summary: 'import a Hugging Face checkpoint directory (config.json + model.safetensors) as a run for analysis',
  positional: ['from'],
  options: z.object({
    from: z.string().describe('Hugging Face model directory'),
    out: z.string().describe('run directory to create'),
    label: z.string().default('imported').describe('label of the run'),
    corpus: z.string().optional().describe('corpus whose vocabulary the model uses (recorded in run_config.json; else pass --corpus to eval and analyze)'),
    context: z.number().int().positive().optional().describe('context length the analyses cut items to (default: the model positions, at most 512)'),
  }),
  async run(o) {
    const { importHfCheckpoint } = await import('../../train/hf-import.js');
    const r = importHfCheckpoint(o.from, o.out, o.label, { corpus: o.corpus, context: o.context });
    console.log(`imported ${r.arch} (${r.parameters.toLocaleString('en-US')} parameters) into ${r.out}`);
  },
});
commands.push(importCommand);
