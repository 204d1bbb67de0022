/**
 * A builder for one self-contained HTML report: inline CSS, inline SVG figures, no scripts, no
 * external fonts or images, so the file opens offline and can be mailed or archived as is.
 * All text passed in is escaped; only SVG produced by renderSvg is embedded verbatim (after a
 * check that it references nothing outside the file).
 *
 *   const r = new ReportBuilder('Grounding study');
 *   r.section('Behaviour').text('…').figure(svg, 'Matched vs mismatched surprisal.').table(rows, { columns: ['step', 'G'] });
 *   r.write('report.html');
 */
import * as vega from 'vega';
import { writeFileAtomic } from '../util/files.js';
import { FONT_STACK } from './textmetrics.js';

export type Row = Record<string, unknown>;

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

// ---------------------------------------------------------------------------------------------
// Number formatting
// ---------------------------------------------------------------------------------------------

/** Marks a column whose numbers are all tiny (p-values, learning rates): exponent notation throughout. */
export const SCIENTIFIC = -1;

/**
 * Decimals that show `digits` significant digits of the column's largest magnitude (0..4), or
 * SCIENTIFIC when even that would need more than 4 decimals.
 */
export function decimalsFor(values: number[], digits = 3): number {
  const big = Math.max(0, ...values.filter(Number.isFinite).map(Math.abs));
  if (big === 0) return 0;
  const d = digits - 1 - Math.floor(Math.log10(big));
  return d > 4 ? SCIENTIFIC : Math.max(0, d);
}

/**
 * One number for a table cell: integers with thousands separators, other values with the given
 * decimals, values too small for those decimals (or a SCIENTIFIC column) in exponent notation.
 */
export function formatNumber(v: number, decimals: number): string {
  if (Number.isNaN(v)) return 'NA';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (Number.isInteger(v)) return v.toLocaleString('en-US').replace(/^-/, '−');
  if (decimals === SCIENTIFIC || (v !== 0 && Math.abs(v) < 0.5 * 10 ** -decimals)) return v.toExponential(2).replace(/-/g, '−');
  return v.toFixed(decimals).replace(/^-/, '−');
}

function formatValue(v: unknown, decimals: number): string {
  if (v === null || v === undefined) return 'NA';
  if (typeof v === 'number') return formatNumber(v, decimals);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v)) return v.map((x) => formatValue(x, decimals)).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

// ---------------------------------------------------------------------------------------------
// Block types
// ---------------------------------------------------------------------------------------------

export interface TableColumn {
  key: string;
  /** Header text (default: the key). */
  label?: string;
  /** Custom cell text (escaped afterwards). */
  format?: (value: unknown, row: Row) => string;
  /** Significant digits for this column's numbers (default: the table's). */
  digits?: number;
  align?: 'left' | 'right';
}

export interface TableOptions {
  /** Column subset and order; strings are keys. Default: the keys of the first row. */
  columns?: (string | TableColumn)[];
  caption?: string;
  /** Significant digits of each numeric column's largest value (default 3). */
  digits?: number;
  /** Show at most this many rows, with a note saying how many were left out. */
  maxRows?: number;
}

export type TokenKind = 'env' | 'lan' | 'speaker' | 'other';

export interface TokenCell {
  text: string;
  value: number;
  kind?: TokenKind;
}

export interface TokensOptions {
  caption?: string;
  /** Legend title, e.g. "saliency to the prediction position". */
  valueTitle?: string;
  /** Sequential Vega scheme (default "oranges": dark text stays legible on most of it). */
  scheme?: string;
  /** Colour domain; default [0, max value] (or [min, max] when values go negative). */
  domain?: [number, number];
  /** The token being predicted, shown after the context, outlined and uncoloured. */
  target?: string;
}

/**
 * Splits a tagged token such as `ball<ENV>`, `look<LAN>` or `<MOT>` into text and kind,
 * for feeding corpus tokens to `tokens()`.
 */
export function parseTaggedToken(token: string): { text: string; kind: TokenKind } {
  const m = /^(.*)<(ENV|LAN)>$/.exec(token);
  if (m && m[1]) return { text: m[1], kind: m[2] === 'ENV' ? 'env' : 'lan' };
  if (/^<[A-Z]{2,4}>$/.test(token)) return { text: token, kind: 'speaker' };
  return { text: token, kind: 'other' };
}

interface Section {
  id: string;
  title: string;
  level: 2 | 3;
  blocks: string[];
}

// ---------------------------------------------------------------------------------------------
// SVG embedding
// ---------------------------------------------------------------------------------------------

