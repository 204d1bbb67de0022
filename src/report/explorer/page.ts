/**
 * The explorer page (browser entry, bundled by scripts/build-explorer.mjs into one classic
 * script). It reads the payload embedded in index.html, loads a checkpoint's weights from the
 * weight script beside it, and runs the user's model in the page on the TypeScript reference
 * kernels: surprisal, ENV swaps, per-head ENV share and token saliency are computed here, by the
 * same analysis code as the CLI (compute.ts).
 *
 * Test hooks (stable attributes): data-testid="surprisal" (matched surprisal; data-item-id,
 * data-step, data-value), "surprisal-swapped" (data-env-word), "head-cell" (data-layer,
 * data-head, 1-based; head empty for the layer unit), "saliency" (data-layer, data-head,
 * data-env-share, data-env-flow, data-row-total) with "saliency-token" spans (data-saliency).
 * #app carries data-state = loading | ready | error and data-first-number-ms (ms from navigation
 * start to the first surprisal shown).
 */
import { useBackend } from '../../engine/index.js';
import type { HeadSaliency } from '../../analysis/saliency.js';
import type { LanguageModel } from '../../models/types.js';
import { contextWith, decodeFloat32, headGrid, modelWithWeights, type PageItem, pageItems, surprisalAfter, tokenSaliency } from './compute.js';
import { type ExplorerPayload, type ExplorerRun, tokenKind, WEIGHTS_GLOBAL } from './payload.js';

// The page has no addon: every op runs on the reference kernels.
useBackend('reference');

type Attrs = Record<string, string | number | boolean | undefined | ((e: Event) => void)>;

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string | null | undefined)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (k === 'class') el.className = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
}

const fmt = (x: number, d = 4) => (Number.isFinite(x) ? x.toFixed(d) : 'NA');
const nextFrame = () => new Promise<void>((r) => setTimeout(r, 0));

const payload = JSON.parse(document.getElementById('explorer-data')!.textContent!) as ExplorerPayload;
const app = document.getElementById('app')!;

// ---------------------------------------------------------------------------------------------
// Weights: each checkpoint's script calls window.groundlabWeights(key, base64) when loaded.
// ---------------------------------------------------------------------------------------------
const arrived = new Map<string, string>();
const waiting = new Map<string, (b64: string) => void>();
(window as unknown as Record<string, unknown>)[WEIGHTS_GLOBAL] = (key: string, b64: string) => {
  const w = waiting.get(key);
  if (w) {
    waiting.delete(key);
    w(b64);
  } else arrived.set(key, b64);
};
const decoded = new Map<string, Float32Array>();

function loadWeights(file: string, key: string): Promise<Float32Array> {
  const have = decoded.get(key);
  if (have) return Promise.resolve(have);
  return new Promise<string>((resolve, reject) => {
    const early = arrived.get(key);
    if (early !== undefined) {
      arrived.delete(key);
      resolve(early);
      return;
    }
    waiting.set(key, resolve);
    const s = document.createElement('script');
    s.src = file;
    s.onerror = () => {
      waiting.delete(key);
      reject(new Error(`could not load ${file}: the weights folder must stay beside index.html`));
    };
    document.head.append(s);
  }).then((b64) => {
    const w = decodeFloat32(b64);
    decoded.set(key, w);
    return w;
  });
}

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------
interface State {
  run: number;
  ckpt: number;
  itemId: string;
  /** Id of the ENV token put at the swap positions (null: matched). */
  swapEnv: number | null;
  /** Selected cell: 0-based layer, head (-1: layer unit). */
  selected: { layer: number; head: number } | null;
}

const models = new Map<number, LanguageModel>();
const itemsByRun = new Map<number, Map<string, PageItem>>();
const envIds = new Map(payload.targets.map((t) => [t.env_id, t.word]));
const vocabIndex = new Map(payload.vocab.map((t, i) => [t, i]));

function runItems(r: number): Map<string, PageItem> {
  let m = itemsByRun.get(r);
  if (!m) {
    m = pageItems(payload.items, payload.runs[r]!.maxLen);
    itemsByRun.set(r, m);
  }
  return m;
}

