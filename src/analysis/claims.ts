/**
 * The claims scorecard (issue 14): a verdict for each of the paper's four claims (SPEC §1) per
 * study entry and item set, computed only from the study's own tables, with every criterion kept
 * as data in CLAIM_CRITERIA (one place; the report and claims.csv print its text).
 *
 * Verdicts: `supported` (the criterion is met), `not supported` (the evidence goes against it),
 * `inconclusive` (neither, or the tables lack what the criterion needs; `reason` says which).
 * Each claim is judged at the last checkpoint reached by as many seeds as any checkpoint (so a
 * seed still training does not decide the verdict alone).
 *
 *   claim 1  behaviour: mean G > 0 with Wilcoxon over words p < 0.001 and, with ≥ 2 seeds, a
 *            one-sample t-test of the per-seed mean G p < 0.05. The paper's LSTM expects *no*
 *            significant difference; that expectation is part of the claim (EXPECTATIONS).
 *   claim 2  beyond co-occurrence: the peak R² (joint regression, bootstrap CI over words) comes
 *            before the last checkpoint, its CI lies above the last checkpoint's CI, and mean G at
 *            the last checkpoint exceeds mean G at the peak (G keeps rising while R² falls).
 *   claim 3  where: the layer of peak ENV saliency flow and the layer the largest tuned-lens drop
 *            of matched target surprisal arrives at (layer_to), each a mean over seeds with a
 *            t-interval over seeds, lie in the middle = neither the first nor the last quarter of
 *            layers. Lens layers flagged as not converged are left out (lens_training `converged`).
 *   claim 4  how: the heads named grounding heads (issue 13's per-head verdict column
 *            `grounding`) exist and ablating them lowers G against same-size controls (ΔG test);
 *            without those columns the verdict is `inconclusive` with the reason.
 */
import { mean, standardError, studentTCdf } from './stats.js';
import { groupBy } from '../util/collections.js';

/** A parsed row of a study table (numbers as numbers; NA as NaN or ''). */
export type SummaryRow = Record<string, string | number>;

export type Verdict = 'supported' | 'not supported' | 'inconclusive';
export const VERDICTS: readonly Verdict[] = ['supported', 'not supported', 'inconclusive'];

/** What the paper predicts for an architecture: grounding, no grounding (the LSTM), or nothing. */
export type Expectation = 'yes' | 'no' | 'not claimed';

/** The criteria, as data: thresholds, statistic names and the text printed beside each verdict. */
export const CLAIM_CRITERIA = {
  1: {
    title: 'behaviour: the matching ENV token lowers the surprisal of its word',
    alphaWords: 0.001,
    alphaSeeds: 0.05,
    /** Above this Wilcoxon p (and seeds p) there is no significant difference. */
    alphaNone: 0.05,
    text: 'mean G > 0, Wilcoxon over words p < 0.001 and (≥ 2 seeds) t-test over seeds p < 0.05; LSTM: no significant difference (p ≥ 0.05)',
  },
  2: {
    title: 'beyond co-occurrence: R² of G on co-occurrence peaks early, then falls while G rises',
    model: 'joint',
    excludeStep0: true,
    text: 'peak R² of G(v) ~ log turns_both + PMI + log frequency (95% bootstrap CI over words) before the last checkpoint, its CI above the last checkpoint\'s CI, and mean G higher at the last checkpoint than at the peak',
  },
  3: {
    title: 'where: grounding concentrates in middle layers',
    level: 0.95,
    minSeeds: 2,
    lens: 'tuned',
    condition: 'matched',
    text: 'layer of peak ENV saliency flow and layer reached by the largest tuned-lens drop (matched target surprisal), mean over seeds with a 95% t-interval, within the middle (neither the first nor the last quarter of layers, each layer k the bin [k-0.5, k+0.5]); non-converged lens layers left out',
  },
  4: {
    title: 'how: a few heads carry the environment (ablating them lowers G more than same-size controls)',
    text: 'in every seed at least one head is named a grounding head by the causal per-head verdict (issue 13: ablating it lowers G more than same-size random controls, Holm-adjusted p < 0.05, removing a minimum share of G); no named head in any seed: not supported',
  },
} as const;

