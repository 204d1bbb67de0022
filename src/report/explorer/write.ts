/**
 * `groundlab explore`: writes DIR/index.html, a page that runs the user's own checkpoints in the
 * browser (no server, no network; opens from file://), and DIR/weights/*.js beside it, one
 * script per checkpoint (payload.ts describes the layout).
 *
 * Size limit: the page plus every weight file must fit in `maxMb` (default 200 MB, 10^6 bytes).
 * Past it, checkpoints are thinned evenly (the same number kept per run, always the first and the
 * last, the rest spread evenly over training); if the first and last alone do not fit, it stops
 * with an error. Items: at most `maxItems` (default 1000), spread over words (every word's first
 * item, then second, ...), in file order; image-grounded items and items whose mismatches are
 * whole other contexts (visual dialog) are left out (the page swaps ENV tokens only).
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve, basename } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadCorpus, loadItems, loadTargets, type EvalItem } from '../../data/contract.js';
import { discoverRuns, readStudy, studyCorpusDir } from '../../study/study.js';
import { createModel } from '../../models/index.js';
import { listCheckpoints, loadCheckpoint, readCheckpointMeta } from '../../train/checkpoint.js';
import type { RunConfig } from '../../train/config.js';
import { UserError } from '../../util/errors.js';
import { ensureDir, readJson, writeFileAtomic } from '../../util/files.js';
import { codeVersion, packageRoot } from '../../util/version.js';
import { EXPLORER_CSS } from './style.js';
import { evenlySpaced, EXPLORER_FORMAT, type ExplorerPayload, type ExplorerRun, WEIGHTS_GLOBAL, weightsKey } from './payload.js';

export interface ExploreOptions {
  /** One run directory. */
  run?: string;
  /** Or a study: every run under STUDY/runs with checkpoints, with a run picker. */
  study?: string;
  /** Corpus directory (default: the run's recorded corpus, or the study's). Its hash must match. */
  corpus?: string;
  /** Output directory (default RUN/explore or STUDY/explore). */
  out?: string;
  /** Size limit of the page plus weights, MB (10^6 bytes); default 200. */
  maxMb?: number;
  /** At most this many items; default 1000. */
  maxItems?: number;
  /** The page script (default: the built bundle, or bundled now when running from source). */
  bundle?: string;
}

export interface ExploreResult {
  dir: string;
  path: string;
  /** index.html plus weight files, bytes. */
  bytes: number;
  pageBytes: number;
  runs: { name: string; steps: number[]; dropped: number[] }[];
  items: number;
}

export const DEFAULT_MAX_MB = 200;
export const DEFAULT_MAX_ITEMS = 1000;

/** The page script: dist's prebuilt bundle, or (running from source) bundled now with esbuild. */
export async function explorerBundle(): Promise<string> {
  const here = dirname(fileURLToPath(import.meta.url));
  const built = join(here, 'page.bundle.js');
  if (!import.meta.url.endsWith('.ts') && existsSync(built)) return readFileSync(built, 'utf8');
  const script = join(packageRoot, 'scripts', 'build-explorer.mjs');
  if (!existsSync(script)) throw new UserError(`the explorer page bundle ${built} is missing: rebuild groundlab with "npm run build"`);
  const mod = (await import(pathToFileURL(script).href)) as { bundleExplorer(): Promise<{ code: string }> };
  return (await mod.bundleExplorer()).code;
}

interface RunSource {
  dir: string;
  name: string;
  cfg: RunConfig;
  checkpoints: { step: number; path: string }[];
}

function readRun(dir: string): RunSource {
  const p = join(dir, 'run_config.json');
  if (!existsSync(p)) throw new UserError(`${dir} is not a run directory: run_config.json is missing (train one with "groundlab train")`);
  const cfg = readJson<RunConfig>(p);
  return { dir, name: basename(resolve(dir)), cfg, checkpoints: listCheckpoints(dir) };
}

