/**
 * Study-level aggregation of the mechanistic suite (no engine code: the report imports this).
 * Reads RUN/mechanistic/*.csv of every run present and writes STUDY/mechanistic/ (see
 * mechanistic-tables.ts): the per-run tables concatenated, and across seeds per (label, item set,
 * step, ...): means and standard errors over seeds; for the intervention table (SPEC §1) the mean
 * number of aggregate heads, their mean layer, the three surprisals, and three p-values: a paired
 * t-test over all (seed, item) pairs pooled, a paired t-test over seeds of the per-seed means
 * (two or more seeds), and the largest per-seed p (every seed significant when it is small).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDir, writeCsv } from '../util/files.js';
import * as T from './mechanistic-tables.js';
import { mean, oneSampleTTest, pairedTTest, standardError } from '../analysis/stats.js';
import { discoverRuns, readStudy, type RunInfo } from './study.js';
import { readCsvTable, type SummaryRow } from './tables.js';

export interface MechanisticAggregate {
  runs: RunInfo[];
  labels: string[];
  saliency: SummaryRow[];
  lens: SummaryRow[];
  lensTests: SummaryRow[];
  lensTraining: SummaryRow[];
  heads: SummaryRow[];
  intervention: SummaryRow[];
  studySaliency: SummaryRow[];
  studyLens: SummaryRow[];
  studyLensTests: SummaryRow[];
  studyIntervention: SummaryRow[];
}

const se = (xs: number[]) => (xs.length >= 2 ? standardError(xs) : NaN);
const finite = (xs: number[]) => xs.filter(Number.isFinite);
const meanOr = (xs: number[]) => (finite(xs).length ? mean(finite(xs)) : NaN);

function groupBy<R>(rows: readonly R[], key: (r: R) => unknown[]): Map<string, R[]> {
  const m = new Map<string, R[]>();
  for (const r of rows) {
    const k = JSON.stringify(key(r));
    const g = m.get(k);
    if (g) g.push(r);
    else m.set(k, [r]);
  }
  return m;
}

/** Reads the map records of a run (saliency_maps.jsonl), optionally of one step. */
export function readSaliencyMaps(runDir: string, step?: number): T.SaliencyMapRecord[] {
  const p = join(runDir, T.MECH_DIR, T.MECH_FILES.maps);
  if (!existsSync(p)) return [];
  return readFileSync(p, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T.SaliencyMapRecord)
    .filter((m) => step === undefined || m.step === step);
}

