/**
 * The "Visual dialog" section of the study report (slot 80 of report/study-report.ts): both settings
 * of SPEC §7 side by side when the study is a visual-dialog study (study/visual-study.ts layout:
 * the caption-grounded study in STUDY, the image-grounded one in STUDY/image). It shows the headline
 * per setting and model, G over training for both settings, matched vs mismatched surprisal of the
 * image-grounded setting, its per-word gains, where the environment enters the prediction
 * (saliency ENV share per layer, when computed), what the corpora hold, and the caveats of a small
 * sample. Draws from the tidy tables only (STUDY/eval, STUDY/image/eval).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { StudyAggregate } from '../../study/study.js';
import { aggregateStudy, studyCorpusDir } from '../../study/study.js';
import { readCsvTable, type SummaryRow } from '../../study/tables.js';
import type { StudyReportContext, StudyReportSection } from './registry.js';
import { lineBandChart } from '../charts.js';
import type { Row } from '../html.js';
import { gainRow, surprisalOverTrainingChart, wordGainChart } from '../study-figures.js';
import { fixedColumn, MODEL_COLUMN, pColumn } from '../table-format.js';
import { readJson } from '../../util/files.js';
import type { VisualCorpusStats } from '../../data/visdial/common.js';
import type { PrefixInfo } from '../../data/prefix.js';
import { VISUAL_INTERVENTION_FILE, VISUAL_INTERVENTION_NUMERIC } from '../../study/visual-heads.js';
import { VISUAL_SALIENCY_FILE } from '../../study/visual-saliency.js';

interface Setting {
  name: 'caption' | 'image';
  title: string;
  dir: string;
  agg: StudyAggregate;
  stats: VisualCorpusStats | null;
}

function corpusStats(dir: string, agg: StudyAggregate): VisualCorpusStats | null {
  const p = join(studyCorpusDir(dir, agg.study), 'stats.json');
  if (!existsSync(p)) return null;
  const s = readJson<VisualCorpusStats>(p);
  return s.visual ? s : null;
}

/** The settings present in a visual-dialog study directory (empty for other studies). */
export function visualSettings(ctx: Pick<StudyReportContext, 'dir' | 'agg'>): Setting[] {
  const out: Setting[] = [];
  const capStats = corpusStats(ctx.dir, ctx.agg);
  if (capStats && capStats.visual.setting === 'caption') out.push({ name: 'caption', title: 'caption-grounded', dir: ctx.dir, agg: ctx.agg, stats: capStats });
  const imageDir = join(ctx.dir, 'image');
  if (existsSync(join(imageDir, 'study.json'))) {
    const agg = aggregateStudy(imageDir);
    out.push({ name: 'image', title: 'image-grounded', dir: imageDir, agg, stats: corpusStats(imageDir, agg) });
  } else if (capStats && capStats.visual.setting === 'image') {
    out[0] = { name: 'image', title: 'image-grounded', dir: ctx.dir, agg: ctx.agg, stats: capStats };
  }
  return out;
}

function lastRows(s: Setting): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const label of s.agg.labels) {
    const mine = s.agg.grounding.filter((g) => g.label === label && g.items === 'corpus');
    if (!mine.length) continue;
    const last = mine.reduce((a, b) => ((b.step as number) > (a.step as number) ? b : a));
    const items = s.agg.summaryByRun.filter((r) => r.label === label && r.items === 'corpus' && r.step === last.step);
    rows.push({ ...last, setting: s.title, n_items: items.length ? Math.round(items.reduce((a, r) => a + Number(r.n_items), 0) / items.length) : NaN });
  }
  return rows;
}