const firstRun = 0;
const state: State = {
  run: firstRun,
  ckpt: payload.runs[firstRun]!.checkpoints.length - 1,
  itemId: [...runItems(firstRun).keys()][0] ?? '',
  swapEnv: null,
  selected: null,
};

// ---------------------------------------------------------------------------------------------
// Layout
// ---------------------------------------------------------------------------------------------
const runSelect = h('select', { 'data-testid': 'run-select', 'aria-label': 'run', onchange: () => void setRun(Number(runSelect.value)) });
const stepSlider = h('input', { type: 'range', min: 0, step: 1, 'data-testid': 'step-slider', 'aria-label': 'checkpoint', oninput: () => void setCkpt(Number(stepSlider.value)) });
const stepLabel = h('span', { class: 'step-label', 'data-testid': 'step-label' });
const itemSelect = h('select', { 'data-testid': 'item-select', 'aria-label': 'item', onchange: () => void setItem(itemSelect.value) });
const prevItem = h('button', { type: 'button', title: 'previous item', onclick: () => void stepItem(-1) }, '‹');
const nextItem = h('button', { type: 'button', title: 'next item', onclick: () => void stepItem(1) }, '›');
const itemInfo = h('div', { class: 'item-info' });
const contextView = h('div', { class: 'tokens', 'data-testid': 'context' });
const surprisalEl = h('span', { class: 'num', 'data-testid': 'surprisal' }, '…');
const matchedLine = h('div', { class: 'sline' });
const envSelect = h('select', { 'data-testid': 'env-select', 'aria-label': 'ENV word at the swap positions', onchange: () => void setSwap(envSelect.value === '' ? null : Number(envSelect.value)) });
const envInput = h('input', { type: 'text', placeholder: 'or type a word', 'data-testid': 'env-input', 'aria-label': 'type an ENV word', size: 14 });
const envMsg = h('span', { class: 'msg', role: 'status' });
const envForm = h(
  'form',
  {
    class: 'swap',
    onsubmit: (e: Event) => {
      e.preventDefault();
      typedSwap();
    },
  },
  h('label', {}, 'Swap v⟨ENV⟩ for ', envSelect),
  ' ',
  envInput,
  ' ',
  h('button', { type: 'submit' }, 'swap'),
  ' ',
  envMsg,
);
const swappedEl = h('span', { class: 'num', 'data-testid': 'surprisal-swapped' });
const swappedLine = h('div', { class: 'sline' });
const gridEl = h('div', { class: 'grid', 'data-testid': 'head-grid' });
const gridNote = h('p', { class: 'note' });
const salEl = h('div', { class: 'saliency', 'data-testid': 'saliency' });
const salNote = h('p', { class: 'note' });
const errorEl = h('div', { class: 'error', role: 'alert', hidden: true });
const busyEl = h('span', { class: 'busy', 'aria-live': 'polite' });

function buildLayout(): void {
  const header = h(
    'header',
    {},
    h('h1', {}, payload.title),
    h('p', { class: 'sub' }, 'Your model runs in this page (TypeScript reference kernels, no server, no network). Surprisal, swaps and saliency below are computed live from the checkpoint\u2019s weights.'),
  );
  const controls = h(
    'section',
    { class: 'controls' },
    payload.runs.length > 1 ? h('label', {}, 'Run ', runSelect) : null,
    h('label', { class: 'slider' }, 'Checkpoint ', stepSlider, ' ', stepLabel),
    h('label', {}, 'Item ', prevItem, itemSelect, nextItem),
    busyEl,
  );
  const legend = h(
    'p',
    { class: 'legend' },
    h('span', { class: 'tok env' }, 'word⟨ENV⟩'),
    ' environment  ',
    h('span', { class: 'tok lan' }, 'word⟨LAN⟩'),
    ' language  ',
    h('span', { class: 'tok speaker' }, '<MOT>'),
    ' speaker  ',
    h('span', { class: 'tok env swap' }, 'swap'),
    ' position swapped for mismatches',
  );
  app.replaceChildren(
    header,
    errorEl,
    controls,
    h('section', { class: 'panel' }, h('h2', {}, 'Context'), itemInfo, legend, contextView),
    h('section', { class: 'panel' }, h('h2', {}, 'Surprisal of the target'), matchedLine, envForm, swappedLine),
    h(
      'section',
      { class: 'panel two' },
      h('div', {}, h('h2', {}, 'ENV share per head'), gridNote, gridEl),
      h('div', {}, h('h2', {}, 'Token saliency'), salNote, salEl),
    ),
    h('footer', {}, footerText()),
  );
}

