/**
 * The study report: one self-contained HTML page (STUDY/report.html) drawn from the tidy tables
 * of a study (study/study.ts), with figures rendered to SVG by Vega-Lite in Node.
 *
 * The page is a list of sections, each a `StudyReportSection` with an order number. Built-in
 * sections, in page order:
 *    5 claims          the claims scorecard (report/sections/claims.ts; also 32 r2-bands, 45 grounding-age)
 *   10 summary         headline table per architecture at the last checkpoint, what is not run yet
 *   12 explorer        link to the live explorer (STUDY/explore/index.html) when one was written
 *   20 behaviour       matched vs mismatched surprisal over training, mean G over training
 *   30 cooccurrence    G and R² over training on two axes; G(v) against the best statistic
 *   40 words           per-word G at the last checkpoint
 *   50 synthetic       the synthetic world's ground truth against measured G (synthetic corpora)
 *   60 saliency        extension slot: saliency flow heatmap, token view       (mechanistic suite)
 *   65 lens            extension slot: tuned-lens / logit-lens curves          (mechanistic suite)
 *   70 heads           extension slot: head grid, intervention table           (mechanistic suite)
 *   80 visual-dialog   extension slot: VisDial caption/image grounding
 *   90 corpus          corpus statistics and target words
 *   95 runs            runs, configurations, manifests (code version, corpus hash)
 *   99 methods         how every number was computed
 * The extension slots render nothing until a section with the same id is registered:
 *
 *   registerStudyReportSection({ id: 'saliency', title: 'Where: saliency flow', order: 60,
 *     async render(ctx) { const rows = readMyCsvs(ctx.dir); if (!rows.length) return false;
 *       ctx.builder.section('Where: saliency flow'); ctx.builder.figure(await ctx.svg(heatmap(rows, ...)), '...'); } });
 *
 * A section starts its own `ctx.builder.section(...)` only when it has something to show, and
 * returns false otherwise (the summary lists analyses that have not been run).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CorpusStats } from '../data/build.js';
import { COOCCURRENCE_STATISTICS, SPEC_STATISTICS, statisticOf } from '../analysis/cooccurrence.js';
import { aggregateStudy, headlineRows, type StudyAggregate, studyCorpusDir, studyPaths } from '../study/study.js';
import { EVAL_FILES, type SummaryRow } from '../study/tables.js';
import { parseCsv, readJson } from '../util/files.js';
import { codeVersion } from '../util/version.js';
import { dualAxisChart, lineBandChart, renderSvg, scatterRegression } from './charts.js';
import { ReportBuilder, type Row } from './html.js';
import { gainRow, surprisalOverTrainingChart, wordGainChart } from './study-figures.js';
import { fixedColumn, fixedOrNA, formatP, MODEL_COLUMN, pColumn } from './table-format.js';
import { visualDialogSection } from './sections/visual-dialog.js';
import { mechanisticSections } from './sections/mechanistic.js';
import { claimsSections } from './sections/claims.js';
import { explorerSection } from './sections/explorer.js';
import { registerStudyReportSection, studyReportSections, type StudyReportContext, type StudyReportSection, type SyntheticTruth } from './sections/registry.js';

export {
  registerStudyReportSection,
  studyReportSections,
  type StudyReportContext,
  type StudyReportSection,
  type SyntheticTruth,
} from './sections/registry.js';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const f3 = fixedOrNA(3);

function rowsFor(rows: SummaryRow[], label: string, items: string, step?: number): SummaryRow[] {
  return rows.filter((r) => r.label === label && r.items === items && (step === undefined || r.step === step));
}

function colourOf(ctx: StudyReportContext): { field: string; title: string; of: (word: string, category: string) => string; order: (rows: Row[]) => unknown[] | undefined; scheme: (rows: Row[]) => string | undefined } {
  if (ctx.truth) {
    const level = new Map(ctx.truth.words.map((w) => [w.word, w.level]));
    // Legend in level order, listing only the levels present.
    const order = (rows: Row[]) => [...LEVEL_ORDER, 'unknown'].filter((l) => rows.some((r) => r.level === l));
    return { field: 'level', title: 'grounding level (truth)', of: (w) => level.get(w) ?? 'unknown', order, scheme: () => undefined };
  }
  // More categories than the 8 colour-blind-safe colours: a 10-colour scheme so none repeats.
  const scheme = (rows: Row[]) => (new Set(rows.map((r) => r.category)).size > 8 ? 'tableau10' : undefined);
  return { field: 'category', title: 'CDI category', of: (_w, c) => c || 'other', order: () => undefined, scheme };
}

const LEVEL_ORDER = ['strong', 'medium', 'weak', 'none'];

// ---------------------------------------------------------------------------------------------
// Built-in sections
// ---------------------------------------------------------------------------------------------

const summarySection: StudyReportSection = {
  id: 'summary',
  title: 'Summary',
  order: 10,
  async render(ctx) {
    const b = ctx.builder;
    b.section('Summary');
    const head = headlineRows(ctx.agg);
    if (!head.length) {
      b.text('No run of this study has been evaluated yet. Run "groundlab reproduce" (or "groundlab eval grounding --study DIR") and rebuild the report.');
      return;
    }
    const lines = head.map((h) => {
      const sig = Number.isFinite(h.wilcoxon_p) && h.wilcoxon_p < 0.05;
      const dirn = h.mean_G > 0 ? 'lowers' : 'raises';
      const size = Math.abs(h.mean_G) < 0.1 ? ' but small (under 0.1 nats)' : '';
      const verdict = sig ? (h.mean_G > 0 ? `a significant${size} grounding gain` : `a significant${size} loss`) : 'no significant difference';
      return `${h.label} (${h.arch}), step ${h.step}: the matching ENV token ${dirn} the surprisal of its word by G = ${f3(h.mean_G)} nats on average over words (95% bootstrap interval ${f3(h.G_lo)} to ${f3(h.G_hi)}; Wilcoxon signed-rank over words p = ${formatP(h.wilcoxon_p)}${h.n_seeds >= 2 ? `; t-test over ${h.n_seeds} seeds p = ${formatP(h.p_t_G)}` : '; one seed'}): ${verdict}.`;
    });
    b.text(lines);
    b.table(
      head.map((h) => ({ ...h, ci: `[${f3(h.G_lo)}, ${f3(h.G_hi)}]` })),
      {
        caption: `Last evaluated checkpoint per model (${ctx.primaryItems} items). G: mean over words of mismatched − matched surprisal (nats), with its 95% percentile bootstrap interval over words; p: Wilcoxon signed-rank test over words (two-sided) and one-sample t-test of the per-seed mean G over seeds (NA with one seed).`,
        columns: [
          MODEL_COLUMN,
          'step',
          { key: 'n_seeds', label: 'seeds' },
          { key: 'mean_matched', label: 'matched', digits: 3 },
          { key: 'mean_mismatched', label: 'mismatched', digits: 3 },
          fixedColumn('mean_G', 'G', 3),
          { key: 'ci', label: '95% interval', align: 'right' },
          pColumn('wilcoxon_p', 'p, words'),
          pColumn('p_t_G', 'p, seeds'),
        ],
      },
    );
    const pending = ctx.agg.runsTable.filter((r) => r.status !== 'complete' || Number(r.evaluated_checkpoints) < Number(r.checkpoints));
    const expected = ctx.agg.study ? ctx.agg.study.entries.length * ctx.agg.study.seeds.length : ctx.agg.runs.length;
    const notes: string[] = [];
    if (ctx.agg.runs.length < expected) notes.push(`${ctx.agg.runs.length} of the study's ${expected} runs are present; the figures show those.`);
    if (pending.length) notes.push(`Not finished: ${pending.map((r) => `${r.run} (${r.status}, ${r.evaluated_checkpoints}/${r.checkpoints} checkpoints evaluated)`).join(', ')}.`);
    const slots = ['saliency', 'lens', 'heads'].filter((id) => studyReportSections().find((s) => s.id === id)?.render === emptySlot);
    if (slots.length) notes.push('The mechanistic analyses (saliency flow, tuned lens, aggregate heads and ablation) are not part of this report yet.');
    if (notes.length) b.text(notes);
  },
};

const behaviourSection: StudyReportSection = {
  id: 'behaviour',
  title: 'Behaviour: matched vs mismatched surprisal',
  order: 20,
  async render(ctx) {
    const runRows = ctx.agg.summaryByRun.filter((r) => r.items === ctx.primaryItems);
    if (!runRows.length) return false;
    const b = ctx.builder;
    b.section('Behaviour: matched vs mismatched surprisal');
    b.text(
      'Each evaluation item is a context that ends right before a target word v<LAN>. In the matched context the environment mentions v (v<ENV>); in each mismatched context every v<ENV> is replaced by another target word u<ENV>. If the model grounds v in the environment, v is less surprising after its own ENV token.',
    );
    const nSeeds = Math.max(...ctx.agg.grounding.map((g) => Number(g.n_seeds) || 0));
    b.figure(
      await ctx.svg(
        surprisalOverTrainingChart(runRows, {
          conditions: ['matched', 'mismatched'], labels: ctx.labels, colorTitle: 'context', title: 'Matched vs mismatched surprisal over training',
        }),
      ),
      `Mean surprisal of the target word over words (${ctx.primaryItems} items), one panel per model; ${nSeeds >= 2 ? 'lines are means over seeds, bands ± 1 standard error over seeds' : 'one seed per model'}.`,
    );
    const g = ctx.agg.grounding.filter((r) => r.items === ctx.primaryItems).map(gainRow);
    b.figure(
      await ctx.svg(
        lineBandChart(g, {
          x: 'step', y: 'G', color: 'label', colorOrder: ctx.labels, band: { lower: 'lo', upper: 'hi' }, points: true, yZero: true,
          xTitle: 'training step', yTitle: 'information gain G (nats)', colorTitle: 'model', title: 'Grounding information gain over training',
        }),
      ),
      'Mean G over words (mismatched minus matched surprisal), averaged over seeds; band: 95% percentile bootstrap interval over words of the seed-averaged G(v).',
    );
  },
};

const cooccurrenceSection: StudyReportSection = {
  id: 'cooccurrence',
  title: 'Information gain and co-occurrence',
  order: 30,
  async render(ctx) {
    const have = ctx.labels.filter((l) => rowsFor(ctx.agg.grounding, l, ctx.primaryItems).length);
    if (!have.length) return false;
    const b = ctx.builder;
    b.section('Information gain and co-occurrence');
    b.text(
      'Is the gain just co-occurrence? At each checkpoint G(v) is regressed over the target words on each co-occurrence statistic of the training split (ordinary least squares with an intercept). The paper\'s claim 2: R² rises early and then falls while mean G keeps growing.',
    );
    const tableRows: Row[] = [];
    for (const label of have) {
      const g = rowsFor(ctx.agg.grounding, label, ctx.primaryItems).map(gainRow);
      const r2 = rowsFor(ctx.agg.r2, label, ctx.primaryItems)
        .filter((r) => (SPEC_STATISTICS as string[]).includes(String(r.statistic)))
        .map((r) => ({ step: r.step, statistic: r.statistic, r2: r.r2_mean }));
      b.subsection(`${label}: G and R² over training`, { id: `cooc-${label}` });
      b.figure(
        await ctx.svg(
          dualAxisChart(g, {
            x: 'step', xTitle: 'training step',
            left: { y: 'G', title: 'mean G (nats)', band: { lower: 'lo', upper: 'hi' }, zero: true },
            right: { y: 'r2', title: 'R² of G(v) on co-occurrence', rows: r2, series: 'statistic', seriesTitle: 'statistic', domain: [0, 1] },
            title: `${label}: grounding gain and how much co-occurrence explains`,
          }),
        ),
        `Left axis: mean G with its 95% bootstrap interval over words. Right axis: R² of per-word G on each SPEC §4 statistic (turns with both forms, P(LAN | ENV in turn), PMI), mean over seeds.`,
      );
      for (const s of rowsFor(ctx.agg.grounding, label, ctx.primaryItems)) {
        const row: Row = { label, step: s.step, G: s.mean_G };
        for (const stat of SPEC_STATISTICS) row[stat] = rowsFor(ctx.agg.r2, label, ctx.primaryItems, s.step as number).find((r) => r.statistic === stat)?.r2_mean ?? NaN;
        tableRows.push(row);
      }
      // Scatter at the last checkpoint against the statistic with the highest R².
      const last = ctx.lastStep(label);
      const words = last === undefined ? [] : rowsFor(ctx.agg.words, label, ctx.primaryItems, last);
      if (ctx.targets && words.length >= 3) {
        const r2Last = rowsFor(ctx.agg.r2, label, ctx.primaryItems, last).filter((r) => Number.isFinite(r.r2_of_mean_G as number));
        const best = r2Last.reduce<SummaryRow | null>((a, r) => (!a || (r.r2_of_mean_G as number) > (a.r2_of_mean_G as number) ? r : a), null);
        const stat = (best?.statistic ?? 'p_lan_given_env') as (typeof COOCCURRENCE_STATISTICS)[number];
        const byWord = new Map(ctx.targets.words.map((t) => [t.word, t]));
        const col = colourOf(ctx);
        const pts = words
          .filter((w) => byWord.has(String(w.word)))
          .map((w) => ({ word: w.word, G: w.G, x: statisticOf(byWord.get(String(w.word))!, stat), [col.field]: col.of(String(w.word), String(w.category ?? '')) }));
        b.figure(
          await ctx.svg(
            scatterRegression(pts, { x: 'x', y: 'G', xTitle: stat.replace(/_/g, ' '), yTitle: 'G(v) (nats)', color: col.field, colorTitle: col.title, colorOrder: col.order(pts), colorScheme: col.scheme(pts), title: `${label}, step ${last}: G(v) against ${stat}` }),
          ),
          `Each point is a target word (G averaged over seeds) at the last checkpoint, against the co-occurrence statistic that explains it best there (${stat}); dashed: OLS fit.`,
        );
      }
    }
    b.table(tableRows, {
      caption: `Mean G and R² of G(v) on each co-occurrence statistic at every checkpoint (${ctx.primaryItems} items, R² averaged over seeds). Every statistic, and log transforms, are in eval/study_cooccurrence.csv.`,
      columns: [
        MODEL_COLUMN,
        'step',
        fixedColumn('G', 'mean G (nats)', 3),
        { key: 'turns_both', label: 'R², turns with both', digits: 3 },
        { key: 'p_lan_given_env', label: 'R², P(LAN | ENV)', digits: 3 },
        { key: 'pmi', label: 'R², PMI', digits: 3 },
      ],
    });
  },
};

const wordsSection: StudyReportSection = {
  id: 'words',
  title: 'Per word',
  order: 40,
  async render(ctx) {
    const have = ctx.labels.filter((l) => ctx.lastStep(l) !== undefined);
    if (!have.length) return false;
    const b = ctx.builder;
    b.section('Per word');
    const col = colourOf(ctx);
    for (const label of have) {
      const last = ctx.lastStep(label)!;
      const rows = ctx.agg.wordsByRun
        .filter((w) => w.label === label && w.items === ctx.primaryItems && w.step === last)
        .map((w) => ({ word: w.word, seed: w.seed, G: w.G, [col.field]: col.of(String(w.word), String(w.category ?? '')) }));
      if (!rows.length) continue;
      const { spec, seeds } = wordGainChart(rows, {
        color: col.field, colorTitle: col.title, colorOrder: col.order(rows), colorScheme: col.scheme(rows), title: `${label}: per-word gain at step ${last}`,
      });
      b.figure(
        await ctx.svg(spec),
        `G(v) per target word at the last checkpoint (${ctx.primaryItems} items)${seeds >= 2 ? `, mean over ${seeds} seeds with t-based 95% intervals` : ', one seed'}; sorted.`,
      );
    }
  },
};

const syntheticSection: StudyReportSection = {
  id: 'synthetic',
  title: 'Synthetic world: ground truth vs measured',
  order: 50,
  async render(ctx) {
    if (!ctx.truth) return false;
    // Template items cover every word of the world (corpus items need the word said in the event's turn, which never happens for level "none").
    const items = ctx.agg.words.some((w) => w.items === 'template') ? 'template' : ctx.primaryItems;
    const level = new Map(ctx.truth.words.map((w) => [w.word, w.level]));
    const pMention = new Map(ctx.truth.words.map((w) => [w.word, w.params.p_mention]));
    const have = ctx.labels.filter((l) => rowsFor(ctx.agg.words, l, items).length);
    if (!have.length) return false;
    const b = ctx.builder;
    b.section('Synthetic world: ground truth vs measured');
    b.text([
      `The synthetic world sets, per word, how often an event on an object is followed by its name (grounding level strong / medium / weak / none: P(name | event) = ${LEVEL_ORDER.map((l) => ctx.truth!.words.find((w) => w.level === l)?.params.p_mention).filter((x) => x !== undefined).join(' / ')}, the name said in the event's own turn most often for strong words), while every word is said about equally often overall. A model that grounds words should rank G strong > medium > weak. Measured on ${items} items, which cover every word.`,
      'G(v) contrasts v<ENV> with other words u<ENV>, so it also grows when a mismatch word u is itself grounded: u<ENV> then pulls probability towards u<LAN>, away from v<LAN>, even if v is never said with its object. The last columns of the table isolate v: they use only mismatch words u of level "none" (whose ENV tokens predict no word), so they should be near 0 for ungrounded words and ordered by level for the others.',
    ]);
    const table: Row[] = [];
    const curve: Row[] = [];
    for (const label of have) {
      const rows = rowsFor(ctx.agg.words, label, items);
      const last = Math.max(...rows.map((r) => r.step as number));
      const vsNone = gainAgainst(ctx, label, items, last, (u) => level.get(u) === 'none');
      for (const lv of LEVEL_ORDER) {
        const ws = rows.filter((r) => r.step === last && level.get(String(r.word)) === lv);
        if (!ws.length) continue;
        const G = ws.map((w) => w.G as number);
        const Gn = ws.map((w) => vsNone.get(String(w.word))).filter((x): x is number => x !== undefined);
        table.push({
          label, step: last, level: lv, p_mention: pMention.get(String(ws[0]!.word)), words: ws.length,
          G: G.reduce((a, x) => a + x, 0) / G.length, min_G: Math.min(...G), max_G: Math.max(...G),
          G_none: Gn.length ? Gn.reduce((a, x) => a + x, 0) / Gn.length : NaN, n_none: Gn.length,
        });
      }
      for (const r of rows) curve.push({ label, step: r.step, level: level.get(String(r.word)) ?? 'unknown', G: r.G });
    }
    b.figure(
      await ctx.svg(
        lineBandChart(curve, {
          x: 'step', y: 'G', color: 'level', colorOrder: LEVEL_ORDER, facet: 'label', facetOrder: have, columns: Math.min(3, have.length), band: 'se', points: true, yZero: true,
          xTitle: 'training step', yTitle: 'G(v) (nats)', colorTitle: 'grounding level (truth)', title: 'Measured gain by true grounding level',
        }),
      ),
      `Mean G(v) over the words of each grounding level (seed-averaged), band ± 1 standard error over words; ${items} items, all mismatch words.`,
    );
    b.table(table, {
      caption: 'Measured G at the last checkpoint per true grounding level: mean, minimum and maximum over the level\'s words with all mismatch words; and the mean G(v) when only mismatch words of level "none" are used (words: how many of the level\'s words had such mismatches).',
      columns: [
        MODEL_COLUMN,
        'step',
        'level',
        { key: 'p_mention', label: 'P(name | event)', digits: 2 },
        'words',
        fixedColumn('G', 'mean G', 3),
        fixedColumn('min_G', 'min G', 3),
        fixedColumn('max_G', 'max G', 3),
        fixedColumn('G_none', 'G vs "none" mismatches', 3),
        { key: 'n_none', label: 'words' },
      ],
    });
  },
};

/**
 * Per word, G(v) restricted to mismatch words u with keep(u), from the runs' long-form
 * grounding.csv at one step (averaged over the label's seeds): mean over items that have such a
 * mismatch of (mean over those u of s(v | c(u)) − s(v | c(v))).
 */
