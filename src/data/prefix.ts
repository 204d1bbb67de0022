/**
 * Corpora with a continuous prefix per document (the image-grounded setting, SPEC §7): the corpus
 * contract plus `prefix.json`, which names the features file and the image of every document.
 *
 *   prefix.json  { kind: "groundlab-prefix", format: 1,
 *                  features: path (relative to the corpus directory, or absolute),
 *                  features_sha256, features_bytes, k (patches), dim, norm ("rms" | "none"),
 *                  encoder (the features file's metadata),
 *                  documents: { train: [image id of the 1st <doc>, ...], val: [...], test: [...] } }
 *
 * A training sequence is one document with its image (batched by train/prefix-batches.ts).
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Corpus, SplitName } from './contract.js';
import { UserError } from '../util/errors.js';
import { readJson } from '../util/files.js';
import { FeatureStore, type FeatureNorm, type PrefixLookup } from './images/features.js';

export const PREFIX_FILE = 'prefix.json';

export interface PrefixInfo {
  kind: 'groundlab-prefix';
  format: 1;
  features: string;
  features_sha256: string;
  features_bytes: number;
  k: number;
  dim: number;
  norm: FeatureNorm;
  encoder: Record<string, string>;
  documents: Record<SplitName, string[]>;
}

/** prefix.json of a corpus directory, or null when the corpus has no prefix. */
export function readPrefixInfo(corpusDir: string): PrefixInfo | null {
  const p = join(corpusDir, PREFIX_FILE);
  if (!existsSync(p)) return null;
  const info = readJson<PrefixInfo>(p);
  if (info.kind !== 'groundlab-prefix' || !(info.k > 0) || !(info.dim > 0) || !info.documents) throw new UserError(`${p}: not a groundlab prefix description (kind, k, dim, documents expected)`);
  return info;
}

export function featuresPath(corpusDir: string, info: PrefixInfo): string {
  return isAbsolute(info.features) ? info.features : join(corpusDir, info.features);
}

export interface PrefixCorpus {
  info: PrefixInfo;
  store: PrefixLookup;
  /** Index of each document's <doc> token in each split, and the document's image. */
  docs: Record<SplitName, { starts: Int32Array; images: string[] }>;
}

/**
 * Loads the prefix side of a corpus (null when it has none): the features (normalised as recorded)
 * and the document boundaries, checked against prefix.json (document counts, every image present
 * with [k × dim] features, the features file's size).
 */
export function loadPrefixCorpus(corpus: Corpus): PrefixCorpus | null {
  const info = readPrefixInfo(corpus.dir);
  if (!info) return null;
  const path = featuresPath(corpus.dir, info);
  if (!existsSync(path)) throw new UserError(`${corpus.dir}/prefix.json names the features file ${path}, which does not exist`);
  if (statSync(path).size !== info.features_bytes) {
    throw new UserError(`${path} has ${statSync(path).size} bytes, not the ${info.features_bytes} recorded in ${corpus.dir}/prefix.json: the features changed since the corpus was built; rebuild it`);
  }
  const store = FeatureStore.read(path, info.norm);
  if (store.k !== info.k || store.dim !== info.dim) throw new UserError(`${path}: features are [${store.k} × ${store.dim}], prefix.json says [${info.k} × ${info.dim}]`);
  const docs = {} as PrefixCorpus['docs'];
  for (const split of ['train', 'val', 'test'] as SplitName[]) {
    const toks = corpus.splits[split];
    const starts: number[] = [];
    for (let i = 0; i < toks.length; i++) if (toks[i] === corpus.docId) starts.push(i);
    const images = info.documents[split] ?? [];
    if (images.length !== starts.length) throw new UserError(`${corpus.dir}: ${split}.bin has ${starts.length} documents but prefix.json lists ${images.length} images`);
    for (const im of images) if (!store.has(im)) throw new UserError(`${path}: no features for image "${im}" (used by the ${split} split)`);
    docs[split] = { starts: Int32Array.from(starts), images };
  }
  return { info, store, docs };
}
