import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vega from 'vega';
import { describe, expect, it } from 'vitest';
import {
  ReportBuilder,
  SCIENTIFIC,
  assertSelfContainedSvg,
  decimalsFor,
  escapeHtml,
  formatNumber,
  luminance,
  namespaceSvgIds,
  parseTaggedToken,
} from '../../src/report/html.js';

const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><defs><clipPath id="clip1"><rect width="5" height="5"/></clipPath></defs><g clip-path="url(#clip1)"><rect width="10" height="10"/></g></svg>';

describe('formatting', () => {
  it('escapes markup and quotes', () => {
    expect(escapeHtml(`<b a="1">'x' & y</b>`)).toBe('&lt;b a=&quot;1&quot;&gt;&#39;x&#39; &amp; y&lt;/b&gt;');
  });

  it('picks decimals per column and switches tiny columns to exponent notation', () => {
    expect(decimalsFor([6.51, 4.77], 3)).toBe(2);
    expect(decimalsFor([0.1834], 3)).toBe(3);
    expect(decimalsFor([1234.5], 3)).toBe(0);
    expect(decimalsFor([2e-5, 3e-9], 3)).toBe(SCIENTIFIC);
    expect(formatNumber(20000, 2)).toBe('20,000');
    expect(formatNumber(6.5, 2)).toBe('6.50');
    expect(formatNumber(-0.25, 2)).toBe('−0.25');
    expect(formatNumber(3.4e-9, 2)).toBe('3.40e−9');
    expect(formatNumber(3.4e-9, SCIENTIFIC)).toBe('3.40e−9');
    expect(formatNumber(0.5, SCIENTIFIC)).toBe('5.00e−1');
    expect(formatNumber(Number.NaN, 2)).toBe('NA');
  });

  it('parses tagged corpus tokens', () => {
    expect(parseTaggedToken('ball<ENV>')).toEqual({ text: 'ball', kind: 'env' });
    expect(parseTaggedToken('look<LAN>')).toEqual({ text: 'look', kind: 'lan' });
    expect(parseTaggedToken('<MOT>')).toEqual({ text: '<MOT>', kind: 'speaker' });
    expect(parseTaggedToken('<unk>')).toEqual({ text: '<unk>', kind: 'other' });
  });

  it('computes luminance for text contrast', () => {
    expect(luminance('#ffffff')).toBeCloseTo(1, 6);
    expect(luminance('rgb(0, 0, 0)')).toBe(0);
  });
});

describe('SVG embedding', () => {
  it('prefixes ids and their references so several figures can share a page', () => {
    const out = namespaceSvgIds(SVG, 'fig-2-');
    expect(out).toContain('id="fig-2-clip1"');
    expect(out).toContain('url(#fig-2-clip1)');
    expect(out).not.toContain('"clip1"');
  });

  it('rejects SVG that could run code or load something', () => {
    expect(() => assertSelfContainedSvg(SVG)).not.toThrow();
    expect(() => assertSelfContainedSvg('<div></div>')).toThrow(/expected an <svg>/);
    expect(() => assertSelfContainedSvg('<svg><script>alert(1)</script></svg>')).toThrow(/script/);
    expect(() => assertSelfContainedSvg('<svg><image href="https://x.org/a.png"/></svg>')).toThrow(/external/);
    expect(() => assertSelfContainedSvg('<svg><rect style="fill:url(https://x.org/p)"/></svg>')).toThrow(/external/);
    expect(() => assertSelfContainedSvg('<svg><rect onclick="x()"/></svg>')).toThrow(/event handler/);
  });
});

