/**
 * Where the environment enters the prediction in the visual-dialog settings (SPEC §6 saliency on
 * the sequences of §7): for the last checkpoint of each run of a study, the saliency of the matched
 * items (analysis/saliency.ts) with the ENV positions being the caption tokens (caption-grounded) or
 * the k feature positions (image-grounded, through PrefixPointerModel). Written per layer and head,
 * averaged over items, to STUDY/eval/visual_saliency.csv:
 *   setting, label, arch, seed, step, layer, unit, head (1-based; unit 'layer' with no head: the layer flow / LSTM layer), env_share, env_flow, n_items
 * env_share is the ENV positions' part of the prediction row's saliency; env_flow its mean per ENV position.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadCorpus, loadItems } from '../data/contract.js';
import { computeSaliency, meanHeadSaliency, type SaliencyItem } from '../analysis/saliency.js';
import { discoverRuns, readStudy, studyCorpusDir } from './study.js';
import { listCheckpoints, loadCheckpoint } from '../train/checkpoint.js';
import type { LanguageModel } from '../models/types.js';
import { ensureDir, writeCsv } from '../util/files.js';
import { loadPrefixCorpus } from '../data/prefix.js';
import { PrefixPointerModel } from '../models/prefix-model.js';

/** CSV columns: 1-based layer and head, unit 'layer' (head empty: the layer flow, or the LSTM's layer) or 'head', as in the CHILDES saliency.csv. */
export const VISUAL_SALIENCY_COLUMNS = ['setting', 'label', 'arch', 'seed', 'step', 'layer', 'unit', 'head', 'env_share', 'env_flow', 'n_items'];
export const VISUAL_SALIENCY_FILE = 'visual_saliency.csv';

export interface VisualSaliencyRow {
  setting: string;
  label: string;
  arch: string;
  seed: number;
  step: number;
  layer: number;
  head: number;
  env_share: number;
  env_flow: number;
  n_items: number;
}

/**
 * The matched items of a corpus as the mechanistic analyses read them, capped at `maxItems` (in file
 * order): contexts longer than `maxLen` tokens (the training context) keep their last tokens, and an
 * item whose ENV tokens were all cut away is left out (caption-grounded); image-grounded items are
 * pointer contexts of a PrefixPointerModel around `model` (returned as `model`: score the items with
 * it), whose ENV positions are the k feature positions.
 */
export function visualItems(model: LanguageModel, corpusDir: string, maxLen: number, maxItems = 200): { model: LanguageModel; items: SaliencyItem[]; padId: number; setting: 'caption' | 'image' } {
  const corpus = loadCorpus(corpusDir);
  const items = loadItems(corpusDir).filter((i) => i.source.kind === 'corpus').slice(0, maxItems);
  const prefix = loadPrefixCorpus(corpus);
  if (prefix) {
    const pm = new PrefixPointerModel(model, prefix.store);
    const sal = items.filter((i) => i.prefix !== undefined).map((i) => ({ context: pm.pointerContext(i.prefix!, i.context.slice(-maxLen)), target: i.target, envPositions: pm.envPositions() }));
    return { model: pm, items: sal, padId: corpus.padId, setting: 'image' };
  }
  const sal = items
    .map((i) => {
      const cut = Math.max(0, i.context.length - maxLen);
      return { context: i.context.slice(cut), target: i.target, envPositions: i.env_positions.filter((p) => p >= cut).map((p) => p - cut) };
    })
    .filter((i) => i.envPositions.length);
  return { model, items: sal, padId: corpus.padId, setting: 'caption' };
}

/** Saliency rows (means over items) of one model on a corpus's matched items (visualItems). */
export function corpusSaliency(model: LanguageModel, corpusDir: string, maxLen: number, maxItems = 200): { rows: Omit<VisualSaliencyRow, 'setting' | 'label' | 'arch' | 'seed' | 'step'>[]; items: number } {
  const { model: m, items: sal, padId } = visualItems(model, corpusDir, maxLen, maxItems);
  if (!sal.length) return { rows: [], items: 0 };
  const res = computeSaliency(m, sal, { padId, batchSize: 16 });
  const rows = meanHeadSaliency(res.rows).map((a) => ({ layer: a.layer, head: a.head, env_share: a.envShare, env_flow: a.envFlow, n_items: a.n }));
  return { rows, items: sal.length };
}

/** Saliency at the last checkpoint of every run of a study → STUDY/eval/visual_saliency.csv (returns the rows). */
export function studyVisualSaliency(studyDir: string, setting: string, opts: { maxItems?: number } = {}): VisualSaliencyRow[] {
  const corpusDir = studyCorpusDir(studyDir, readStudy(studyDir));
  const out: VisualSaliencyRow[] = [];
  for (const run of discoverRuns(studyDir)) {
    const ckpts = listCheckpoints(run.dir);
    if (!ckpts.length) continue;
    const last = ckpts[ckpts.length - 1]!;
    const { model } = loadCheckpoint(last.path);
    const { rows } = corpusSaliency(model, corpusDir, run.config.train.context, opts.maxItems);
    for (const r of rows) out.push({ setting, label: run.config.label, arch: run.config.arch, seed: run.config.seed, step: last.step, ...r });
  }
  // In memory the rows stay 0-based (head -1: the layer); the table is 1-based like the CHILDES suite's.
  const table = out.map((r) => ({ ...r, layer: r.layer + 1, unit: r.head < 0 ? 'layer' : 'head', head: r.head < 0 ? '' : r.head + 1 }));
  if (existsSync(join(studyDir, 'runs'))) writeCsv(join(ensureDir(join(studyDir, 'eval')), VISUAL_SALIENCY_FILE), table, VISUAL_SALIENCY_COLUMNS);
  return out;
}
