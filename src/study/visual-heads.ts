/**
 * Aggregate heads and their zero-ablation on the visual-dialog sequences (SPEC §6 heads and
 * intervention on the settings of §7; issue 8, item 4). For the last checkpoint of each run of a
 * visual study, on the same matched items as the saliency (visual-saliency.ts visualItems: caption
 * tokens as ENV positions, or the k image-feature positions of a PrefixPointerModel pointer context):
 *
 *   scores      per head, the mean over items of its ENV share of the prediction row's saliency,
 *               taken from the saliency rows of the same run and checkpoint when given (the rows of
 *               studyVisualSaliency, computed on the same items), else computed here
 *   selections  threshold:0.3 (SPEC §6: mean ENV share ≥ 0.30) and top:K (the K = 10% of heads,
 *               rounded, at least 1, with the highest shares), as in the CHILDES suite (mechanistic.ts)
 *   ablation    the selected heads zeroed at `blocks.{l}.attn.z` / `blocks.{l}.mixer.z` at every
 *               position (analysis/heads.ts), against 20 seeded random control sets of as many other
 *               heads; paired tests over items (intervened vs control, one-sided)
 *
 * Ablation hooks are strict (analysis/heads.ts itemSurprisal): a z hook point the (wrapped) model never
 * reaches is an error, so ablation cannot silently do nothing on the pointer contexts. The LSTM has no heads: its runs are
 * skipped, with the reason recorded in the manifest.
 *
 * Tables (column conventions of the CHILDES suite's heads.csv / intervention.csv: `layer` and `head`
 * 1-based, heads written L{layer}H{head}, mean_layer 1-based, surprisals in nats; the same numbering
 * as visual_saliency.csv):
 *   STUDY/eval/visual_heads.csv          per (run, selection, layer, head): mean ENV share and flow,
 *                                        aggregate (1: selected by the rule), uniform_share
 *   STUDY/eval/visual_intervention.csv   per (run, selection): the SPEC §1 table row
 *   STUDY/eval/visual_intervention.json  options, and per run: status (done | skipped), reason, seconds,
 *                                        whether the saliency rows were reused
 * uniform_share is the mean over items of |ENV positions| / context length: the ENV share every head
 * would get from uniform saliency (in the image setting k/(k + tokens), often above 0.30).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as E from '../engine/index.js';
import { type HeadScore, headScores } from '../analysis/heads.js';
import { headSelections, headSelectionTables, uniformEnvShare } from './mechanistic.js';
import { computeSaliency } from '../analysis/saliency.js';
import { discoverRuns, readStudy, studyCorpusDir } from './study.js';
import { archEntry } from '../models/index.js';
import type { LanguageModel } from '../models/types.js';
import { listCheckpoints, loadCheckpoint } from '../train/checkpoint.js';
import { ensureDir, writeCsv, writeJson } from '../util/files.js';
import { visualItems, type VisualSaliencyRow } from './visual-saliency.js';

export const VISUAL_HEADS_FILE = 'visual_heads.csv';
export const VISUAL_INTERVENTION_FILE = 'visual_intervention.csv';
export const VISUAL_INTERVENTION_MANIFEST = 'visual_intervention.json';

const KEY = ['setting', 'label', 'arch', 'seed', 'step'];
export const VISUAL_HEADS_COLUMNS = [...KEY, 'layer', 'head', 'n_items', 'env_share', 'env_flow', 'aggregate', 'selection', 'uniform_share'];
export const VISUAL_INTERVENTION_COLUMNS = [...KEY, 'selection', 'n_heads', 'heads', 'mean_layer', 'n_items', 'original', 'intervened', 'control', 'diff', 't', 'p', 'wilcoxon_p', 'control_size', 'uniform_share'];
export const VISUAL_INTERVENTION_NUMERIC = ['seed', 'step', 'n_heads', 'mean_layer', 'n_items', 'original', 'intervened', 'control', 'diff', 't', 'p', 'wilcoxon_p', 'control_size', 'uniform_share'];

export interface VisualHeadsOptions {
  /** Items per run (the first in file order; default 200, as the saliency). */
  maxItems?: number;
  /** Aggregate heads: mean ENV share ≥ threshold (default 0.30). */
  threshold?: number;
  /** Second rule: the K heads with the highest share (default auto: 10% of heads, at least 1; none: off). */
  top?: number | 'auto' | 'none';
  /** Random control sets (default 20) and their seed (default 1). */
  draws?: number;
  controlSeed?: number;
  batchSize?: number;
}

const r6 = (x: number) => (Number.isFinite(x) ? Math.round(x * 1e6) / 1e6 : x);

export interface VisualHeadsResult {
  /** Rows without the run key (setting, label, arch, seed, step). */
  heads: Record<string, unknown>[];
  intervention: Record<string, unknown>[];
  items: number;
  uniformShare: number;
  saliencyReused: boolean;
}

/**
 * Head scores, selections and the intervention table of one model on a corpus's matched items.
 * `saliency`: mean saliency rows (0-based layer and head, head −1 the layer flow) of this model on the
 * same items (corpusSaliency / studyVisualSaliency); used when they cover every head with as many items.
 */