function gainAgainst(ctx: StudyReportContext, label: string, items: string, step: number, keep: (u: string) => boolean): Map<string, number> {
  const perWord = new Map<string, number[]>();
  for (const run of ctx.agg.runs.filter((r) => r.config.label === label)) {
    const path = join(run.dir, 'eval', EVAL_FILES.grounding);
    if (!existsSync(path)) continue;
    const byItem = new Map<string, { word: string; matched: number; sum: number; n: number }>();
    for (const r of parseCsv(readFileSync(path, 'utf8'))) {
      if (Number(r.step) !== step || r.source !== items) continue;
      const it = byItem.get(r.item!) ?? { word: r.word!, matched: NaN, sum: 0, n: 0 };
      if (r.condition === 'matched') it.matched = Number(r.surprisal);
      else if (keep(r.mismatch_word!)) {
        it.sum += Number(r.surprisal);
        it.n++;
      }
      byItem.set(r.item!, it);
    }
    const acc = new Map<string, number[]>();
    for (const it of byItem.values()) if (it.n && Number.isFinite(it.matched)) acc.set(it.word, [...(acc.get(it.word) ?? []), it.sum / it.n - it.matched]);
    for (const [w, gs] of acc) perWord.set(w, [...(perWord.get(w) ?? []), gs.reduce((a, x) => a + x, 0) / gs.length]);
  }
  return new Map([...perWord].map(([w, gs]) => [w, gs.reduce((a, x) => a + x, 0) / gs.length]));
}

