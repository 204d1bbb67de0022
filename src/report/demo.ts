/**
 * A demo report from synthetic tidy data that exercises every figure builder and every block type.
 * It shows the row shapes the builders expect, backs the report tests, and lets CI check the
 * browser path (scripts/report-check.sh) before any real study exists. The numbers are made up
 * (shaped after SPEC §1) and the page says so.
 */
import { Rng } from '../util/rng.js';
import {
  barErrorChart,
  dualAxisChart,
  headGrid,
  heatmap,
  layerCurvesChart,
  lineBandChart,
  renderSvg,
  scatterRegression,
  type Row,
  type TopLevelSpec,
} from './charts.js';
import { ReportBuilder, parseTaggedToken } from './html.js';

const ARCHS = ['GPT-2', 'Mamba-2', 'LSTM'];
const SEEDS = [42, 142, 242, 342, 442];
const STEPS = [0, 150, 300, ...Array.from({ length: 40 }, (_, i) => (i + 1) * 500)];
const WORDS = ['ball', 'book', 'cup', 'dog', 'car', 'shoe', 'spoon', 'duck', 'hat', 'milk', 'bird', 'truck', 'apple', 'chair', 'cookie', 'bear', 'door', 'egg', 'train', 'hand'];
const LAYERS = 12;

/** A seeded uniform source for the synthetic numbers. */
function uniform(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.float();
}
const HEADS = 12;

/** Matched vs mismatched surprisal: rows `{ arch, seed, step, condition, surprisal }`, one per seed. */
export function demoSurprisalRows(rand = uniform(1)): Row[] {
  const rows: Row[] = [];
  for (const arch of ARCHS) {
    const gap = arch === 'LSTM' ? 0.05 : arch === 'Mamba-2' ? 1.6 : 2.2;
    for (const seed of SEEDS) {
      // Seeds differ in how fast and how far they learn, which gives the bands their width.
      const speed = 4000 * (1 + 0.4 * (rand() - 0.5));
      const seedGap = gap * (1 + 0.3 * (rand() - 0.5));
      for (const step of STEPS) {
        const learn = 1 - Math.exp(-step / speed);
        const base = 9 - 1.6 * learn;
        rows.push({ arch, seed, step, condition: 'matched', surprisal: base - seedGap * learn ** 1.5 + 0.12 * (rand() - 0.5) });
        rows.push({ arch, seed, step, condition: 'mismatched', surprisal: base + 0.12 * (rand() - 0.5) });
      }
    }
  }
  return rows;
}

/** Mean G with a bootstrap interval and R² per statistic, rows `{ step, G, G_lo, G_hi }` and `{ step, statistic, r2 }`. */
export function demoGainRows(rand = uniform(2)): { gain: Row[]; r2: Row[] } {
  const gain: Row[] = [];
  const r2: Row[] = [];
  for (const step of STEPS) {
    const g = 2.1 * (1 - Math.exp(-step / 6000)) ** 1.4 + 0.03 * (rand() - 0.5);
    gain.push({ step, G: g, G_lo: g - 0.15 - 0.05 * rand(), G_hi: g + 0.15 + 0.05 * rand() });
    const peak = (step / 3000) * Math.exp(1 - step / 3000);
    for (const [statistic, scale] of [['co-occurrence count', 0.55], ['P(LAN | ENV)', 0.45], ['PMI', 0.3]] as const) {
      r2.push({ step, statistic, r2: Math.max(0, scale * peak + 0.03 * (rand() - 0.5)) });
    }
  }
  return { gain, r2 };
}

/** Per-word G at the last checkpoint, one row per seed: `{ word, seed, G, category }`. */
export function demoWordRows(rand = uniform(3)): Row[] {
  const rows: Row[] = [];
  WORDS.forEach((word, i) => {
    const mean = 3.2 - 0.17 * i + (i === WORDS.length - 1 ? -0.9 : 0);
    const category = i % 3 === 0 ? 'toys' : i % 3 === 1 ? 'food and drink' : 'household';
    for (const seed of SEEDS) rows.push({ word, seed, G: mean + 0.6 * (rand() - 0.5), category });
  });
  return rows;
}

/** ENV saliency flow per layer and checkpoint: `{ step, layer, flow }`, peaking in layers 7-9 late in training. */
export function demoSaliencyRows(): Row[] {
  const rows: Row[] = [];
  for (const step of STEPS) {
    const t = 1 - Math.exp(-step / 5000);
    for (let layer = 1; layer <= LAYERS; layer++) {
      const bump = Math.exp(-((layer - 8) ** 2) / 3);
      rows.push({ step, layer, flow: 0.02 + 0.05 * (1 - t) * Math.exp(-layer / 3) + 0.3 * t * bump });
    }
  }
  return rows;
}

