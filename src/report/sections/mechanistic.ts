/**
 * The mechanistic sections of the study report (SPEC §6; the paper's claims 3 and 4), drawn from
 * STUDY/mechanistic/ and RUN/mechanistic/ (study/mechanistic-study.ts): they fill the study
 * report's extension slots `saliency` (60), `lens` (65) and `heads` (70).
 *
 *   saliency  layer × checkpoint heatmap of the ENV saliency flow per model, where it peaks, and a
 *             token-level view of one item (like the paper's Figure 1) with its full map
 *   lens      tuned-lens (and logit-lens) surprisal of the target per layer, one curve per
 *             checkpoint, matched and mismatched; adjacent-layer drops with Welch tests
 *   heads     layer × head grid of ENV shares with the aggregate heads outlined; the intervention
 *             table per checkpoint (SPEC §1), its curves, and the paper's numbers beside it
 *
 * No engine code: only tables are read.
 */
import { aggregateMechanistic, type MechanisticAggregate, readSaliencyMaps } from '../../study/mechanistic-study.js';
import type { SaliencyMapRecord } from '../../study/mechanistic-tables.js';
import type { SummaryRow } from '../../study/tables.js';
import { heatmap, headGrid, layerCurvesChart, lineBandChart } from '../charts.js';
import { parseTaggedToken, type Row, type TableColumn } from '../html.js';
import type { StudyReportContext, StudyReportSection } from './registry.js';
import { fixedColumn, fixedOrNA, MODEL_COLUMN, pColumn } from '../table-format.js';
import { groupBy } from '../../util/collections.js';

/** p-values in this part of the report get no digits after the point in exponent notation (1e-14). */
const pCol = (key: string, label: string): TableColumn => pColumn(key, label, 0);
/** Whole numbers as such (one seed), else two decimals (means over seeds). */
const nHeadsFmt = (x: unknown): string => (x === '' || !Number.isFinite(Number(x)) ? 'NA' : Number.isInteger(Number(x)) ? String(x) : Number(x).toFixed(2));
const f2 = fixedOrNA(2);

/** Mean layer of the chosen heads, and matched surprisal ablated, with random controls ablated, unablated: the columns our intervention table shares with the paper's. */
const INTERVENTION_COLUMNS: TableColumn[] = [
  fixedColumn('mean_layer', 'mean layer', 2),
  fixedColumn('intervened', 'ablated', 2),
  fixedColumn('control', 'random control', 2),
  fixedColumn('original', 'unablated', 2),
];

/** The paper's intervention table (SPEC §1): 12-layer GPT-2 on CHILDES, means over 5 seeds. */
export const PAPER_INTERVENTION = [
  { step: 5000, n_heads: 2.28, mean_layer: 7.38, intervened: 6.51, control: 6.39, original: 6.38, p: '< 0.001' },
  { step: 10000, n_heads: 5.09, mean_layer: 7.28, intervened: 5.86, control: 5.29, original: 5.3, p: '< 0.001' },
  { step: 20000, n_heads: 6.71, mean_layer: 7.52, intervened: 5.62, control: 4.76, original: 4.77, p: '< 0.001' },
];

/** The paper's tuned-lens surprisal of the target by layer 1..12 (matched contexts, SPEC §1). */
export const PAPER_LENS: Record<number, number[]> = {
  10000: [6.57, 5.9, 5.82, 5.82, 5.72, 5.63, 5.55, 5.42, 5.41, 5.39, 5.35, 5.3],
  20000: [6.57, 5.71, 5.55, 5.55, 5.47, 5.39, 5.27, 5.0, 4.92, 4.87, 4.84, 4.77],
};

// One aggregate per report build (the three sections share it).
const cache = new WeakMap<StudyReportContext, MechanisticAggregate>();
function mech(ctx: StudyReportContext): MechanisticAggregate {
  let a = cache.get(ctx);
  if (!a) {
    a = aggregateMechanistic(ctx.dir);
    cache.set(ctx, a);
  }
  return a;
}