/** Placeholder render of the extension slots. */
async function emptySlot(): Promise<boolean> {
  return false;
}

const slots: StudyReportSection[] = [
  { id: 'saliency', title: 'Where: saliency flow from ENV tokens', order: 60, render: emptySlot },
  { id: 'lens', title: 'Where: tuned lens', order: 65, render: emptySlot },
  { id: 'heads', title: 'How: aggregate heads and ablation', order: 70, render: emptySlot },
  { id: 'visual-dialog', title: 'Visual dialog', order: 80, render: emptySlot },
];

const corpusSection: StudyReportSection = {
  id: 'corpus',
  title: 'Corpus',
  order: 90,
  async render(ctx) {
    if (!ctx.stats && !ctx.targets) return false;
    const b = ctx.builder;
    b.section('Corpus');
    const st = ctx.agg.study;
    if (st) b.text(`Source: ${st.corpus.source}${st.corpus.inputs ? ` (${st.corpus.inputs.join(', ')})` : ''}; corpus hash ${st.corpus.hash ?? 'n/a'}.`);
    if (ctx.stats) {
      const s = ctx.stats;
      b.keyValue(
        {
          transcripts: s.transcripts,
          utterances: s.utterances,
          turns: s.turns,
          'ENV tokens': s.env_tokens,
          'LAN tokens': s.lan_tokens,
          '<unk> tokens': s.unk_tokens,
          'vocabulary size': s.vocab_size,
          'training tokens': s.splits.train.tokens,
          'split (transcripts train / val / test)': `${s.splits.train.transcripts} / ${s.splits.val.transcripts} / ${s.splits.test.transcripts}`,
          'ENV lines per tier': Object.entries(s.env_lines).map(([k, v]) => `%${k} ${v.toLocaleString('en-US')}`).join(', '),
          'target words': `${s.targets.count} (rule ${s.targets.rule})`,
          'evaluation items': `${s.items.corpus} corpus-derived (${s.items.words_with_corpus_items} words${s.items.item_splits ? `; from the ${s.items.item_splits.join(' + ')} split${s.items.item_splits.length > 1 ? 's' : ''}` : ''}), ${s.items.template} from our templates (${s.items.words_with_template_items} words${s.items.template_processing ? `; processing: ${s.items.template_processing}` : ''})`,
          diagnostics: s.diagnostics.total,
        },
        { caption: 'Corpus statistics (stats.json)' },
      );
    }
    if (ctx.targets) {
      b.table(
        ctx.targets.words.map((w) => ({ ...w })),
        {
          caption: 'Target words with their training-split counts and co-occurrence statistics (targets.json).',
          columns: [
            'word',
            { key: 'category', label: 'category' },
            { key: 'env_count', label: 'ENV count' },
            { key: 'lan_count', label: 'LAN count' },
            { key: 'turns_both', label: 'turns with both' },
            { key: 'p_lan_given_env', label: 'P(LAN | ENV)', digits: 3 },
            { key: 'pmi', label: 'PMI', digits: 3 },
          ],
          maxRows: 120,
        },
      );
    }
  },
};