function footerText(): string {
  const parts = [`${payload.generatedBy}.`];
  const r = payload.runs[state.run]!;
  if (r.droppedSteps.length) parts.push(`Checkpoints left out to stay under ${payload.limits.maxMb} MB: steps ${r.droppedSteps.join(', ')}.`);
  for (const l of payload.itemsLeftOut) parts.push(`${l.count} item(s) not in the page: ${l.reason}.`);
  return parts.join(' ');
}

function fillRunSelect(): void {
  runSelect.replaceChildren(...payload.runs.map((r, i) => h('option', { value: i }, `${r.label} seed ${r.seed} (${r.arch})`)));
  runSelect.value = String(state.run);
}

function fillSteps(): void {
  const r = payload.runs[state.run]!;
  stepSlider.max = String(r.checkpoints.length - 1);
  stepSlider.value = String(state.ckpt);
  stepSlider.disabled = r.checkpoints.length < 2;
  stepLabel.textContent = `step ${r.checkpoints[state.ckpt]!.step} (${state.ckpt + 1} of ${r.checkpoints.length})`;
}

function fillItems(): void {
  const items = runItems(state.run);
  const groups = new Map<string, HTMLOptGroupElement>();
  for (const [id, it] of items) {
    const label = `${it.prepared.item.word} (${it.prepared.item.source.kind})`;
    let g = groups.get(label);
    if (!g) {
      g = h('optgroup', { label });
      groups.set(label, g);
    }
    g.append(h('option', { value: id }, id));
  }
  itemSelect.replaceChildren(...groups.values());
  if (!items.has(state.itemId)) state.itemId = [...items.keys()][0] ?? '';
  itemSelect.value = state.itemId;
}

function fillEnvSelect(it: PageItem): void {
  const item = it.prepared.item;
  const own = new Set(item.mismatches.map((m) => m.env_id));
  const mism = h('optgroup', { label: 'this item\u2019s mismatch words (in grounding.csv)' }, ...item.mismatches.map((m) => h('option', { value: m.env_id }, `${m.word}⟨ENV⟩`)));
  const others = payload.targets.filter((t) => !own.has(t.env_id) && t.word !== item.word);
  envSelect.replaceChildren(
    h('option', { value: '' }, `${item.word}⟨ENV⟩ (matched)`),
    mism,
    h('optgroup', { label: 'other target words' }, ...others.map((t) => h('option', { value: t.env_id }, `${t.word}⟨ENV⟩`))),
  );
  envSelect.value = state.swapEnv === null ? '' : String(state.swapEnv);
  if (state.swapEnv !== null && envSelect.value !== String(state.swapEnv)) {
    // A typed ENV token that is not a target word: listed on its own.
    envSelect.append(h('option', { value: state.swapEnv }, payload.vocab[state.swapEnv] ?? String(state.swapEnv)));
    envSelect.value = String(state.swapEnv);
  }
}

/** A token as displayed: word⟨ENV⟩ / word⟨LAN⟩ (angle brackets that do not look like markup). */
const shown = (tok: string) => tok.replace('<ENV>', '⟨ENV⟩').replace('<LAN>', '⟨LAN⟩');

function tokenSpan(tok: string, attrs: Attrs = {}, extra = ''): HTMLSpanElement {
  return h('span', { class: `tok ${tokenKind(tok)}${extra}`, title: tok, ...attrs }, shown(tok));
}

