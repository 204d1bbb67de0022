/**
 * Figures that more than one section of the study report draws from the tidy tables
 * (report/study-report.ts for the study itself, report/sections/visual-dialog.ts per visual-dialog setting).
 */
import type { SummaryRow } from '../study/tables.js';
import { barErrorChart, lineBandChart, type Row, type TopLevelSpec } from './charts.js';

/** Mean G over words with its 95% bootstrap interval over words, from a row of study_grounding.csv. */
export function gainRow(r: SummaryRow): Row {
  return { label: r.label, step: r.step, G: r.mean_G, lo: r.words_G_lo, hi: r.words_G_hi };
}

/**
 * Matched vs mismatched surprisal of the target over training, one panel per model, from rows of
 * summary_by_run.csv (one line per condition: the mean over seeds, band ± 1 standard error).
 */
export function surprisalOverTrainingChart(
  runRows: SummaryRow[],
  o: { conditions: [matched: string, mismatched: string]; labels: string[]; colorTitle: string; title: string },
): TopLevelSpec {
  const [matched, mismatched] = o.conditions;
  const rows: Row[] = [];
  for (const r of runRows) {
    rows.push({ label: r.label, seed: r.seed, step: r.step, condition: matched, surprisal: r.mean_matched });
    rows.push({ label: r.label, seed: r.seed, step: r.step, condition: mismatched, surprisal: r.mean_mismatched });
  }
  return lineBandChart(rows, {
    x: 'step', y: 'surprisal', color: 'condition', colorOrder: o.conditions, facet: 'label', facetOrder: o.labels,
    columns: Math.min(3, o.labels.length), band: 'se', points: true, xTitle: 'training step', yTitle: 'surprisal of the target (nats)',
    colorTitle: o.colorTitle, title: o.title,
  });
}

/**
 * Per-word G at one checkpoint from rows `{ word, seed, G, [color] }` (one per seed): the mean per
 * word with a t-based 95% interval over seeds when there are two or more. Returns the number of
 * seeds too, for the caption.
 */
export function wordGainChart(
  rows: Row[],
  o: { color: string; colorTitle: string; colorOrder?: unknown[]; colorScheme?: string; title: string },
): { spec: TopLevelSpec; seeds: number } {
  const seeds = new Set(rows.map((r) => r.seed)).size;
  const spec = barErrorChart(rows, {
    category: 'word', value: 'G', band: seeds >= 2 ? 'ci95' : 'none', color: o.color, colorTitle: o.colorTitle, colorOrder: o.colorOrder, colorScheme: o.colorScheme,
    valueTitle: 'information gain G(v) (nats)', title: o.title,
  });
  return { spec, seeds };
}