const runsSection: StudyReportSection = {
  id: 'runs',
  title: 'Runs and configuration',
  order: 95,
  async render(ctx) {
    const b = ctx.builder;
    b.section('Runs and configuration');
    if (!ctx.agg.runs.length) {
      b.text('No runs yet.');
      return;
    }
    const thr = new Map(
      ctx.agg.runs.map((r) => {
        const steps = Object.values(r.evalManifest?.steps ?? {});
        return [r.name, steps.length ? steps.reduce((a, s) => a + s.sequences_per_s, 0) / steps.length : NaN];
      }),
    );
    b.table(
      ctx.agg.runsTable.map((r) => ({ ...r, eval_rate: thr.get(String(r.run)) ?? NaN })),
      {
        caption: 'Runs of the study: training status and time, checkpoints trained and evaluated, evaluation throughput (contexts scored per second).',
        columns: [
          { key: 'run', label: 'run' },
          { key: 'arch', label: 'architecture' },
          { key: 'seed', label: 'seed', format: (v) => String(v) },
          { key: 'status', label: 'status' },
          { key: 'parameters', label: 'parameters' },
          { key: 'last_checkpoint', label: 'last step' },
          { key: 'checkpoints', label: 'checkpoints' },
          { key: 'evaluated_checkpoints', label: 'evaluated' },
          { key: 'train_seconds', label: 'training (s)', format: (v) => (Number.isFinite(Number(v)) ? Number(v).toFixed(1) : 'NA'), align: 'right' },
          { key: 'eval_rate', label: 'eval contexts/s', format: (v) => (Number.isFinite(Number(v)) ? Math.round(Number(v)).toLocaleString('en-US') : 'NA'), align: 'right' },
        ],
      },
    );
    const versions = [...new Set(ctx.agg.runsTable.map((r) => String(r.code_version)).filter(Boolean))];
    const hashes = [...new Set(ctx.agg.runsTable.map((r) => String(r.corpus_hash)))];
    const studyHash = ctx.agg.study?.corpus.hash;
    b.text([
      `Code version${versions.length > 1 ? 's' : ''} of the training runs: ${versions.join(', ') || 'unknown'}. This report: ${codeVersion()}.`,
      `Corpus hash of the runs: ${hashes.join(', ')}${studyHash ? (hashes.length === 1 && hashes[0] === studyHash ? ' (the study corpus)' : ` — the study corpus is ${studyHash}: some runs were trained on another corpus`) : ''}.`,
    ]);
    if (ctx.agg.study) b.details('Study definition (study.json)', ctx.agg.study);
    for (const r of ctx.agg.runs) {
      b.details(`Run configuration: ${r.name} (run_config.json)`, r.config);
      if (r.evalManifest) b.details(`Evaluation manifest: ${r.name} (eval/grounding_manifest.json)`, { ...r.evalManifest, skipped_items: r.evalManifest.skipped_items.slice(0, 20) });
    }
  },
};