/** Expected outcome per claim and architecture (the paper: the LSTM shows no grounding). */
export const EXPECTATIONS: Record<1 | 2 | 3 | 4, Record<string, Expectation>> = {
  1: { gpt2: 'yes', mamba2: 'yes', lstm: 'no' },
  2: { gpt2: 'yes', mamba2: 'yes', lstm: 'not claimed' },
  3: { gpt2: 'yes', mamba2: 'yes', lstm: 'not claimed' },
  4: { gpt2: 'yes', mamba2: 'yes', lstm: 'not claimed' },
};

export const CLAIM_COLUMNS = [
  'claim', 'label', 'arch', 'items', 'measure', 'step', 'criterion', 'expected', 'statistic', 'ci_lo', 'ci_hi', 'p', 'p_seeds', 'n_seeds', 'n_words',
  'verdict', 'reason',
];

export interface ClaimRow {
  claim: 1 | 2 | 3 | 4;
  label: string;
  arch: string;
  items: string;
  /** What `statistic` is (G, R², a layer, ΔG, or `overall` for claim 3's combined verdict). */
  measure: string;
  step: number;
  criterion: string;
  expected: Expectation;
  statistic: number;
  ci_lo: number;
  ci_hi: number;
  p: number;
  p_seeds: number;
  n_seeds: number;
  n_words: number;
  verdict: Verdict;
  reason: string;
}

/** The study tables the verdicts read (rows as readCsvTable returns them; numbers parsed). */
export interface ClaimTables {
  /** eval/study_grounding.csv */
  grounding: SummaryRow[];
  /** eval/study_r2.csv: per (label, items, step, model) r2, r2_lo, r2_hi (r2.ts). */
  r2: SummaryRow[];
  /** mechanistic/saliency_by_run.csv (unit = layer rows are used). */
  saliencyByRun?: SummaryRow[];
  /** mechanistic/lens_tests_by_run.csv */
  lensTestsByRun?: SummaryRow[];
  /** mechanistic/lens_training_by_run.csv (column `converged`, when present). */
  lensTrainingByRun?: SummaryRow[];
  /** mechanistic/heads_by_run.csv (column `grounding`, issue 13). */
  headsByRun?: SummaryRow[];
  /** mechanistic/intervention_by_run.csv (ΔG columns, issue 13). */
  interventionByRun?: SummaryRow[];
  /** Number of layers per label (study entries); else the largest layer seen in the tables. */
  nLayers?: Record<string, number>;
}

const num = (v: unknown) => (v === '' || v === undefined || v === null ? NaN : Number(v));
const key = (...xs: unknown[]) => JSON.stringify(xs);