function renderContext(it: PageItem, ctx: Int32Array): void {
  const p = it.prepared;
  const swap = new Set(p.swap);
  const env = new Set(it.envPositions);
  const spans = Array.from(ctx, (id, j) => tokenSpan(payload.vocab[id] ?? String(id), { 'data-pos': j, 'data-env': env.has(j) ? 'true' : undefined }, swap.has(j) ? ' swap' : ''));
  const target = payload.vocab[p.item.target] ?? String(p.item.target);
  contextView.replaceChildren(...spans, h('span', { class: 'arrow' }, '→'), tokenSpan(target, { 'data-target': 'true' }, ' target'));
  itemInfo.textContent = `${p.item.id}: word "${p.item.word}", ${p.item.source.kind} item (${p.item.source.file}:${p.item.source.line}), ${ctx.length} tokens${p.truncated ? `, ${p.truncated} cut from the left to fit the model's context` : ''}; ${it.envPositions.length} ENV position(s), swap at ${p.swap.length}.`;
}

// ---------------------------------------------------------------------------------------------
// Computing
// ---------------------------------------------------------------------------------------------
let generation = 0;

function current(): { run: ExplorerRun; it: PageItem; step: number } {
  const run = payload.runs[state.run]!;
  const it = runItems(state.run).get(state.itemId);
  if (!it) throw new Error(`no item ${state.itemId} for run ${run.name}`);
  return { run, it, step: run.checkpoints[state.ckpt]!.step };
}

async function modelFor(): Promise<LanguageModel> {
  const run = payload.runs[state.run]!;
  const c = run.checkpoints[state.ckpt]!;
  const w = await loadWeights(c.file, c.key);
  let m = models.get(state.run);
  if (!m) {
    m = modelWithWeights(run, w);
    models.set(state.run, m);
  } else m.params.data.set(w);
  return m;
}

function envWordOf(id: number | null, it: PageItem): string {
  if (id === null) return it.prepared.item.word;
  const tok = payload.vocab[id] ?? String(id);
  return envIds.get(id) ?? tok.replace(/<ENV>$/, '');
}

async function refresh(): Promise<void> {
  const gen = ++generation;
  app.dataset.state = 'loading';
  busyEl.textContent = 'computing…';
  try {
    const { run, it, step } = current();
    fillSteps();
    fillEnvSelect(it);
    const model = await modelFor();
    if (gen !== generation) return;
    const p = it.prepared;
    const target = p.item.target;
    const targetTok = shown(payload.vocab[target] ?? String(target));
    const matchedCtx = contextWith(p, null);
    const sMatched = surprisalAfter(model, matchedCtx, target, payload.padId);
    setNumber(surprisalEl, sMatched, { 'item-id': p.item.id, step, run: run.name });
    matchedLine.replaceChildren(`s(${targetTok} | matched context, ${p.item.word}⟨ENV⟩) = `, surprisalEl, ' nats');
    if (app.dataset.firstNumberMs === undefined) app.dataset.firstNumberMs = String(Math.round(performance.now())); // since navigation start

    const ctx = contextWith(p, state.swapEnv);
    renderContext(it, ctx);
    if (state.swapEnv !== null) {
      const s = surprisalAfter(model, ctx, target, payload.padId);
      const word = envWordOf(state.swapEnv, it);
      setNumber(swappedEl, s, { 'item-id': p.item.id, step, run: run.name, 'env-word': word });
      swappedLine.replaceChildren(`s(${targetTok} | context with ${word}⟨ENV⟩) = `, swappedEl, ` nats, Δ = ${s - sMatched >= 0 ? '+' : '−'}${fmt(Math.abs(s - sMatched))} (mismatched − matched)`);
    } else {
      swappedLine.replaceChildren(h('span', { class: 'note' }, 'Pick a mismatch word (or type one) to put it at the swap positions; the surprisal is computed again.'));
    }

    // Saliency needs a backward pass: let the numbers above paint first.
    await nextFrame();
    if (gen !== generation) return;
    const envWord = envWordOf(state.swapEnv, it);
    const grid = headGrid(model, ctx, target, it.envPositions, payload.padId);
    renderGrid(grid.rows, model, { item: p.item.id, step, envWord });
    if (!state.selected) state.selected = defaultCell(grid.rows);
    markSelected();
    const { layer, head } = state.selected;
    const ts = tokenSaliency(model, ctx, target, it.envPositions, layer, head, payload.padId);
    renderSaliency(ts.values, ts.stats, ctx, it, { item: p.item.id, step, envWord, attention: model.hooks.pattern !== null });
    app.dataset.state = 'ready';
    busyEl.textContent = '';
    errorEl.hidden = true;
  } catch (err) {
    if (gen !== generation) return;
    app.dataset.state = 'error';
    busyEl.textContent = '';
    errorEl.hidden = false;
    errorEl.textContent = `Could not compute: ${err instanceof Error ? err.message : String(err)}`;
    console.error(err);
  }
}

