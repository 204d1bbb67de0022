/**
 * Report sections of issue 14, drawn from the tables of study/claims-study.ts:
 *
 *    5 claims          the scorecard at the top of the page: one verdict per claim, model, item set
 *                      (STUDY/claims.csv), and the criteria as kept in analysis/claims.ts
 *   32 r2-bands        R² of G(v) on co-occurrence over training with 95% bootstrap bands over words
 *                      (joint regression and the SPEC statistics), Spearman ρ at the last checkpoint
 *   45 grounding-age   per word: grounding age and half-drop step, and their Spearman correlations
 *                      with co-occurrence and frequency
 *
 * No engine code: only tables are read (writeStudyClaims recomputes them from the study's tables).
 */
import { CLAIM_CRITERIA, type ClaimRow } from '../../analysis/claims.js';
import { type StudyClaims, writeStudyClaims } from '../../study/claims-study.js';
import { lineBandChart } from '../charts.js';
import type { Row } from '../html.js';
import type { StudyReportContext, StudyReportSection } from './registry.js';
import { fixedOrNA, MODEL_COLUMN, pColumn } from '../table-format.js';

const f3 = fixedOrNA(3);
const cache = new WeakMap<StudyReportContext, StudyClaims>();
function claimsOf(ctx: StudyReportContext): StudyClaims {
  let c = cache.get(ctx);
  if (!c) {
    c = writeStudyClaims(ctx.dir, ctx.agg);
    cache.set(ctx, c);
  }
  return c;
}

/** Item-set names as shown: template items are our own templates, never the paper's. */
export const itemSetName = (items: string): string => (items === 'template' ? 'template (ours)' : items);

const claimsSection: StudyReportSection = {
  id: 'claims',
  title: 'Claims scorecard',
  order: 5,
  async render(ctx) {
    const { claims } = claimsOf(ctx);
    if (!claims.length) return false;
    const b = ctx.builder;
    b.section('Claims scorecard');
    b.text([
      'A verdict for each of the paper\'s four claims per model and item set, computed only from this study\'s tables (STUDY/claims.csv). "supported": the criterion is met; "not supported": the evidence goes against it; "inconclusive": neither, or the tables lack what the criterion needs (the reason says which). Each claim is judged at the last checkpoint reached by as many seeds as any checkpoint.',
      'Template items are our own templates written in the paper\'s style, not the paper\'s.',
    ]);
    const rows: Row[] = claims.map((c: ClaimRow) => ({
      ...c,
      items: itemSetName(c.items),
      value: Number.isFinite(c.statistic) ? `${f3(c.statistic)}${Number.isFinite(c.ci_lo) ? ` [${f3(c.ci_lo)}, ${f3(c.ci_hi)}]` : ''}` : 'NA',
    }));
    b.table(rows, {
      caption: 'Claims scorecard. value: the statistic with its 95% interval (claim 1: mean G with a bootstrap interval over words; claim 2: peak R² with a bootstrap interval over words; claim 3: mean layer over seeds with a t-interval; claim 4: mean ΔG of the named heads). expected: what the paper reports for this architecture (the LSTM: no grounding).',
      columns: [
        { key: 'claim', label: 'claim' },
        MODEL_COLUMN,
        { key: 'items', label: 'items' },
        { key: 'measure', label: 'measure' },
        'step',
        { key: 'value', label: 'value', align: 'right' },
        pColumn('p', 'p'),
        pColumn('p_seeds', 'p, seeds'),
        { key: 'n_seeds', label: 'seeds' },
        { key: 'expected', label: 'expected' },
        { key: 'verdict', label: 'verdict' },
        { key: 'reason', label: 'why' },
      ],
      maxRows: 400,
    });
    b.text(Object.entries(CLAIM_CRITERIA).map(([k, c]) => `Claim ${k} (${c.title}): ${c.text}.`));
  },
};