const methodsSection: StudyReportSection = {
  id: 'methods',
  title: 'Methods',
  order: 99,
  async render(ctx) {
    const b = ctx.builder;
    const key = ctx.agg.runs.find((r) => r.evalManifest)?.evalManifest?.key;
    b.section('Methods');
    b.text([
      'Models are trained from scratch as causal language models on the corpus token stream (no grounding objective): environment tokens word<ENV> and language tokens word<LAN> share one vocabulary and one stream (SPEC §2, §5). Checkpoints are kept on the preset\'s schedule.',
      'Evaluation items (SPEC §3): corpus-derived items are turns of the held-out splits (validation and test by default) where v<LAN> is said and v<ENV> occurs in the ENV events before it, cut right before v<LAN>; template items come from our own templates written in the paper\'s style (not the paper\'s templates, which are not public). Each item has M mismatch words u drawn with a fixed seed from the other target words; the mismatched context replaces every v<ENV> by u<ENV>. Contexts longer than the training context keep their last tokens.',
      'Surprisal s(v<LAN> | c) = −ln p(v<LAN> | c) in nats, read at the last position of the context. All contexts of a checkpoint are scored in a few large batched forward passes (right-padded, only the last position unembedded). Per word: m(v) is the mean matched surprisal over its N items, mm(v) the mean over items of the mean mismatched surprisal, and G(v) = mm(v) − m(v).',
      `Across words: means with every word weighted equally; a 95% percentile bootstrap interval of mean G over words (${key?.iterations ?? 10000} resamples, seed ${key?.bootstrap_seed ?? 1}); a Wilcoxon signed-rank test of mm(v) against m(v) over words (two-sided, scipy 1.10 conventions: exact up to 50 words without ties at zero, normal approximation otherwise). Across seeds: means and standard errors of the per-seed values, a one-sample t-test of per-seed mean G against 0 and a paired t-test of per-seed mismatched vs matched means (these two are the same test, since mean G = mean mismatched − mean matched), and the bootstrap interval and Wilcoxon test over words of the seed-averaged per-word values.`,
      'Co-occurrence baseline (SPEC §4): for each target word, from the training split, the number of turns with both v<ENV> and v<LAN>, P(v<LAN> in turn | v<ENV> in turn) and PMI of the two events over turns; at each checkpoint G(v) is regressed on each statistic by ordinary least squares with an intercept and R² is reported (per seed, then averaged; also the R² of the seed-averaged G(v)).',
      'Every number in this page comes from the tidy CSV tables beside it: runs/<label>-s<seed>/eval/*.csv per run and eval/*.csv for the study, readable with pandas.read_csv or R read.csv (empty field = NA).',
    ]);
  },
};

