/**
 * The claims scorecard of a study (issue 14) and the tables it reads besides the evaluation's:
 *
 *   STUDY/claims.csv                          one row per (claim, study entry, item set[, measure]):
 *                                             analysis/claims.ts CLAIM_COLUMNS; criteria in CLAIM_CRITERIA
 *   STUDY/eval/study_r2.csv                   per (label, items, step, model): R² of the seed-averaged
 *                                             G(v) on one co-occurrence statistic or the joint model, its
 *                                             95% bootstrap interval over words, adjusted R², Spearman ρ
 *   STUDY/eval/grounding_age.csv              per (label, items, word): grounding age, half-drop step
 *                                             of matched surprisal, n_items and few_items, word statistics
 *   STUDY/eval/grounding_age_correlations.csv Spearman ρ of each age with co-occurrence and frequency
 *
 * Everything is recomputed from the study's own tables (STUDY/eval, STUDY/mechanistic, the runs'
 * eval/grounding.csv) each time, so it can run at any point of a study; `reproduce` and the report
 * call it after aggregation.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CLAIM_COLUMNS, type ClaimRow, computeClaims } from '../analysis/claims.js';
import { COOCCURRENCE_STATISTICS, statisticOf } from '../analysis/cooccurrence.js';
import { ageCorrelations, type GroundingAgeRow, groundingAges, type ItemGainRow } from '../analysis/grounding-age.js';
import { r2WithCi } from '../analysis/r2.js';
import { writeCsv } from '../util/files.js';
import { aggregateMechanistic } from './mechanistic-study.js';
import { aggregateStudy, type StudyAggregate, studyPaths } from './study.js';
import { EVAL_FILES, readCsvTable, type SummaryRow } from './tables.js';

const CLAIM_NUMERIC = ['claim', 'step', 'statistic', 'ci_lo', 'ci_hi', 'p', 'p_seeds', 'n_seeds', 'n_words'];

/** Reads STUDY/claims.csv back (numbers parsed). */
export function readClaims(path: string): ClaimRow[] {
  return readCsvTable(path, CLAIM_NUMERIC) as unknown as ClaimRow[];
}

export const CLAIMS_FILE = 'claims.csv';
export const STUDY_R2_FILE = 'study_r2.csv';
export const GROUNDING_AGE_FILE = 'grounding_age.csv';
export const GROUNDING_AGE_CORRELATIONS_FILE = 'grounding_age_correlations.csv';

/** Words with fewer items than this are flagged (few_items = 1) in the per-word tables. */
export const MIN_ITEMS_PER_WORD = 5;

export const STUDY_R2_CI_COLUMNS = ['label', 'arch', 'items', 'step', 'n_seeds', 'model', 'predictors', 'r2', 'r2_lo', 'r2_hi', 'adj_r2', 'spearman_rho', 'spearman_p', 'n_words', 'n_boot'];
export const GROUNDING_AGE_COLUMNS = [
  'label', 'arch', 'items', 'word', 'category', 'n_items', 'few_items', 'n_seeds', 'grounding_age', 'p_last', 'half_drop_step', 'half_drop_observed', 'drop', 'fit_r2', 'turns_both', 'log_lan_count',
];
export const AGE_CORRELATION_COLUMNS = ['label', 'arch', 'items', 'measure', 'statistic', 'spearman_rho', 'spearman_p', 'n_words'];

export interface StudyClaims {
  claims: ClaimRow[];
  r2: SummaryRow[];
  ages: SummaryRow[];
  ageCorrelations: SummaryRow[];
}

/** Number of layers of a study entry's model config (GPT-2, Mamba-2, LSTM field names). */
export function entryLayers(model: Record<string, number>): number | undefined {
  return model.n_layer ?? model.num_hidden_layers ?? model.num_layers;
}

const r6 = (x: number) => (Number.isFinite(x) ? Math.round(x * 1e6) / 1e6 : x);

/** R² with bootstrap CIs per (label, items, step) from the seed-averaged per-word gains. */
export function studyR2(agg: StudyAggregate, opts: { iterations?: number; seed?: number } = {}): SummaryRow[] {
  if (!agg.targets) return [];
  const out: SummaryRow[] = [];
  const groups = new Map<string, SummaryRow[]>();
  for (const w of agg.words) {
    const k = JSON.stringify([w.label, w.items, w.step]);
    const g = groups.get(k);
    if (g) g.push(w);
    else groups.set(k, [w]);
  }
  for (const [k, ws] of groups) {
    const [label, items, step] = JSON.parse(k) as [string, string, number];
    const g = agg.grounding.find((r) => r.label === label && r.items === items && r.step === step);
    const rows = r2WithCi(
      ws.map((w) => ({ word: String(w.word), G: Number(w.G) })),
      agg.targets,
      { iterations: opts.iterations ?? 1000, seed: opts.seed ?? 1 },
    );
    for (const r of rows) {
      out.push({
        label, arch: String(ws[0]!.arch), items, step, n_seeds: g ? Number(g.n_seeds) : NaN, model: r.model, predictors: r.predictors,
        r2: r6(r.r2), r2_lo: r6(r.r2_lo), r2_hi: r6(r.r2_hi), adj_r2: r6(r.adj_r2), spearman_rho: r6(r.spearman_rho), spearman_p: r.spearman_p, n_words: r.n_words, n_boot: r.n_boot,
      });
    }
  }
  return out;
}

