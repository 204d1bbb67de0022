/**
 * Opens a report in headless Chromium (Debian's /usr/bin/chromium through playwright-core) and
 * reports what a reader's browser would complain about: console errors, uncaught page errors and
 * any request other than the file itself (a report must be self-contained, so every such request
 * is an error, and it is aborted rather than sent to the network).
 */
import { existsSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface CheckOptions {
  /** Save a full-page PNG here. */
  screenshotPath?: string;
  /** Chromium binary (default /usr/bin/chromium, or $GROUNDLAB_CHROMIUM). */
  executablePath?: string;
  /** Viewport width in px (default 1100, a laptop window). */
  width?: number;
  /** Overall time limit in ms (default 30 s). */
  timeoutMs?: number;
}

export interface CheckResult {
  errors: string[];
  warnings: string[];
  title: string;
  /** Number of SVG figures in the page. */
  figures: number;
  screenshotPath?: string;
}

/** The Chromium binary to use, or an Error that says how to install it. */
export function chromiumPath(explicit?: string): string {
  const path = explicit ?? process.env.GROUNDLAB_CHROMIUM ?? DEFAULT_CHROMIUM;
  if (!existsSync(path)) {
    throw new Error(`report check needs Chromium at ${path}, which is missing: install it with \`apt-get install -y chromium\` (or set GROUNDLAB_CHROMIUM to a Chromium binary)`);
  }
  return path;
}

interface PageFacts {
  figures: number;
  emptyFigures: number;
  overflowPx: number;
  brokenAnchors: string[];
}

/** Facts gathered inside the page (runs in the browser). */
function pageFacts(): PageFacts {
  const svgs = Array.from(document.querySelectorAll('figure svg'));
  const emptyFigures = svgs.filter((s) => {
    const r = s.getBoundingClientRect();
    return r.width < 10 || r.height < 10;
  }).length;
  const brokenAnchors = Array.from(document.querySelectorAll('a[href^="#"]'))
    .map((a) => a.getAttribute('href')!.slice(1))
    .filter((id) => id && !document.getElementById(id));
  return {
    figures: svgs.length,
    emptyFigures,
    overflowPx: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    brokenAnchors,
  };
}

/**
 * Loads `htmlPath` in headless Chromium and returns errors (console errors, page errors, failed or
 * external requests, empty figures, broken in-page links) and warnings (console warnings, page wider
 * than the window). Throws only if the browser cannot be started or the file cannot be opened.
 */
export async function checkReportInBrowser(htmlPath: string, opts: CheckOptions = {}): Promise<CheckResult> {
  const executablePath = chromiumPath(opts.executablePath);
  const abs = resolve(htmlPath);
  if (!existsSync(abs)) throw new Error(`report check: no such file ${abs}`);
  const fileUrl = pathToFileURL(abs).href;
  const timeout = opts.timeoutMs ?? 30_000;
  const errors: string[] = [];
  const warnings: string[] = [];

  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout });
  try {
    const page = await browser.newPage({ viewport: { width: opts.width ?? 1100, height: 800 } });
    page.setDefaultTimeout(timeout);
    page.on('console', (msg) => {
      const where = msg.location().url ? ` (${msg.location().url}:${msg.location().lineNumber})` : '';
      if (msg.type() === 'error') errors.push(`console error: ${msg.text()}${where}`);
      else if (msg.type() === 'warning') warnings.push(`console warning: ${msg.text()}${where}`);
    });
    page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
    page.on('requestfailed', (req) => {
      if (req.url() !== fileUrl) return; // external requests are reported once, below
      errors.push(`failed request: ${req.url()} (${req.failure()?.errorText ?? 'unknown'})`);
    });
    page.on('request', (req) => {
      if (req.url() !== fileUrl) errors.push(`external request (report is not self-contained): ${req.url()}`);
    });
    // Never let a report reach the network, even if it tries.
    await page.route((url) => url.href !== fileUrl, (route) => route.abort('blockedbyclient'));

    const response = await page.goto(fileUrl, { waitUntil: 'load' });
    if (response && !response.ok()) errors.push(`loading ${fileUrl} failed: HTTP ${response.status()}`);
    const facts = await page.evaluate(pageFacts);
    if (facts.emptyFigures) errors.push(`${facts.emptyFigures} figure(s) render with no size`);
    for (const id of facts.brokenAnchors) errors.push(`link to missing anchor #${id}`);
    if (facts.overflowPx > 0) warnings.push(`page is ${facts.overflowPx}px wider than a ${opts.width ?? 1100}px window`);

    let screenshotPath: string | undefined;
    if (opts.screenshotPath) {
      screenshotPath = resolve(opts.screenshotPath);
      mkdirSync(dirname(screenshotPath), { recursive: true });
      await page.screenshot({ path: screenshotPath, fullPage: true });
    }
    return { errors, warnings, title: await page.title(), figures: facts.figures, ...(screenshotPath ? { screenshotPath } : {}) };
  } finally {
    await browser.close();
  }
}