const labelsWith = (ctx: StudyReportContext, rows: SummaryRow[]) => ctx.labels.filter((l) => rows.some((r) => r.label === l));
const stepsOf = (rows: SummaryRow[]) => [...new Set(rows.map((r) => r.step as number))].sort((a, b) => a - b);
const archOf = (rows: SummaryRow[], label: string) => String(rows.find((r) => r.label === label)?.arch ?? '');

/** The layer with the highest mean ENV flow (or ENV share) at each step of a label. */
function peaks(rows: SummaryRow[], by: 'env_flow' | 'env_share' = 'env_flow'): Map<number, SummaryRow> {
  const best = new Map<number, SummaryRow>();
  for (const r of rows) {
    if (r.unit !== 'layer') continue;
    const b = best.get(r.step as number);
    if (!b || (r[by] as number) > (b[by] as number)) best.set(r.step as number, r);
  }
  return best;
}

/** The displayed map for a label: the most ENV-directed of the per-word maps at the last analysed step (first seed). */
function pickMap(ctx: StudyReportContext, agg: MechanisticAggregate, label: string): SaliencyMapRecord | null {
  const runs = agg.runs.filter((r) => r.config.label === label).sort((a, b) => a.config.seed - b.config.seed);
  for (const run of runs) {
    const maps = readSaliencyMaps(run.dir);
    if (!maps.length) continue;
    const last = Math.max(...maps.map((m) => m.step));
    const atLast = maps.filter((m) => m.step === last);
    const lens = atLast.map((m) => m.tokens.length).sort((a, b) => a - b);
    const median = lens[Math.floor(lens.length / 2)] ?? 0;
    const cands = atLast.filter((m) => m.tokens.length >= Math.max(4, median) && m.tokens.length <= 40);
    const pool = cands.length ? cands : atLast;
    return pool.reduce((a, m) => ((Number.isFinite(m.env_share) ? m.env_share : -1) > (Number.isFinite(a.env_share) ? a.env_share : -1) ? m : a));
  }
  return null;
}