function setNumber(el: HTMLElement, v: number, data: Record<string, string | number>): void {
  el.textContent = fmt(v);
  el.dataset.value = String(v);
  for (const [k, x] of Object.entries(data)) el.setAttribute(`data-${k}`, String(x));
}

/** The head with the highest ENV share (the LSTM: the layer), shown before any click. */
function defaultCell(rows: readonly HeadSaliency[]): { layer: number; head: number } {
  const heads = rows.filter((r) => r.head >= 0);
  const pool = heads.length ? heads : rows;
  const best = pool.reduce((a, b) => (b.envShare > a.envShare ? b : a), pool[0]!);
  return { layer: best.layer, head: best.head };
}

function shade(v: number, rgb: string): string {
  return `rgba(${rgb}, ${Math.max(0, Math.min(1, v)).toFixed(3)})`;
}

function renderGrid(rows: readonly HeadSaliency[], model: LanguageModel, ctx: { item: string; step: number; envWord: string }): void {
  const L = model.nLayers;
  const H = model.nHeads;
  const at = new Map(rows.map((r) => [`${r.layer}/${r.head}`, r]));
  const cols = H > 0 ? [...Array.from({ length: H }, (_, k) => k), -1] : [-1];
  const head = h('tr', {}, h('th', {}, ''), ...cols.map((c) => h('th', { scope: 'col' }, c < 0 ? (H > 0 ? 'all heads' : 'layer') : `head ${c + 1}`)));
  const body = Array.from({ length: L }, (_, l) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row' }, `layer ${l + 1}`),
      ...cols.map((c) => {
        const r = at.get(`${l}/${c}`);
        const share = r?.envShare ?? NaN;
        const cell = h(
          'button',
          {
            type: 'button',
            class: 'cell',
            'data-testid': 'head-cell',
            'data-layer': l + 1,
            'data-head': c < 0 ? '' : c + 1,
            'data-env-share': share,
            title: `layer ${l + 1}${c < 0 ? ' (layer flow)' : `, head ${c + 1}`}: ENV share ${fmt(share, 3)}, ENV flow ${r ? r.envFlow.toPrecision(3) : 'NA'}`,
            style: `background:${shade(share, '27, 158, 119')}`,
            onclick: () => void selectCell(l, c),
          },
          fmt(share, 2),
        );
        return h('td', {}, cell);
      }),
    ),
  );
  gridEl.replaceChildren(h('table', {}, h('thead', {}, head), h('tbody', {}, ...body)));
  gridEl.dataset.itemId = ctx.item;
  gridEl.dataset.step = String(ctx.step);
  gridEl.dataset.envWord = ctx.envWord;
  // The model says where its saliency is read (its hook map), and what that point holds.
  const pattern = model.hooks.pattern;
  gridNote.textContent = pattern
    ? `Share of the prediction row's saliency |A ⊙ ∂L/∂A| that falls on ENV positions, per head; A is ${pattern.pattern.replace('{l}', 'l')}: ${pattern.about}. "all heads" is the layer flow |Σ_h A ⊙ ∂L/∂A|. L = −ln p(target | context). Click a cell.`
    : `No attention: share of gradient × input |Σ_d x ⊙ ∂L/∂x| on ENV positions, per layer, with x at ${model.hooks.residPre.pattern.replace('{l}', 'l')} (${model.hooks.residPre.about}). Click a cell.`;
}

