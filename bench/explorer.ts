/**
 * Explorer benchmark (issue 16): page weight and time to the first number of `groundlab explore`
 * for one run (default: the demo study's GPT-2, studies/demo/runs/gpt2-s42; BENCH_RUN to change).
 *
 * Writes the explorer to .bench-tmp/explorer, then opens it BENCH_REPS times (default 7) from
 * file:// in headless Chromium, each time in a fresh browser (a cold load): the time from
 * navigation start to the first surprisal shown (measured in the page), and to "ready" (head grid
 * and token saliency done). Then, in one page, the median time of a checkpoint change (new
 * weights) and of a head click. Medians over the loads. BENCH_SCREENSHOT=path saves a screenshot
 * (of the first load, with the item's first mismatch word swapped in).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { explorerSession, waitReady } from '../src/report/explorer/check.js';
import { writeExplorer } from '../src/report/explorer/write.js';
import { benchTmp, repoRoot } from './lib.js';

const run = resolve(process.env.BENCH_RUN ?? join(repoRoot, 'studies', 'demo', 'runs', 'gpt2-s42'));
if (!existsSync(join(run, 'run_config.json'))) {
  console.error(`explorer bench: no run at ${run}: make one with "groundlab reproduce --preset demo", or set BENCH_RUN to a run directory`);
  process.exit(1);
}
const reps = Number(process.env.BENCH_REPS ?? 7);
const out = join(benchTmp('explorer'), 'page');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const t0 = performance.now();
const res = await writeExplorer({ run, out });
const writeSeconds = (performance.now() - t0) / 1000;
const weights = readdirSync(join(out, 'weights')).map((f) => statSync(join(out, 'weights', f)).size);
console.log(`run ${run}`);
console.log(`written in ${writeSeconds.toFixed(1)} s: index.html ${(res.pageBytes / 1e6).toFixed(3)} MB (page script, CSS and ${res.items} items), ${weights.length} weight files of ${(Math.max(...weights) / 1e6).toFixed(3)} MB, total ${(res.bytes / 1e6).toFixed(2)} MB`);

const first: number[] = [];
const ready: number[] = [];
for (let i = 0; i < reps; i++) {
  const s = await explorerSession(res.path);
  try {
    const { page, firstNumberMs } = await s.open();
    first.push(firstNumberMs);
    ready.push(await page.evaluate(() => performance.now()));
    if (s.errors.length) throw new Error(s.errors.join('\n'));
    if (i === 0 && process.env.BENCH_SCREENSHOT) {
      // Shown with a swap: the first mismatch word of the item at the swap positions.
      const firstMismatch = await page.locator('[data-testid="env-select"] optgroup').first().locator('option').first().getAttribute('value');
      await page.selectOption('[data-testid="env-select"]', firstMismatch!);
      await waitReady(page);
      await page.screenshot({ path: resolve(process.env.BENCH_SCREENSHOT), fullPage: true });
      console.log(`screenshot ${process.env.BENCH_SCREENSHOT}`);
    }
  } finally {
    await s.close();
  }
}
console.log(`cold loads (${reps}): first number median ${median(first)} ms (range ${Math.min(...first)}–${Math.max(...first)}); ready (grid + saliency) median ${Math.round(median(ready))} ms`);

// Interactions in one page: checkpoint changes (each loads a weight file once) and head clicks.
const s = await explorerSession(res.path);
try {
  const { page } = await s.open();
  const nCk = res.runs[0]!.steps.length;
  const time = async (fn: () => Promise<unknown>) => {
    const a = Date.now();
    await fn();
    await waitReady(page);
    return Date.now() - a;
  };
  const slider: number[] = [];
  for (let k = 0; k < nCk - 1; k++) slider.push(await time(() => page.locator('[data-testid="step-slider"]').fill(String(k))));
  const cells = await page.locator('[data-testid="head-cell"]').count();
  const clicks: number[] = [];
  for (let c = 0; c < Math.min(cells, 8); c++) clicks.push(await time(() => page.locator('[data-testid="head-cell"]').nth(c).click()));
  console.log(`checkpoint change (new weights, all panels): median ${median(slider)} ms over ${slider.length}; head click (forward + backward): median ${median(clicks)} ms over ${clicks.length}`);
  if (s.errors.length) throw new Error(s.errors.join('\n'));
} finally {
  await s.close();
}
console.log(JSON.stringify({ bench: 'explorer', run, page_mb: res.pageBytes / 1e6, total_mb: res.bytes / 1e6, checkpoints: weights.length, first_number_ms_median: median(first), ready_ms_median: Math.round(median(ready)) }));
