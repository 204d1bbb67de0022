/**
 * Figure builders: tidy rows (arrays of plain objects) in, Vega-Lite specs out, and `renderSvg` to
 * turn a spec into a standalone SVG string in Node (no browser, no canvas package, no network).
 *
 * Every builder is generic: the caller names the fields and passes axis titles with units. Bands
 * are either pre-computed (`{ lower, upper }` fields, e.g. bootstrap intervals from the analysis)
 * or computed here from replicate rows (`'se' | 'sd' | 'ci95'` over e.g. seeds), so the drawn band
 * is exactly the documented statistic and rendering is deterministic.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { FONT_STACK, installTextMetrics } from './textmetrics.js';

export type Row = Record<string, unknown>;
export type { TopLevelSpec };

/**
 * How to draw the uncertainty band around a mean.
 * - `'none'`: no band; rows are drawn as given (one row per point).
 * - `'se' | 'sd' | 'ci95'`: rows are replicates (e.g. one per seed); they are averaged per point
 *   and the band is mean ± standard error, ± standard deviation, or the t-based 95% interval.
 * - `{ lower, upper }`: rows are already one per point, with the band's edges in these fields.
 */
export type Band = 'none' | 'se' | 'sd' | 'ci95' | { lower: string; upper: string };

/** Options every builder accepts. */
export interface ChartBase {
  title?: string;
  subtitle?: string;
  /** Plot width in px (per panel when faceted). */
  width?: number;
  /** Plot height in px (per panel when faceted). */
  height?: number;
}

/** Quantitative x and y fields with their axis titles (with units). */
export interface XYOptions {
  /** Quantitative x field, e.g. `step`. */
  x: string;
  /** Quantitative y field, e.g. `surprisal`. */
  y: string;
  xTitle: string;
  yTitle: string;
}

/** A series or grouping field mapped to colour, e.g. `condition` (matched / mismatched) or a CDI category. */
export interface ColorOptions {
  color?: string;
  colorTitle?: string;
  /** Explicit order of the colour domain (legend order and palette assignment). */
  colorOrder?: unknown[];
}

/** A colour grouping that may also pick its palette. */
export interface SchemeColorOptions extends ColorOptions {
  /** Categorical Vega scheme for the colours (default: the Okabe-Ito palette, 8 colours). */
  colorScheme?: string;
}

/** Colour-blind-safe categorical palette (Okabe & Ito 2008), ordered for lines on white. */
export const OKABE_ITO = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#999999'];
export const DEFAULT_WIDTH = 560;
export const DEFAULT_HEIGHT = 280;
const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const LO = '__band_lo';
const HI = '__band_hi';

// ---------------------------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------------------------

/** Readable defaults shared by every chart: one font stack, sizes, light grid, the safe palette. */
export function baseConfig(): Record<string, unknown> {
  return {
    font: FONT_STACK,
    background: 'white',
    padding: 8,
    view: { stroke: '#d0d0d0' },
    axis: {
      labelFontSize: 11,
      titleFontSize: 12,
      titleFontWeight: 'normal',
      titleColor: '#222',
      labelColor: '#333',
      gridColor: '#e8e8e8',
      domainColor: '#888',
      tickColor: '#888',
      titlePadding: 8,
    },
    legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', labelLimit: 220 },
    header: { labelFontSize: 12, titleFontSize: 12, titleFontWeight: 'normal', labelFontWeight: 'bold' },
    title: { fontSize: 14, subtitleFontSize: 11.5, subtitleColor: '#555', anchor: 'start', offset: 10 },
    range: { category: OKABE_ITO },
  };
}

/** baseConfig without grid lines (grids of cells: heatmaps, head grids). */
function gridlessConfig(): Record<string, unknown> {
  return { ...baseConfig(), axis: { ...(baseConfig().axis as object), grid: false } };
}

/** Escapes `.`, `[`, `]` and `\` so Vega-Lite reads a column name literally instead of as a nested path. */
export function fieldRef(name: string): string {
  return name.replace(/[.[\]\\]/g, (c) => `\\${c}`);
}

/**
 * The builders assemble specs as plain objects (Vega-Lite's deep unions make literal typing
 * impractical); this is the one place they are declared to be specs. renderSvg compiles them, and
 * the tests render every builder, so a malformed spec fails there.
 */
function asSpec(spec: Record<string, unknown>): TopLevelSpec {
  return spec as unknown as TopLevelSpec;
}