export const visualDialogSection: StudyReportSection = {
  id: 'visual-dialog',
  title: 'Visual dialog',
  order: 80,
  async render(ctx) {
    const settings = visualSettings(ctx);
    if (!settings.length || !settings.some((s) => s.agg.grounding.length)) return false;
    const b = ctx.builder;
    b.section('Visual dialog: caption- and image-grounded settings');
    b.text([
      'SPEC §7 repeats the study on visual dialog. Caption-grounded: a VisDial dialog is one sequence whose environment is its image caption as <ENV> tokens, followed by the questions (<Q>) and answers (<A>) as <LAN> tokens; a COCO image gives one sequence with its first caption as <ENV> and its other captions as <LAN> descriptions (<D>). The mismatched context takes the caption of another held-out sequence that names the mismatch word and not the target.',
      'Image-grounded: the environment is the image itself, k patch vectors of a frozen encoder mapped to d_model by the model\'s trained linear prefix layer and placed before the tokens; the tokens are the dialog (or, for COCO images without a dialog, the captions: image-grounded captioning). The mismatched context replaces the image by another held-out image whose text says the mismatch word and not the target. Models are trained from scratch as plain causal language models in both settings.',
    ]);
    const head = settings.flatMap(lastRows);
    if (head.length) {
      b.table(head, {
        caption: 'Last checkpoint of each model in each setting (corpus items of the held-out split): mean surprisal of the target after the matched and mismatched environments, mean G over words with its 95% bootstrap interval, Wilcoxon signed-rank test over words.',
        columns: [
          'setting',
          MODEL_COLUMN,
          'step',
          fixedColumn('mean_matched', 'matched', 3),
          fixedColumn('mean_mismatched', 'mismatched', 3),
          fixedColumn('mean_G', 'G', 3),
          fixedColumn('words_G_lo', 'G 95% lo', 3),
          fixedColumn('words_G_hi', 'G 95% hi', 3),
          pColumn('words_wilcoxon_p', 'Wilcoxon p'),
          { key: 'n_words', label: 'words' },
          { key: 'n_items', label: 'items' },
          { key: 'n_seeds', label: 'seeds' },
        ],
      });
    }
    const g: Row[] = [];
    for (const s of settings) for (const r of s.agg.grounding.filter((x) => x.items === 'corpus')) g.push({ setting: s.title, ...gainRow(r) });
    const labels = [...new Set(g.map((r) => String(r.label)))];
    if (g.length) {
      b.figure(
        await ctx.svg(
          lineBandChart(g, {
            x: 'step', y: 'G', color: 'setting', colorOrder: settings.map((s) => s.title), facet: 'label', facetOrder: labels, columns: Math.min(3, labels.length),
            band: { lower: 'lo', upper: 'hi' }, points: true, yZero: true, xTitle: 'training step', yTitle: 'information gain G (nats)', colorTitle: 'setting',
            title: 'Grounding information gain over training, both settings',
          }),
        ),
        'Mean G over target words (mismatched minus matched surprisal) at each checkpoint, one panel per model; band: 95% percentile bootstrap interval over words.',
      );
    }
    const image = settings.find((s) => s.name === 'image');
    if (image && image.agg.summaryByRun.length) {
      const runRows = image.agg.summaryByRun.filter((x) => x.items === 'corpus');
      b.figure(
        await ctx.svg(
          surprisalOverTrainingChart(runRows, {
            conditions: ['matched image', 'mismatched image'], labels: [...new Set(runRows.map((r) => String(r.label)))], colorTitle: 'prefix', title: 'Image-grounded: matched vs mismatched image',
          }),
        ),
        'Mean surprisal of the target word after the held-out image it describes and after another held-out image, one panel per model.',
      );
      const first = image.agg.labels.find((l) => image.agg.wordsByRun.some((w) => w.label === l));
      if (first) {
        const last = Math.max(...image.agg.wordsByRun.filter((w) => w.label === first && w.items === 'corpus').map((w) => w.step as number));
        const wr = image.agg.wordsByRun.filter((w) => w.label === first && w.items === 'corpus' && w.step === last).map((w) => ({ word: w.word, seed: w.seed, G: w.G, category: String(w.category || 'other') }));
        if (wr.length) {
          const { spec, seeds } = wordGainChart(wr, { color: 'category', colorTitle: 'CDI category', title: `Image-grounded, ${first}: per-word gain at step ${last}` });
          b.figure(
            await ctx.svg(spec),
            `G(v) per target word at the last checkpoint of ${first} (image-grounded), from ${wr.length / seeds} words with held-out items; each word has few items here, so single bars are noisy.`,
          );
        }
      }
    }
    // Saliency ENV share per layer (study/visual-saliency.ts), when computed.
    const sal: Row[] = [];
    for (const s of settings) for (const r of readCsvTable(join(s.dir, 'eval', VISUAL_SALIENCY_FILE), ['seed', 'step', 'layer', 'head', 'env_share', 'env_flow', 'n_items'])) if (r.unit === 'layer') sal.push({ ...r, setting: s.title });
    if (sal.length) {
      const found = new Set(sal.map((r) => String(r.label)));
      const ls = [...ctx.labels.filter((l) => found.has(l)), ...[...found].filter((l) => !ctx.labels.includes(l))];
      b.figure(
        await ctx.svg(
          lineBandChart(sal, {
            x: 'layer', y: 'env_share', color: 'setting', colorOrder: settings.map((s) => s.title), facet: 'label', facetOrder: ls, columns: Math.min(3, ls.length), band: 'se', points: true, xInteger: true, yZero: true,
            xTitle: 'layer', yTitle: 'ENV share of the prediction row', colorTitle: 'setting', title: 'Where the environment enters: saliency share of ENV positions',
          }),
        ),
        'Share of the prediction row\'s saliency (|Σ_h A ⊙ ∂L/∂A| for attention models, |gradient × input| for the LSTM) on the ENV positions (caption tokens, or the k image-feature positions), per layer, at the last checkpoint, averaged over matched items. Positions differ between settings (a caption has about 10 tokens, an image 49 feature positions), so compare shapes over layers rather than levels.',
      );
    }
    // Aggregate heads zero-ablated vs random controls (study/visual-heads.ts), when computed.
    const iv: Row[] = [];
    for (const s of settings) for (const r of readCsvTable(join(s.dir, 'eval', VISUAL_INTERVENTION_FILE), VISUAL_INTERVENTION_NUMERIC)) iv.push({ ...r, setting: s.title });
    if (iv.length) {
      b.table(iv, {
        caption: 'Aggregate heads at the last checkpoint (attention models; the LSTM has none), on the matched items of the saliency: threshold:0.3 selects heads whose mean ENV share of the prediction row\'s saliency is at least 0.30, top:K the 10% of heads with the highest share. Mean surprisal of the target with no head ablated, with the selected heads zeroed (attn.z / mixer.z, every position), and with as many random other heads zeroed (mean of 20 seeded draws; NA when fewer other heads remain than were selected: a smaller control is never used); p: one-sided paired t-test over items, ablated > control. ENV positions fill a large part of the image-grounded contexts (uniform_share in visual_intervention.csv), so the threshold selects many heads there.',
        columns: [
          'setting',
          MODEL_COLUMN,
          'seed',
          'selection',
          { key: 'n_heads', label: 'heads', align: 'right' },
          fixedColumn('mean_layer', 'mean layer', 1),
          fixedColumn('intervened', 'ablated', 3),
          fixedColumn('control', 'control', 3),
          fixedColumn('original', 'unablated', 3),
          pColumn('p', 'p'),
        ],
      });
    }
    const kv: Record<string, unknown> = {};
    for (const s of settings) {
      const st = s.stats;
      if (!st) continue;
      const v = st.visual;
      kv[`${s.title}: sequences`] = `${v.sequences.visdial} dialogs + ${v.sequences.coco} COCO images (${st.splits.train.transcripts} / ${st.splits.val.transcripts} / ${st.splits.test.transcripts} train / val / test)`;
      kv[`${s.title}: training tokens`] = `${st.splits.train.tokens.toLocaleString('en-US')} (ENV ${st.splits.train.env_tokens.toLocaleString('en-US')}, LAN ${st.splits.train.lan_tokens.toLocaleString('en-US')})`;
      kv[`${s.title}: targets and items`] = `${st.targets.count} target words (rule ${st.targets.rule}, min ENV ${st.targets.min_env}, min LAN ${st.targets.min_lan}); ${st.items.corpus} items over ${st.items.words_with_corpus_items} words`;
      if (s.name === 'image') {
        const pj = join(studyCorpusDir(s.dir, s.agg.study), 'prefix.json');
        if (existsSync(pj)) {
          const p = readJson<PrefixInfo>(pj);
          kv['image-grounded: encoder'] = `${p.encoder.encoder ?? 'features brought by the user'}; ${p.k} patches × ${p.dim} values per image, ${p.norm === 'rms' ? 'each patch vector divided by its RMS' : 'not normalised'}`;
        }
      }
    }
    if (Object.keys(kv).length) b.keyValue(kv, { caption: 'The visual-dialog corpora (stats.json, prefix.json).' });
    const small = settings.some((s) => s.stats && s.stats.splits.train.tokens < 200_000);
    if (small) {
      b.text(
        'Caveat: these corpora are tiny (tens of thousands of training tokens, a few dozen held-out sequences): each target word has one to a few items, the models overfit within a few hundred steps, and G is measured over a few dozen words. The numbers show that the pipeline measures grounding in both settings, not the size of the effect on the full VisDial (123k dialogs); run the same command on the full data for that.',
      );
    }
  },
};