export function aggregateMechanistic(dir: string, opts: { write?: boolean } = {}): MechanisticAggregate {
  const study = readStudy(dir);
  const runs = discoverRuns(dir);
  const labels = [...new Set([...(study?.entries.map((e) => e.label) ?? []), ...runs.map((r) => r.config.label)])];
  const rank = (l: unknown) => labels.indexOf(String(l));
  const read = (name: string, numeric: string[]) => runs.flatMap((r) => readCsvTable(join(r.dir, T.MECH_DIR, name), numeric));
  const saliency = read(T.MECH_FILES.saliency, T.SALIENCY_NUMERIC);
  const lens = read(T.MECH_FILES.lens, T.LENS_NUMERIC);
  const lensTests = read(T.MECH_FILES.lensTests, T.LENS_TEST_NUMERIC);
  const lensTraining = read(T.MECH_FILES.lensTraining, T.LENS_TRAINING_NUMERIC);
  const heads = read(T.MECH_FILES.heads, T.HEAD_NUMERIC);
  const intervention = read(T.MECH_FILES.intervention, T.INTERVENTION_NUMERIC);
  const interventionItems = read(T.MECH_FILES.interventionItems, ['seed', 'step', 'original', 'intervened', 'control', 'G', 'G_intervened', 'G_control']);
  const order = (a: SummaryRow, b: SummaryRow) => rank(a.label) - rank(b.label) || (a.step as number) - (b.step as number);

  const studySaliency: SummaryRow[] = [];
  for (const rows of groupBy(saliency, (r) => [r.label, r.items, r.step, r.layer, r.unit, r.head]).values()) {
    const r0 = rows[0]!;
    const flow = rows.map((r) => r.env_flow as number);
    const share = rows.map((r) => r.env_share as number);
    const ground = rows.map((r) => r.ground_share as number);
    const diff = rows.map((r) => r.ground_share_diff as number);
    studySaliency.push({
      label: r0.label, arch: r0.arch, items: r0.items, step: r0.step, layer: r0.layer, unit: r0.unit, head: r0.head, n_seeds: rows.length,
      env_flow: meanOr(flow), env_flow_se: se(flow), env_share: meanOr(share), env_share_se: se(share),
      ground_share: meanOr(ground), ground_share_mismatched: meanOr(rows.map((r) => r.ground_share_mismatched as number)), ground_share_diff: meanOr(diff), ground_share_diff_se: se(diff),
      uniform_share: r0.uniform_share ?? '',
    });
  }
  studySaliency.sort((a, b) => order(a, b) || (a.layer as number) - (b.layer as number) || String(a.unit).localeCompare(String(b.unit)) || (Number(a.head) || 0) - (Number(b.head) || 0));

  const studyLens: SummaryRow[] = [];
  for (const rows of groupBy(lens, (r) => [r.label, r.items, r.step, r.lens, r.condition, r.layer]).values()) {
    const r0 = rows[0]!;
    const s = rows.map((r) => r.surprisal as number);
    studyLens.push({ label: r0.label, arch: r0.arch, items: r0.items, step: r0.step, lens: r0.lens, condition: r0.condition, layer: r0.layer, n_seeds: rows.length, surprisal: meanOr(s), se: se(s) });
  }
  studyLens.sort((a, b) => order(a, b) || String(a.lens).localeCompare(String(b.lens)) || String(a.condition).localeCompare(String(b.condition)) || (a.layer as number) - (b.layer as number));

  const studyLensTests: SummaryRow[] = [];
  for (const rows of groupBy(lensTests, (r) => [r.label, r.items, r.step, r.lens, r.condition, r.layer_from]).values()) {
    const r0 = rows[0]!;
    const drops = finite(rows.map((r) => r.drop as number));
    const t = drops.length >= 2 ? oneSampleTTest(drops, 0, 'greater') : null;
    studyLensTests.push({
      label: r0.label, arch: r0.arch, items: r0.items, step: r0.step, lens: r0.lens, condition: r0.condition, layer_from: r0.layer_from, layer_to: r0.layer_to, n_seeds: rows.length,
      mean_from: meanOr(rows.map((r) => r.mean_from as number)), mean_to: meanOr(rows.map((r) => r.mean_to as number)),
      drop: meanOr(drops), drop_se: se(drops), welch_p_max: Math.max(...rows.map((r) => r.welch_p as number)), p_seeds: t?.pValue ?? NaN,
    });
  }
  studyLensTests.sort((a, b) => order(a, b) || String(a.lens).localeCompare(String(b.lens)) || String(a.condition).localeCompare(String(b.condition)) || (a.layer_from as number) - (b.layer_from as number));

  const studyIntervention: SummaryRow[] = [];
  const itemGroups = groupBy(interventionItems, (r) => [r.label, r.items, r.step, r.selection]);
  for (const [k, rows] of groupBy(intervention, (r) => [r.label, r.items, r.step, r.selection])) {
    const r0 = rows[0]!;
    // Seeds with aggregate heads and a control (no control when every head was selected).
    const withHeads = rows.filter((r) => (r.n_heads as number) > 0 && Number.isFinite(r.control as number));
    const diffs = withHeads.map((r) => r.diff as number);
    const its = (itemGroups.get(k) ?? []).filter((r) => withHeads.some((w) => w.seed === r.seed) && Number.isFinite(r.control as number) && Number.isFinite(r.intervened as number));
    const pooled = its.length >= 2 && its.some((r) => r.intervened !== r.control) ? pairedTTest(its.map((r) => r.intervened as number), its.map((r) => r.control as number), 'greater') : null;
    const overSeeds = withHeads.length >= 2 ? pairedTTest(withHeads.map((r) => r.intervened as number), withHeads.map((r) => r.control as number), 'greater') : null;
    studyIntervention.push({
      label: r0.label, arch: r0.arch, items: r0.items, step: r0.step, selection: r0.selection,
      n_seeds: rows.length, seeds: rows.map((r) => r.seed).join(';'),
      n_heads: mean(rows.map((r) => r.n_heads as number)),
      mean_layer: meanOr(rows.map((r) => r.mean_layer as number)),
      original: meanOr(rows.map((r) => r.original as number)),
      control: meanOr(rows.map((r) => r.control as number)),
      intervened: meanOr(rows.map((r) => r.intervened as number)),
      diff: meanOr(diffs), diff_se: se(diffs),
      p_items: pooled?.pValue ?? NaN, p_seeds: overSeeds?.pValue ?? NaN,
      p_max: withHeads.length ? Math.max(...withHeads.map((r) => r.p as number)) : NaN,
      n_items: its.length,
      // ΔG of ablating the rule's heads and of its controls; p_dG_items: one-sided paired t-test over
      // the items of every seed, G with the heads ablated < G with the control sets ablated.
      G: meanOr(rows.map((r) => r.G as number)),
      dG: meanOr(withHeads.map((r) => r.dG as number)),
      dG_control: meanOr(withHeads.map((r) => r.dG_control as number)),
      p_dG_items: (() => {
        const g = its.filter((r) => Number.isFinite(r.G_intervened as number) && Number.isFinite(r.G_control as number));
        return g.length >= 2 && g.some((r) => r.G_intervened !== r.G_control) ? pairedTTest(g.map((r) => r.G_intervened as number), g.map((r) => r.G_control as number), 'less').pValue : NaN;
      })(),
      p_dG_max: withHeads.length ? Math.max(...withHeads.map((r) => r.p_dG as number)) : NaN,
    });
  }
  studyIntervention.sort((a, b) => order(a, b) || String(a.selection).localeCompare(String(b.selection)));

  const agg: MechanisticAggregate = { runs, labels, saliency, lens, lensTests, lensTraining, heads, intervention, studySaliency, studyLens, studyLensTests, studyIntervention };
  if ((opts.write ?? true) && runs.length) {
    const out = ensureDir(join(dir, T.MECH_DIR));
    const F = T.STUDY_MECH_FILES;
    writeCsv(join(out, F.saliencyByRun), saliency, T.SALIENCY_COLUMNS);
    writeCsv(join(out, F.lensByRun), lens, T.LENS_COLUMNS);
    writeCsv(join(out, F.lensTestsByRun), lensTests, T.LENS_TEST_COLUMNS);
    writeCsv(join(out, F.lensTrainingByRun), lensTraining, T.LENS_TRAINING_COLUMNS);
    writeCsv(join(out, F.headsByRun), heads, T.HEAD_COLUMNS);
    writeCsv(join(out, F.interventionByRun), intervention, T.INTERVENTION_COLUMNS);
    writeCsv(join(out, F.saliency), studySaliency, T.STUDY_SALIENCY_COLUMNS);
    writeCsv(join(out, F.lens), studyLens, T.STUDY_LENS_COLUMNS);
    writeCsv(join(out, F.lensTests), studyLensTests, T.STUDY_LENS_TEST_COLUMNS);
    writeCsv(join(out, F.intervention), studyIntervention, T.STUDY_INTERVENTION_COLUMNS);
  }
  return agg;
}
