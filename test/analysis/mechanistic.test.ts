/**
 * The mechanistic suite end to end on the tiny preset: `groundlab reproduce` with the analyze
 * stage (synthetic world → training of every architecture → saliency, tuned lens, heads), the
 * tables and their columns, the cache (re-running reuses every part; changed options recompute),
 * the study aggregation, the CLI, and the report sections (opened in headless Chromium).
 */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeRun, headSelections, parseSelection, prepareMechanisticItems, selectSteps } from '../../src/study/mechanistic.js';
import { aggregateMechanistic, readSaliencyMaps } from '../../src/study/mechanistic-study.js';
import { DEFAULT_HEAD_RULES, headRuleNames } from '../../src/study/heads-step.js';
import { evaluateRun } from '../../src/study/evaluate.js';
import { writeToyCorpus } from '../helpers/toy-corpus.js';
import * as T from '../../src/study/mechanistic-tables.js';
import { reproduce } from '../../src/study/reproduce.js';
import { main } from '../../src/cli/main.js';
import { loadItems } from '../../src/data/contract.js';
import { availableArchs } from '../../src/models/index.js';
import { checkReportInBrowser } from '../../src/report/check.js';
import { writeStudyReport } from '../../src/report/study-report.js';
import { listCheckpoints } from '../../src/train/checkpoint.js';
import { getPreset } from '../../src/train/config.js';
import { parseCsv, readJson } from '../../src/util/files.js';

const root = mkdtempSync(join(tmpdir(), 'gl-mech-'));
const study = join(root, 'tiny');
const tiny = getPreset('tiny');
const labels = tiny.study.filter((e) => availableArchs().includes(e.arch)).map((e) => e.label);
const seed = tiny.seeds[0]!;
const run = (label: string) => join(study, 'runs', `${label}-s${seed}`);
const csv = (label: string, file: string) => parseCsv(readFileSync(join(run(label), T.MECH_DIR, file), 'utf8'));
const csv0 = (dir: string, file: string) => parseCsv(readFileSync(join(dir, T.MECH_DIR, file), 'utf8'));
const header = (label: string, file: string) => readFileSync(join(run(label), T.MECH_DIR, file), 'utf8').split('\n')[0];

let report = '';
beforeAll(async () => {
  const res = await reproduce({
    preset: 'tiny',
    out: study,
    stages: ['corpus', 'train', 'analyze', 'report'],
    quiet: true,
    writeReport: async (dir) => (await writeStudyReport(dir)).path,
  });
  report = res.report!;
}, 300_000);