/** ENV share per head at one checkpoint: `{ layer, head, share, aggregate }` (aggregate when share ≥ 0.30). */
export function demoHeadRows(rand = uniform(4)): Row[] {
  const rows: Row[] = [];
  for (let layer = 1; layer <= LAYERS; layer++) {
    for (let head = 0; head < HEADS; head++) {
      const bump = Math.exp(-((layer - 7.5) ** 2) / 2);
      const share = Math.min(0.95, 0.04 + 0.08 * rand() + (rand() < 0.22 ? 0.45 * bump : 0.08 * bump));
      rows.push({ layer, head, share, aggregate: share >= 0.3 });
    }
  }
  return rows;
}

/** Tuned-lens (and logit-lens) surprisal of the target by layer: `{ lens, step, layer, surprisal }` (SPEC §1 numbers). */
export function demoLensRows(): Row[] {
  const tuned: Record<number, number[]> = {
    5000: [6.6, 6.2, 6.1, 6.1, 6.05, 6.0, 5.95, 5.9, 5.85, 5.85, 5.8, 5.78],
    10000: [6.57, 5.9, 5.82, 5.82, 5.72, 5.63, 5.55, 5.42, 5.41, 5.39, 5.35, 5.3],
    20000: [6.57, 5.71, 5.55, 5.55, 5.47, 5.39, 5.27, 5.0, 4.92, 4.87, 4.84, 4.77],
  };
  const rows: Row[] = [];
  for (const [step, values] of Object.entries(tuned)) {
    values.forEach((s, i) => {
      rows.push({ lens: 'tuned lens', step: Number(step), layer: i + 1, surprisal: s });
      rows.push({ lens: 'logit lens', step: Number(step), layer: i + 1, surprisal: i === 11 ? s : s + 2.2 * Math.exp(-i / 4) + 0.3 });
    });
  }
  return rows;
}

/** G(v) against a co-occurrence statistic: `{ word, G, pmi }`. */
export function demoScatterRows(rand = uniform(5)): Row[] {
  return WORDS.map((word) => {
    const pmi = 1 + 3 * rand();
    return { word, pmi, G: 0.4 + 0.45 * pmi + 0.8 * (rand() - 0.5) };
  });
}

/** Token saliency of one matched context, from tagged corpus tokens. */
export function demoTokens(): { text: string; kind: ReturnType<typeof parseTaggedToken>['kind']; value: number }[] {
  const tagged = ['<MOT>', 'the<ENV>', 'child<ENV>', 'throws<ENV>', 'the<ENV>', 'ball<ENV>', '<MOT>', 'look<LAN>', 'at<LAN>', 'the<LAN>'];
  const sal = [0.02, 0.03, 0.08, 0.21, 0.04, 0.92, 0.05, 0.12, 0.06, 0.31];
  return tagged.map((t, i) => ({ ...parseTaggedToken(t), value: sal[i]! }));
}

/** Rows of the intervention table (SPEC §1 reference numbers). */
export function demoInterventionRows(): Row[] {
  return [
    { step: 5000, heads: 2.28, mean_layer: 7.38, ablated: 6.51, control: 6.39, original: 6.38, p: 2.1e-5 },
    { step: 10000, heads: 5.09, mean_layer: 7.28, ablated: 5.86, control: 5.29, original: 5.3, p: 3.4e-9 },
    { step: 20000, heads: 6.71, mean_layer: 7.52, ablated: 5.62, control: 4.76, original: 4.77, p: 1.2e-14 },
  ];
}