/** Item gains of every run (eval/grounding.csv), matched and mean mismatched per item. */
function itemGains(agg: StudyAggregate): Map<string, { arch: string; seeds: Set<number>; rows: ItemGainRow[] }> {
  const out = new Map<string, { arch: string; seeds: Set<number>; rows: ItemGainRow[] }>();
  for (const r of agg.runs) {
    const rows = readCsvTable(join(r.dir, 'eval', EVAL_FILES.grounding), ['seed', 'step', 'surprisal']);
    const acc = new Map<string, { items: string; step: number; word: string; item: string; m: number; mm: number[] }>();
    for (const x of rows) {
      const k = `${x.source}\u0000${x.step}\u0000${x.item}`;
      const a = acc.get(k) ?? { items: String(x.source), step: Number(x.step), word: String(x.word), item: String(x.item), m: NaN, mm: [] };
      if (x.condition === 'matched') a.m = Number(x.surprisal);
      else a.mm.push(Number(x.surprisal));
      acc.set(k, a);
    }
    for (const a of acc.values()) {
      if (!Number.isFinite(a.m) || !a.mm.length) continue;
      const key = JSON.stringify([r.config.label, a.items]);
      const g = out.get(key) ?? { arch: r.config.arch, seeds: new Set<number>(), rows: [] };
      g.seeds.add(r.config.seed);
      g.rows.push({ step: a.step, word: a.word, item: a.item, matched: a.m, mismatched: a.mm.reduce((s, v) => s + v, 0) / a.mm.length });
      out.set(key, g);
    }
  }
  return out;
}

/** Grounding ages per (label, items, word) and their correlations with the word statistics. */
export function studyGroundingAges(agg: StudyAggregate, opts: { minItems?: number } = {}): { ages: SummaryRow[]; correlations: SummaryRow[] } {
  const minItems = opts.minItems ?? MIN_ITEMS_PER_WORD;
  const byWord = new Map((agg.targets?.words ?? []).map((t) => [t.word, t]));
  const stats = new Map([...byWord].map(([w, t]) => [w, Object.fromEntries(COOCCURRENCE_STATISTICS.map((s) => [s, statisticOf(t, s)])) as Record<string, number>]));
  const ages: SummaryRow[] = [];
  const correlations: SummaryRow[] = [];
  for (const [k, g] of itemGains(agg)) {
    const [label, items] = JSON.parse(k) as [string, string];
    const rows: GroundingAgeRow[] = groundingAges(g.rows);
    for (const a of rows) {
      const t = byWord.get(a.word);
      ages.push({
        label, arch: g.arch, items, word: a.word, category: t?.category ?? '', n_items: a.n_items, few_items: a.n_items < minItems ? 1 : 0, n_seeds: g.seeds.size,
        grounding_age: a.grounding_age, p_last: a.p_last, half_drop_step: a.half_drop_step, half_drop_observed: a.half_drop_observed, drop: r6(a.drop), fit_r2: r6(a.fit_r2),
        turns_both: t?.turns_both ?? NaN, log_lan_count: t ? r6(Math.log1p(t.lan_count)) : NaN,
      });
    }
    for (const c of ageCorrelations(rows, stats, ['log_turns_both', 'pmi', 'log_lan_count'])) correlations.push({ label, arch: g.arch, items, ...c, spearman_rho: r6(c.spearman_rho) });
  }
  const rank = (l: unknown) => agg.labels.indexOf(String(l));
  ages.sort((a, b) => rank(a.label) - rank(b.label) || String(a.items).localeCompare(String(b.items)) || String(a.word).localeCompare(String(b.word)));
  correlations.sort((a, b) => rank(a.label) - rank(b.label) || String(a.items).localeCompare(String(b.items)));
  return { ages, correlations };
}

/**
 * Computes and writes the scorecard and its supporting tables. `agg` defaults to aggregateStudy(dir)
 * (which refreshes STUDY/eval); the mechanistic tables are re-aggregated when runs have them.
 */
export function writeStudyClaims(dir: string, agg: StudyAggregate = aggregateStudy(dir), opts: { iterations?: number } = {}): StudyClaims {
  const paths = studyPaths(dir);
  const r2 = studyR2(agg, opts);
  const { ages, correlations } = studyGroundingAges(agg);
  const hasMech = agg.runs.some((r) => existsSync(join(r.dir, 'mechanistic')));
  const mech = hasMech ? aggregateMechanistic(dir) : null;
  const nLayers: Record<string, number> = {};
  for (const e of agg.study?.entries ?? []) {
    const n = entryLayers(e.model);
    if (n) nLayers[e.label] = n;
  }
  for (const r of agg.runs) {
    const n = entryLayers(r.config.model);
    if (n && !(r.config.label in nLayers)) nLayers[r.config.label] = n;
  }
  const claims = computeClaims({
    grounding: agg.grounding,
    r2,
    saliencyByRun: mech?.saliency,
    lensTestsByRun: mech?.lensTests,
    lensTrainingByRun: mech?.lensTraining,
    headsByRun: mech?.heads,
    interventionByRun: mech?.intervention,
    nLayers,
  });
  const rank = (l: string) => agg.labels.indexOf(l);
  claims.sort((a, b) => a.claim - b.claim || rank(a.label) - rank(b.label) || a.items.localeCompare(b.items));
  writeCsv(join(paths.eval, STUDY_R2_FILE), r2, STUDY_R2_CI_COLUMNS);
  writeCsv(join(paths.eval, GROUNDING_AGE_FILE), ages, GROUNDING_AGE_COLUMNS);
  writeCsv(join(paths.eval, GROUNDING_AGE_CORRELATIONS_FILE), correlations, AGE_CORRELATION_COLUMNS);
  writeCsv(join(dir, CLAIMS_FILE), claims.map((c) => ({ ...c, statistic: r6(c.statistic), ci_lo: r6(c.ci_lo), ci_hi: r6(c.ci_hi) })), CLAIM_COLUMNS);
  return { claims, r2, ages, ageCorrelations: correlations };
}
