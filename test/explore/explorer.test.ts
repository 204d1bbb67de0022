/**
 * The live explorer (issue 16) on a tiny study trained here (preset tiny: GPT-2, Mamba-2, LSTM):
 *   - in Node, the page's computation (compute.ts on the reference kernels) reproduces every row of
 *     eval/grounding.csv and the ENV statistics of mechanistic/saliency_items.csv;
 *   - in headless Chromium from file://, the page shows the surprisal of grounding.csv for the item
 *     and step, a swapped ENV word gives that mismatch's row, a clicked head's saliency matches
 *     saliency_items.csv (and the token saliency saliency_maps.jsonl), for all three architectures,
 *     with no console error and no request outside the explorer directory;
 *   - the size cap thins checkpoints evenly (first and last kept) and refuses when those two do not fit;
 *   - the page bundle holds no Node-only module.
 *
 * Tolerances: surprisal 2e-3 nats (the issue's; measured differences are ~1e-6: native vs reference
 * kernels, and grounding.csv keeps 6 decimals). ENV share 1e-5 absolute (the CSV keeps 6 decimals).
 * ENV flow and row total 1e-3 relative, token saliency 1e-3 relative + 1e-7 absolute (the CSVs keep 4
 * significant digits, a rounding of at most 5e-4 relative).
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { reproduce } from '../../src/study/reproduce.js';
import { loadItems } from '../../src/data/contract.js';
import { useBackend } from '../../src/engine/index.js';
import { listCheckpoints, loadCheckpoint } from '../../src/train/checkpoint.js';
import { parseCsv } from '../../src/util/files.js';
import { contextWith, headGrid, modelWithWeights, pageItems, surprisalAfter, tokenSaliency } from '../../src/report/explorer/compute.js';
import { explorerSession, type ExplorerSession, waitReady } from '../../src/report/explorer/check.js';
import { evenlySpaced } from '../../src/report/explorer/payload.js';
import { explorerBundle, writeExplorer } from '../../src/report/explorer/write.js';
import { explorerSection } from '../../src/report/sections/explorer.js';
import { buildStudyReport } from '../../src/report/study-report.js';

const root = mkdtempSync(join(tmpdir(), 'gl-explore-'));
const study = join(root, 'tiny');
const archs = ['gpt2', 'mamba2', 'lstm'] as const;
const runDir = (arch: string) => join(study, 'runs', `${arch}-s42`);
type Row = Record<string, string>;
const csv = (arch: string, file: string): Row[] => parseCsv(readFileSync(join(runDir(arch), file), 'utf8'));

const SURPRISAL_TOL = 2e-3;
const SHARE_TOL = 1e-5;
const REL_TOL = 1e-3;
const near = (got: number, want: number, rel: number, abs = 0) => Math.abs(got - want) <= rel * Math.abs(want) + abs;

let page = '';
beforeAll(async () => {
  await reproduce({ preset: 'tiny', out: study, stages: ['corpus', 'train', 'eval', 'analyze'], quiet: true });
  page = (await writeExplorer({ study })).path;
}, 300_000);

describe('explorer computation (Node, reference kernels)', () => {
  beforeAll(() => void useBackend('reference'));
  afterAll(() => void useBackend('native'));

  it.each(archs)('%s: every grounding.csv row and the ENV statistics of saliency_items.csv are reproduced', (arch) => {
    const cfg = JSON.parse(readFileSync(join(runDir(arch), 'run_config.json'), 'utf8'));
    const items = pageItems(loadItems(join(study, 'corpus')), cfg.train.context);
    const grounding = csv(arch, 'eval/grounding.csv');
    const saliency = csv(arch, 'mechanistic/saliency_items.csv');
    let rows = 0;
    for (const c of listCheckpoints(runDir(arch))) {
      const ck = loadCheckpoint(c.path);
      // Through the page's path: a fresh model from the flat weight buffer.
      const model = modelWithWeights({ arch, model: ck.meta.model, params: ck.model.params.count }, ck.model.params.data);
      for (const r of grounding.filter((g) => Number(g.step) === c.step)) {
        const it = items.get(r.item!)!;
        const env = r.condition === 'matched' ? null : it.prepared.item.mismatches.find((m) => m.word === r.mismatch_word)!.env_id;
        const s = surprisalAfter(model, contextWith(it.prepared, env), it.prepared.item.target);
        expect(Math.abs(s - Number(r.surprisal)), `${r.item} ${r.condition} ${r.mismatch_word} step ${c.step}`).toBeLessThanOrEqual(SURPRISAL_TOL);
        rows++;
      }
      const ids = [...new Set(saliency.filter((r) => Number(r.step) === c.step).map((r) => r.item!))].slice(0, 6);
      for (const id of ids) {
        const it = items.get(id)!;
        const grid = headGrid(model, it.prepared.context, it.prepared.item.target, it.envPositions);
        for (const r of saliency.filter((s) => Number(s.step) === c.step && s.item === id)) {
          const head = r.head === '' ? -1 : Number(r.head) - 1;
          const got = grid.rows.find((x) => x.layer === Number(r.layer) - 1 && x.head === head)!;
          expect(Math.abs(got.envShare - Number(r.env_share))).toBeLessThanOrEqual(SHARE_TOL);
          expect(near(got.envFlow, Number(r.env_flow), REL_TOL, 1e-9)).toBe(true);
          expect(near(got.rowTotal, Number(r.row_total), REL_TOL, 1e-9)).toBe(true);
        }
      }
    }
    expect(rows).toBe(grounding.length);
  });

  it('token saliency sums to the row total and its ENV part to the ENV share', () => {
    const c = listCheckpoints(runDir('gpt2')).at(-1)!;
    const ck = loadCheckpoint(c.path);
    const cfg = JSON.parse(readFileSync(join(runDir('gpt2'), 'run_config.json'), 'utf8'));
    const it = [...pageItems(loadItems(join(study, 'corpus')), cfg.train.context).values()][0]!;
    const { values, stats } = tokenSaliency(ck.model, it.prepared.context, it.prepared.item.target, it.envPositions, 1, 0);
    const total = values.reduce((a, v) => a + v, 0);
    const env = it.envPositions.reduce((a, j) => a + values[j]!, 0);
    expect(total).toBeCloseTo(stats.rowTotal, 6);
    expect(env / total).toBeCloseTo(stats.envShare, 5);
  });
});

describe('explorer page in headless Chromium (file://)', () => {
  let session: ExplorerSession;
  let p: Page;
  beforeAll(async () => {
    session = await explorerSession(page);
    p = (await session.open()).page;
  }, 120_000);
  afterAll(async () => {
    await session?.close();
  });

  const attr = (testid: string, name: string) => p.locator(`[data-testid="${testid}"]`).getAttribute(name);
  const shown = async (testid: string) => Number(await p.locator(`[data-testid="${testid}"]`).textContent());
  const groundingRow = (arch: string, item: string, step: number, mismatch = '') =>
    csv(arch, 'eval/grounding.csv').find((r) => r.item === item && Number(r.step) === step && r.condition === (mismatch ? 'mismatched' : 'matched') && r.mismatch_word === mismatch)!;
  const runIndex = (arch: string) => ['gpt2', 'lstm', 'mamba2'].indexOf(arch); // runs in name order
  async function act(fn: () => Promise<unknown>): Promise<void> {
    await fn();
    await waitReady(p);
  }

  it('opens with the matched surprisal of grounding.csv for the shown item and step', async () => {
    await act(() => p.selectOption('[data-testid="run-select"]', String(runIndex('gpt2'))));
    const item = (await attr('surprisal', 'data-item-id'))!;
    const step = Number(await attr('surprisal', 'data-step'));
    expect(step).toBe(listCheckpoints(runDir('gpt2')).at(-1)!.step);
    const want = Number(groundingRow('gpt2', item, step).surprisal);
    expect(Math.abs((await shown('surprisal')) - want)).toBeLessThanOrEqual(SURPRISAL_TOL);
    // Context: ENV and LAN tokens are told apart.
    expect(await p.locator('[data-testid="context"] .tok.env').count()).toBeGreaterThan(0);
    expect(await p.locator('[data-testid="context"] .tok.lan').count()).toBeGreaterThan(0);
  });

  it('the checkpoint slider and the item picker recompute (values of grounding.csv)', async () => {
    const steps = listCheckpoints(runDir('gpt2')).map((c) => c.step);
    await act(() => p.locator('[data-testid="step-slider"]').fill('0'));
    expect(Number(await attr('surprisal', 'data-step'))).toBe(steps[0]);
    const ids = await p.locator('[data-testid="item-select"] option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    const item = ids[Math.floor(ids.length / 2)]!;
    await act(() => p.selectOption('[data-testid="item-select"]', item));
    expect(await attr('surprisal', 'data-item-id')).toBe(item);
    for (const [k, step] of [[0, steps[0]!], [steps.length - 1, steps.at(-1)!]] as const) {
      await act(() => p.locator('[data-testid="step-slider"]').fill(String(k)));
      expect(Number(await attr('surprisal', 'data-step'))).toBe(step);
      expect(Math.abs((await shown('surprisal')) - Number(groundingRow('gpt2', item, step).surprisal))).toBeLessThanOrEqual(SURPRISAL_TOL);
    }
  });

  it('swapping the ENV word gives that mismatch\u2019s surprisal (picked or typed)', async () => {
    const item = (await attr('surprisal', 'data-item-id'))!;
    const step = Number(await attr('surprisal', 'data-step'));
    const mismatches = loadItems(join(study, 'corpus')).find((i) => i.id === item)!.mismatches;
    expect(mismatches.length).toBeGreaterThanOrEqual(2);
    await act(() => p.selectOption('[data-testid="env-select"]', String(mismatches[0]!.env_id)));
    expect(await attr('surprisal-swapped', 'data-env-word')).toBe(mismatches[0]!.word);
    expect(Math.abs((await shown('surprisal-swapped')) - Number(groundingRow('gpt2', item, step, mismatches[0]!.word).surprisal))).toBeLessThanOrEqual(SURPRISAL_TOL);
    await p.locator('[data-testid="env-input"]').fill(mismatches[1]!.word);
    await act(() => p.locator('[data-testid="env-input"]').press('Enter'));
    expect(await attr('surprisal-swapped', 'data-env-word')).toBe(mismatches[1]!.word);
    expect(Math.abs((await shown('surprisal-swapped')) - Number(groundingRow('gpt2', item, step, mismatches[1]!.word).surprisal))).toBeLessThanOrEqual(SURPRISAL_TOL);
    // The matched number stays the matched one.
    expect(Math.abs((await shown('surprisal')) - Number(groundingRow('gpt2', item, step).surprisal))).toBeLessThanOrEqual(SURPRISAL_TOL);
    await act(() => p.selectOption('[data-testid="env-select"]', ''));
    expect(await p.locator('[data-testid="surprisal-swapped"]').count()).toBe(0);
  });

  /** Clicks a cell and compares the saliency panel with saliency_items.csv (and the token map when saliency_maps.jsonl has it). */
  async function checkCell(arch: string, layer: number, head: number | null): Promise<void> {
    await act(() => p.locator(`[data-testid="head-cell"][data-layer="${layer}"][data-head="${head ?? ''}"]`).click());
    const sal = p.locator('[data-testid="saliency"]');
    const item = (await sal.getAttribute('data-item-id'))!;
    const step = Number(await sal.getAttribute('data-step'));
    expect(await sal.getAttribute('data-layer')).toBe(String(layer));
    expect(await sal.getAttribute('data-head')).toBe(head === null ? '' : String(head));
    const want = csv(arch, 'mechanistic/saliency_items.csv').find((r) => r.item === item && Number(r.step) === step && Number(r.layer) === layer && r.head === (head === null ? '' : String(head)));
    expect(want, `${arch} ${item} step ${step} layer ${layer} head ${head}`).toBeDefined();
    expect(Math.abs(Number(await sal.getAttribute('data-env-share')) - Number(want!.env_share))).toBeLessThanOrEqual(SHARE_TOL);
    expect(near(Number(await sal.getAttribute('data-env-flow')), Number(want!.env_flow), REL_TOL, 1e-9)).toBe(true);
    expect(near(Number(await sal.getAttribute('data-row-total')), Number(want!.row_total), REL_TOL, 1e-9)).toBe(true);
    const maps = readFileSync(join(runDir(arch), 'mechanistic/saliency_maps.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const map = maps.find((m) => m.item === item && m.step === step && m.layer === layer && m.head === head);
    if (map) {
      const values = await p.locator('[data-testid="saliency-token"]').evaluateAll((s) => s.map((e) => Number((e as HTMLElement).dataset.saliency)));
      const last: number[] = map.kind === 'input' ? map.saliency : map.saliency.at(-1);
      expect(values).toHaveLength(last.length);
      values.forEach((v, j) => expect(near(v, last[j]!, REL_TOL, 1e-7), `token ${j}: ${v} vs ${last[j]}`).toBe(true));
    }
  }

  it('a clicked head\u2019s saliency equals saliency_items.csv\u2019s for that item (GPT-2)', async () => {
    // The mechanistic suite analyses the corpus items (template items only when a corpus has none).
    const analysed = csv('gpt2', 'mechanistic/saliency_items.csv').map((r) => r.item!);
    await act(() => p.selectOption('[data-testid="item-select"]', analysed[analysed.length - 1]!));
    await checkCell('gpt2', 2, 1);
    await checkCell('gpt2', 1, 2);
  });

  it('the layer flow shows the token map of saliency_maps.jsonl', async () => {
    // Maps are kept for each word's first item, at the layer where ENV flow peaks (head null).
    const maps = readFileSync(join(runDir('gpt2'), 'mechanistic/saliency_maps.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const step = Number(await attr('surprisal', 'data-step'));
    const m = maps.find((x) => x.step === step)!;
    await act(() => p.selectOption('[data-testid="item-select"]', m.item));
    const values = async () => p.locator('[data-testid="saliency-token"]').evaluateAll((s) => s.map((e) => Number((e as HTMLElement).dataset.saliency)));
    await checkCell('gpt2', m.layer, null);
    expect((await values()).some((v) => v > 0)).toBe(true);
  });

  it('Mamba-2 (implicit attention) and the LSTM (gradient × input) likewise', async () => {
    await act(() => p.selectOption('[data-testid="run-select"]', String(runIndex('mamba2'))));
    const item = (await attr('surprisal', 'data-item-id'))!;
    const step = Number(await attr('surprisal', 'data-step'));
    expect(Math.abs((await shown('surprisal')) - Number(groundingRow('mamba2', item, step).surprisal))).toBeLessThanOrEqual(SURPRISAL_TOL);
    await checkCell('mamba2', 2, 1);
    await act(() => p.selectOption('[data-testid="run-select"]', String(runIndex('lstm'))));
    expect(await p.locator('[data-testid="head-cell"]').count()).toBe(2); // one cell per layer
    await checkCell('lstm', 1, null);
    await checkCell('lstm', 2, null);
  });

  it('logged no console error and made no request outside its directory', () => {
    expect(session.errors).toEqual([]);
  });
});

describe('the study report links to the explorer', () => {
  it('has a link to explore/index.html when the explorer was written, and no section otherwise', async () => {
    expect(page).toBe(join(study, 'explore', 'index.html'));
    const { builder } = await buildStudyReport(study);
    const html = builder.toHtml();
    expect(html).toContain('<a href="explore/index.html">');
    const empty = mkdtempSync(join(tmpdir(), 'gl-explore-none-'));
    const drawn = await explorerSection.render({ dir: empty, builder: { section: () => { throw new Error('drawn'); } } } as never);
    expect(drawn).toBe(false);
  });
});

describe('size limit and bundle', () => {
  it('thins checkpoints evenly past --max_mb, keeping the first and last; refuses when those two do not fit', async () => {
    const run = runDir('gpt2');
    const steps = listCheckpoints(run).map((c) => c.step);
    expect(steps.length).toBe(3);
    const bundle = await explorerBundle();
    const full = await writeExplorer({ run, out: join(root, 'ex-full'), bundle });
    expect(full.runs[0]!.steps).toEqual(steps);
    const perCheckpoint = (full.bytes - full.pageBytes) / steps.length;
    const thin = await writeExplorer({ run, out: join(root, 'ex-thin'), bundle, maxMb: (full.bytes - perCheckpoint / 2) / 1e6 });
    expect(thin.runs[0]!.steps).toEqual([steps[0], steps[2]]);
    expect(thin.runs[0]!.dropped).toEqual([steps[1]]);
    expect(thin.bytes).toBeLessThanOrEqual(full.bytes - perCheckpoint / 2);
    expect(existsSync(join(root, 'ex-thin', 'weights', 'r0_step_000020.js'))).toBe(false);
    await expect(writeExplorer({ run, out: join(root, 'ex-none'), bundle, maxMb: (full.pageBytes + perCheckpoint) / 1e6 })).rejects.toThrow(/only the first and last checkpoint .* --max_mb/);
    expect(evenlySpaced(9, 4)).toEqual([0, 3, 5, 8]);
    expect(evenlySpaced(9, 2)).toEqual([0, 8]);
  });

  it('--max_items keeps that many items, spread over words', async () => {
    const res = await writeExplorer({ run: runDir('gpt2'), out: join(root, 'ex-items'), bundle: await explorerBundle(), maxItems: 5 });
    expect(res.items).toBe(5);
    const html = readFileSync(res.path, 'utf8');
    const payload = JSON.parse(html.slice(html.indexOf('>', html.indexOf('id="explorer-data"')) + 1, html.indexOf('</script>', html.indexOf('id="explorer-data"'))));
    expect(new Set(payload.items.map((i: { word: string }) => i.word)).size).toBe(5);
  });

  it('the CLI writes the page (groundlab explore) and says what is wrong when --run and --study are both missing', async () => {
    const { main } = await import('../../src/cli/main.js');
    const out = join(root, 'ex-cli');
    const logs: string[] = [];
    const log = console.log;
    const err = console.error;
    console.log = (m: string) => void logs.push(m);
    console.error = (m: string) => void logs.push(m);
    try {
      expect(await main(['explore', '--run', runDir('lstm'), '--out', out, '--max_items', '7'])).toBe(0);
      expect(await main(['explore', '--out', out])).toBe(1);
    } finally {
      console.log = log;
      console.error = err;
    }
    expect(existsSync(join(out, 'index.html'))).toBe(true);
    expect(logs.join('\n')).toMatch(/7 items/);
    expect(logs.join('\n')).toMatch(/give either --run RUN or --study STUDY/);
  });

  it('the page bundle holds no Node-only module (no addon, fs, process)', async () => {
    const { bundleExplorer } = (await import('../../scripts/build-explorer.mjs')) as { bundleExplorer(): Promise<{ code: string; inputs: string[] }> };
    const { code, inputs } = await bundleExplorer();
    expect(inputs).toContain('src/report/explorer/native-stub.ts');
    expect(inputs.filter((f) => /engine\/backend\/native\.ts|util\/safetensors|util\/files|train\//.test(f))).toEqual([]);
    expect(code).not.toMatch(/\brequire\(|process\.|node:/);
  });
});