const saliencySection: StudyReportSection = {
  id: 'saliency',
  title: 'Where: saliency flow from ENV tokens',
  order: 60,
  async render(ctx) {
    const agg = mech(ctx);
    const rows = agg.studySaliency.filter((r) => r.unit === 'layer');
    const labels = labelsWith(ctx, rows);
    if (!labels.length) return false;
    const b = ctx.builder;
    b.section('Where: saliency flow from ENV tokens');
    b.text([
      'Saliency (Wang et al. 2023): for each matched item, L is the surprisal of the target v<LAN> at the last position, and the saliency of head h in layer l is |A ⊙ ∂L/∂A| on its attention matrix A (Mamba-2: the SSD\'s implicit attention M = L ∘ (C Bᵀ) per head; the LSTM: gradient × input on each layer\'s input, |Σ_d x ∂L/∂x| per position). The layer flow is |Σ_h A ⊙ ∂L/∂A|. The ENV flow of a layer is the mean of the prediction row of its saliency over the ENV positions; the ENV share is the part of the whole prediction row that comes from ENV positions; the ground-token share the part that comes from v<ENV> alone.',
      'The paper finds the ENV flow peaking in the middle layers (7 to 9 of 12) once grounding has emerged.',
    ]);
    const peakRows: Row[] = [];
    for (const label of labels) {
      const mine = rows.filter((r) => r.label === label);
      const steps = stepsOf(mine);
      const nLayers = Math.max(...mine.map((r) => r.layer as number));
      // ENV flow relative to the largest layer at the same checkpoint: where, not how much (gradients shrink as the loss falls).
      const maxAt = new Map<number, number>();
      for (const r of mine) maxAt.set(r.step as number, Math.max(maxAt.get(r.step as number) ?? 0, r.env_flow as number));
      const cells = mine.map((r) => ({ step: r.step, layer: r.layer, rel: (r.env_flow as number) / (maxAt.get(r.step as number) || 1), flow: r.env_flow, share: r.env_share }));
      const arch = archOf(mine, label);
      b.subsection(`${label}: ENV saliency flow by layer and checkpoint`, { id: `saliency-${label}` });
      b.figure(
        await ctx.svg(
          heatmap(cells, {
            x: 'step', y: 'layer', value: 'rel', xTitle: 'checkpoint (training step)', yTitle: arch === 'lstm' ? 'layer (input of)' : 'layer', valueTitle: 'ENV flow ÷ max over layers',
            domain: [0, 1], showValues: steps.length * nLayers <= 160, valueFormat: '.2f', title: `${label}: where the environment flows into the prediction`,
          }),
        ),
        `${label} (${arch}): mean ENV flow of each layer${arch === 'lstm' ? ' (gradient × input)' : ' (|Σ_h A ⊙ ∂L/∂A|)'} over matched items${Number(mine[0]!.n_seeds) > 1 ? ' and seeds' : ''}, divided by its largest value over layers at the same checkpoint (1 = the peak layer). Raw values: mechanistic/study_saliency.csv.`,
      );
      const byShare = peaks(mine, 'env_share');
      for (const [step, p] of peaks(mine)) {
        const q = byShare.get(step)!;
        peakRows.push({ label, step, layer: p.layer, n_layers: nLayers, flow: p.env_flow, share: p.env_share, share_layer: q.layer, max_share: q.env_share, n_seeds: p.n_seeds });
      }
    }
    b.subsection('Peak layer per checkpoint', { id: 'saliency-peaks' });
    b.table(peakRows, {
      caption: 'Peak layer of the ENV saliency flow at each analysed checkpoint (1-based), its mean ENV flow and the ENV share of that layer\'s prediction row; and the layer whose prediction row has the largest ENV share (a scale-free view: raw flows also reflect how gradient magnitudes differ between layers).',
      columns: [
        MODEL_COLUMN,
        'step',
        { key: 'layer', label: 'peak layer, ENV flow' },
        { key: 'n_layers', label: 'of layers' },
        { key: 'flow', label: 'ENV flow', digits: 3 },
        { key: 'share', label: 'its ENV share', digits: 3 },
        { key: 'share_layer', label: 'peak layer, ENV share' },
        { key: 'max_share', label: 'ENV share', digits: 3 },
        { key: 'n_seeds', label: 'seeds' },
      ],
      maxRows: 200,
    });
    // The ground token v<ENV> alone, matched vs mismatched (u<ENV> in its place), per layer at the last step.
    const groundRows = labels.flatMap((label) => {
      const mine = rows.filter((r) => r.label === label && Number.isFinite(r.ground_share as number));
      const last = Math.max(...mine.map((r) => r.step as number));
      return mine.filter((r) => r.step === last);
    });
    if (groundRows.length) {
      b.subsection('Saliency on the ground token', { id: 'saliency-ground' });
      b.table(groundRows, {
        caption: 'Per layer at the last analysed checkpoint: the share of the prediction row\'s saliency on the ground token v<ENV> alone (the positions a mismatch swaps), beside the share on all ENV tokens; the same on the item\'s first mismatched context (u<ENV> there), and matched − mismatched: how much of the layer\'s reading of the ground token depends on it being the target\'s referent. Per head: mechanistic/saliency.csv.',
        columns: [
          MODEL_COLUMN,
          'step',
          'layer',
          { key: 'env_share', label: 'ENV share', digits: 3 },
          { key: 'ground_share', label: 'v<ENV> share', digits: 3 },
          { key: 'ground_share_mismatched', label: 'u<ENV> share (mismatched)', digits: 3 },
          { key: 'ground_share_diff', label: 'matched − mismatched', digits: 3 },
          { key: 'n_seeds', label: 'seeds' },
        ],
        maxRows: 200,
      });
    }

    // Token-level view of one item per model.
    for (const label of labels) {
      const m = pickMap(ctx, agg, label);
      if (!m) continue;
      const n = m.tokens.length;
      const row = m.kind === 'attention' ? (m.saliency as number[][])[n - 1]! : (m.saliency as number[]);
      const env = new Set(m.env_positions);
      b.subsection(`${label}: one item, token by token`, { id: `tokens-${label}` });
      b.tokens(
        m.tokens.map((t, j) => {
          const p = parseTaggedToken(t);
          return { text: p.text, kind: env.has(j) ? 'env' : p.kind, value: row[j] ?? 0 };
        }),
        {
          target: parseTaggedToken(m.target).text,
          valueTitle: m.kind === 'attention' ? 'saliency into the prediction' : 'gradient × input',
          caption: `${label}, step ${m.step}, item ${m.item}: saliency of ${m.kind === 'attention' ? `layer ${m.layer}${m.head ? ` head ${m.head}` : ' (all heads, |Σ_h A ⊙ ∂L/∂A|)'}` : `the input of layer ${m.layer} (gradient × input)`} from each context token into the prediction of "${parseTaggedToken(m.target).text}" (surprisal ${f2(m.surprisal)} nats). ENV tokens are marked; ${Math.round(100 * m.env_share)}% of the prediction row comes from them. Shown: of one item per word (at least the median length), the one with the largest ENV share at the last analysed checkpoint; every word's map is in saliency_maps.jsonl.`,
        },
      );
      if (m.kind === 'attention') {
        const lab = (j: number) => `${j + 1} ${m.tokens[j]}`;
        const cells: Row[] = [];
        (m.saliency as number[][]).forEach((r, q) => r.forEach((v, k) => cells.push({ query: lab(q), key: lab(k), value: v })));
        b.figure(
          await ctx.svg(
            heatmap(cells, { x: 'key', y: 'query', value: 'value', xTitle: 'from token (key)', yTitle: 'to token (query)', valueTitle: '|A ⊙ ∂L/∂A|', scheme: 'oranges', yOrder: 'ascending', title: `${label}, step ${m.step}: token × token saliency, layer ${m.layer}${m.head ? ` head ${m.head}` : ''}` }),
          ),
          `The whole saliency matrix of the same item (rows: query positions, the last row is the prediction row shown above; causal, so only keys at or before the query).`,
        );
      }
    }
  },
};

