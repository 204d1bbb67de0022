/**
 * Reading the inputs of a visual-dialog corpus: VisDial files and COCO caption files (each as
 * .json, .zip or directories), tokenised into words, with duplicate dialogs removed.
 *
 * Image ids: a dialog's image_id and a COCO image id are taken to name the same image when equal
 * (true for VisDial train, whose images are COCO train2014/val2014 images; VisDial v1.0 val/test
 * images come from Flickr with their own ids, so do not mix them with COCO captions of other
 * images). Features files are keyed by the same ids.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { UserError } from '../../util/errors.js';
import { packageRoot } from '../../util/version.js';
import { readCdi } from '../targets.js';
import { type CocoFile, looksLikeCoco, readCoco } from './coco.js';
import { VisualDiagnostics } from './diagnostics.js';
import { readJsonInputs } from './json-input.js';
import { CompoundJoiner, textWords } from './text.js';
import { looksLikeVisDial, readVisDial, type VisDialFile } from './visdial.js';

export interface SourceWords {
  /** Words of the caption (VisDial) . */
  caption: string[];
  /** Rounds: question and answer words (answer null when absent). */
  rounds: { question: string[]; answer: string[] | null }[];
}

export interface DialogDoc extends SourceWords {
  kind: 'visdial';
  image: string;
  file: string;
  index: number;
  fileSplit: string;
}

export interface CocoDoc {
  kind: 'coco';
  image: string;
  file: string;
  file_name: string;
  /** Words of each caption, in annotation-id order. */
  captions: string[][];
  fileSplit: string;
}

export interface VisualSources {
  visdial: VisDialFile[];
  coco: CocoFile[];
  dialogs: DialogDoc[];
  cocoImages: CocoDoc[];
  diagnostics: VisualDiagnostics;
  inputs: { file: string; sha256: string; bytes: number; kind: 'visdial' | 'coco' }[];
  compounds: number;
}

/** The phrase list of --compounds: "cdi" (CDI multi-word forms), "none", or a file (one phrase per line). */
export function compoundPhrases(value: string, cdiPath: string): string[] {
  if (value === 'none' || value === '') return [];
  if (value === 'cdi') {
    let path = cdiPath;
    if (!existsSync(path) && !isAbsolute(path) && existsSync(join(packageRoot, path))) path = join(packageRoot, path);
    if (!existsSync(path)) return []; // no CDI list: no compounds (targets "cdi" will report the missing file)
    return readCdi(path)
      .map((i) => i.word)
      .filter((w) => w.includes('_'));
  }
  if (!existsSync(value)) throw new UserError(`--compounds ${value}: no such file (use "cdi", "none" or a file with one phrase per line)`);
  return readFileSync(value, 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter(Boolean);
}

/** Split named by a file: the VisDial "split" field, else train/val/test in the file name. */
export function fileSplitName(split: string, file: string): string {
  const s = `${split} ${file.split(/[/:]/).pop() ?? ''}`.toLowerCase();
  if (/train/.test(s)) return 'train';
  if (/val/.test(s)) return 'val';
  if (/test/.test(s)) return 'test';
  return '';
}

/** Reads and tokenises every input. Throws UserError when there is no input or a file is malformed. */
export function readVisualSources(opts: { visdial: string[]; coco: string[]; compounds: string; cdi: string }): VisualSources {
  if (!opts.visdial.length && !opts.coco.length) throw new UserError('no input: pass --visdial PATH (VisDial v1.0 JSON) and/or --coco PATH (COCO caption JSON)');
  const diags = new VisualDiagnostics();
  const joiner = new CompoundJoiner(compoundPhrases(opts.compounds, opts.cdi));
  const words = (text: string, file: string, record: string): string[] => {
    const w = textWords(text, joiner);
    if (!w.length && text.trim()) diags.report(file, record, 'empty-text', `no words in ${JSON.stringify(text.slice(0, 60))}`);
    return w;
  };
  const inputs: VisualSources['inputs'] = [];
  const visdial: VisDialFile[] = [];
  const coco: CocoFile[] = [];
  if (opts.visdial.length) {
    for (const input of readJsonInputs(opts.visdial, 'VisDial', (n) => /visdial|dialog/i.test(n) || !/caption|instances|person_keypoints/i.test(n))) {
      if (!looksLikeVisDial(input.value)) {
        if (looksLikeCoco(input.value)) throw new UserError(`${input.path} is a COCO annotation file, not VisDial: pass it with --coco`);
      }
      visdial.push(readVisDial(input, diags));
      inputs.push({ file: input.path, sha256: input.sha256, bytes: input.bytes, kind: 'visdial' });
    }
  }
  if (opts.coco.length) {
    for (const input of readJsonInputs(opts.coco, 'COCO', (n) => /caption/i.test(n))) {
      if (looksLikeVisDial(input.value)) throw new UserError(`${input.path} is a VisDial file, not COCO captions: pass it with --visdial`);
      coco.push(readCoco(input, diags));
      inputs.push({ file: input.path, sha256: input.sha256, bytes: input.bytes, kind: 'coco' });
    }
  }

  // Dialogs, with exact duplicates (e.g. the same dialog in two files) removed.
  const dialogs: DialogDoc[] = [];
  const seen = new Map<string, { sig: string; where: string }[]>();
  for (const f of visdial) {
    for (const d of f.dialogs) {
      const sig = JSON.stringify([d.caption, d.rounds]);
      const where = `${d.file} data.dialogs[${d.index}]`;
      const prev = seen.get(d.image) ?? [];
      const same = prev.find((p) => p.sig === sig);
      if (same) {
        diags.report(d.file, `data.dialogs[${d.index}]`, 'duplicate-dialog', `image ${d.image}: same dialog as ${same.where}; skipped`);
        continue;
      }
      if (prev.length) diags.report(d.file, `data.dialogs[${d.index}]`, 'conflicting-dialog', `image ${d.image} already has a different dialog (${prev[0]!.where}); both kept`);
      prev.push({ sig, where });
      seen.set(d.image, prev);
      const rec = `data.dialogs[${d.index}]`;
      dialogs.push({
        kind: 'visdial',
        image: d.image,
        file: d.file,
        index: d.index,
        fileSplit: fileSplitName(d.split, d.file),
        caption: words(d.caption, d.file, `${rec}.caption`),
        rounds: d.rounds.map((r, k) => ({
          question: words(r.question, d.file, `${rec}.dialog[${k}].question`),
          answer: r.answer === null ? null : words(r.answer, d.file, `${rec}.dialog[${k}].answer`),
        })),
      });
    }
  }
  // COCO images with captions; an image listed in two files keeps the first file's captions.
  const cocoImages: CocoDoc[] = [];
  const seenImages = new Set<string>();
  for (const f of coco) {
    for (const im of f.images) {
      if (seenImages.has(im.image)) continue;
      seenImages.add(im.image);
      cocoImages.push({
        kind: 'coco',
        image: im.image,
        file: f.file,
        file_name: im.file_name,
        captions: im.captions.map((c, k) => words(c, f.file, `image ${im.image} caption ${k}`)),
        fileSplit: fileSplitName('', f.file),
      });
    }
  }
  return { visdial, coco, dialogs, cocoImages, diagnostics: diags, inputs, compounds: joiner.size };
}
