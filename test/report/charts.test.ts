import * as vega from 'vega';
import { describe, expect, it } from 'vitest';
import {
  barErrorChart,
  dualAxisChart,
  fieldRef,
  headGrid,
  heatmap,
  layerCurvesChart,
  lineBandChart,
  olsFit,
  renderSvg,
  scatterRegression,
  summarise,
  tQuantile975,
  type TopLevelSpec,
} from '../../src/report/charts.js';
import { demoSpecs } from '../../src/report/demo.js';
import { estimateTextWidth, installTextMetrics } from '../../src/report/textmetrics.js';

/** Renders and fails the test on any Vega-Lite / Vega warning. */
async function render(spec: TopLevelSpec): Promise<string> {
  const warnings: string[] = [];
  const svg = await renderSvg(spec, { onWarning: (m) => warnings.push(m) });
  expect(warnings).toEqual([]);
  return svg;
}

/** Text of every `<text>` element inside groups whose class contains `cls`, in document order. */
function texts(svg: string, cls: string): string[] {
  const out: string[] = [];
  for (const part of svg.split(`class="${cls}`).slice(1)) {
    const group = part.slice(0, part.indexOf('</g>'));
    for (const m of group.matchAll(/<text[^>]*>([^<]*)<\/text>/g)) out.push(m[1]!);
  }
  return out;
}

const count = (s: string, needle: string) => s.split(needle).length - 1;

describe('summarise', () => {
  const rows = [
    { g: 'a', x: 1, y: 1 },
    { g: 'a', x: 1, y: 2 },
    { g: 'a', x: 1, y: 6 },
    { g: 'b', x: 1, y: 5 },
    { g: 'b', x: 1, y: Number.NaN },
  ];

  it('averages replicates per group with SE, SD and t-based 95% intervals', () => {
    // y = 1, 2, 6: mean 3, sd sqrt(7), se sqrt(7/3), t(2) = 4.303.
    const se = summarise(rows, ['g', 'x'], 'y', 'se');
    expect(se[0]!.y).toBe(3);
    expect(se[0]!.__band_lo).toBeCloseTo(3 - Math.sqrt(7 / 3), 12);
    expect(se[0]!.n).toBe(3);
    const sd = summarise(rows, ['g', 'x'], 'y', 'sd');
    expect(sd[0]!.__band_hi).toBeCloseTo(3 + Math.sqrt(7), 12);
    const ci = summarise(rows, ['g', 'x'], 'y', 'ci95');
    expect(ci[0]!.__band_hi).toBeCloseTo(3 + 4.303 * Math.sqrt(7 / 3), 12);
  });

  it('skips non-finite values and collapses the band of a single replicate', () => {
    const b = summarise(rows, ['g', 'x'], 'y', 'ci95')[1]!;
    expect(b).toMatchObject({ g: 'b', y: 5, __band_lo: 5, __band_hi: 5, n: 1 });
  });

  it('uses t quantiles that approach 1.96', () => {
    expect(tQuantile975(4)).toBeCloseTo(2.776, 3);
    expect(tQuantile975(60)).toBeCloseTo(2.0003, 2);
    expect(tQuantile975(1000)).toBeCloseTo(1.962, 2);
  });
});

describe('olsFit', () => {
  it('recovers an exact line with R² = 1', () => {
    const rows = [0, 1, 2, 3].map((x) => ({ x, y: 2 + 0.5 * x }));
    expect(olsFit(rows, 'x', 'y')).toEqual({ intercept: 2, slope: 0.5, r2: 1, n: 4 });
  });

  it('matches a hand-computed fit', () => {
    // x = 1,2,3; y = 1,3,2: sxx = 2, sxy = 1, syy = 2 → slope 0.5, intercept 1, R² = 1/4.
    const fit = olsFit([{ x: 1, y: 1 }, { x: 2, y: 3 }, { x: 3, y: 2 }, { x: 4, y: null }], 'x', 'y');
    expect(fit.slope).toBeCloseTo(0.5, 12);
    expect(fit.intercept).toBeCloseTo(1, 12);
    expect(fit.r2).toBeCloseTo(0.25, 12);
    expect(fit.n).toBe(3);
  });
});