describe('mechanistic suite on the tiny preset', () => {
  it('writes every table with its columns, for every checkpoint and architecture', () => {
    const steps = listCheckpoints(run(labels[0]!)).map((c) => c.step);
    const { items } = prepareMechanisticItems(loadItems(join(study, 'corpus')), tiny.train.context, 'auto');
    for (const l of labels) {
      const arch = tiny.study.find((e) => e.label === l)!.arch;
      const dir = join(run(l), T.MECH_DIR);
      expect(header(l, T.MECH_FILES.saliency)).toBe(T.SALIENCY_COLUMNS.join(','));
      expect(header(l, T.MECH_FILES.lensTests)).toBe(T.LENS_TEST_COLUMNS.join(','));
      const sal = csv(l, T.MECH_FILES.saliencyItems);
      const nLayers = Math.max(...sal.map((r) => Number(r.layer)));
      const nHeads = Math.max(0, ...sal.filter((r) => r.unit === 'head').map((r) => Number(r.head)));
      expect(new Set(sal.map((r) => Number(r.step)))).toEqual(new Set(steps));
      expect(sal).toHaveLength(steps.length * items.length * nLayers * (nHeads + 1));
      for (const r of sal) {
        expect(Number(r.env_share)).toBeGreaterThanOrEqual(0);
        expect(Number(r.env_share)).toBeLessThanOrEqual(1 + 1e-9);
      }
      // uniform_share: the items' mean fraction of ENV positions, computed here independently from the item rows.
      const firstStep = sal.filter((r) => Number(r.step) === steps[0] && r.unit === 'layer' && Number(r.layer) === 1);
      const expected = firstStep.reduce((a, r) => a + Number(r.n_env) / Number(r.n_tokens), 0) / firstStep.length;
      expect(expected).toBeGreaterThan(0);
      for (const r of csv(l, T.MECH_FILES.saliency)) expect(Number(r.uniform_share)).toBeCloseTo(expected, 5);
      if (arch !== 'lstm') for (const r of csv(l, T.MECH_FILES.heads)) expect(Number(r.uniform_share)).toBeCloseTo(expected, 5);
      if (arch === 'lstm') expect(nHeads).toBe(0);
      else expect(nHeads).toBeGreaterThan(0);
      // Lens: tuned and logit, matched and mismatched, every layer; the last layer of both lenses is the model.
      const lens = csv(l, T.MECH_FILES.lens);
      expect(lens).toHaveLength(steps.length * 2 * 2 * nLayers);
      for (const s of steps) {
        const at = (name: string, cond: string) => Number(lens.find((r) => Number(r.step) === s && r.lens === name && r.condition === cond && Number(r.layer) === nLayers)!.surprisal);
        expect(at('tuned', 'matched')).toBeCloseTo(at('logit', 'matched'), 4); // the last layer's lens is the identity
      }
      expect(csv(l, T.MECH_FILES.lensTests)).toHaveLength(steps.length * 2 * 2 * (nLayers - 1));
      const training = csv(l, T.MECH_FILES.lensTraining);
      expect(training).toHaveLength(steps.length * nLayers);
      for (const s of steps) expect(existsSync(join(dir, 'lens', `step_${String(s).padStart(6, '0')}.safetensors`))).toBe(true);
      // Maps: one per word per step.
      const maps = readSaliencyMaps(run(l));
      expect(maps).toHaveLength(steps.length * new Set(items.map((i) => i.word)).size);
      const m = maps[0]!;
      expect(m.tokens).toHaveLength(m.kind === 'attention' ? (m.saliency as number[][]).length : (m.saliency as number[]).length);
      if (arch === 'lstm') {
        expect(existsSync(join(dir, T.MECH_FILES.intervention))).toBe(false);
        continue;
      }
      // Heads: every named rule per checkpoint (the defaults), each head's test and verdict.
      const inter = csv(l, T.MECH_FILES.intervention);
      expect(header(l, T.MECH_FILES.intervention)).toBe(T.INTERVENTION_COLUMNS.join(','));
      const total = nLayers * nHeads;
      const rules = headRuleNames(DEFAULT_HEAD_RULES);
      expect(inter.map((r) => `${r.step}/${r.selection}`)).toEqual(steps.flatMap((s) => rules.map((r) => `${s}/${r}`)));
      for (const r of inter) {
        expect(Number(r.n_heads)).toBe(r.heads ? r.heads.split(';').length : 0);
        const foldSizes = [r.heads_1, r.heads_2].map((h) => (h ? h.split(';').length : 0));
        if (r.na) {
          expect(r.p_dG).toBe(''); // NA, never a p-value
          expect(foldSizes.every((k) => k === 0 || total - k < k)).toBe(true);
        } else {
          expect(Number(r.draws)).toBeGreaterThan(0);
          // Pooled over the folds that could be tested (a selection leaving fewer heads than it has is NA in its fold).
          expect(Number(r.control_size)).toBe(Math.max(...foldSizes.filter((k) => k > 0 && total - k >= k)));
          expect(Number(r.p_dG)).toBeGreaterThanOrEqual(0);
          expect(Number(r.p_dG)).toBeLessThanOrEqual(1);
        }
      }
      const heads = csv(l, T.MECH_FILES.heads);
      expect(heads).toHaveLength(steps.length * rules.length * total);
      for (const r of heads) {
        expect(Number(r.selected)).toBe(Math.max(Number(r.selected_1 || 0), Number(r.selected_2 || 0)));
        if (r.selected === '0') expect(r.p).toBe('');
        if (r.p_holm !== '') expect(Number(r.p_holm)).toBeGreaterThanOrEqual(Number(r.p) - 1e-9);
        if (r.grounding === '1') {
          expect(Number(r.p_holm)).toBeLessThan(0.05);
          expect(Number(r.dG)).toBeLessThan(0);
          expect(Number(r.removed)).toBeGreaterThanOrEqual(0.05);
        }
      }
    }
  });

  it('re-running reuses every cached part; changed options recompute only what they touch', async () => {
    const l = labels[0]!;
    const before = readFileSync(join(run(l), T.MECH_DIR, T.MECH_FILES.saliency), 'utf8');
    const again = await analyzeRun({ run: run(l), corpus: join(study, 'corpus'), quiet: true });
    expect(again.computed).toEqual({ saliency: [], lens: [], heads: [] });
    expect(again.reused.saliency.length).toBeGreaterThan(0);
    expect(readFileSync(join(run(l), T.MECH_DIR, T.MECH_FILES.saliency), 'utf8')).toBe(before);
    // Analysing one checkpoint keeps the others' (still valid) results in the tables.
    const one = await analyzeRun({ run: run(l), corpus: join(study, 'corpus'), quiet: true, analyses: ['saliency'], steps: 'last' });
    expect(one.reused.saliency).toEqual([tiny.train.steps]);
    expect(readFileSync(join(run(l), T.MECH_DIR, T.MECH_FILES.saliency), 'utf8')).toBe(before);
    const other = await analyzeRun({ run: run(l), corpus: join(study, 'corpus'), quiet: true, analyses: ['heads'], headRules: ['legacy'], steps: 'last' });
    expect(other.computed.heads).toHaveLength(1);
    expect(other.computed.saliency).toEqual([]); // heads reuse the saliency of the checkpoint
    expect(csv(l, T.MECH_FILES.intervention).map((r) => r.selection)).toEqual(['legacy:env_share>=0.3']);
    const m = readJson<{ analyses: Record<string, { steps: Record<string, unknown> }> }>(join(run(l), T.MECH_DIR, T.MECH_FILES.manifest));
    expect(Object.keys(m.analyses.heads!.steps)).toEqual([String(tiny.train.steps)]);
  });

  it('a lens reused from its file (its table part lost, as after a kill) gives the same lens_training rows', async () => {
    const l = labels[0]!;
    const dropTime = (rows: Record<string, string>[]) => rows.map(({ seconds: _s, ...r }) => r);
    const before = dropTime(csv(l, T.MECH_FILES.lensTraining));
    const partsDir = join(run(l), T.MECH_DIR, 'parts', 'lens');
    for (const f of readdirSync(partsDir)) rmSync(join(partsDir, f));
    const again = await analyzeRun({ run: run(l), corpus: join(study, 'corpus'), quiet: true, analyses: ['lens'] });
    expect(again.computed.lens.length).toBeGreaterThan(0);
    expect(before.some((r) => r.lens_steps_run !== '' && r.stop_reason !== '')).toBe(true);
    expect(dropTime(csv(l, T.MECH_FILES.lensTraining))).toEqual(before);
  });

  it('aggregates over the runs of the study and draws the report sections', async () => {
    const agg = aggregateMechanistic(study);
    expect(new Set(agg.studySaliency.map((r) => r.label))).toEqual(new Set(labels));
    for (const f of Object.values(T.STUDY_MECH_FILES)) expect(existsSync(join(study, T.MECH_DIR, f))).toBe(true);
    expect(agg.studyIntervention.every((r) => Number(r.n_seeds) === 1)).toBe(true);
    const html = readFileSync(report, 'utf8');
    for (const title of ['Where: saliency flow from ENV tokens', 'Where: tuned lens', 'How: grounding heads and ablation', 'Grounding heads over training', 'Saliency on the ground token']) expect(html).toContain(title);
    expect(html).toContain('intervention table');
    const check = await checkReportInBrowser(report);
    expect(check.errors).toEqual([]);
  }, 120_000);

  it('the CLI runs one analysis over a run and prints where the flow peaks', async () => {
    const lines: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void lines.push(a.join(' '));
    try {
      expect(await main(['analyze', 'saliency', '--run', run(labels[0]!), '--corpus', join(study, 'corpus'), '--quiet', '--steps', 'last', '--map_layer', '1', '--map_head', '1'])).toBe(0);
    } finally {
      console.log = log;
    }
    expect(lines.join('\n')).toMatch(/saliency: 1 computed/);
    expect(lines.join('\n')).toMatch(/where the ENV saliency flow peaks/);
    const maps = readSaliencyMaps(run(labels[0]!));
    expect(maps.every((m) => m.layer === 1 && m.head === 1)).toBe(true);
    expect(await main(['analyze', 'heads', '--quiet'])).toBe(2); // neither --run nor --study
  });
});