export function visualHeads(model: LanguageModel, corpusDir: string, maxLen: number, opts: VisualHeadsOptions & { saliency?: readonly Pick<VisualSaliencyRow, 'layer' | 'head' | 'env_share' | 'env_flow' | 'n_items'>[] } = {}): VisualHeadsResult {
  if (model.nHeads === 0 || !model.hooks.headOut) throw new Error(`${model.arch} has no attention heads to ablate`);
  const { model: m, items, padId } = visualItems(model, corpusDir, maxLen, opts.maxItems);
  const uniformShare = uniformEnvShare(items);
  if (!items.length) return { heads: [], intervention: [], items: 0, uniformShare, saliencyReused: false };

  const total = m.nLayers * m.nHeads;
  const given = (opts.saliency ?? []).filter((r) => r.head >= 0);
  const reuse = given.length === total && given.every((r) => r.n_items === items.length);
  const scores: HeadScore[] = reuse
    ? given.map((r) => ({ layer: r.layer, head: r.head, envShare: r.env_share, envFlow: r.env_flow })).sort((a, b) => a.layer - b.layer || a.head - b.head)
    : headScores(computeSaliency(m, items, { padId, batchSize: 16 }).rows);

  const uniform = { uniform_share: r6(uniformShare) };
  const tables = headSelectionTables(m, items, scores, { threshold: opts.threshold, top: opts.top, draws: opts.draws, controlSeed: opts.controlSeed, layerMatched: false, batchSize: opts.batchSize, padId });
  const heads = tables.flatMap((t) => t.heads.map((r) => ({ ...r, ...uniform })));
  const intervention = tables.map((t) => ({ ...t.intervention, ...uniform }));
  return { heads, intervention, items: items.length, uniformShare, saliencyReused: reuse };
}

export interface VisualHeadsRunRecord {
  label: string;
  arch: string;
  seed: number;
  step: number;
  status: 'done' | 'skipped';
  reason?: string;
  items?: number;
  saliency_reused?: boolean;
  seconds: number;
}

/**
 * Heads and intervention at the last checkpoint of every run of a study → STUDY/eval/visual_heads.csv,
 * visual_intervention.csv and visual_intervention.json. `saliency`: the study's visual saliency rows
 * (studyVisualSaliency's return value), reused per run where they match.
 */
export function studyVisualHeads(studyDir: string, setting: string, opts: VisualHeadsOptions & { saliency?: readonly VisualSaliencyRow[] } = {}): { heads: Record<string, unknown>[]; intervention: Record<string, unknown>[]; runs: VisualHeadsRunRecord[] } {
  const corpusDir = studyCorpusDir(studyDir, readStudy(studyDir));
  const heads: Record<string, unknown>[] = [];
  const intervention: Record<string, unknown>[] = [];
  const runs: VisualHeadsRunRecord[] = [];
  for (const run of discoverRuns(studyDir)) {
    const ckpts = listCheckpoints(run.dir);
    if (!ckpts.length) continue;
    const t0 = performance.now();
    const last = ckpts[ckpts.length - 1]!;
    const key = { setting, label: run.config.label, arch: run.config.arch, seed: run.config.seed, step: last.step };
    const ident = { label: key.label, arch: key.arch, seed: key.seed, step: key.step };
    if (!archEntry(run.config.arch).hooks.headOut) {
      runs.push({ ...ident, status: 'skipped', reason: `${run.config.arch} has no attention heads (no aggregate heads to select or ablate)`, seconds: 0 });
      continue;
    }
    const { model } = loadCheckpoint(last.path);
    const saliency = (opts.saliency ?? []).filter((r) => r.setting === setting && r.label === key.label && r.arch === key.arch && r.seed === key.seed && r.step === key.step);
    const res = visualHeads(model, corpusDir, run.config.train.context, { ...opts, saliency });
    if (!res.items) {
      runs.push({ ...ident, status: 'skipped', reason: 'no usable matched items', seconds: r6((performance.now() - t0) / 1000) });
      continue;
    }
    for (const r of res.heads) heads.push({ ...key, ...r });
    for (const r of res.intervention) intervention.push({ ...key, ...r });
    runs.push({ ...ident, status: 'done', items: res.items, saliency_reused: res.saliencyReused, seconds: r6((performance.now() - t0) / 1000) });
    E.pool.clear();
  }
  if (existsSync(join(studyDir, 'runs'))) {
    const dir = ensureDir(join(studyDir, 'eval'));
    writeCsv(join(dir, VISUAL_HEADS_FILE), heads, VISUAL_HEADS_COLUMNS);
    writeCsv(join(dir, VISUAL_INTERVENTION_FILE), intervention, VISUAL_INTERVENTION_COLUMNS);
    writeJson(join(dir, VISUAL_INTERVENTION_MANIFEST), {
      setting,
      options: { max_items: opts.maxItems ?? 200, selections: headSelections({ threshold: opts.threshold, top: opts.top }), draws: opts.draws ?? 20, control_seed: opts.controlSeed ?? 1, layer_matched: false },
      runs,
    });
  }
  return { heads, intervention, runs };
}