/** Every demo figure spec, keyed by a short name. */
export function demoSpecs(): Record<string, { spec: TopLevelSpec; caption: string }> {
  const { gain, r2 } = demoGainRows();
  return {
    surprisal: {
      spec: lineBandChart(demoSurprisalRows(), {
        x: 'step', y: 'surprisal', color: 'condition', facet: 'arch', facetOrder: ARCHS, columns: 3, band: 'se',
        xTitle: 'training step', yTitle: 'surprisal of target (nats)', colorTitle: 'context', xFormat: '~s',
        title: 'Matched vs mismatched surprisal over training',
      }),
      caption: 'Surprisal of the target word in matched and mismatched contexts; lines are means over 5 seeds, bands ± 1 standard error.',
    },
    gainR2: {
      spec: dualAxisChart(gain, {
        x: 'step', xTitle: 'training step', xFormat: '~s',
        left: { y: 'G', title: 'mean information gain G (nats)', band: { lower: 'G_lo', upper: 'G_hi' }, zero: true },
        right: { y: 'r2', title: 'R² of G(v) on co-occurrence', rows: r2, series: 'statistic', seriesTitle: 'statistic', domain: [0, 1] },
        title: 'Grounding gain grows while co-occurrence explains less of it',
      }),
      caption: 'Left axis: mean G over words with a 95% bootstrap interval. Right axis: R² of per-word G regressed on each co-occurrence statistic.',
    },
    words: {
      spec: barErrorChart(demoWordRows(), {
        category: 'word', value: 'G', band: 'ci95', color: 'category', colorTitle: 'CDI category',
        valueTitle: 'information gain G (nats)', title: 'Per-word grounding gain at step 20k',
      }),
      caption: 'Per-word G at the last checkpoint, mean over seeds with t-based 95% intervals, sorted.',
    },
    saliency: {
      spec: heatmap(demoSaliencyRows(), {
        x: 'step', y: 'layer', value: 'flow', xTitle: 'checkpoint (training step)', yTitle: 'layer',
        valueTitle: 'ENV saliency flow', xFormat: '~s', title: 'Saliency flow from ENV tokens to the prediction',
      }),
      caption: 'Layer × checkpoint heatmap of the ENV saliency flow into the prediction position.',
    },
    heads: {
      spec: headGrid(demoHeadRows(), {
        layer: 'layer', head: 'head', value: 'share', marked: 'aggregate', valueTitle: 'ENV share',
        markLabel: 'aggregate head (share ≥ 0.30)', domain: [0, 1], title: 'ENV share of saliency per head, step 20k',
      }),
      caption: 'ENV share of the prediction row’s saliency for every head; outlined cells are aggregate heads.',
    },
    lens: {
      spec: layerCurvesChart(demoLensRows(), {
        layer: 'layer', y: 'surprisal', series: 'step', seriesTitle: 'checkpoint', facet: 'lens',
        facetOrder: ['tuned lens', 'logit lens'], yTitle: 'surprisal of target (nats)', title: 'Surprisal of the target read out at each layer',
      }),
      caption: 'Tuned-lens and logit-lens surprisal of the target by layer, one line per checkpoint (matched contexts).',
    },
    scatter: {
      spec: scatterRegression(demoScatterRows(), {
        x: 'pmi', y: 'G', xTitle: 'PMI(ENV, LAN) in training turns', yTitle: 'information gain G(v) (nats)',
        title: 'Per-word gain against co-occurrence',
      }),
      caption: 'Each point is one target word at step 20k; dashed line: ordinary least squares fit.',
    },
  };
}

/** Builds the whole demo report (renders every figure). */
export async function buildDemoReport(onWarning?: (m: string) => void): Promise<ReportBuilder> {
  const specs = demoSpecs();
  const svg = async (name: string) => renderSvg(specs[name]!.spec, { onWarning });
  const r = new ReportBuilder('groundlab demo report', {
    subtitle: 'Synthetic numbers that exercise every figure and block type; not results.',
    footer: 'groundlab report layer demo',
  });
  r.text('This page is generated from made-up tidy tables shaped like a real study. It needs no network to open.');

  r.section('Behaviour: matched vs mismatched');
  r.text('An environment token lowers the surprisal of its matching word in Transformers and state-space models, not in the LSTM.');
  r.figure(await svg('surprisal'), specs.surprisal!.caption);
  r.subsection('Information gain and co-occurrence');
  r.figure(await svg('gainR2'), specs.gainR2!.caption);
  r.figure(await svg('scatter'), specs.scatter!.caption);
  r.subsection('Per word');
  r.figure(await svg('words'), specs.words!.caption);
  const wordTable = demoWordRows().filter((w) => w.seed === 42).slice(0, 8);
  r.table(wordTable, { columns: ['word', { key: 'category', label: 'CDI category' }, { key: 'G', label: 'G (nats)' }], caption: 'Per-word G, seed 42 (first 8 words).' });

  r.section('Where: saliency and the tuned lens');
  r.figure(await svg('saliency'), specs.saliency!.caption);
  r.tokens(demoTokens(), {
    target: 'ball',
    valueTitle: 'saliency to the prediction position',
    caption: 'One matched context: each token shaded by its saliency flow into the position that predicts “ball”.',
  });
  r.figure(await svg('lens'), specs.lens!.caption);

  r.section('How: aggregate heads and ablation');
  r.figure(await svg('heads'), specs.heads!.caption);
  r.table(demoInterventionRows(), {
    caption: 'Zero-ablating aggregate heads vs as many random heads (SPEC §1 reference numbers; p is synthetic).',
    columns: [
      { key: 'step', label: 'checkpoint' },
      { key: 'heads', label: 'aggregate heads' },
      { key: 'mean_layer', label: 'mean layer' },
      { key: 'ablated', label: 'surprisal, heads ablated' },
      { key: 'control', label: 'random control' },
      { key: 'original', label: 'unablated' },
      { key: 'p', label: 'p (paired)' },
    ],
  });

  r.section('Corpus and configuration');
  r.keyValue({ transcripts: 3412, 'train tokens': 10_482_113, 'ENV share of tokens': 0.1834, 'target words': 100, 'vocabulary size': 8192, 'split': '90 / 5 / 5' }, { caption: 'Corpus statistics' });
  r.details('Run configuration (JSON)', {
    model: { arch: 'gpt2', n_layer: 12, n_head: 12, d_model: 768, context: 512 },
    train: { lr: 5e-5, warmup: 1000, steps: 20000, batch: 8, seeds: SEEDS },
    note: 'escaping check: <script>alert("x")</script> & "quotes"',
  });
  return r;
}