describe('imported runs', () => {
  it('a model imported from a Hugging Face directory is accepted by eval grounding and analyze (with --corpus), and a wrong corpus is a clear error', async () => {
    const src = run(labels.find((l) => tiny.study.find((e) => e.label === l)!.arch === 'gpt2')!);
    const hf = mkdtempSync(join(tmpdir(), 'gl-hf-export-'));
    copyFileSync(join(src, 'config.json'), join(hf, 'config.json'));
    copyFileSync(listCheckpoints(src).pop()!.path, join(hf, 'model.safetensors'));
    const corpus = join(study, 'corpus');
    const imported = join(mkdtempSync(join(tmpdir(), 'gl-imported-run-')), 'run');
    expect(await main(['import', hf, '--out', imported])).toBe(0);
    await expect(evaluateRun({ run: imported, iterations: 100 })).rejects.toThrow(/imported without a corpus: pass --corpus/);
    const ev = await evaluateRun({ run: imported, corpus, iterations: 100 });
    expect(ev.evaluated).toEqual([0]);
    const an = await analyzeRun({ run: imported, corpus, quiet: true, analyses: ['heads'], headRules: ['top:1:ground_share'], draws: 3 });
    expect(an.computed.heads).toEqual([0]);
    expect(csv0(imported, T.MECH_FILES.heads).every((r) => r.selection === 'top:1:ground_share')).toBe(true);
    // Recorded at import: the corpus's hash; a corpus of another vocabulary size is refused.
    const withCorpus = join(mkdtempSync(join(tmpdir(), 'gl-imported-run-')), 'run');
    expect(await main(['import', hf, '--out', withCorpus, '--corpus', corpus])).toBe(0);
    expect((await evaluateRun({ run: withCorpus, iterations: 100 })).evaluated).toEqual([0]);
    const toy = writeToyCorpus();
    await expect(evaluateRun({ run: imported, corpus: toy, iterations: 100 })).rejects.toThrow(/vocab_size .*: pass the corpus whose vocabulary the model uses/);
  }, 60_000);
});