const r2Section: StudyReportSection = {
  id: 'r2-bands',
  title: 'Co-occurrence R² with bootstrap bands',
  order: 32,
  async render(ctx) {
    const { r2 } = claimsOf(ctx);
    const rows = r2.filter((r) => r.items === ctx.primaryItems && ['joint', 'turns_both', 'pmi', 'log_lan_count'].includes(String(r.model)) && Number.isFinite(Number(r.r2)));
    if (!rows.length) return false;
    const b = ctx.builder;
    b.section('Co-occurrence R² with bootstrap bands');
    b.figure(
      await ctx.svg(
        lineBandChart(rows as Row[], {
          x: 'step', y: 'r2', color: 'model', band: { lower: 'r2_lo', upper: 'r2_hi' }, points: true, yZero: true, facet: 'label', facetOrder: ctx.labels,
          xTitle: 'training step', yTitle: 'R² of G(v)', colorTitle: 'regression', title: 'How much of G(v) co-occurrence explains, over training',
        }),
      ),
      `R² over words of the seed-averaged G(v) (${itemSetName(ctx.primaryItems)} items) regressed on one statistic or jointly on log(1 + turns with both forms), PMI and log(1 + LAN count); bands: 95% percentile bootstrap intervals over words (1,000 resamples).`,
    );
    const last = new Map<string, number>();
    for (const r of rows) last.set(String(r.label), Math.max(last.get(String(r.label)) ?? -Infinity, Number(r.step)));
    const table = r2.filter((r) => r.items === ctx.primaryItems && Number(r.step) === last.get(String(r.label)));
    b.table(table as Row[], {
      caption: 'At the last checkpoint: R² with its 95% bootstrap interval and, for single statistics, Spearman\'s rank correlation of G(v) with the statistic (two-sided p).',
      columns: [MODEL_COLUMN, 'step', { key: 'model', label: 'regression' }, { key: 'r2', label: 'R²', digits: 3 }, { key: 'r2_lo', label: 'lower', digits: 3 }, { key: 'r2_hi', label: 'upper', digits: 3 }, { key: 'adj_r2', label: 'adjusted R²', digits: 3 }, { key: 'spearman_rho', label: 'Spearman ρ', digits: 3 }, pColumn('spearman_p', 'p'), { key: 'n_words', label: 'words' }],
      maxRows: 200,
    });
  },
};

const ageSection: StudyReportSection = {
  id: 'grounding-age',
  title: 'Grounding age per word',
  order: 45,
  async render(ctx) {
    const { ages, ageCorrelations } = claimsOf(ctx);
    const rows = ages.filter((r) => r.items === ctx.primaryItems);
    if (!rows.length) return false;
    const b = ctx.builder;
    b.section('Grounding age per word');
    b.text(
      'Grounding age: the first checkpoint from which G(v) stays significantly above 0 (one-sided t-test over the word\'s items, p < 0.05, at that and every later checkpoint). Half-drop step: where the fitted curve m(s) = a + c / (1 + (s/s50)^k) of the word\'s matched surprisal has made half its drop (s50; "observed" when it lies within the checkpoints). Words with fewer than 5 items are flagged.',
    );
    b.table(
      ageCorrelations.filter((r) => r.items === ctx.primaryItems) as Row[],
      { caption: 'Spearman correlation over words of each age with co-occurrence and frequency (words with an age only).', columns: [MODEL_COLUMN, 'measure', 'statistic', { key: 'spearman_rho', label: 'ρ', digits: 3 }, pColumn('spearman_p', 'p'), { key: 'n_words', label: 'words' }] },
    );
    b.table(rows as Row[], {
      caption: 'Per word (seed-averaged items): grounding age (NA: not significant at the last checkpoint), p at the last checkpoint, half-drop step, item count and flag.',
      columns: [MODEL_COLUMN, 'word', 'category', { key: 'n_items', label: 'items' }, { key: 'few_items', label: 'few items' }, { key: 'grounding_age', label: 'grounding age' }, pColumn('p_last', 'p, last'), { key: 'half_drop_step', label: 'half-drop step' }, { key: 'half_drop_observed', label: 'observed' }, { key: 'turns_both', label: 'turns with both' }],
      maxRows: 400,
    });
  },
};

export const claimsSections: StudyReportSection[] = [claimsSection, r2Section, ageSection];