function markSelected(): void {
  for (const b of gridEl.querySelectorAll<HTMLButtonElement>('button.cell')) {
    const on = state.selected !== null && Number(b.dataset.layer) - 1 === state.selected.layer && (b.dataset.head === '' ? -1 : Number(b.dataset.head) - 1) === state.selected.head;
    b.classList.toggle('selected', on);
    b.setAttribute('aria-pressed', on ? 'true' : 'false');
  }
}

function renderSaliency(values: Float32Array, stats: HeadSaliency, ctx: Int32Array, it: PageItem, info: { item: string; step: number; envWord: string; attention: boolean }): void {
  let max = 0;
  for (const v of values) max = Math.max(max, v);
  const env = new Set(it.envPositions);
  const spans = Array.from(ctx, (id, j) => {
    const v = values[j] ?? 0;
    const s = tokenSpan(payload.vocab[id] ?? String(id), { 'data-testid': 'saliency-token', 'data-pos': j, 'data-saliency': v, 'data-env': env.has(j) ? 'true' : undefined, title: `${payload.vocab[id]}: ${v.toPrecision(4)}` });
    s.style.background = shade(max > 0 ? (0.85 * v) / max : 0, '217, 95, 2');
    return s;
  });
  salEl.replaceChildren(h('div', { class: 'tokens' }, ...spans));
  const d = salEl.dataset;
  d.itemId = info.item;
  d.step = String(info.step);
  d.envWord = info.envWord;
  d.layer = String(stats.layer + 1);
  d.head = stats.head < 0 ? '' : String(stats.head + 1);
  d.envShare = String(stats.envShare);
  d.envFlow = String(stats.envFlow);
  d.rowTotal = String(stats.rowTotal);
  const what = !info.attention ? `gradient × input at layer ${stats.layer + 1}'s input` : stats.head < 0 ? `layer ${stats.layer + 1}, all heads: |Σ_h A ⊙ ∂L/∂A|` : `layer ${stats.layer + 1}, head ${stats.head + 1}: |A ⊙ ∂L/∂A|`;
  salNote.textContent = `${what}, prediction row (query = last context token); shade ∝ saliency (darkest = largest). ENV share ${fmt(stats.envShare, 3)}, ENV flow ${stats.envFlow.toPrecision(4)}, row total ${stats.rowTotal.toPrecision(4)}.`;
}

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------
async function setRun(r: number): Promise<void> {
  state.run = r;
  state.ckpt = payload.runs[r]!.checkpoints.length - 1;
  state.selected = null;
  fillItems();
  app.querySelector('footer')!.textContent = footerText();
  await refresh();
}

async function setCkpt(i: number): Promise<void> {
  state.ckpt = i;
  await refresh();
}

async function setItem(id: string): Promise<void> {
  state.itemId = id;
  state.swapEnv = null;
  envMsg.textContent = '';
  envInput.value = '';
  await refresh();
}

async function stepItem(delta: number): Promise<void> {
  const ids = [...runItems(state.run).keys()];
  const i = ids.indexOf(state.itemId);
  const next = ids[(i + delta + ids.length) % ids.length];
  if (next === undefined) return;
  itemSelect.value = next;
  await setItem(next);
}

async function setSwap(envId: number | null): Promise<void> {
  state.swapEnv = envId;
  envMsg.textContent = '';
  await refresh();
}

async function selectCell(layer: number, head: number): Promise<void> {
  state.selected = { layer, head };
  await refresh();
}

function typedSwap(): void {
  const raw = envInput.value.trim();
  if (!raw) return;
  const tok = raw.endsWith('<ENV>') ? raw : raw.endsWith('⟨ENV⟩') ? raw.replace('⟨ENV⟩', '<ENV>') : `${raw}<ENV>`;
  const id = vocabIndex.get(tok);
  if (id === undefined) {
    envMsg.textContent = `${tok} is not in the vocabulary`;
    return;
  }
  void setSwap(id);
}

buildLayout();
fillRunSelect();
fillItems();
if (!state.itemId) {
  app.dataset.state = 'error';
  errorEl.hidden = false;
  errorEl.textContent = 'This explorer has no items the model can evaluate.';
} else void refresh();