/** Quantile of Student's t (bisection on the CDF; df ≥ 1). */
export function studentTQuantile(p: number, df: number): number {
  let lo = -1e3;
  let hi = 1e3;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Mean of xs and its t-interval (NaN bounds with fewer than 2 values). */
export function tInterval(xs: readonly number[], level = 0.95): { mean: number; lo: number; hi: number } {
  const m = xs.length ? mean(xs) : NaN;
  if (xs.length < 2) return { mean: m, lo: NaN, hi: NaN };
  const h = studentTQuantile((1 + level) / 2, xs.length - 1) * standardError(xs);
  return { mean: m, lo: m - h, hi: m + h };
}

/** The middle layers (1-based, inclusive): neither the first nor the last quarter. */
export function middleLayers(nLayers: number): { from: number; to: number } {
  const q = Math.floor(nLayers / 4);
  return { from: q + 1, to: nLayers - q };
}

/** The decisive step of a (label, items): the last step with as many seeds as any step. */
function decisiveRow(rows: readonly SummaryRow[]): SummaryRow | null {
  if (!rows.length) return null;
  const most = Math.max(...rows.map((r) => num(r.n_seeds)));
  return rows.filter((r) => num(r.n_seeds) === most).reduce((a, b) => (num(b.step) > num(a.step) ? b : a));
}

/** The last step with as many distinct seeds as any step (undefined without rows). */
function decisiveStep(rows: readonly SummaryRow[]): number | undefined {
  const seeds = new Map<number, Set<number>>();
  for (const r of rows) {
    const s = seeds.get(num(r.step)) ?? new Set<number>();
    s.add(num(r.seed));
    seeds.set(num(r.step), s);
  }
  if (!seeds.size) return undefined;
  const most = Math.max(...[...seeds.values()].map((s) => s.size));
  return Math.max(...[...seeds].filter(([, s]) => s.size === most).map(([k]) => k));
}

function expectation(claim: 1 | 2 | 3 | 4, arch: string): Expectation {
  return EXPECTATIONS[claim][arch] ?? 'not claimed';
}

// ---------------------------------------------------------------------------------------------
// Claim 1
// ---------------------------------------------------------------------------------------------

/** Claim 1 from a study_grounding row (the decisive step). */
export function claim1Verdict(row: SummaryRow, expected: Expectation): { verdict: Verdict; reason: string } {
  const c = CLAIM_CRITERIA[1];
  const G = num(row.mean_G);
  // Every word's G exactly 0 (a model blind to the ENV tokens): Wilcoxon is undefined (no nonzero
  // difference), which is the strongest case of "no difference", so p counts as 1.
  const allZero = G === 0 && num(row.words_G_lo) === 0 && num(row.words_G_hi) === 0;
  const pw = allZero && !Number.isFinite(num(row.words_wilcoxon_p)) ? 1 : num(row.words_wilcoxon_p);
  const nSeeds = num(row.n_seeds);
  const ps = allZero && !Number.isFinite(num(row.p_t_G)) ? 1 : num(row.p_t_G);
  if (!Number.isFinite(G) || !Number.isFinite(pw)) return { verdict: 'inconclusive', reason: 'no mean G or Wilcoxon p at this step' };
  const seedsTest = nSeeds >= 2;
  if (seedsTest && !Number.isFinite(ps)) return { verdict: 'inconclusive', reason: `${nSeeds} seeds but no t-test over seeds` };
  const grounds = G > 0 && pw < c.alphaWords && (!seedsTest || ps < c.alphaSeeds);
  const differs = pw < c.alphaWords && (!seedsTest || ps < c.alphaSeeds);
  const noDifference = pw >= c.alphaNone && (!seedsTest || ps >= c.alphaNone);
  const desc = `G ${G.toFixed(3)}, Wilcoxon p ${pw.toPrecision(2)}${seedsTest ? `, seeds p ${ps.toPrecision(2)}` : ' (1 seed: no t-test over seeds)'}`;
  if (expected === 'no') {
    if (noDifference) return { verdict: 'supported', reason: `no significant difference as expected (${desc})` };
    if (differs) return { verdict: 'not supported', reason: `a significant difference where the paper expects none (${desc})` };
    return { verdict: 'inconclusive', reason: `between the thresholds (${desc})` };
  }
  if (grounds) return { verdict: 'supported', reason: desc };
  if (!(G > 0) || pw >= c.alphaNone || (seedsTest && ps >= c.alphaNone)) return { verdict: 'not supported', reason: `no significant gain (${desc})` };
  return { verdict: 'inconclusive', reason: `significant at 0.05 but not at the claim's thresholds (${desc})` };
}

// ---------------------------------------------------------------------------------------------
// Claim 2
// ---------------------------------------------------------------------------------------------

/**
 * Claim 2 from the R² rows of one (label, items, model) over steps and the mean G per step.
 * Returns the verdict and the peak row.
 */
export function claim2Verdict(r2Rows: readonly SummaryRow[], gByStep: ReadonlyMap<number, number>): { verdict: Verdict; reason: string; peak: SummaryRow | null; last: SummaryRow | null } {
  const c = CLAIM_CRITERIA[2];
  const rows = r2Rows.filter((r) => Number.isFinite(num(r.r2)) && (!c.excludeStep0 || num(r.step) !== 0)).sort((a, b) => num(a.step) - num(b.step));
  if (rows.length < 2) return { verdict: 'inconclusive', reason: `R² at ${rows.length} checkpoint(s) after step 0: a peak before the last needs at least 2`, peak: rows[0] ?? null, last: rows[0] ?? null };
  const last = rows[rows.length - 1]!;
  const peak = rows.reduce((a, b) => (num(b.r2) > num(a.r2) ? b : a));
  const gPeak = gByStep.get(num(peak.step)) ?? NaN;
  const gLast = gByStep.get(num(last.step)) ?? NaN;
  const desc = `peak R² ${num(peak.r2).toFixed(3)} [${num(peak.r2_lo).toFixed(3)}, ${num(peak.r2_hi).toFixed(3)}] at step ${peak.step}, last R² ${num(last.r2).toFixed(3)} [${num(last.r2_lo).toFixed(3)}, ${num(last.r2_hi).toFixed(3)}] at step ${last.step}; G ${gPeak.toFixed(3)} → ${gLast.toFixed(3)}`;
  if (peak === last) return { verdict: 'not supported', reason: `R² peaks at the last checkpoint (${desc})`, peak, last };
  if (!Number.isFinite(num(peak.r2_lo)) || !Number.isFinite(num(last.r2_hi))) return { verdict: 'inconclusive', reason: `no bootstrap interval (${desc})`, peak, last };
  if (!Number.isFinite(gPeak) || !Number.isFinite(gLast)) return { verdict: 'inconclusive', reason: `no mean G at the peak or last step (${desc})`, peak, last };
  if (!(gLast > gPeak)) return { verdict: 'not supported', reason: `G does not rise after the R² peak (${desc})`, peak, last };
  if (num(last.r2) >= num(peak.r2_lo)) return { verdict: 'not supported', reason: `the last R² lies within the peak's interval (${desc})`, peak, last };
  if (num(peak.r2_lo) > num(last.r2_hi)) return { verdict: 'supported', reason: desc, peak, last };
  return { verdict: 'inconclusive', reason: `the intervals overlap (${desc})`, peak, last };
}

// ---------------------------------------------------------------------------------------------
// Claim 3
// ---------------------------------------------------------------------------------------------

/** Per seed: the 1-based layer with the largest mean ENV flow of the layer flow (unit = layer). */
export function saliencyPeakLayers(rows: readonly SummaryRow[]): Map<number, number> {
  const best = new Map<number, { layer: number; flow: number }>();
  for (const r of rows) {
    if (r.unit !== 'layer') continue;
    const seed = num(r.seed);
    const f = num(r.env_flow);
    if (!Number.isFinite(f)) continue;
    const b = best.get(seed);
    if (!b || f > b.flow) best.set(seed, { layer: num(r.layer), flow: f });
  }
  return new Map([...best].map(([s, b]) => [s, b.layer]));
}

/**
 * Per seed: the layer the largest drop of the lens's target surprisal arrives at (layer_to), over
 * adjacent pairs whose both layers converged (`unconverged`: per seed, the 1-based layers left out).
 */
export function lensDropLayers(rows: readonly SummaryRow[], unconverged: ReadonlyMap<number, ReadonlySet<number>> = new Map()): Map<number, number> {
  const c = CLAIM_CRITERIA[3];
  const best = new Map<number, { layer: number; drop: number }>();
  for (const r of rows) {
    if (r.lens !== c.lens || r.condition !== c.condition) continue;
    const seed = num(r.seed);
    const bad = unconverged.get(seed);
    if (bad && (bad.has(num(r.layer_from)) || bad.has(num(r.layer_to)))) continue;
    const d = num(r.drop);
    if (!Number.isFinite(d)) continue;
    const b = best.get(seed);
    if (!b || d > b.drop) best.set(seed, { layer: num(r.layer_to), drop: d });
  }
  return new Map([...best].map(([s, b]) => [s, b.layer]));
}

/** Claim 3 for one measure: per-seed layers → mean, t-interval over seeds, verdict. */
export function claim3Verdict(layers: readonly number[], nLayers: number): { verdict: Verdict; reason: string; mean: number; lo: number; hi: number } {
  const c = CLAIM_CRITERIA[3];
  const { from, to } = middleLayers(nLayers);
  const ci = tInterval(layers, c.level);
  const where = `middle = layers ${from}-${to} of ${nLayers}`;
  if (!layers.length) return { verdict: 'inconclusive', reason: 'no layer values', ...ci };
  if (nLayers < 3 || from > to) return { verdict: 'inconclusive', reason: `${nLayers} layers: no middle layers`, ...ci };
  if (layers.length < c.minSeeds) return { verdict: 'inconclusive', reason: `${layers.length} seed(s) (layer ${layers.join(', ')}; ${where}): a CI over seeds needs ≥ ${c.minSeeds}`, ...ci };
  const desc = `layers ${layers.join(', ')} over ${layers.length} seeds, mean ${ci.mean.toFixed(2)} [${ci.lo.toFixed(2)}, ${ci.hi.toFixed(2)}]; ${where}`;
  // A degenerate interval (every seed the same layer) is the point itself.
  const lo = Number.isFinite(ci.lo) ? ci.lo : ci.mean;
  const hi = Number.isFinite(ci.hi) ? ci.hi : ci.mean;
  // Layers are bins: layer k covers [k − ½, k + ½], so the middle is [from − ½, to + ½].
  if (lo >= from - 0.5 && hi <= to + 0.5) return { verdict: 'supported', reason: desc, ...ci };
  if (hi < from - 0.5 || lo > to + 0.5) return { verdict: 'not supported', reason: desc, ...ci };
  return { verdict: 'inconclusive', reason: `the interval reaches outside the middle (${desc})`, ...ci };
}

/** Combined claim 3: both measures supported → supported; either not supported → not supported. */
export function combineVerdicts(vs: readonly Verdict[]): Verdict {
  if (vs.length && vs.every((v) => v === 'supported')) return 'supported';
  if (vs.some((v) => v === 'not supported')) return 'not supported';
  return 'inconclusive';
}

// ---------------------------------------------------------------------------------------------
// Claim 4
// ---------------------------------------------------------------------------------------------

/** Column names of issue 13's heads.csv that claim 4 reads (first present wins). */
export const CLAIM4_COLUMNS = {
  /** The causal per-head verdict (1: a grounding head). */
  headVerdict: ['grounding'],
  /** ΔG of ablating the head on held-out items, and the mean ΔG of its same-size controls. */
  deltaG: ['dG', 'delta_G'],
  controlDeltaG: ['dG_control', 'delta_G_control'],
  /** The head test's adjusted p-value. */
  p: ['p_holm', 'p'],
};

const firstColumn = (rows: readonly SummaryRow[], names: readonly string[]) => names.find((n) => rows.some((r) => n in r && r[n] !== '' && !Number.isNaN(r[n])));

/**
 * Claim 4 at one step from the per-head rows of every seed (one label and item set; every selection
 * rule's rows, a head counted once per seed). Supported when every seed names at least one grounding
 * head (issue 13's verdict: ablating it lowers G more than same-size controls, Holm-adjusted, with a
 * minimum share of G removed); not supported when no seed names any while heads were tested;
 * inconclusive otherwise or when the verdict columns are absent. statistic: mean over the named heads
 * of ΔG − ΔG(controls); p: over seeds, the largest of each seed's smallest adjusted p of a named head.
 */
export function claim4Verdict(heads: readonly SummaryRow[], _intervention: readonly SummaryRow[], arch: string): { verdict: Verdict; reason: string; statistic: number; p: number; nHeads: number } {
  const none = { statistic: NaN, p: NaN, nHeads: NaN };
  if (arch === 'lstm') return { verdict: 'inconclusive', reason: 'no attention heads (LSTM)', ...none };
  const hv = firstColumn(heads, CLAIM4_COLUMNS.headVerdict);
  const dg = firstColumn(heads, CLAIM4_COLUMNS.deltaG);
  const dgc = firstColumn(heads, CLAIM4_COLUMNS.controlDeltaG);
  const pc = firstColumn(heads, CLAIM4_COLUMNS.p);
  if (!hv || !dg) {
    const missing = [!hv && 'heads.csv `grounding`', !dg && 'heads.csv ΔG (`dG`)'].filter(Boolean).join(', ');
    return { verdict: 'inconclusive', reason: `the tables lack the causal per-head verdicts (${missing}; issue 13): matched-surprisal ablation alone cannot name grounding heads`, ...none };
  }
  const seeds = [...new Set(heads.map((h) => num(h.seed)))];
  const named = new Map<number, Map<string, SummaryRow>>();
  let tested = 0;
  for (const h of heads) {
    if (Number.isFinite(num(h[dg]))) tested++;
    if (num(h[hv]) !== 1) continue;
    const m = named.get(num(h.seed)) ?? new Map<string, SummaryRow>();
    m.set(`${h.layer}/${h.head}`, h);
    named.set(num(h.seed), m);
  }
  const all = [...named.values()].flatMap((m) => [...m.values()]);
  const effects = all.map((h) => num(h[dg]) - (dgc ? num(h[dgc]) : 0)).filter(Number.isFinite);
  const statistic = effects.length ? mean(effects) : NaN;
  const perSeedP = [...named.values()].map((m) => Math.min(...[...m.values()].map((h) => (pc ? num(h[pc]) : NaN)).filter(Number.isFinite)));
  const p = perSeedP.length && perSeedP.every(Number.isFinite) ? Math.max(...perSeedP) : NaN;
  const counts = seeds.map((s) => named.get(s)?.size ?? 0);
  const desc = `grounding heads per seed: ${counts.join(', ')}${all.length ? `; mean ΔG − control ${statistic.toFixed(3)} nats` : ''}`;
  if (!tested) return { verdict: 'inconclusive', reason: `no head could be tested (controls NA) (${desc})`, statistic, p, nHeads: 0 };
  if (seeds.length && counts.every((c) => c > 0)) return { verdict: 'supported', reason: desc, statistic, p, nHeads: all.length };
  if (counts.every((c) => c === 0)) return { verdict: 'not supported', reason: `no head passes the causal test (${desc})`, statistic, p, nHeads: 0 };
  return { verdict: 'inconclusive', reason: `grounding heads in some seeds only (${desc})`, statistic, p, nHeads: all.length };
}

// ---------------------------------------------------------------------------------------------
// The scorecard
// ---------------------------------------------------------------------------------------------

/** Every claim's verdict per (label, items) found in the grounding table. */
export function computeClaims(t: ClaimTables): ClaimRow[] {
  const out: ClaimRow[] = [];
  const groups = groupBy(t.grounding, (r) => key(r.label, r.items));
  for (const [k, rows] of groups) {
    const [label, items] = JSON.parse(k) as [string, string];
    const arch = String(rows[0]!.arch);
    const dec = decisiveRow(rows)!;
    const step = num(dec.step);
    const nSeeds = num(dec.n_seeds);
    const base = { label, arch, items, n_seeds: nSeeds, n_words: num(dec.n_words) };
    const NA = { ci_lo: NaN, ci_hi: NaN, p: NaN, p_seeds: NaN };

    // 1
    const v1 = claim1Verdict(dec, expectation(1, arch));
    out.push({
      claim: 1, ...base, measure: 'mean G (nats)', step, criterion: CLAIM_CRITERIA[1].text, expected: expectation(1, arch),
      statistic: num(dec.mean_G), ci_lo: num(dec.words_G_lo), ci_hi: num(dec.words_G_hi), p: num(dec.words_wilcoxon_p), p_seeds: num(dec.p_t_G), ...v1,
    });

    // 2
    const gByStep = new Map(rows.filter((r) => num(r.n_seeds) === nSeeds).map((r) => [num(r.step), num(r.mean_G)] as [number, number]));
    const r2Rows = t.r2.filter((r) => r.label === label && r.items === items && r.model === CLAIM_CRITERIA[2].model && (num(r.n_seeds) === nSeeds || !('n_seeds' in r)));
    const v2 = claim2Verdict(r2Rows, gByStep);
    out.push({
      claim: 2, ...base, measure: `peak R² (${CLAIM_CRITERIA[2].model})`, step: v2.peak ? num(v2.peak.step) : NaN, criterion: CLAIM_CRITERIA[2].text, expected: expectation(2, arch),
      ...NA, statistic: v2.peak ? num(v2.peak.r2) : NaN, ci_lo: v2.peak ? num(v2.peak.r2_lo) : NaN, ci_hi: v2.peak ? num(v2.peak.r2_hi) : NaN, verdict: v2.verdict, reason: v2.reason,
    });

    // Claims 3 and 4 only for the item set the mechanistic suite ran on (it analyses one set).
    const mechSets = new Set([...(t.saliencyByRun ?? []), ...(t.lensTestsByRun ?? [])].filter((r) => r.label === label).map((r) => String(r.items)));
    if (mechSets.size && !mechSets.has(items)) continue;

    // 3: at the mechanistic suite's own decisive step (it may analyse fewer checkpoints than the
    // evaluation): the last step with as many seeds as any; else the evaluation's.
    const mine = (rs: readonly SummaryRow[] | undefined) => (rs ?? []).filter((r) => r.label === label && r.items === items);
    const mechStep = decisiveStep([...mine(t.saliencyByRun), ...mine(t.lensTestsByRun)]) ?? step;
    const at = (rs: readonly SummaryRow[] | undefined) => mine(rs).filter((r) => num(r.step) === mechStep);
    const sal = at(t.saliencyByRun);
    const lensT = at(t.lensTestsByRun);
    const training = (t.lensTrainingByRun ?? []).filter((r) => r.label === label && num(r.step) === mechStep);
    const nLayers = t.nLayers?.[label] ?? Math.max(0, ...sal.map((r) => num(r.layer)).filter(Number.isFinite), ...lensT.map((r) => num(r.layer_to)).filter(Number.isFinite));
    const unconverged = new Map<number, Set<number>>();
    let flagged = 0;
    for (const r of training) {
      if ('converged' in r && num(r.converged) === 0) {
        const s = unconverged.get(num(r.seed)) ?? new Set<number>();
        s.add(num(r.layer));
        unconverged.set(num(r.seed), s);
        flagged++;
      }
    }
    const c3 = CLAIM_CRITERIA[3];
    const salLayers = [...saliencyPeakLayers(sal).values()];
    const lensLayers = [...lensDropLayers(lensT, unconverged).values()];
    const v3s = sal.length ? claim3Verdict(salLayers, nLayers) : { verdict: 'inconclusive' as Verdict, reason: 'no saliency table at this step', mean: NaN, lo: NaN, hi: NaN };
    const v3l = lensT.length ? claim3Verdict(lensLayers, nLayers) : { verdict: 'inconclusive' as Verdict, reason: 'no lens tests at this step', mean: NaN, lo: NaN, hi: NaN };
    const convNote = training.length && !training.some((r) => 'converged' in r) ? '; lens convergence not recorded' : flagged ? `; ${flagged} non-converged lens layer(s) left out` : '';
    const row3 = (measure: string, v: typeof v3s, n: number, extra = '') => ({
      claim: 3 as const, ...base, n_seeds: n, measure, step: mechStep, criterion: c3.text, expected: expectation(3, arch), ...NA, statistic: v.mean, ci_lo: v.lo, ci_hi: v.hi, verdict: v.verdict, reason: v.reason + extra,
    });
    out.push(row3('layer of peak ENV saliency flow', v3s, salLayers.length));
    out.push(row3(`layer of largest ${c3.lens}-lens drop`, v3l, lensLayers.length, convNote));
    out.push({
      claim: 3, ...base, measure: 'overall', step: mechStep, criterion: c3.text, expected: expectation(3, arch), ...NA, statistic: NaN,
      verdict: combineVerdicts([v3s.verdict, v3l.verdict]), reason: `saliency: ${v3s.verdict}; lens: ${v3l.verdict}`,
    });

    // 4
    const v4 = claim4Verdict(at(t.headsByRun), at(t.interventionByRun), arch);
    out.push({
      claim: 4, ...base, measure: 'ΔG of the named grounding heads vs controls (nats)', step: mechStep, criterion: CLAIM_CRITERIA[4].text, expected: expectation(4, arch),
      ...NA, statistic: v4.statistic, p: v4.p, verdict: v4.verdict, reason: v4.reason,
    });
  }
  return out.sort((a, b) => a.claim - b.claim || 0);
}

/** One line per row, for `reproduce`'s console output. */
export function formatClaims(rows: readonly ClaimRow[]): string {
  if (!rows.length) return '  (no claims: no evaluated runs)';
  const f = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : 'NA');
  return rows
    .filter((r) => r.claim !== 3 || r.measure === 'overall') // claim 3's two measures are in claims.csv; the console shows the combined verdict
    .map((r) => `  claim ${r.claim}  ${r.label.padEnd(9)} ${r.items.padEnd(8)} ${r.verdict.padEnd(13)} ${r.measure}: ${f(r.statistic)}${Number.isFinite(r.ci_lo) ? ` [${f(r.ci_lo)}, ${f(r.ci_hi)}]` : ''}  (${r.reason})`)
    .join('\n');
}