/** Items the page can show, at most maxItems spread over words; and what was left out. */
export function pickItems(all: readonly EvalItem[], maxItems: number): { items: EvalItem[]; leftOut: { count: number; reason: string }[] } {
  const leftOut: { count: number; reason: string }[] = [];
  const prefixed = all.filter((i) => i.prefix !== undefined);
  const whole = all.filter((i) => i.prefix === undefined && i.mismatches.some((m) => m.context));
  if (prefixed.length) leftOut.push({ count: prefixed.length, reason: 'image-grounded (continuous prefix), which the page does not run' });
  if (whole.length) leftOut.push({ count: whole.length, reason: 'mismatches are whole other contexts, not ENV swaps' });
  let items = all.filter((i) => i.prefix === undefined && !i.mismatches.some((m) => m.context));
  if (items.length > maxItems) {
    const byWord = new Map<string, EvalItem[]>();
    for (const it of items) byWord.set(it.word, [...(byWord.get(it.word) ?? []), it]);
    const keep = new Set<string>();
    for (let k = 0; keep.size < maxItems; k++) for (const its of byWord.values()) if (its[k] && keep.size < maxItems) keep.add(its[k]!.id);
    leftOut.push({ count: items.length - keep.size, reason: `over --max_items ${maxItems}` });
    items = items.filter((i) => keep.has(i.id));
  }
  return { items, leftOut };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const base64Length = (bytes: number) => 4 * Math.ceil(bytes / 3);
/** The weight script: one call of the global with the key and the base64 of the flat float32 buffer. */
const weightScript = (key: string, b64: string) => `${WEIGHTS_GLOBAL}(${JSON.stringify(key)},"${b64}");\n`;

/**
 * The page. Its Content-Security-Policy forbids every network fetch: scripts come only from the
 * page itself and from file: (the weight scripts beside it).
 */
function pageHtml(payload: ExplorerPayload, bundle: string): string {
  // JSON inside <script>: "<" escaped so that no "</script>" can end the element early.
  const json = JSON.stringify(payload).replace(/</g, '\\u003c');
  const code = bundle.replace(/<\/script/gi, '<\\/script');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline' file:; style-src 'unsafe-inline'">
<title>${escapeHtml(payload.title)}</title>
<style>${EXPLORER_CSS}</style>
</head>
<body>
<div id="app" data-state="loading"><h1>${escapeHtml(payload.title)}</h1><p>Loading the model…</p><noscript><p>This page computes in the browser: enable JavaScript.</p></noscript></div>
<script type="application/json" id="explorer-data">${json}</script>
<script>${code}</script>
</body>
</html>
`;
}

export async function writeExplorer(opts: ExploreOptions): Promise<ExploreResult> {
  if (!opts.run === !opts.study) throw new UserError('explore: give either --run RUN or --study STUDY');
  const maxMb = opts.maxMb ?? DEFAULT_MAX_MB;
  const maxItems = opts.maxItems ?? DEFAULT_MAX_ITEMS;
  if (!(maxMb > 0)) throw new UserError(`explore: --max_mb ${maxMb} must be positive`);
  if (!(maxItems >= 1)) throw new UserError(`explore: --max_items ${maxItems} must be at least 1`);

  let sources: RunSource[];
  let corpusDir: string;
  let title: string;
  if (opts.study) {
    const study = readStudy(opts.study);
    if (!study && !existsSync(join(opts.study, 'runs'))) throw new UserError(`${opts.study} is not a study directory: no study.json and no runs/ (create one with "groundlab reproduce")`);
    sources = discoverRuns(opts.study).map((r) => readRun(r.dir)).filter((r) => r.checkpoints.length);
    if (!sources.length) throw new UserError(`${opts.study}/runs has no run with checkpoints yet (train with "groundlab reproduce")`);
    corpusDir = opts.corpus ?? studyCorpusDir(opts.study, study);
    title = `groundlab explorer: study ${basename(resolve(opts.study))}${study?.preset ? ` (${study.preset} preset)` : ''}`;
  } else {
    const r = readRun(opts.run!);
    if (!r.checkpoints.length) throw new UserError(`${opts.run} has no checkpoints (${join(opts.run!, 'checkpoints')} is empty or missing): train the run first`);
    sources = [r];
    corpusDir = opts.corpus ?? r.cfg.corpus.dir;
    title = `groundlab explorer: ${r.cfg.label} seed ${r.cfg.seed} (${r.cfg.arch})`;
  }
  if (!existsSync(join(corpusDir, 'vocab.json'))) {
    throw new UserError(`the corpus ${corpusDir} is missing (vocab.json not found); pass --corpus DIR (the directory the run was trained on)`);
  }
  const corpus = loadCorpus(corpusDir);
  for (const s of sources) {
    if (s.cfg.corpus.hash !== corpus.hash) {
      throw new UserError(`${corpusDir} is not the corpus ${s.dir} was trained on (hash ${corpus.hash.slice(0, 12)} vs ${s.cfg.corpus.hash.slice(0, 12)} in run_config.json); pass --corpus DIR`);
    }
  }
  const targets = loadTargets(corpusDir);
  const { items, leftOut } = pickItems(loadItems(corpusDir), maxItems);
  if (!items.length) throw new UserError(`${corpusDir}/items.jsonl has no items the explorer can show (${leftOut.map((l) => `${l.count} ${l.reason}`).join('; ')})`);

  // Per run: its config (from the first checkpoint) and the size of one weight script.
  const runs = sources.map((s, index) => {
    const meta = readCheckpointMeta(s.checkpoints[0]!.path);
    const params = createModel(meta.arch, meta.model).params.count;
    const scriptBytes = weightScript(weightsKey(index, 0).key, '').length + base64Length(params * 4);
    return { s, index, meta, params, scriptBytes };
  });

  const bundle = opts.bundle ?? (await explorerBundle());
  const payloadFor = (kept: number[][]): ExplorerPayload => ({
    format: EXPLORER_FORMAT,
    title,
    generatedBy: `Generated by ${codeVersion()} from ${opts.study ?? opts.run}`,
    vocab: corpus.vocab,
    padId: corpus.padId,
    targets: targets.words.map((w) => ({ word: w.word, env_id: w.env_id, lan_id: w.lan_id })),
    items,
    itemsLeftOut: leftOut,
    runs: runs.map((r, i): ExplorerRun => {
      const keep = new Set(kept[i]!);
      return {
        name: r.s.name,
        label: r.s.cfg.label,
        arch: r.meta.arch,
        seed: r.s.cfg.seed,
        model: r.meta.model,
        params: r.params,
        maxLen: r.s.cfg.train.context,
        checkpoints: r.s.checkpoints.filter((_, k) => keep.has(k)).map((c) => ({ step: c.step, ...weightsKey(r.index, c.step), bytes: r.scriptBytes })),
        droppedSteps: r.s.checkpoints.filter((_, k) => !keep.has(k)).map((c) => c.step),
      };
    }),
    limits: { maxMb, maxItems },
  });

  // Thin: the largest per-run count k whose total fits (k ≥ 2 keeps first and last).
  const budget = maxMb * 1e6;
  const maxCount = Math.max(...runs.map((r) => r.s.checkpoints.length));
  const pageBound = Buffer.byteLength(pageHtml(payloadFor(runs.map(() => [])), bundle)); // every step listed as dropped: an upper bound
  const totalFor = (k: number) => pageBound + runs.reduce((a, r) => a + Math.min(k, r.s.checkpoints.length) * r.scriptBytes, 0);
  let k = maxCount;
  while (k > 2 && totalFor(k) > budget) k--;
  if (totalFor(k) > budget) {
    const mb = (totalFor(Math.min(2, maxCount)) / 1e6).toFixed(1);
    throw new UserError(`explore: the page with only the first and last checkpoint of each run needs ${mb} MB, over --max_mb ${maxMb}; raise --max_mb or explore fewer runs (--run RUN)`);
  }
  const kept = runs.map((r) => evenlySpaced(r.s.checkpoints.length, k));
  const payload = payloadFor(kept);

  const dir = ensureDir(opts.out ?? join(opts.study ?? opts.run!, 'explore'));
  const wdir = ensureDir(join(dir, 'weights'));
  const wanted = new Set(payload.runs.flatMap((r) => r.checkpoints.map((c) => basename(c.file))));
  // Weight scripts of an earlier export that this one does not use.
  for (const f of readdirSync(wdir)) if (/^r\d+_step_\d+\.js$/.test(f) && !wanted.has(f)) rmSync(join(wdir, f));
  let bytes = 0;
  runs.forEach((r, i) => {
    for (const c of payload.runs[i]!.checkpoints) {
      const src = r.s.checkpoints.find((x) => x.step === c.step)!;
      const { model } = loadCheckpoint(src.path);
      const data = model.params.data;
      const b64 = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
      const script = weightScript(c.key, b64);
      writeFileAtomic(join(dir, c.file), script);
      bytes += Buffer.byteLength(script);
    }
  });
  const html = pageHtml(payload, bundle);
  const path = join(dir, 'index.html');
  writeFileAtomic(path, html);
  const pageBytes = statSync(path).size;
  return {
    dir,
    path,
    bytes: bytes + pageBytes,
    pageBytes,
    runs: payload.runs.map((r) => ({ name: r.name, steps: r.checkpoints.map((c) => c.step), dropped: r.droppedSteps })),
    items: items.length,
  };
}