const lensSection: StudyReportSection = {
  id: 'lens',
  title: 'Where: tuned lens',
  order: 65,
  async render(ctx) {
    const agg = mech(ctx);
    const labels = labelsWith(ctx, agg.studyLens);
    if (!labels.length) return false;
    const b = ctx.builder;
    b.section('Where: tuned lens');
    b.text([
      'The tuned lens (Belrose et al. 2023) reads the residual stream after each layer as a next-token distribution: an affine map per layer (initialised to the identity), a fresh norm, and the model\'s frozen unembedding, trained per checkpoint to minimise KL(final ‖ lens) on training sequences with the model frozen. The logit lens applies the model\'s own final norm and unembedding directly. The curves show the surprisal of the target read at each layer; the paper sees it fall most between layers 7 and 8 of 12 once grounding has emerged, in matched contexts.',
    ]);
    const drops: Row[] = [];
    for (const label of labels) {
      const mine = agg.studyLens.filter((r) => r.label === label);
      const arch = archOf(mine, label);
      b.subsection(`${label}: target surprisal by layer`, { id: `lens-${label}` });
      for (const lens of ['tuned', 'logit']) {
        const rows = mine.filter((r) => r.lens === lens).map((r) => ({ layer: r.layer, surprisal: r.surprisal, step: r.step, condition: r.condition }));
        if (!rows.length) continue;
        b.figure(
          await ctx.svg(
            layerCurvesChart(rows, {
              layer: 'layer', y: 'surprisal', series: 'step', seriesTitle: 'checkpoint', facet: 'condition', facetOrder: ['matched', 'mismatched'], columns: 2,
              yTitle: 'surprisal of the target (nats)', width: 300, height: 220, title: `${label}: ${lens} lens`,
            }),
          ),
          `${label} (${arch}), ${lens} lens: mean surprisal of the target read after each layer (1-based; the last layer is the model's output), one line per checkpoint, matched and mismatched contexts${Number(mine[0]!.n_seeds) > 1 ? ', means over seeds' : ''}.`,
        );
      }
      // Where the gain appears: mismatched − matched surprisal read at each layer.
      const lensName = mine.some((r) => r.lens === 'tuned') ? 'tuned' : 'logit';
      const mm = new Map(mine.filter((r) => r.lens === lensName && r.condition === 'mismatched').map((r) => [`${r.step}/${r.layer}`, r.surprisal as number]));
      const gains = mine
        .filter((r) => r.lens === lensName && r.condition === 'matched' && mm.has(`${r.step}/${r.layer}`))
        .map((r) => ({ layer: r.layer, step: r.step, G: mm.get(`${r.step}/${r.layer}`)! - (r.surprisal as number) }));
      if (gains.length) {
        b.figure(
          await ctx.svg(layerCurvesChart(gains, { layer: 'layer', y: 'G', series: 'step', seriesTitle: 'checkpoint', yTitle: 'mismatched − matched (nats)', width: 360, height: 220, title: `${label}: grounding gain read at each layer (${lensName} lens)` })),
          `${label}: the information gain (mean mismatched minus mean matched surprisal of the target over items) read through the ${lensName} lens after each layer, one line per checkpoint: the layer where the environment starts to lower the target's surprisal. The last layer is the model's own gain.`,
        );
      }
      const tests = agg.studyLensTests.filter((r) => r.label === label && r.lens === lensName && r.condition === 'matched');
      const last = Math.max(...tests.map((r) => r.step as number));
      const perRun = agg.lensTests.filter((r) => r.label === label && r.step === last && r.condition === 'matched' && r.lens === tests[0]?.lens);
      const at = tests.filter((r) => r.step === last);
      const biggest = at.reduce<SummaryRow | null>((a, r) => (!a || (r.drop as number) > (a.drop as number) ? r : a), null);
      for (const r of at) {
        const one = perRun.filter((x) => x.layer_from === r.layer_from);
        drops.push({
          label, step: r.step, lens: r.lens, pair: `${r.layer_from} → ${r.layer_to}`, from: r.mean_from, to: r.mean_to, drop: r.drop,
          welch_p: one.length === 1 ? one[0]!.welch_p : r.welch_p_max, paired_p: one.length === 1 ? one[0]!.paired_p : NaN, p_seeds: r.p_seeds, largest: biggest === r ? '◀ largest' : '',
        });
      }
    }
    b.subsection('Layer-to-layer drops, and the paper\'s numbers', { id: 'lens-drops' });
    b.table(drops, {
      caption: 'Drop of the target\'s surprisal between adjacent layers at the last analysed checkpoint (matched contexts, tuned lens; nats). Welch: one-sided Welch t-test over items that layer l+1 is lower than layer l (the largest p over seeds when there are several); paired: the same items at both layers, one-sided paired t-test; p over seeds: one-sample t-test of the per-seed drops (two or more seeds).',
      columns: [
        MODEL_COLUMN,
        'step',
        { key: 'pair', label: 'layers' },
        { key: 'from', label: 'surprisal at l', digits: 3 },
        { key: 'to', label: 'at l+1', digits: 3 },
        { key: 'drop', label: 'drop', digits: 3 },
        pCol('welch_p', 'p, Welch'),
        pCol('paired_p', 'p, paired'),
        pCol('p_seeds', 'p, seeds'),
        { key: 'largest', label: '' },
      ],
      maxRows: 300,
    });
    b.table(
      Object.entries(PAPER_LENS).map(([step, v]) => ({ step: Number(step), ...Object.fromEntries(v.map((x, i) => [`L${i + 1}`, x])) })),
      { caption: 'For comparison, the paper\'s tuned-lens surprisal of the target by layer (12-layer GPT-2 on CHILDES, matched contexts, means over 5 seeds; SPEC §1).', columns: ['step', ...Array.from({ length: 12 }, (_, i) => fixedColumn(`L${i + 1}`, String(i + 1), 2))] },
    );
    // Does the lens work? Validation KL of the last layer's neighbours.
    const kl = agg.lensTraining.filter((r) => Number.isFinite(r.kl_tuned_val as number));
    if (kl.length) {
      const lastStep = new Map<string, number>();
      for (const r of kl) lastStep.set(String(r.label), Math.max(lastStep.get(String(r.label)) ?? -1, r.step as number));
      const rows = kl.filter((r) => r.step === lastStep.get(String(r.label)) && r.seed === Math.min(...kl.filter((x) => x.label === r.label).map((x) => x.seed as number)));
      b.table(rows, {
        caption: 'How well each layer\'s lens predicts the model\'s own output at the last analysed checkpoint (first seed): mean KL(final ‖ lens) in nats per position on validation windows, logit lens vs trained tuned lens and their ratio (the per-layer fit); the tuned lens trains until its validation KL plateaus (or the cap); a layer whose KL was still falling is not converged and is left out of claim 3.',
        columns: [
          MODEL_COLUMN,
          'step',
          'layer',
          { key: 'kl_logit_val', label: 'KL, logit lens', digits: 3 },
          { key: 'kl_tuned_val', label: 'KL, tuned lens', digits: 3 },
          { key: 'kl_ratio', label: 'tuned / logit', digits: 3 },
          { key: 'lens_steps', label: 'cap' },
          { key: 'lens_steps_run', label: 'updates made' },
          { key: 'stop_reason', label: 'stopped' },
          { key: 'converged', label: 'converged', format: (v) => (v === '' || v === undefined || Number.isNaN(v) ? 'NA' : Number(v) === 1 ? 'yes' : 'no') },
          { key: 'lens_lr', label: 'lr', format: (v) => String(v) },
        ],
        maxRows: 200,
      });
    }
  },
};