for (const s of [summarySection, behaviourSection, cooccurrenceSection, wordsSection, syntheticSection, ...slots, corpusSection, runsSection, methodsSection]) registerStudyReportSection(s);
// The visual-dialog studies (study/visual-study.ts) fill the visual-dialog slot; it draws nothing for other studies.
registerStudyReportSection(visualDialogSection);
// The mechanistic suite (report/sections/mechanistic.ts) fills the saliency, lens and heads slots.
for (const s of mechanisticSections) registerStudyReportSection(s);
// The claims scorecard (top of the page), R² bands and grounding ages (report/sections/claims.ts).
for (const s of claimsSections) registerStudyReportSection(s);
// A link to STUDY/explore/index.html when `groundlab explore --study` wrote one.
registerStudyReportSection(explorerSection);

// ---------------------------------------------------------------------------------------------
// Building the page
// ---------------------------------------------------------------------------------------------

export interface StudyReportOptions {
  /** Aggregate to draw from (default: aggregateStudy(dir), which also refreshes STUDY/eval). */
  aggregate?: StudyAggregate;
  title?: string;
  /** Receives Vega warnings (default: collected in the result). */
  onWarning?: (m: string) => void;
}

/** Builds the report of a study directory (does not write it). */
export async function buildStudyReport(dir: string, opts: StudyReportOptions = {}): Promise<{ builder: ReportBuilder; ctx: StudyReportContext }> {
  const agg = opts.aggregate ?? aggregateStudy(dir);
  const corpusDir = studyCorpusDir(dir, agg.study);
  const stats = existsSync(join(corpusDir, 'stats.json')) ? readJson<CorpusStats>(join(corpusDir, 'stats.json')) : null;
  const truthPath = join(corpusDir, 'truth.json');
  const truth = existsSync(truthPath) ? readJson<SyntheticTruth>(truthPath) : null;
  const primaryItems = agg.grounding.some((g) => g.items === 'corpus') ? 'corpus' : agg.grounding.some((g) => g.items === 'template') ? 'template' : 'corpus';
  const labels = agg.labels.filter((l) => agg.runs.some((r) => r.config.label === l));
  const preset = agg.study?.preset;
  const builder = new ReportBuilder(opts.title ?? `groundlab study${preset ? `: ${preset} preset` : ''}`, {
    subtitle: `Symbol grounding over training: ${labels.join(', ') || 'no runs yet'} on ${agg.study?.corpus.source === 'synthetic' ? 'the synthetic grounded world' : agg.study?.corpus.source === 'childes' ? 'CHILDES' : 'a grounded corpus'}. Re-implements Wu, Ma, Luo et al. 2025, "The Mechanistic Emergence of Symbol Grounding in Language Models".`,
    footer: `Generated by ${codeVersion()} from ${dir}.`,
  });
  const warnings: string[] = [];
  const ctx: StudyReportContext = {
    dir,
    agg,
    builder,
    svg: (spec) => renderSvg(spec, { onWarning: opts.onWarning ?? ((m) => warnings.push(m)) }),
    primaryItems,
    labels,
    lastStep: (label) => {
      const steps = agg.grounding.filter((g) => g.label === label && g.items === primaryItems).map((g) => g.step as number);
      return steps.length ? Math.max(...steps) : undefined;
    },
    corpusDir,
    stats,
    targets: agg.targets,
    truth,
    empty: [],
    warnings,
  };
  for (const s of studyReportSections()) {
    const drawn = await s.render(ctx);
    if (drawn === false) ctx.empty.push(s.id);
  }
  return { builder, ctx };
}

/** Builds and writes STUDY/report.html (or `out`); returns the path and any chart warnings. */
export async function writeStudyReport(dir: string, opts: StudyReportOptions & { out?: string } = {}): Promise<{ path: string; warnings: string[] }> {
  const { builder, ctx } = await buildStudyReport(dir, opts);
  const path = builder.write(opts.out ?? studyPaths(dir).report);
  return { path, warnings: ctx.warnings };
}