describe('ReportBuilder', () => {
  function build(): ReportBuilder {
    return new ReportBuilder('Study <A & B>', { subtitle: 'sub "title"', footer: 'v0' })
      .text('before any section')
      .section('Results')
      .text(['first <para>', 'second'])
      .figure(SVG, 'A caption with <tags>')
      .subsection('Details')
      .figure(SVG, 'Second figure')
      .table(
        [
          { step: 5000, heads: 2.28, p: 2.1e-5, arch: 'gpt2', ok: true },
          { step: 10000, heads: 5.09, p: 3.4e-9, arch: 'mamba<2>', ok: false },
          { step: 20000, heads: 6.71, p: null, arch: 'lstm', ok: true },
        ],
        { columns: ['step', { key: 'heads', label: 'aggregate heads' }, { key: 'p', label: 'p-value' }, 'arch'], caption: 'Heads', maxRows: 2 },
      )
      .section('Results') // same title twice: ids must stay unique
      .keyValue({ tokens: 1234567, share: 0.18345, lr: 5e-5, split: '90/5/5', nested: { a: 1 } }, { caption: 'Corpus' })
      .details('Config', { model: { n_layer: 12 }, note: '</pre><script>x</script>' })
      .tokens(
        [
          { text: '<MOT>', value: 0.1, kind: 'speaker' },
          { text: 'ball', value: 0.9, kind: 'env' },
          { text: 'the', value: 0.3, kind: 'lan' },
        ],
        { target: 'ball', valueTitle: 'saliency', caption: 'tokens' },
      );
  }

  it('writes one page with a table of contents linking every section', () => {
    const html = build().toHtml();
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('<title>Study &lt;A &amp; B&gt;</title>');
    const ids = [...html.matchAll(/<section id="([^"]+)"/g)].map((m) => m[1]);
    expect(ids).toEqual(['results', 'details', 'results-2']);
    for (const id of ids) expect(html).toContain(`<a href="#${id}">`);
    // The subsection nests under its section in the contents.
    expect(html).toMatch(/<li><a href="#results">Results<\/a><ol><li><a href="#details">Details<\/a><\/li><\/ol><\/li>/);
    expect(html.indexOf('before any section')).toBeLessThan(html.indexOf('<section'));
  });

  it('escapes all text, including JSON in details', () => {
    const html = build().toHtml();
    expect(html).toContain('first &lt;para&gt;');
    expect(html).toContain('A caption with &lt;tags&gt;');
    expect(html).toContain('mamba&lt;2&gt;');
    expect(html).toContain('&lt;/pre&gt;&lt;script&gt;x&lt;/script&gt;');
    expect(html).not.toMatch(/<script/i);
  });

  it('numbers figures, prefixes their SVG ids, and renders tables with formatted numbers', () => {
    const html = build().toHtml();
    expect(html).toContain('Figure 1.</span> A caption');
    expect(html).toContain('Figure 2.</span> Second figure');
    expect(html).toContain('Figure 3.</span> tokens');
    expect(html).toContain('id="figure-1-clip1"');
    expect(html).toContain('id="figure-2-clip1"');
    expect(html).toContain('<th scope="col" class="right">aggregate heads</th>');
    expect(html).not.toContain('>ok<'); // column subset
    expect(html).toContain('<td class="right">10,000</td>');
    expect(html).toContain('<td class="right">5.09</td>');
    expect(html).toContain('<td class="right">3.40e−9</td>');
    expect(html).not.toContain('20,000'); // maxRows: 2
    expect(html).toContain('Showing the first 2 of 3 rows.');
    expect(html).toContain('Table 1.</span> Heads');
  });

  it('renders key-value blocks and the token view with ENV marking and a legend', () => {
    const html = build().toHtml();
    expect(html).toContain('<th scope="row">tokens</th><td>1,234,567</td>');
    expect(html).toContain('<th scope="row">share</th><td>0.1835</td>');
    expect(html).toContain('<th scope="row">lr</th><td>5.00e−5</td>');
    expect(html).toContain('<th scope="row">nested</th><td>{&quot;a&quot;:1}</td>');
    const row = html.slice(html.indexOf('<div class="tok-row">'), html.indexOf('<div class="tok-legend">'));
    expect(row.match(/class="tok env"/g)).toHaveLength(1);
    expect(row.match(/class="tok lan"/g)).toHaveLength(1);
    expect(row).toContain('&lt;MOT&gt;');
    expect(row).toContain('class="tok target"');
    // The highest value gets the darkest shade and white text.
    expect(row).toContain(`background:${vega.scheme('oranges')(1)};color:#fff">ball`);
    expect(row).toContain(`background:${vega.scheme('oranges')(0.1 / 0.9)};color:#111">&lt;MOT&gt;`);
    expect(html).toContain('linear-gradient(to right,');
  });

  it('refuses SVG that is not self-contained', () => {
    expect(() => new ReportBuilder('x').figure('<svg><image href="http://x/y.png"/></svg>', 'bad')).toThrow();
  });

  it('writes the file atomically', () => {
    const dir = mkdtempSync(join(tmpdir(), 'groundlab-html-'));
    const path = build().write(join(dir, 'sub', 'r.html'));
    expect(readFileSync(path, 'utf8')).toBe(build().toHtml());
  });
});
