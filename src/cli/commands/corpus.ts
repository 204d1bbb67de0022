/**
 * `groundlab corpus build|synth|stats|inspect`: the grounded corpus (SPEC §2-§4) from the CLI.
 * The option schemas are the builder's own (src/data/options.ts, src/data/synth/world.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { CommandSpec } from '../command.js';
import { buildCorpus } from '../../data/build.js';
import { loadItems, loadTargets, type TargetsFile } from '../../data/contract.js';
import { BuildOptionsSchema } from '../../data/options.js';
import { readStats, renderStats, renderWord } from '../../data/report.js';
import { synthesizeWorld, SynthOptionsSchema } from '../../data/synth/world.js';
import { UserError } from '../../util/errors.js';
import { readJsonl } from '../../util/files.js';

function summary(dir: string, r: { stats: { transcripts: number; utterances: number; vocab_size: number; splits: { train: { tokens: number } } }; targets: TargetsFile; items: number; diagnostics: number }): string {
  const s = r.stats;
  return [
    `corpus written to ${dir}`,
    `  ${s.transcripts} transcripts, ${s.utterances} utterances, vocabulary ${s.vocab_size}, ${s.splits.train.tokens} training tokens`,
    `  ${r.targets.words.length} target words (rule ${r.targets.rule}), ${r.items} evaluation items, ${r.diagnostics} diagnostics`,
    `  next: groundlab corpus stats ${dir}`,
  ].join('\n');
}

const build: CommandSpec<typeof BuildOptionsSchema> = {
  name: 'corpus build',
  summary: 'build a grounded ENV/LAN corpus from CHAT transcripts (files, directories, TalkBank .zip)',
  positional: ['childes'],
  options: BuildOptionsSchema,
  details: [
    'Examples:',
    '  groundlab corpus build --childes ../shared/data/childes --out corpora/childes',
    '  groundlab corpus build Eng-NA.zip --out corpora/na --targets paper --templates ours',
    '  groundlab corpus build --childes data --out c --env.tiers act,sit,gpx,com --clean.drop_retracings false',
    'Outputs: vocab.json, train/val/test.bin, targets.json, items.jsonl, stats.json, diagnostics.jsonl, manifest.json.',
  ].join('\n'),
  async run(opts) {
    const r = await buildCorpus(opts);
    console.log(summary(opts.out, r));
    printDiagnostics(opts.out);
  },
};

/** Errors and warnings of a build on stderr, one line each with file and line (all of them are in diagnostics.jsonl). */
function printDiagnostics(dir: string, max = 20): void {
  const path = join(dir, 'diagnostics.jsonl');
  const shown = readJsonl<{ file: string; line: number; code: string; severity: string; message: string }>(path).filter((d) => d.severity !== 'info');
  for (const d of shown.slice(0, max)) process.stderr.write(`${d.severity}: ${d.file}${d.line ? `:${d.line}` : ''}: ${d.code}: ${d.message}\n`);
  if (shown.length > max) process.stderr.write(`... and ${shown.length - max} more errors and warnings in ${path}\n`);
}

const synth: CommandSpec<typeof SynthOptionsSchema> = {
  name: 'corpus synth',
  summary: 'write the synthetic grounded world (seeded CHAT transcripts + ground truth) and build its corpus',
  options: SynthOptionsSchema,
  details: 'Writes OUT/chat/*.cha, OUT/truth.json (grounding level of each word and what was generated), OUT/templates.json, and the corpus files in OUT.',
  async run(opts) {
    const r = await synthesizeWorld(opts);
    console.log(summary(opts.out, r));
    console.log(`  ground truth: ${r.truth}`);
  },
};

const StatsOptions = z.object({
  dir: z.string().describe('corpus directory'),
  top: z.number().int().min(0).default(20).describe('target words to list'),
});

const stats: CommandSpec<typeof StatsOptions> = {
  name: 'corpus stats',
  summary: 'print a corpus directory\'s statistics as tables',
  positional: ['dir'],
  options: StatsOptions,
  run(opts) {
    const s = readStats(opts.dir);
    let targets: TargetsFile | null = null;
    try {
      targets = loadTargets(opts.dir);
    } catch {
      targets = null;
    }
    console.log(renderStats(opts.dir, s, targets, opts.top));
  },
};

const InspectOptions = z.object({
  dir: z.string().describe('corpus directory'),
  word: z.string().default('').describe('target word to show (empty: list the target words)'),
  n: z.number().int().min(0).default(3).describe('items of each kind (corpus, template) to render'),
});

const inspect: CommandSpec<typeof InspectOptions> = {
  name: 'corpus inspect',
  summary: 'show a target word\'s counts and a few of its evaluation items, rendered',
  positional: ['dir'],
  options: InspectOptions,
  run(opts) {
    const targets = loadTargets(opts.dir);
    if (!opts.word) {
      console.log(`target words (${targets.words.length}, rule ${targets.rule}): ${targets.words.map((w) => w.word).join(', ')}`);
      console.log('show one with --word WORD');
      return;
    }
    let vocab: string[];
    try {
      vocab = JSON.parse(readFileSync(join(opts.dir, 'vocab.json'), 'utf8')) as string[];
    } catch {
      throw new UserError(`${opts.dir}: vocab.json is missing or unreadable`);
    }
    console.log(renderWord(opts.word.toLowerCase(), targets, loadItems(opts.dir), vocab, opts.n));
  },
};

export const commands: CommandSpec<any>[] = [build, synth, stats, inspect];