const headsSection: StudyReportSection = {
  id: 'heads',
  title: 'How: grounding heads and ablation',
  order: 70,
  async render(ctx) {
    const agg = mech(ctx);
    const labels = labelsWith(ctx, agg.heads);
    if (!labels.length) return false;
    const b = ctx.builder;
    b.section('How: grounding heads and ablation');
    const selections = [...new Set(agg.heads.map((r) => String(r.selection)))];
    const primary = selections.find((s) => !s.startsWith('legacy')) ?? selections[0]!;
    const draws = Math.max(0, ...agg.intervention.map((r) => Number(r.draws) || 0));
    const first = agg.heads[0] ?? {};
    const crossFit = Number(first.cross_fit) === 1;
    b.text([
      `Heads are selected by named rules over their saliency on the prediction row (${selections.join('; ')}): ground_share is the share on the ground token v<ENV> alone, ground_enrichment that share over what uniform saliency would give, layer_flow_share a head's share of its layer's ENV flow, +floor:F drops heads whose total saliency is below F × the largest head's; legacy is the ENV share ≥ 0.30 rule, our reconstruction of the paper's, which uniform saliency alone passes when ENV tokens fill the context. No rule is the paper's (its analysis code is not public).`,
      `A head is called a grounding head only on causal evidence: ${crossFit ? 'heads are selected on one half of the words and tested on the other (both ways), and ' : ''}${String(first.ablation || 'zero')}-ablating its output (before the output projection, every position) must lower the grounding gain G (mismatched − matched surprisal) more than ablating same-size random sets of non-selected heads (${draws || 'the'} seeded draws${Number(first.layer_matched) === 1 ? ', layer-matched, nearest layer when one runs out' : ''}; one-sided paired t-test over items, Holm-corrected over the rule's heads and checkpoints, p < 0.05), with ΔG < 0 and at least 5% of G removed. A head that reads the scene for any purpose raises matched surprisal when ablated without lowering G. NA: too few heads left for a control of the selection's size (never a smaller control).`,
    ]);
    for (const label of labels) {
      const mine = agg.heads.filter((r) => r.label === label && r.selection === primary);
      const last = Math.max(...mine.map((r) => r.step as number));
      const g = new Map<string, { layer: number; head: number; share: number[]; verdict: number[] }>();
      for (const r of mine.filter((x) => x.step === last)) {
        const k = `${r.layer}/${r.head}`;
        const e = g.get(k) ?? { layer: r.layer as number, head: r.head as number, share: [], verdict: [] };
        e.share.push(r.ground_share as number);
        e.verdict.push(r.grounding as number);
        g.set(k, e);
      }
      const seeds = Math.max(...[...g.values()].map((e) => e.share.length));
      const cells = [...g.values()].map((e) => ({ layer: e.layer, head: e.head, share: e.share.reduce((a, x) => a + x, 0) / e.share.length, marked: e.verdict.reduce((a, x) => a + x, 0) / e.verdict.length >= 0.5 }));
      const nMarked = cells.filter((c) => c.marked).length;
      const maxShare = Math.max(0.05, ...cells.map((c) => c.share));
      b.subsection(`${label}: heads at step ${last}`, { id: `heads-${label}` });
      b.figure(
        await ctx.svg(
          headGrid(cells, { layer: 'layer', head: 'head', value: 'share', marked: 'marked', valueTitle: 'ground-token share', domain: [0, maxShare], markLabel: `grounding head (${primary})`, title: `${label}, step ${last}: saliency share on v<ENV> per head` }),
        ),
        `${label} (${archOf(mine, label)}), step ${last}: mean share of each head's prediction-row saliency on the ground token v<ENV>${seeds > 1 ? ` over ${seeds} seeds (outlined: a grounding head in at least half of the seeds)` : ''}; ${nMarked} of ${cells.length} heads outlined as grounding heads (selected by ${primary} and confirmed by the ablation test). Layers and heads are 1-based.`,
      );
    }
    // How many heads each rule selects and how many pass the causal test, per checkpoint (first seed's names).
    const counts: Row[] = [];
    for (const [, rows] of groupBy(agg.heads.filter((r) => labels.includes(String(r.label))), (r) => `${r.label}|${r.selection}|${r.step}`)) {
      const r0 = rows[0]!;
      const seedList = [...new Set(rows.map((r) => r.seed as number))].sort((x, y) => x - y);
      const per = (f: (r: Row) => boolean) => seedList.map((s) => rows.filter((r) => r.seed === s && f(r)).length);
      const named = rows.filter((r) => r.seed === seedList[0] && Number(r.grounding) === 1).map((r) => `L${r.layer}H${r.head}`);
      counts.push({
        label: r0.label, arch: r0.arch, step: r0.step, selection: r0.selection, n_seeds: seedList.length,
        selected: mean(per((r) => Number(r.selected) === 1)), grounding: mean(per((r) => Number(r.grounding) === 1)), named: named.join(' ') || '—',
      });
    }
    b.subsection('Grounding heads over training', { id: 'grounding-heads' });
    b.table(counts, {
      caption: `Per checkpoint and rule: heads selected (in some fold), heads that pass the causal test (grounding = 1; means over seeds), and their names${labels.length ? ' (first seed)' : ''}. The number is free to change over training (only top:K rules fix it).`,
      columns: [MODEL_COLUMN, { key: 'step', label: 'checkpoint' }, { key: 'selection', label: 'rule' }, { key: 'selected', label: 'selected', format: nHeadsFmt, align: 'right' }, { key: 'grounding', label: 'grounding heads', format: nHeadsFmt, align: 'right' }, { key: 'named', label: 'named' }],
      maxRows: 300,
    });
    const rows = agg.studyIntervention.filter((r) => labels.includes(String(r.label)));
    const multiSeed = rows.some((r) => Number(r.n_seeds) > 1);
    b.subsection('Intervention table', { id: 'intervention' });
    b.table(rows, {
      caption: `Intervention per checkpoint (SPEC §1): each rule's heads ablated together (each fold's selection on its held-out words) and their mean layer (1-based); matched surprisal of the target (nats) with those heads ablated, with as many random non-selected heads ablated (mean over draws), and unablated; p: one-sided paired t-test ablated vs control over items; then the grounding gain G, its change ΔG with the heads ablated and with the controls ablated, p(ΔG): one-sided paired t-test over items that the heads lower G more than the controls${multiSeed ? ' (all seeds pooled); p, seeds: paired t-test over per-seed means; max p: the largest per-seed p' : ''}. NA: no heads chosen, or too few other heads for a control of the same size.`,
      columns: [
        MODEL_COLUMN,
        { key: 'step', label: 'checkpoint' },
        { key: 'selection', label: 'heads chosen by' },
        { key: 'n_seeds', label: 'seeds' },
        { key: 'n_heads', label: 'heads', format: nHeadsFmt, align: 'right' },
        ...INTERVENTION_COLUMNS,
        pCol('p_items', 'p'),
        ...(multiSeed ? [pCol('p_seeds', 'p, seeds'), pCol('p_max', 'max p')] : []),
        fixedColumn('G', 'G', 3),
        fixedColumn('dG', 'ΔG heads', 3),
        fixedColumn('dG_control', 'ΔG control', 3),
        pCol('p_dG_items', 'p(ΔG)'),
      ],
      maxRows: 300,
    });
    b.table(PAPER_INTERVENTION, {
      caption: 'For comparison, the paper\'s intervention table (12-layer GPT-2 on CHILDES, 12 heads per layer, means over 5 seeds; SPEC §1): its "aggregate heads" come from its own selection rule, which is not public.',
      columns: [
        { key: 'step', label: 'checkpoint' },
        fixedColumn('n_heads', 'aggregate heads', 2),
        ...INTERVENTION_COLUMNS,
        'p',
      ],
    });
    const curve: Row[] = [];
    for (const r of agg.intervention.filter((x) => labels.includes(String(x.label)))) {
      const G = r.G as number;
      for (const [v, name] of [[G, 'unablated'], [G + (r.dG_control as number), 'random control'], [G + (r.dG as number), 'rule\'s heads ablated']] as const) {
        if (Number.isFinite(v)) curve.push({ panel: `${r.label}, ${r.selection}`, seed: r.seed, step: r.step, condition: name, G: v });
      }
    }
    if (curve.length) {
      const panels = [...new Set(curve.map((r) => String(r.panel)))];
      b.figure(
        await ctx.svg(
          lineBandChart(curve, {
            x: 'step', y: 'G', color: 'condition', colorOrder: ['unablated', 'random control', "rule's heads ablated"], facet: 'panel', facetOrder: panels, columns: Math.min(2, panels.length), width: 300, height: 200,
            band: 'se', points: true, xTitle: 'training step', yTitle: 'G (nats)', colorTitle: 'heads ablated', title: 'Grounding gain with the selected heads vs random heads ablated',
          }),
        ),
        'Mean grounding gain G (mismatched − matched surprisal) over the held-out test items at each checkpoint, unablated, with random control sets ablated, and with the rule\'s heads ablated, one panel per model and selection rule; band ± 1 standard error over seeds when there are several.',
      );
    }
  },
};

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, x) => a + x, 0) / xs.length : NaN);

/** The three sections, registered by the study report in place of its extension slots. */
export const mechanisticSections: StudyReportSection[] = [saliencySection, lensSection, headsSection];