function titleBlock(base: ChartBase): { title?: Record<string, unknown> } {
  if (!base.title && !base.subtitle) return {};
  return { title: { text: base.title ?? '', ...(base.subtitle ? { subtitle: base.subtitle } : {}) } };
}

function finite(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

// Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom.
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** t_{0.975, df}; beyond the table 1.96 + 2.4/df is within 0.002 of the exact value. */
export function tQuantile975(df: number): number {
  if (df < 1) return NaN;
  return df <= 30 ? T975[df - 1]! : 1.96 + 2.4 / df;
}

/**
 * Averages replicate rows per group (`keys`) and adds the band edges in `__band_lo` / `__band_hi`.
 * Groups keep their first-seen order; rows whose value is missing or non-finite are skipped.
 * With a single replicate the band collapses onto the mean (no spread to show).
 */
export function summarise(rows: Row[], keys: string[], y: string, extent: 'se' | 'sd' | 'ci95'): Row[] {
  const groups = new Map<string, { key: Row; values: number[] }>();
  for (const r of rows) {
    const v = finite(r[y]);
    if (v === undefined) continue;
    const id = JSON.stringify(keys.map((k) => r[k]));
    let g = groups.get(id);
    if (!g) {
      g = { key: Object.fromEntries(keys.map((k) => [k, r[k]])), values: [] };
      groups.set(id, g);
    }
    g.values.push(v);
  }
  const out: Row[] = [];
  for (const { key, values } of groups.values()) {
    const n = values.length;
    const mean = values.reduce((a, b) => a + b, 0) / n;
    const sd = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
    const se = n > 1 ? sd / Math.sqrt(n) : 0;
    const half = extent === 'sd' ? sd : extent === 'se' ? se : n > 1 ? tQuantile975(n - 1) * se : 0;
    out.push({ ...key, [y]: mean, [LO]: mean - half, [HI]: mean + half, n });
  }
  return out;
}

/** Applies a band choice: returns the rows to draw and the band's edge fields (if any). */
function withBand(rows: Row[], keys: string[], y: string, band: Band): { rows: Row[]; lower?: string; upper?: string } {
  if (band === 'none') return { rows };
  if (typeof band === 'object') return { rows, lower: band.lower, upper: band.upper };
  return { rows: summarise(rows, keys, y, band), lower: LO, upper: HI };
}

function present<T>(xs: (T | undefined)[]): T[] {
  return xs.filter((x): x is T => x !== undefined);
}

/** Distinct values of a field, in first-seen order. */
function distinct(rows: Row[], field: string): unknown[] {
  return [...new Set(rows.map((r) => r[field]))];
}

/**
 * Axis label format applied per value. Vega's own `format` picks one SI prefix for all ticks
 * ("0k, 5k, 10k"); formatting each label on its own gives "0, 5k, 10k".
 */
function labelFormat(spec: string | undefined): Record<string, unknown> {
  return spec ? { labelExpr: `format(datum.value, ${JSON.stringify(spec)})` } : {};
}

/** Legend entries drawn as short lines, fully opaque (the bands' opacity would otherwise leak in). */
const LINE_LEGEND = { symbolType: 'stroke', symbolStrokeWidth: 2.5, symbolOpacity: 1, symbolSize: 260 };

function colorEncoding(field: string, title: string | undefined, order: unknown[] | undefined, sequential: boolean): Record<string, unknown> {
  if (sequential) {
    // Ordered series (e.g. checkpoints): a perceptually uniform ramp, trimmed before the pale yellow end.
    return {
      field: fieldRef(field),
      type: 'ordinal',
      title: title ?? field,
      scale: { scheme: { name: 'viridis', extent: [0, 0.88] } },
      legend: { ...LINE_LEGEND, labelExpr: "isNumber(datum.value) ? format(datum.value, ',') : datum.label" },
    };
  }
  return { field: fieldRef(field), type: 'nominal', title: title ?? field, legend: LINE_LEGEND, ...(order ? { scale: { domain: order } } : {}) };
}

function facetWidth(base: ChartBase, facet: string | undefined, rows: Row[], columns: number | undefined): number {
  if (base.width) return base.width;
  if (!facet) return DEFAULT_WIDTH;
  const cols = Math.min(columns ?? 2, Math.max(1, distinct(rows, facet).length));
  return Math.max(180, Math.floor((DEFAULT_WIDTH + 40) / cols) - 40);
}

/** Wraps a layered unit into a facet when asked, else returns it as the top-level spec. */
function maybeFacet(
  rows: Row[],
  layers: Record<string, unknown>[],
  size: { width: number; height: number },
  facet: { field?: string; title?: string; columns?: number; order?: unknown[] },
  extra: Record<string, unknown>,
): TopLevelSpec {
  const data = { values: rows };
  const config = baseConfig();
  if (!facet.field) {
    return asSpec({ $schema: VEGA_LITE_SCHEMA, data, ...size, layer: layers, config, ...extra });
  }
  return asSpec({
    $schema: VEGA_LITE_SCHEMA,
    data,
    facet: {
      field: fieldRef(facet.field),
      type: 'nominal',
      title: facet.title ?? null,
      ...(facet.order ? { sort: facet.order } : {}),
    },
    columns: facet.columns ?? 2,
    spec: { ...size, layer: layers },
    config,
    ...extra,
  });
}

// ---------------------------------------------------------------------------------------------
// Line chart with a shaded band
// ---------------------------------------------------------------------------------------------

export interface LineBandOptions extends ChartBase, XYOptions, ColorOptions {
  /** Ordered series (numbers like checkpoints): use a sequential ramp instead of categories. */
  sequentialColor?: boolean;
  /** Small multiples: one panel per value of this field, e.g. `arch`. */
  facet?: string;
  facetTitle?: string;
  facetOrder?: unknown[];
  columns?: number;
  band?: Band;
  /** Draw a dot at each data point (useful for few x values). */
  points?: boolean;
  /** d3-format string for x labels, e.g. `~s` gives 5k, 10k, 20k. */
  xFormat?: string;
  /** Integer ticks on x (layers). */
  xInteger?: boolean;
  /** Include zero in the y scale (default false: surprisal curves would flatten). */
  yZero?: boolean;
}

/**
 * Lines over a quantitative x with an optional shaded band, coloured by series, optionally faceted;
 * y is the mean when rows are pre-aggregated. Rows: `{ [x]: number, [y]: number, [color]?: string|number, [facet]?: string, [lower/upper]?: number, ... }`;
 * with `band: 'se' | 'sd' | 'ci95'` give one row per replicate (e.g. per seed) and they are averaged.
 */
export function lineBandChart(rows: Row[], o: LineBandOptions): TopLevelSpec {
  const keys = present([o.facet, o.color, o.x]);
  const { rows: data, lower, upper } = withBand(rows, keys, o.y, o.band ?? 'none');
  const color = o.color ? { color: colorEncoding(o.color, o.colorTitle, o.colorOrder, o.sequentialColor ?? false) } : {};
  const xAxis: Record<string, unknown> = { title: o.xTitle, ...labelFormat(o.xFormat) };
  if (o.xInteger) {
    // Layers: a tick at every integer when they fit, else integer steps.
    const xs = numericAware(distinct(data, o.x)).filter((v): v is number => typeof v === 'number');
    Object.assign(xAxis, xs.length <= 16 ? { values: xs } : { tickMinStep: 1 }, labelFormat(o.xFormat ?? 'd'));
  }
  const x = { field: fieldRef(o.x), type: 'quantitative', axis: xAxis, scale: { nice: false } };
  const yScale = { zero: o.yZero ?? false };
  const layers: Record<string, unknown>[] = [];
  if (lower && upper) {
    layers.push({
      mark: { type: 'area', opacity: 0.18 },
      encoding: {
        x,
        y: { field: fieldRef(lower), type: 'quantitative', scale: yScale, title: o.yTitle },
        y2: { field: fieldRef(upper) },
        ...color,
      },
    });
  }
  layers.push({
    mark: { type: 'line', strokeWidth: 2, ...(o.points ? { point: { size: 28, filled: true } } : {}) },
    encoding: { x, y: { field: fieldRef(o.y), type: 'quantitative', scale: yScale, title: o.yTitle }, ...color },
  });
  const width = facetWidth(o, o.facet, data, o.columns);
  const height = o.height ?? (o.facet ? 220 : DEFAULT_HEIGHT);
  return maybeFacet(data, layers, { width, height }, { field: o.facet, title: o.facetTitle, columns: o.columns, order: o.facetOrder }, titleBlock(o));
}

// ---------------------------------------------------------------------------------------------
// Layer curves (small multiples, one line per checkpoint)
// ---------------------------------------------------------------------------------------------

export interface LayerCurvesOptions extends ChartBase {
  /** Integer x field, e.g. `layer`. */
  layer: string;
  y: string;
  /** One line per value of this field, e.g. `step`, drawn on a sequential ramp. */
  series: string;
  layerTitle?: string;
  yTitle: string;
  seriesTitle?: string;
  /** One panel per value, e.g. `lens` (tuned / logit) or `arch`. */
  facet?: string;
  facetTitle?: string;
  facetOrder?: unknown[];
  columns?: number;
  band?: Band;
}

/**
 * Curves over layers, one per series value (e.g. tuned-lens surprisal per checkpoint), with dots
 * at each layer. Rows: `{ [layer]: number, [y]: number, [series]: number, [facet]?: string }`.
 */
export function layerCurvesChart(rows: Row[], o: LayerCurvesOptions): TopLevelSpec {
  return lineBandChart(rows, {
    ...o,
    x: o.layer,
    xTitle: o.layerTitle ?? 'layer',
    color: o.series,
    colorTitle: o.seriesTitle ?? o.series,
    sequentialColor: true,
    points: true,
    xInteger: true,
  });
}

// ---------------------------------------------------------------------------------------------
// Two quantities on two y axes
// ---------------------------------------------------------------------------------------------

export interface AxisSide {
  /** Quantitative y field for this side. */
  y: string;
  /** Axis title, with unit. The axis title takes the side's colour so the reader can pair line and axis. */
  title: string;
  band?: Band;
  /** Several lines on this side, told apart by dash pattern, e.g. `statistic` (count / P / PMI). */
  series?: string;
  seriesTitle?: string;
  /** Line colour; defaults to blue (left) and vermillion (right). */
  color?: string;
  /** Rows for this side when they differ from the shared rows. */
  rows?: Row[];
  zero?: boolean;
  /** Fixed scale domain, e.g. [0, 1] for R². */
  domain?: [number, number];
}

export interface DualAxisOptions extends ChartBase {
  x: string;
  xTitle: string;
  xFormat?: string;
  left: AxisSide;
  right: AxisSide;
}

function sideLayers(rows: Row[], x: Record<string, unknown>, side: AxisSide, color: string, orient: 'left' | 'right'): Record<string, unknown> {
  const keys = present([side.series, (x.field as string).replace(/\\(.)/g, '$1')]);
  const { rows: data, lower, upper } = withBand(side.rows ?? rows, keys, side.y, side.band ?? 'none');
  const scale = { zero: side.zero ?? false, ...(side.domain ? { domain: side.domain } : {}) };
  const axis = { title: side.title, orient, titleColor: color, labelColor: color, grid: orient === 'left' };
  const layers: Record<string, unknown>[] = [];
  if (lower && upper) {
    layers.push({
      mark: { type: 'area', opacity: 0.18, color },
      encoding: {
        x,
        y: { field: fieldRef(lower), type: 'quantitative', scale, axis },
        y2: { field: fieldRef(upper) },
        ...(side.series ? { detail: { field: fieldRef(side.series) } } : {}),
      },
    });
  }
  const dash = side.series
    ? { strokeDash: { field: fieldRef(side.series), type: 'nominal', title: side.seriesTitle ?? side.series, legend: { ...LINE_LEGEND, orient: 'bottom', symbolStrokeColor: color } } }
    : {};
  layers.push({
    mark: { type: 'line', strokeWidth: 2, color },
    encoding: { x, y: { field: fieldRef(side.y), type: 'quantitative', scale, axis }, ...dash },
  });
  return { data: { values: data }, layer: layers };
}

/**
 * Two quantities over the same x with independent y scales (e.g. mean G with its interval on the
 * left, R² of the co-occurrence regressions on the right). Rows: `{ [x]: number, [left.y]: number,
 * [right.y]: number, ... }` — or give each side its own `rows` (e.g. long-form R² per statistic).
 */
export function dualAxisChart(rows: Row[], o: DualAxisOptions): TopLevelSpec {
  const x = { field: fieldRef(o.x), type: 'quantitative', axis: { title: o.xTitle, ...labelFormat(o.xFormat) }, scale: { nice: false } };
  const left = sideLayers(rows, x, o.left, o.left.color ?? OKABE_ITO[0]!, 'left');
  const right = sideLayers(rows, x, o.right, o.right.color ?? OKABE_ITO[1]!, 'right');
  return asSpec({
    $schema: VEGA_LITE_SCHEMA,
    width: o.width ?? DEFAULT_WIDTH,
    height: o.height ?? DEFAULT_HEIGHT,
    layer: [left, right],
    resolve: { scale: { y: 'independent' } },
    config: baseConfig(),
    ...titleBlock(o),
  });
}

// ---------------------------------------------------------------------------------------------
// Per-item bars with error bars
// ---------------------------------------------------------------------------------------------

export interface BarErrorOptions extends ChartBase, SchemeColorOptions {
  /** Item field, e.g. `word`. One bar per item. */
  category: string;
  value: string;
  categoryTitle?: string;
  valueTitle: string;
  band?: Band;
  /** Bar order top to bottom (default descending: largest on top). */
  sort?: 'descending' | 'ascending' | 'none';
  /** Pixels per bar (the chart grows with the number of items). */
  barStep?: number;
}

/** Optional colour scale of a nominal encoding: an explicit domain order and/or a named scheme. */
function colorScale(order?: unknown[], scheme?: string): { scale?: Record<string, unknown> } {
  if (!order && !scheme) return {};
  return { scale: { ...(order ? { domain: order } : {}), ...(scheme ? { scheme } : {}) } };
}

/** Marks coloured by their group (`o.color`, with `legend` options if given), or all in the palette's first colour. */
function groupColor(o: SchemeColorOptions, legend?: Record<string, unknown>): { color: Record<string, unknown> } {
  if (!o.color) return { color: { value: OKABE_ITO[0] } };
  return { color: { field: fieldRef(o.color), type: 'nominal', title: o.colorTitle ?? o.color, ...(legend ? { legend } : {}), ...colorScale(o.colorOrder, o.colorScheme) } };
}

/**
 * Horizontal bars, one per item, with error bars and a zero line (e.g. per-word G at the last
 * checkpoint). Rows: `{ [category]: string, [value]: number, [lower/upper]?: number, [color]?: string }`,
 * or one row per replicate with `band: 'se' | 'sd' | 'ci95'`.
 */
export function barErrorChart(rows: Row[], o: BarErrorOptions): TopLevelSpec {
  const keys = present([o.category, o.color]);
  const { rows: data, lower, upper } = withBand(rows, keys, o.value, o.band ?? 'none');
  const sort = o.sort ?? 'descending';
  const y = {
    field: fieldRef(o.category),
    type: 'nominal',
    title: o.categoryTitle ?? null,
    sort: sort === 'none' ? null : { field: fieldRef(o.value), op: 'mean', order: sort },
    axis: { labelFontSize: 10.5, ticks: false, labelPadding: 4 },
  };
  const xValue = { field: fieldRef(o.value), type: 'quantitative', title: o.valueTitle };
  const color = groupColor(o, { orient: 'top' });
  const layers: Record<string, unknown>[] = [
    { mark: { type: 'bar', opacity: 0.85 }, encoding: { y, x: xValue, ...color } },
  ];
  if (lower && upper) {
    layers.push({
      mark: { type: 'rule', color: '#222', strokeWidth: 1.2 },
      encoding: { y, x: { field: fieldRef(lower), type: 'quantitative', title: o.valueTitle }, x2: { field: fieldRef(upper) } },
    });
  }
  layers.push({ data: { values: [{ zero: 0 }] }, mark: { type: 'rule', color: '#555' }, encoding: { x: { field: 'zero', type: 'quantitative' } } });
  return asSpec({
    $schema: VEGA_LITE_SCHEMA,
    data: { values: data },
    width: o.width ?? DEFAULT_WIDTH - 120,
    height: o.height ?? { step: o.barStep ?? 14 },
    layer: layers,
    config: baseConfig(),
    ...titleBlock(o),
  });
}

// ---------------------------------------------------------------------------------------------
// Heatmaps
// ---------------------------------------------------------------------------------------------

export interface HeatmapOptions extends ChartBase {
  /** Discrete x field, e.g. `step` (checkpoints). */
  x: string;
  /** Discrete y field, e.g. `layer`. */
  y: string;
  value: string;
  xTitle: string;
  yTitle: string;
  valueTitle: string;
  /** Sequential Vega scheme name (default viridis, colour-blind safe and monotone in lightness). */
  scheme?: string;
  /** Fixed colour domain, e.g. [0, 1] for shares. */
  domain?: [number, number];
  /** y order top to bottom; default descending so the highest layer is on top. */
  yOrder?: 'ascending' | 'descending';
  /** d3-format for numeric x labels, e.g. `~s` (5k, 10k). */
  xFormat?: string;
  /** Print the value in each cell (only sensible for small grids). */
  showValues?: boolean;
  valueFormat?: string;
}

/** Cells coloured by a value on a sequential scheme, with a gradient legend of the given length. */
function valueColor(o: { value: string; valueTitle: string; scheme?: string; domain?: [number, number] }, gradientLength: number): Record<string, unknown> {
  return {
    field: fieldRef(o.value),
    type: 'quantitative',
    title: o.valueTitle,
    scale: { scheme: o.scheme ?? 'viridis', ...(o.domain ? { domain: o.domain } : {}) },
    legend: { orient: 'right', gradientLength },
  };
}

function numericAware(values: unknown[]): unknown[] {
  return values.every((v) => typeof v === 'number') ? [...values].sort((a, b) => (a as number) - (b as number)) : values;
}

/**
 * Discrete × discrete grid coloured by a value, with a gradient legend (e.g. ENV saliency flow,
 * layer × checkpoint). Rows: `{ [x]: number|string, [y]: number|string, [value]: number }`.
 */
export function heatmap(rows: Row[], o: HeatmapOptions): TopLevelSpec {
  const xs = numericAware(distinct(rows, o.x));
  const ys = numericAware(distinct(rows, o.y));
  const ySort = (o.yOrder ?? 'descending') === 'descending' ? [...ys].reverse() : ys;
  const xAxis: Record<string, unknown> = { title: o.xTitle, labelOverlap: 'parity', labelAngle: 0 };
  if (o.xFormat) xAxis.labelExpr = `format(datum.value, '${o.xFormat.replace(/'/g, "\\'")}')`;
  if (xs.length > 12) xAxis.labelAngle = -45;
  const layers: Record<string, unknown>[] = [
    {
      mark: { type: 'rect' },
      encoding: {
        x: { field: fieldRef(o.x), type: 'ordinal', sort: xs, axis: xAxis },
        y: { field: fieldRef(o.y), type: 'ordinal', sort: ySort, title: o.yTitle },
        color: valueColor(o, 160),
      },
    },
  ];
  if (o.showValues) layers.push(cellText(o, rows, xs, ySort));
  // Whole-pixel cells: fractional band widths leave faint anti-aliasing seams between cells.
  const cellW = Math.max(4, Math.floor((o.width ?? DEFAULT_WIDTH - 60) / Math.max(1, xs.length)));
  const cellH = Math.max(4, Math.floor((o.height ?? Math.min(420, Math.max(120, ys.length * 22))) / Math.max(1, ys.length)));
  return asSpec({
    $schema: VEGA_LITE_SCHEMA,
    data: { values: rows },
    width: cellW * xs.length,
    height: cellH * ys.length,
    layer: layers,
    config: gridlessConfig(),
    ...titleBlock(o),
  });
}

function cellText(o: HeatmapOptions, rows: Row[], xs: unknown[], ySort: unknown[]): Record<string, unknown> {
  const values = rows.map((r) => finite(r[o.value])).filter((v): v is number => v !== undefined);
  const [lo, hi] = o.domain ?? [Math.min(...values), Math.max(...values)];
  const mid = (lo + hi) / 2;
  return {
    mark: { type: 'text', fontSize: 10 },
    encoding: {
      x: { field: fieldRef(o.x), type: 'ordinal', sort: xs },
      y: { field: fieldRef(o.y), type: 'ordinal', sort: ySort },
      text: { field: fieldRef(o.value), type: 'quantitative', format: o.valueFormat ?? '.2f' },
      // Light text on the dark (low) end of viridis-like ramps, dark text on the light end.
      color: { condition: { test: `datum[${JSON.stringify(o.value)}] < ${mid}`, value: 'white' }, value: 'black' },
    },
  };
}

export interface HeadGridOptions extends ChartBase {
  layer: string;
  head: string;
  value: string;
  /** Boolean field: cells to outline (e.g. aggregate heads). */
  marked: string;
  layerTitle?: string;
  headTitle?: string;
  valueTitle: string;
  /** Legend label of the outline, e.g. "aggregate head (ENV share ≥ 0.30)". */
  markLabel?: string;
  scheme?: string;
  domain?: [number, number];
  /** Cell size in px (default fits the grid into the standard width, 14..30 px). */
  cell?: number;
}

/**
 * Layer × head grid coloured by a value (e.g. ENV share of the prediction row's saliency), marked
 * cells outlined in black with a legend entry. Layers run bottom (first) to top (last).
 * Rows: `{ [layer]: number, [head]: number, [value]: number, [marked]: boolean }`.
 */
export function headGrid(rows: Row[], o: HeadGridOptions): TopLevelSpec {
  const layers = numericAware(distinct(rows, o.layer));
  const heads = numericAware(distinct(rows, o.head));
  const cell = o.cell ?? Math.max(14, Math.min(30, Math.floor((DEFAULT_WIDTH - 160) / Math.max(1, heads.length))));
  const x = { field: fieldRef(o.head), type: 'ordinal', sort: heads, title: o.headTitle ?? 'head', axis: { labelAngle: 0 } };
  const y = { field: fieldRef(o.layer), type: 'ordinal', sort: [...layers].reverse(), title: o.layerTitle ?? 'layer' };
  const markLabel = o.markLabel ?? 'marked';
  return asSpec({
    $schema: VEGA_LITE_SCHEMA,
    data: { values: rows },
    width: o.width ?? cell * heads.length,
    height: o.height ?? cell * layers.length,
    layer: [
      {
        mark: { type: 'rect' },
        encoding: {
          x,
          y,
          color: valueColor(o, Math.max(80, Math.min(200, cell * layers.length - 40))),
        },
      },
      {
        transform: [{ filter: `datum[${JSON.stringify(o.marked)}] === true` }],
        mark: { type: 'rect', fill: null, strokeWidth: 2.5, strokeJoin: 'miter' },
        encoding: {
          x,
          y,
          stroke: {
            datum: markLabel,
            type: 'nominal',
            scale: { range: ['#e8175d'] },
            legend: { title: null, symbolType: 'square', symbolFillColor: 'transparent', symbolStrokeWidth: 2.5, orient: 'right' },
          },
        },
      },
    ],
    resolve: { scale: { color: 'independent', stroke: 'independent' } },
    config: gridlessConfig(),
    ...titleBlock(o),
  });
}

// ---------------------------------------------------------------------------------------------
// Scatter with regression line
// ---------------------------------------------------------------------------------------------

export interface ScatterOptions extends ChartBase, XYOptions, SchemeColorOptions {
  /** Log-scale x (e.g. raw co-occurrence counts). The fit is still OLS on the raw x, drawn as a curve. */
  xLog?: boolean;
}

export interface OlsFit {
  intercept: number;
  slope: number;
  r2: number;
  n: number;
}

/** Ordinary least squares of y on x with an intercept, over rows where both are finite. */
export function olsFit(rows: Row[], x: string, y: string): OlsFit {
  const pts = rows.map((r) => [finite(r[x]), finite(r[y])] as const).filter((p): p is readonly [number, number] => p[0] !== undefined && p[1] !== undefined);
  const n = pts.length;
  const mx = pts.reduce((a, p) => a + p[0], 0) / n;
  const my = pts.reduce((a, p) => a + p[1], 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const [a, b] of pts) {
    sxx += (a - mx) ** 2;
    sxy += (a - mx) * (b - my);
    syy += (b - my) ** 2;
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  const r2 = sxx > 0 && syy > 0 ? (sxy * sxy) / (sxx * syy) : 0;
  return { intercept: my - slope * mx, slope, r2, n };
}

function fmt(v: number): string {
  return Math.abs(v) >= 100 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : v.toFixed(3);
}

/**
 * Points with the OLS line (e.g. G(v) against a co-occurrence statistic); the fit's equation,
 * R² and n go into the subtitle so the figure carries its own number.
 * Rows: `{ [x]: number, [y]: number, [color]?: string }`.
 */
export function scatterRegression(rows: Row[], o: ScatterOptions): TopLevelSpec {
  const fit = olsFit(rows, o.x, o.y);
  const xsFinite = rows.map((r) => finite(r[o.x])).filter((v): v is number => v !== undefined);
  const lo = Math.min(...xsFinite);
  const hi = Math.max(...xsFinite);
  // On a log x axis the straight fit is a curve: sample it geometrically.
  const line = fit.n < 2 ? [] : o.xLog && lo > 0 ? Array.from({ length: 50 }, (_, i) => lo * (hi / lo) ** (i / 49)) : o.xLog ? [] : [lo, hi];
  const lineRows = line.map((v) => ({ [o.x]: v, [o.y]: fit.intercept + fit.slope * v }));
  const subtitle = o.subtitle ?? `OLS fit: y = ${fmt(fit.intercept)} + ${fmt(fit.slope)}·x,  R² = ${fit.r2.toFixed(3)},  n = ${fit.n}`;
  const x = { field: fieldRef(o.x), type: 'quantitative', title: o.xTitle, scale: o.xLog ? { type: 'log' } : { zero: false } };
  const y = { field: fieldRef(o.y), type: 'quantitative', title: o.yTitle, scale: { zero: false } };
  const color = groupColor(o);
  const layers: Record<string, unknown>[] = [
    { mark: { type: 'point', filled: true, opacity: 0.7, size: 36 }, encoding: { x, y, ...color } },
  ];
  if (lineRows.length) layers.push({ data: { values: lineRows }, mark: { type: 'line', color: '#222', strokeWidth: 1.5, strokeDash: [5, 3] }, encoding: { x, y } });
  return asSpec({
    $schema: VEGA_LITE_SCHEMA,
    data: { values: rows },
    width: o.width ?? DEFAULT_WIDTH - 80,
    height: o.height ?? DEFAULT_HEIGHT + 40,
    layer: layers,
    config: baseConfig(),
    // Vega drops a subtitle under an empty title, so without a title the fit becomes the title line.
    title: o.title ? { text: o.title, subtitle } : { text: subtitle, fontSize: 11.5, fontWeight: 'normal', color: '#555' },
  });
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

export interface RenderOptions {
  /** Seed for vega's random source (jitter, sampling), so the SVG is reproducible. */
  seed?: number;
  /** Receives Vega-Lite and Vega warnings; default prints them to stderr. */
  onWarning?: (message: string) => void;
}

type Handler = (message: string) => void;

/**
 * A Vega logger that forwards warnings and errors as strings. Vega copies these methods onto the
 * View and calls them with another `this`, so they are closures, not class methods.
 */
function forwardingLogger(onWarn: Handler, onError: Handler): vega.LoggerInterface {
  let level = 2; // vega.Warn: drop info and debug chatter
  const text = (args: unknown[]) => args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ');
  const logger = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error(...args: unknown[]) {
      if (level >= 1) onError(text(args));
      return logger;
    },
    warn(...args: unknown[]) {
      if (level >= 2) onWarn(text(args));
      return logger;
    },
    info() {
      return logger;
    },
    debug() {
      return logger;
    },
  };
  return logger as unknown as vega.LoggerInterface;
}

/**
 * A loader that refuses every URL and file (report figures carry their data inline) and remembers
 * what it refused: Vega only logs a failed load as a warning and draws an empty chart.
 */
function offlineLoader(refused: string[]): vega.Loader {
  const refuse = (what: string) => {
    refused.push(what);
    return Promise.reject(new Error(`groundlab report: charts must use inline data, refused to load ${what}`));
  };
  return {
    load: (uri: string) => refuse(uri),
    sanitize: (uri: string) => refuse(uri),
    http: (uri: string) => refuse(uri),
    file: (name: string) => refuse(name),
  };
}

/**
 * Compiles a Vega-Lite spec to Vega and renders it to an SVG string headlessly. Text widths come
 * from the Helvetica estimate in textmetrics.ts (no canvas). Throws on Vega errors and on any
 * attempt to load data or images from a URL or file.
 */
export async function renderSvg(spec: TopLevelSpec, opts: RenderOptions = {}): Promise<string> {
  installTextMetrics();
  const onWarning = opts.onWarning ?? ((m: string) => process.stderr.write(`vega warning: ${m}\n`));
  const errors: string[] = [];
  const logger = forwardingLogger(onWarning, (m) => errors.push(m));
  const vgSpec = compile(spec, { logger }).spec;
  const extras = vega as unknown as { setRandom(f: () => number): void; randomLCG(seed: number): () => number };
  extras.setRandom(extras.randomLCG(opts.seed ?? 42));
  const refused: string[] = [];
  const view = new vega.View(vega.parse(vgSpec), {
    renderer: 'none',
    loader: offlineLoader(refused),
    logger,
    logLevel: 2,
  });
  try {
    const svg = await view.toSVG();
    if (refused.length) throw new Error(`renderSvg: charts must use inline data (data.values), refused to load ${refused.join(', ')}`);
    if (errors.length) throw new Error(`vega: ${errors.join('; ')}`);
    return svg;
  } finally {
    view.finalize();
  }
}
