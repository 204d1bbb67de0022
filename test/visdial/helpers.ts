/** Shared helpers of the visual-dialog tests: an independent count of the raw data, informative synthetic features. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedData } from '../helpers/shared-data.js';
import { writeFeatures } from '../../src/data/images/features.js';
import { Rng } from '../../src/util/rng.js';

export const DATA = sharedData();
export const VISDIAL = sharedData('visdial');
export const COCO = sharedData('coco');
export const CDI = sharedData('cdi', 'English_American_WS.csv');
const raw = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

/** An independent tokeniser (regex over the raw text), equal to textWords without compounds. */
export const words = (s: string) => s.toLowerCase().replace(/’/g, "'").match(/[\p{L}\p{N}]+(?:['-]+[\p{L}\p{N}]+)*/gu) ?? [];

export interface RawCounts {
  dialogs: { image: string; caption: string[]; talk: string[][] }[];
  coco: { image: string; captions: string[][] }[];
}

export function rawCounts(): RawCounts {
  const dialogs: RawCounts['dialogs'] = [];
  const seen = new Set<number>();
  for (const f of ['visdial_1.0_val_crowdsourced.json', 'visdial_1.0_val_vispro.json']) {
    const d = raw(join(VISDIAL, f)).data;
    for (const x of d.dialogs) {
      if (seen.has(x.image_id)) continue; // the 8 shared dialogs are identical (readers.test.ts)
      seen.add(x.image_id);
      dialogs.push({ image: String(x.image_id), caption: words(x.caption), talk: x.dialog.flatMap((r: { question: number; answer: number }) => [words(d.questions[r.question]), words(d.answers[r.answer])]) });
    }
  }
  const caps = new Map<string, { id: number; c: string }[]>();
  for (const f of ['captions_train2017.json', 'captions_val2017.json']) for (const a of raw(join(COCO, f)).annotations) caps.set(String(a.image_id), [...(caps.get(String(a.image_id)) ?? []), { id: a.id, c: a.caption }]);
  const coco = [...caps].map(([image, list]) => ({ image, captions: list.sort((a, b) => a.id - b.id).map((x) => words(x.c)) }));
  return { dialogs, coco };
}

/** Features for the COCO images that carry their caption words (so a model can learn from them). */
export function informativeFeatures(path: string, k = 4, dim = 24): void {
  const r = rawCounts();
  const rng = new Rng(7);
  const emb = new Map<string, Float32Array>();
  const vec = (w: string) => {
    let v = emb.get(w);
    if (!v) emb.set(w, (v = Float32Array.from({ length: dim }, () => rng.normal())));
    return v;
  };
  const feats = new Map<string, Float32Array>();
  for (const im of r.coco) {
    const f = new Float32Array(k * dim);
    const ws = [...new Set(im.captions.flat())];
    ws.forEach((w, i) => {
      const p = i % k;
      const v = vec(w);
      for (let j = 0; j < dim; j++) f[p * dim + j]! += v[j]!;
    });
    feats.set(im.image, f);
  }
  writeFeatures(path, feats, k, dim, { encoder: 'test: sums of random word vectors' });
}