/**
 * Vega numbers clip paths and gradients per process ("clip1", "gradient_0"); inline SVGs share
 * one id namespace in the page, so each figure's ids get a figure-specific prefix.
 */
export function namespaceSvgIds(svg: string, prefix: string): string {
  const ids = new Set<string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) ids.add(m[1]!);
  if (!ids.size) return svg;
  const fix = (id: string) => (ids.has(id) ? `${prefix}${id}` : id);
  return svg
    .replace(/(\sid=")([^"]+)(")/g, (_, a: string, id: string, c: string) => `${a}${fix(id)}${c}`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${fix(id)})`)
    .replace(/((?:xlink:)?href=")#([^"]+)(")/g, (_, a: string, id: string, c: string) => `${a}#${fix(id)}${c}`);
}

/** Throws unless `svg` is a single SVG element that loads nothing: no scripts, no external references. */
export function assertSelfContainedSvg(svg: string): void {
  const s = svg.trim();
  if (!/^<svg[\s>]/.test(s) || !s.endsWith('</svg>')) throw new Error('figure: expected an <svg>…</svg> string (from renderSvg)');
  if (/<script[\s>]/i.test(s)) throw new Error('figure: SVG contains a <script>');
  if (/<foreignObject[\s>]/i.test(s)) throw new Error('figure: SVG contains a <foreignObject>');
  if (/\s(?:xlink:)?href="(?!#)/i.test(s)) throw new Error('figure: SVG references an external resource (href)');
  if (/url\((?!#)/i.test(s)) throw new Error('figure: SVG references an external resource (url())');
  if (/\son[a-z]+=/i.test(s)) throw new Error('figure: SVG contains an event handler attribute');
}

// ---------------------------------------------------------------------------------------------
// Builder
// ---------------------------------------------------------------------------------------------

export interface ReportOptions {
  subtitle?: string;
  /** Small print at the bottom, e.g. code version and date (kept out by default for reproducible files). */
  footer?: string;
}

export class ReportBuilder {
  private readonly preamble: string[] = [];
  private readonly sections: Section[] = [];
  private readonly usedIds = new Set<string>();
  private figureCount = 0;
  private tableCount = 0;

  constructor(
    readonly title: string,
    private readonly opts: ReportOptions = {},
  ) {}

  /** Starts a top-level section (listed in the table of contents); later blocks go into it. */
  section(title: string, opts: { id?: string } = {}): this {
    this.sections.push({ id: this.uniqueId(opts.id ?? title), title, level: 2, blocks: [] });
    return this;
  }

  /** Starts a subsection (indented in the table of contents). */
  subsection(title: string, opts: { id?: string } = {}): this {
    this.sections.push({ id: this.uniqueId(opts.id ?? title), title, level: 3, blocks: [] });
    return this;
  }

  /** One paragraph per string; text is escaped (no markup). */
  text(paragraphs: string | string[]): this {
    for (const p of Array.isArray(paragraphs) ? paragraphs : [paragraphs]) this.push(`<p>${escapeHtml(p)}</p>`);
    return this;
  }

  /**
   * A paragraph with a link to a file beside the report (a relative path: the report stays
   * self-contained, following a link fetches nothing until the reader clicks it).
   */
  link(href: string, text: string, after = ''): this {
    if (/^[a-z][a-z0-9+.-]*:|^\/\//i.test(href)) throw new Error(`report link ${href}: only relative paths to files beside the report are allowed`);
    this.push(`<p><a href="${escapeHtml(href)}">${escapeHtml(text)}</a>${after ? ' ' + escapeHtml(after) : ''}</p>`);
    return this;
  }

  /** An SVG figure (from renderSvg) with a numbered caption. */
  figure(svg: string, caption: string, opts: { id?: string } = {}): this {
    assertSelfContainedSvg(svg);
    const n = ++this.figureCount;
    const id = this.uniqueId(opts.id ?? `figure-${n}`);
    const body = namespaceSvgIds(svg.trim(), `${id}-`);
    this.push(
      `<figure class="chart" id="${escapeHtml(id)}"><div class="svg">${body}</div>` +
        `<figcaption><span class="label">Figure ${n}.</span> ${escapeHtml(caption)}</figcaption></figure>`,
    );
    return this;
  }

  /** A tidy table: one row per object, numbers formatted per column, optional column subset. */
  table(rows: Row[], opts: TableOptions = {}): this {
    this.push(renderTable(rows, opts, opts.caption ? ++this.tableCount : undefined));
    return this;
  }

  /** A two-column key/value block (configs, corpus statistics). Nested objects are shown as JSON. */
  keyValue(entries: Record<string, unknown> | [string, unknown][], opts: { caption?: string; digits?: number } = {}): this {
    const list = Array.isArray(entries) ? entries : Object.entries(entries);
    const rows = list
      .map(([k, v]) => {
        const d = typeof v === 'number' ? decimalsFor([v], opts.digits ?? 4) : 0;
        return `<tr><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(formatValue(v, d))}</td></tr>`;
      })
      .join('');
    const caption = opts.caption ? `<caption>${escapeHtml(opts.caption)}</caption>` : '';
    this.push(`<table class="kv">${caption}<tbody>${rows}</tbody></table>`);
    return this;
  }

  /** A collapsed block for long content; non-strings are pretty-printed JSON. */
  details(summary: string, content: unknown, opts: { open?: boolean } = {}): this {
    const text = typeof content === 'string' ? content : JSON.stringify(content, null, 2);
    this.push(`<details${opts.open ? ' open' : ''}><summary>${escapeHtml(summary)}</summary><pre>${escapeHtml(text)}</pre></details>`);
    return this;
  }

  /** A row of tokens shaded by a value, ENV tokens marked, with a legend (like the paper's Figure 1). */
  tokens(tokens: TokenCell[], opts: TokensOptions = {}): this {
    this.push(renderTokens(tokens, opts, ++this.figureCount));
    return this;
  }

  /** The whole page. */
  toHtml(): string {
    const toc = this.sections.length
      ? `<nav class="toc"><h2>Contents</h2><ol>${this.tocItems()}</ol></nav>`
      : '';
    const body = this.sections
      .map((s) => `<section id="${escapeHtml(s.id)}" class="level${s.level}"><h${s.level}>${escapeHtml(s.title)}</h${s.level}>${s.blocks.join('\n')}</section>`)
      .join('\n');
    const subtitle = this.opts.subtitle ? `<p class="subtitle">${escapeHtml(this.opts.subtitle)}</p>` : '';
    const footer = this.opts.footer ? `<footer>${escapeHtml(this.opts.footer)}</footer>` : '';
    return [
      '<!DOCTYPE html>',
      '<html lang="en">',
      '<head>',
      '<meta charset="utf-8">',
      '<meta name="viewport" content="width=device-width, initial-scale=1">',
      // Forbid every network fetch: if anything slipped in, the browser refuses it (and our check reports it).
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
      `<title>${escapeHtml(this.title)}</title>`,
      `<style>${CSS}</style>`,
      '</head>',
      '<body>',
      `<header><h1>${escapeHtml(this.title)}</h1>${subtitle}</header>`,
      toc,
      this.preamble.join('\n'),
      body,
      footer,
      '</body>',
      '</html>',
      '',
    ].join('\n');
  }

  /** Writes the page atomically; returns the path. */
  write(path: string): string {
    writeFileAtomic(path, this.toHtml());
    return path;
  }

  private tocItems(): string {
    // Subsections nest under the section before them (or stand alone if none).
    const groups: { top?: Section; subs: Section[] }[] = [];
    for (const s of this.sections) {
      if (s.level === 2 || !groups.length) groups.push(s.level === 2 ? { top: s, subs: [] } : { subs: [s] });
      else groups[groups.length - 1]!.subs.push(s);
    }
    const link = (s: Section) => `<a href="#${escapeHtml(s.id)}">${escapeHtml(s.title)}</a>`;
    return groups
      .map((g) => {
        const subs = g.subs.map((s) => `<li>${link(s)}</li>`).join('');
        if (!g.top) return subs;
        return `<li>${link(g.top)}${subs ? `<ol>${subs}</ol>` : ''}</li>`;
      })
      .join('');
  }

  private push(html: string): void {
    const current = this.sections[this.sections.length - 1];
    (current ? current.blocks : this.preamble).push(html);
  }

  private uniqueId(base: string): string {
    const slug = base.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'section';
    let id = slug;
    for (let i = 2; this.usedIds.has(id); i++) id = `${slug}-${i}`;
    this.usedIds.add(id);
    return id;
  }
}

// ---------------------------------------------------------------------------------------------
// Renderers for tables and tokens
// ---------------------------------------------------------------------------------------------

function normaliseColumns(rows: Row[], columns: TableOptions['columns']): TableColumn[] {
  const cols = columns ?? (rows.length ? Object.keys(rows[0]!) : []);
  return cols.map((c) => (typeof c === 'string' ? { key: c } : c));
}

function renderTable(rows: Row[], opts: TableOptions, number: number | undefined): string {
  const cols = normaliseColumns(rows, opts.columns);
  const shown = opts.maxRows !== undefined ? rows.slice(0, opts.maxRows) : rows;
  const numeric = cols.map((c) => shown.some((r) => typeof r[c.key] === 'number'));
  const decimals = cols.map((c, j) =>
    numeric[j] ? decimalsFor(shown.map((r) => r[c.key]).filter((v): v is number => typeof v === 'number'), c.digits ?? opts.digits ?? 3) : 0,
  );
  const align = (j: number) => cols[j]!.align ?? (numeric[j] ? 'right' : 'left');
  const head = cols.map((c, j) => `<th scope="col" class="${align(j)}">${escapeHtml(c.label ?? c.key)}</th>`).join('');
  const body = shown
    .map((r) => {
      const cells = cols.map((c, j) => {
        const text = c.format ? c.format(r[c.key], r) : formatValue(r[c.key], decimals[j]!);
        return `<td class="${align(j)}">${escapeHtml(text)}</td>`;
      });
      return `<tr>${cells.join('')}</tr>`;
    })
    .join('\n');
  const caption = opts.caption ? `<caption><span class="label">Table ${number}.</span> ${escapeHtml(opts.caption)}</caption>` : '';
  const more = shown.length < rows.length ? `<p class="note">Showing the first ${shown.length} of ${rows.length} rows.</p>` : '';
  return `<div class="table-wrap"><table class="data">${caption}<thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>${more}</div>`;
}

/** Parses the `rgb(r, g, b)` and `#rrggbb` strings Vega's interpolators return. */
function parseColor(color: string): [number, number, number] {
  const rgb = /^rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)/.exec(color);
  if (rgb) return [Number(rgb[1]), Number(rgb[2]), Number(rgb[3])];
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  if (hex) return [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16), parseInt(hex[3]!, 16)];
  throw new Error(`tokens: cannot parse colour ${color}`);
}

/** Relative luminance (WCAG) of a colour: 0 black .. 1 white; picks black or white text over it. */
export function luminance(color: string): number {
  const lin = (x: number) => {
    const s = x / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const [r, g, b] = parseColor(color);
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

function interpolator(scheme: string): (t: number) => string {
  const f = vega.scheme(scheme) as unknown;
  if (typeof f !== 'function') throw new Error(`tokens: "${scheme}" is not a continuous Vega colour scheme`);
  return f as (t: number) => string;
}

const KIND_LABEL: Record<TokenKind, string> = { env: 'ENV', lan: 'LAN', speaker: 'SPK', other: '' };

function renderTokens(tokens: TokenCell[], opts: TokensOptions, number: number): string {
  const color = interpolator(opts.scheme ?? 'oranges');
  const values = tokens.map((t) => t.value).filter(Number.isFinite);
  const lo = opts.domain?.[0] ?? Math.min(0, ...values);
  const hi = opts.domain?.[1] ?? Math.max(lo + 1e-12, ...values);
  const t01 = (v: number) => (Number.isFinite(v) ? Math.min(1, Math.max(0, (v - lo) / (hi - lo))) : 0);
  const cells = tokens.map((tok) => {
    const bg = color(t01(tok.value));
    const fg = luminance(bg) < 0.35 ? '#fff' : '#111';
    const kind = tok.kind ?? 'other';
    const tip = `${tok.text} (${KIND_LABEL[kind] || 'token'}): ${formatNumber(tok.value, decimalsFor([tok.value], 3))}`;
    return (
      `<span class="tok ${kind}" title="${escapeHtml(tip)}">` +
      `<span class="t" style="background:${bg};color:${fg}">${escapeHtml(tok.text)}</span>` +
      `<span class="k">${KIND_LABEL[kind]}</span></span>`
    );
  });
  if (opts.target !== undefined) {
    cells.push(`<span class="arrow" aria-hidden="true">→</span><span class="tok target" title="predicted token"><span class="t">${escapeHtml(opts.target)}</span><span class="k">target</span></span>`);
  }
  const stops = [0, 0.25, 0.5, 0.75, 1].map((t) => `${color(t)} ${t * 100}%`).join(', ');
  const fmt = (v: number) => formatNumber(v, decimalsFor([lo, hi], 2));
  const legend =
    `<div class="tok-legend"><span class="lt">${escapeHtml(opts.valueTitle ?? 'value')}</span>` +
    `<span class="lv">${escapeHtml(fmt(lo))}</span><span class="grad" style="background:linear-gradient(to right, ${stops})"></span>` +
    `<span class="lv">${escapeHtml(fmt(hi))}</span>` +
    `<span class="key"><span class="tok env"><span class="t">word</span><span class="k">ENV</span></span> environment token</span>` +
    `<span class="key"><span class="tok lan"><span class="t">word</span><span class="k">LAN</span></span> language token</span></div>`;
  const caption = `<figcaption><span class="label">Figure ${number}.</span> ${escapeHtml(opts.caption ?? '')}</figcaption>`;
  return `<figure class="tokens"><div class="tok-row">${cells.join('')}</div>${legend}${caption}</figure>`;
}

// ---------------------------------------------------------------------------------------------
// Style
// ---------------------------------------------------------------------------------------------

const CSS = `
:root { --fg: #1d1d1f; --muted: #5f6368; --rule: #d9dce1; --accent: #0072B2; --env: #0072B2; }
* { box-sizing: border-box; }
body { font-family: ${FONT_STACK}; color: var(--fg); background: #fff; margin: 0 auto; max-width: 980px; padding: 24px 28px 64px; line-height: 1.5; font-size: 15px; }
header h1 { font-size: 26px; margin: 8px 0 4px; }
.subtitle { color: var(--muted); margin: 0 0 16px; }
h2 { font-size: 20px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--rule); }
h3 { font-size: 16.5px; margin: 26px 0 8px; }
p { margin: 8px 0; max-width: 46em; }
a { color: var(--accent); }
nav.toc { background: #f6f7f9; border: 1px solid var(--rule); border-radius: 6px; padding: 8px 18px 10px; margin: 12px 0 20px; }
nav.toc h2 { font-size: 15px; border: 0; margin: 4px 0; padding: 0; }
nav.toc ol { margin: 2px 0; padding-left: 22px; }
nav.toc ol ol { list-style: lower-alpha; }
figure { margin: 18px 0 22px; }
figure.chart .svg { overflow-x: auto; }
figure.chart svg { display: block; max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 13.5px; margin-top: 6px; max-width: 52em; }
.label { font-weight: bold; color: var(--fg); }
.table-wrap { overflow-x: auto; margin: 14px 0 20px; }
table { border-collapse: collapse; font-size: 13.5px; }
table.data caption, table.kv caption { caption-side: top; text-align: left; color: var(--muted); padding-bottom: 6px; }
table.data th, table.data td { padding: 4px 10px; border-bottom: 1px solid var(--rule); }
table.data thead th { border-bottom: 2px solid #9aa0a6; font-weight: 600; white-space: nowrap; }
table.data tbody tr:nth-child(even) { background: #fafbfc; }
td.right, th.right { text-align: right; font-variant-numeric: tabular-nums; }
td.left, th.left { text-align: left; }
table.kv { margin: 12px 0 18px; }
table.kv th { text-align: left; font-weight: 600; padding: 3px 18px 3px 0; vertical-align: top; white-space: nowrap; }
table.kv td { padding: 3px 0; font-variant-numeric: tabular-nums; word-break: break-word; }
.note { color: var(--muted); font-size: 13px; }
details { margin: 10px 0; border: 1px solid var(--rule); border-radius: 6px; padding: 6px 12px; background: #fafbfc; }
details summary { cursor: pointer; font-weight: 600; }
details pre { font-size: 12.5px; max-height: 480px; overflow: auto; margin: 8px 0 4px; }
figure.tokens { border: 1px solid var(--rule); border-radius: 6px; padding: 14px 14px 10px; }
.tok-row { display: flex; flex-wrap: wrap; align-items: flex-start; gap: 8px 5px; }
.tok { display: inline-flex; flex-direction: column; align-items: center; }
.tok .t { display: inline-block; padding: 2px 6px; border-radius: 3px; font-size: 15px; border: 1px solid rgba(0,0,0,0.12); border-bottom-width: 3px; border-bottom-color: transparent; }
.tok .k { font-size: 9.5px; letter-spacing: 0.04em; color: var(--muted); margin-top: 1px; min-height: 12px; }
.tok.env .t { border-bottom-color: var(--env); }
.tok.env .k { color: var(--env); font-weight: bold; }
.tok.speaker .t { font-style: italic; }
.tok.target .t { border: 2px dashed var(--fg); background: #fff; font-weight: bold; }
.arrow { align-self: flex-start; padding: 2px 0; font-size: 15px; color: var(--muted); }
.tok-legend { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 8px; margin-top: 12px; font-size: 12.5px; color: var(--muted); }
.tok-legend .grad { display: inline-block; width: 160px; height: 12px; border: 1px solid var(--rule); }
.tok-legend .lt { color: var(--fg); }
.tok-legend .key { display: inline-flex; align-items: center; gap: 4px; margin-left: 14px; }
.tok-legend .key .t { font-size: 12px; background: #fff; }
footer { margin-top: 48px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--rule); padding-top: 8px; }
@media print { nav.toc { break-after: page; } figure { break-inside: avoid; } details { display: none; } }
`;
