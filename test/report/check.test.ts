/**
 * End to end: the demo report (every figure builder, every block type) is written to a temp dir,
 * inspected as text for self-containment, then opened in headless Chromium.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkReportInBrowser, chromiumPath } from '../../src/report/check.js';
import { buildDemoReport } from '../../src/report/demo.js';
import { ReportBuilder } from '../../src/report/html.js';

const dir = mkdtempSync(join(tmpdir(), 'groundlab-report-'));
const reportPath = join(dir, 'report.html');
let html = '';
const chartWarnings: string[] = [];

beforeAll(async () => {
  (await buildDemoReport((m) => chartWarnings.push(m))).write(reportPath);
  html = readFileSync(reportPath, 'utf8');
});

describe('demo report as a file', () => {
  it('renders every chart without Vega warnings', () => {
    expect(chartWarnings).toEqual([]);
  });

  it('is self-contained: no scripts, no external src/href/url(), no @import', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\s(?:src|href|xlink:href)\s*=\s*(?!["']?#)/i);
    expect(html).not.toMatch(/url\(\s*(?!["']?#)/i);
    expect(html).toMatch(/href="#/); // the pattern above does see in-page links
    expect(html).not.toMatch(/@import/i);
    expect(html).not.toMatch(/<(?:link|img|iframe|object|embed)\b/i);
    // The only http(s) strings are XML namespace names on the <svg> elements, which are never fetched.
    const urls = [...html.matchAll(/https?:\/\/[^\s"'<>)]+/g)].map((m) => m[0]);
    expect(new Set(urls)).toEqual(new Set(['http://www.w3.org/2000/svg', 'http://www.w3.org/1999/xlink']));
  });

  it('contains every figure with its caption, and every block type', () => {
    expect(html.match(/<figure class="chart"[^>]*><div class="svg"><svg /g)).toHaveLength(7);
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8]) expect(html).toContain(`Figure ${n}.</span>`);
    for (const t of ['Matched vs mismatched surprisal over training', 'Grounding gain grows', 'Per-word grounding gain', 'Saliency flow from ENV tokens', 'ENV share of saliency per head', 'Surprisal of the target read out at each layer', 'Per-word gain against co-occurrence']) {
      expect(html).toContain(t);
    }
    expect(html).toContain('<nav class="toc">');
    expect(html).toContain('<table class="data">');
    expect(html).toContain('<table class="kv">');
    expect(html).toContain('<details>');
    expect(html).toContain('<figure class="tokens">');
    // Ids stay unique across the inlined SVGs.
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('checkReportInBrowser', () => {
  it('opens the demo report with no console errors and no failed or external requests', async () => {
    const shot = join(dir, 'report.png');
    const res = await checkReportInBrowser(reportPath, { screenshotPath: shot });
    expect(res.errors).toEqual([]);
    expect(res.warnings).toEqual([]);
    expect(res.title).toBe('groundlab demo report');
    expect(res.figures).toBe(7);
    expect(res.screenshotPath).toBe(shot);
    const png = readFileSync(shot);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(statSync(shot).size).toBeGreaterThan(50_000);
  });

  it('reports console errors, page errors, external requests and broken links', async () => {
    const bad = join(dir, 'bad.html');
    writeFileSync(
      bad,
      `<!DOCTYPE html><html><head><title>bad</title></head><body>
       <img src="http://example.invalid/x.png"><a href="#nowhere">x</a>
       <script>console.error('boom'); console.warn('careful'); throw new Error('kaboom');</script>
       </body></html>`,
    );
    const res = await checkReportInBrowser(bad);
    const all = res.errors.join('\n');
    expect(all).toContain('console error: boom');
    expect(all).toContain('page error: kaboom');
    expect(all).toContain('external request (report is not self-contained): http://example.invalid/x.png');
    expect(all).toContain('link to missing anchor #nowhere');
    expect(res.warnings.join('\n')).toContain('console warning: careful');
    expect(res.figures).toBe(0);
  });

  it('reports loads that the report\'s own Content-Security-Policy blocks', async () => {
    const csp = join(dir, 'csp.html');
    const page = new ReportBuilder('csp').toHtml().replace('</body>', '<img src="https://example.invalid/x.png"></body>');
    writeFileSync(csp, page);
    const res = await checkReportInBrowser(csp);
    expect(res.errors.some((e) => e.startsWith('console error:') && e.includes('Content Security Policy'))).toBe(true);
  });

  it('says how to install Chromium when it is missing', () => {
    expect(() => chromiumPath('/nonexistent/chromium')).toThrow(/apt-get install -y chromium/);
  });
});