describe('selection rules and step specs', () => {
  it('parses head selection rules', () => {
    expect(parseSelection('threshold:0.3', 48)).toEqual({ rule: 'threshold:0.3', kind: 'threshold', value: 0.3 });
    expect(parseSelection('top:auto', 48)).toEqual({ rule: 'top:5', kind: 'top', value: 5 });
    expect(parseSelection('top:auto', 4).value).toBe(1);
    expect(() => parseSelection('threshold:auto', 4)).toThrow(/expected/);
    expect(headSelections({})).toEqual(['threshold:0.3', 'top:auto']);
    expect(headSelections({ threshold: 0.5, top: 'none' })).toEqual(['threshold:0.5']);
  });

  it('selects checkpoints', () => {
    const present = [0, 150, 300, 500, 1000, 1500];
    expect(selectSteps(present, 'all')).toEqual(present);
    expect(selectSteps(present, 'last')).toEqual([1500]);
    expect(selectSteps(present, 'every:500')).toEqual([0, 500, 1000, 1500]);
    expect(selectSteps(present, 'list:150, 1000')).toEqual([150, 1000]);
    expect(selectSteps(present, [300, 999])).toEqual([300]);
    expect(() => selectSteps(present, 'sometimes')).toThrow(/expected/);
  });
});
