/**
 * Opens an explorer page in headless Chromium (the report check's browser and flags) from
 * file://: files inside the explorer directory may load (the weight scripts), every other request
 * is an error and is aborted. Collects console errors and page errors, and waits until the page
 * has computed (#app data-state = ready).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, chromiumPath } from '../check.js';

export interface ExplorerSession {
  browser: Browser;
  /** Console errors, page errors, failed or outside requests, so far. */
  errors: string[];
  /** Opens the page (a fresh tab) and waits until it is ready; returns it and the load time in ms (navigation to first number, measured in the page). */
  open(opts?: { width?: number }): Promise<{ page: Page; firstNumberMs: number }>;
  close(): Promise<void>;
}

/** Waits until #app is ready (or fails with the page's error message). */
export async function waitReady(page: Page, timeoutMs = 60_000): Promise<void> {
  await page.waitForFunction(() => ['ready', 'error'].includes(document.getElementById('app')?.dataset.state ?? ''), undefined, { timeout: timeoutMs });
  const state = await page.evaluate(() => document.getElementById('app')!.dataset.state);
  if (state === 'error') throw new Error(`explorer page error: ${await page.evaluate(() => document.querySelector('.error')?.textContent ?? '')}`);
}

/** Starts Chromium for an explorer page at htmlPath. */
export async function explorerSession(htmlPath: string, opts: { executablePath?: string; timeoutMs?: number } = {}): Promise<ExplorerSession> {
  const executablePath = chromiumPath(opts.executablePath);
  const abs = resolve(htmlPath);
  if (!existsSync(abs)) throw new Error(`explorer check: no such file ${abs}`);
  const fileUrl = pathToFileURL(abs).href;
  const dirUrl = pathToFileURL(dirname(abs)).href + '/';
  const timeout = opts.timeoutMs ?? 60_000;
  const errors: string[] = [];
  const inside = (u: string) => u.startsWith(dirUrl);
  // A fresh profile each time (playwright's launch uses a temporary --user-data-dir).
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout });
  return {
    browser,
    errors,
    async open({ width = 1200 } = {}) {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      page.setDefaultTimeout(timeout);
      page.on('console', (msg) => {
        if (msg.type() === 'error') errors.push(`console error: ${msg.text()}`);
      });
      page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
      page.on('requestfailed', (req) => {
        if (inside(req.url())) errors.push(`failed request: ${req.url()} (${req.failure()?.errorText ?? 'unknown'})`);
      });
      page.on('request', (req) => {
        if (!inside(req.url())) errors.push(`request outside the explorer directory (the page must be self-contained): ${req.url()}`);
      });
      await page.route((url) => !inside(url.href), (route) => route.abort('blockedbyclient'));
      await page.goto(fileUrl, { waitUntil: 'load' });
      await waitReady(page, timeout);
      const firstNumberMs = Number(await page.evaluate(() => document.getElementById('app')!.dataset.firstNumberMs));
      return { page, firstNumberMs };
    },
    close: () => browser.close(),
  };
}

/** Opens the page once: errors, time to the first number, optional full-page screenshot. */
export async function checkExplorerInBrowser(htmlPath: string, opts: { screenshotPath?: string; executablePath?: string } = {}): Promise<{ errors: string[]; firstNumberMs: number; screenshotPath?: string }> {
  const s = await explorerSession(htmlPath, opts);
  try {
    let firstNumberMs = NaN;
    try {
      const r = await s.open();
      firstNumberMs = r.firstNumberMs;
      if (opts.screenshotPath) {
        mkdirSync(dirname(resolve(opts.screenshotPath)), { recursive: true });
        await r.page.screenshot({ path: resolve(opts.screenshotPath), fullPage: true });
      }
    } catch (err) {
      s.errors.push(err instanceof Error ? err.message : String(err));
    }
    return { errors: [...s.errors], firstNumberMs, ...(opts.screenshotPath ? { screenshotPath: resolve(opts.screenshotPath) } : {}) };
  } finally {
    await s.close();
  }
}