describe('text metrics', () => {
  it('estimates Helvetica widths instead of 0.8 em per character', () => {
    // "training step" in Helvetica is 5.447 em (AFM units), plus the 3% margin; vega's fallback says 0.8 em × 13.
    const w = estimateTextWidth('training step', 12);
    expect(w).toBeCloseTo(5.447 * 12 * 1.03, 6);
    expect(w).toBeLessThan(0.8 * 13 * 12 * 0.7);
    expect(estimateTextWidth('MMMM', 10)).toBeGreaterThan(estimateTextWidth('iiii', 10) * 3);
    expect(estimateTextWidth('G', 12, true)).toBeGreaterThan(estimateTextWidth('G', 12));
  });

  it('is what vega uses once installed', () => {
    installTextMetrics();
    const metrics = (vega as unknown as { textMetrics: { width(item: object, text: string): number } }).textMetrics;
    expect(metrics.width({ fontSize: 12 }, 'training step')).toBeCloseTo(estimateTextWidth('training step', 12), 9);
    expect(metrics.width({ fontSize: 12, limit: 20 }, 'training step')).toBe(20);
  });
});

describe('figure builders render to SVG', () => {
  const specs = demoSpecs();

  it('line chart with bands: one panel per architecture, one line per condition, a band each', async () => {
    const svg = await render(specs.surprisal!.spec);
    expect(svg.startsWith('<svg')).toBe(true);
    for (const t of ['GPT-2', 'Mamba-2', 'LSTM', 'training step', 'surprisal of target (nats)', 'matched', 'mismatched', 'context']) {
      expect(svg).toContain(`>${t}<`);
    }
    expect(count(svg, 'aria-roledescription="line mark"')).toBe(6);
    expect(count(svg, 'aria-roledescription="area mark"')).toBe(6);
    // Per-value SI labels: "0" and "20k", not "0k".
    expect(texts(svg, 'mark-text role-axis-label')).toContain('20k');
    expect(texts(svg, 'mark-text role-axis-label')).not.toContain('0k');
  });

  it('dual axis: two y axes with their titles, a band on the left, one dashed line per statistic', async () => {
    const svg = await render(specs.gainR2!.spec);
    expect(svg).toContain('>mean information gain G (nats)<');
    expect(svg).toContain('>R² of G(v) on co-occurrence<');
    expect(count(svg, 'aria-label="Y-axis titled')).toBe(2);
    expect(count(svg, 'aria-roledescription="area mark"')).toBe(1);
    expect(count(svg, 'aria-roledescription="line mark"')).toBe(4);
    expect(svg).toContain('>PMI<');
  });

  it('bar chart: one bar and one error bar per item, sorted by value', async () => {
    const rows = [
      { word: 'cup', G: 1.0, lo: 0.5, hi: 1.5 },
      { word: 'ball', G: 3.0, lo: 2.5, hi: 3.5 },
      { word: 'dog', G: -0.5, lo: -1, hi: 0 },
      { word: 'hat', G: 2.0, lo: 1.5, hi: 2.5 },
    ];
    const desc = await render(barErrorChart(rows, { category: 'word', value: 'G', band: { lower: 'lo', upper: 'hi' }, valueTitle: 'G (nats)' }));
    expect(count(desc, 'aria-roledescription="bar"')).toBe(4);
    expect(count(desc, 'aria-roledescription="rule mark"')).toBe(5); // 4 error bars + the zero line
    expect(texts(desc, 'mark-text role-axis-label').filter((t) => /^[a-z]+$/.test(t))).toEqual(['ball', 'hat', 'cup', 'dog']);
    const asc = await render(barErrorChart(rows, { category: 'word', value: 'G', sort: 'ascending', valueTitle: 'G (nats)' }));
    expect(texts(asc, 'mark-text role-axis-label').filter((t) => /^[a-z]+$/.test(t))).toEqual(['dog', 'cup', 'hat', 'ball']);
  });

  it('bar chart from replicates averages them (demo: 20 words × 5 seeds)', async () => {
    const svg = await render(specs.words!.spec);
    expect(count(svg, 'aria-roledescription="bar"')).toBe(20);
    expect(svg).toContain('>CDI category<');
  });

  it('heatmap: a cell per row, a gradient legend, the highest layer on top', async () => {
    const rows = [];
    for (const step of [0, 1000, 2000]) for (const layer of [1, 2, 3, 4]) rows.push({ step, layer, flow: layer * 0.1 + step / 10000 });
    const svg = await render(heatmap(rows, { x: 'step', y: 'layer', value: 'flow', xTitle: 'step', yTitle: 'layer', valueTitle: 'ENV flow', xFormat: '~s', showValues: true }));
    expect(count(svg, 'aria-roledescription="rect mark"')).toBe(12);
    expect(svg).toContain('<linearGradient');
    expect(svg).toContain('>ENV flow<');
    const labels = texts(svg, 'mark-text role-axis-label');
    expect(labels.slice(0, 3)).toEqual(['0', '1k', '2k']);
    expect(labels.slice(3)).toEqual(['4', '3', '2', '1']);
    expect(svg).toContain('>0.60<'); // cell value for layer 4, step 2000
  });

  it('head grid: marked cells outlined, with a legend entry for the outline', async () => {
    const rows = [];
    for (let layer = 1; layer <= 3; layer++) for (let head = 0; head < 4; head++) rows.push({ layer, head, share: layer === 2 && head === 1 ? 0.6 : 0.1, agg: layer === 2 && head === 1 });
    const svg = await render(headGrid(rows, { layer: 'layer', head: 'head', value: 'share', marked: 'agg', valueTitle: 'ENV share', markLabel: 'aggregate head' }));
    expect(count(svg, 'aria-roledescription="rect mark"')).toBe(12 + 1);
    expect(svg).toContain('>aggregate head<');
    expect(svg).toContain('stroke="#e8175d"');
  });

  it('layer curves: one line per checkpoint per panel, a tick at every layer', async () => {
    const svg = await render(specs.lens!.spec);
    expect(count(svg, 'aria-roledescription="line mark"')).toBe(6);
    expect(svg).toContain('>tuned lens<');
    expect(svg).toContain('>20,000<');
    const labels = texts(svg, 'mark-text role-axis-label');
    for (const l of ['1', '7', '8', '12']) expect(labels).toContain(l);
  });

  it('scatter: points, the OLS line and its R² in the subtitle', async () => {
    const rows = [0, 1, 2, 3, 4].map((x) => ({ x, y: 1 + 2 * x + (x % 2 ? 0.5 : -0.5) }));
    const fit = olsFit(rows, 'x', 'y');
    const svg = await render(scatterRegression(rows, { x: 'x', y: 'y', xTitle: 'PMI', yTitle: 'G' }));
    expect(count(svg, 'aria-roledescription="point"')).toBe(5);
    expect(count(svg, 'aria-roledescription="line mark"')).toBe(1);
    expect(svg).toContain(`R² = ${fit.r2.toFixed(3)}`);
  });

  it('scatter on a log x axis draws the raw-x fit as a curve', async () => {
    const rows = [1, 10, 100, 1000].map((x, i) => ({ x, y: i }));
    const svg = await render(scatterRegression(rows, { x: 'x', y: 'y', xTitle: 'count', yTitle: 'G', xLog: true, title: 'log' }));
    expect(count(svg, 'aria-roledescription="line mark"')).toBe(1);
    expect(svg).toContain('>log<');
    expect(svg).toContain(`R² = ${olsFit(rows, 'x', 'y').r2.toFixed(3)}`);
  });

  it('reads column names with dots literally', async () => {
    const rows = [1, 2, 3].map((s) => ({ 'train.step': s * 100, 'loss.mean': 5 - s }));
    expect(fieldRef('a.b[0]')).toBe('a\\.b\\[0\\]');
    const svg = await render(lineBandChart(rows, { x: 'train.step', y: 'loss.mean', xTitle: 'step', yTitle: 'loss' }));
    expect(count(svg, 'aria-roledescription="line mark"')).toBe(1);
    expect(svg).toContain('>300<');
  });

  it('is deterministic', async () => {
    const spec = layerCurvesChart(
      [1, 2, 3].flatMap((layer) => [1, 2].map((seed) => ({ layer, seed, step: 10, s: layer + seed }))),
      { layer: 'layer', y: 's', series: 'step', yTitle: 's', band: 'se' },
    );
    expect(await render(spec)).toBe(await render(spec));
  });

  it('refuses to load anything from outside (data URLs)', async () => {
    const spec = { data: { url: 'https://example.invalid/data.json' }, mark: 'point', encoding: { x: { field: 'a', type: 'quantitative' } } } as TopLevelSpec;
    await expect(renderSvg(spec, { onWarning: () => {} })).rejects.toThrow(/refused to load https:\/\/example\.invalid/);
  });

  it('dual axis accepts replicate rows per side', async () => {
    const rows = [0, 100, 200].flatMap((step) => [1, 2, 3].map((seed) => ({ step, seed, G: step / 100 + seed * 0.1, r2: 0.5 - step / 1000 })));
    const svg = await render(dualAxisChart(rows, { x: 'step', xTitle: 'step', left: { y: 'G', title: 'G', band: 'se' }, right: { y: 'r2', title: 'R²', band: 'sd' } }));
    expect(count(svg, 'aria-roledescription="area mark"')).toBe(2); // r2 has no spread: its band is flat but still drawn
    expect(count(svg, 'aria-roledescription="line mark"')).toBe(2);
  });
});
