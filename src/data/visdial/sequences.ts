/**
 * Sequences of the visual-dialog corpora: one dialog (or one COCO image) = one document of the token
 * stream, with its split, its environment and its language lines, and the units over which the
 * co-occurrence statistics of SPEC §4 are counted.
 *
 * Caption-grounded (SPEC §7, first setting):
 *   VisDial  `<doc> <CAP> c1<ENV> … cn<ENV> <Q> q…<LAN> <A> a…<LAN> <Q> … <A> …`
 *   COCO     "describe" (default): `<doc> <CAP> first caption<ENV> <D> 2nd caption<LAN> <D> … 5th<LAN>`
 *            (another annotator's description of the same image is the language);
 *            "caption-only": `<doc> <CAP> caption 1<ENV> <CAP> caption 2<ENV> …` (no language).
 *   Unit: one sequence; ENV = its caption words, LAN = its language words.
 * Image-grounded (SPEC §7, second setting): the environment is the image (a feature prefix placed
 * before the tokens by the model), the tokens are language only:
 *   VisDial  `<doc> [<CAP> caption<LAN>] <Q> q…<LAN> <A> a…<LAN> …`
 *   COCO     `<doc> <D> caption 1<LAN> <D> caption 2<LAN> …`  (image-grounded captioning)
 *   Units, with an independent description of the image standing in for "v is in the scene":
 *   VisDial: one dialog, ENV = the caption words, LAN = the dialog words; COCO: one caption each,
 *   ENV = the words of the image's other captions, LAN = that caption's words.
 */
import { UserError } from '../../util/errors.js';
import { DOC, envToken, lanToken, speakerToken, SPLITS, type SplitName } from '../contract.js';
import { seededSplit } from '../corpus-common.js';
import type { Turn } from '../transcript.js';
import { ROLES } from './options.js';
import type { VisualSources } from './sources.js';

export interface LanLine {
  role: string;
  words: string[];
}

export interface VisualSeq {
  /** Stable id: "<file>#<n>" for a dialog (n = its index in data.dialogs), "<file>@<image>" for a COCO image. */
  key: string;
  source: 'visdial' | 'coco';
  image: string;
  file: string;
  /** JSON path of the record (dialog) or "image <id>". */
  record: string;
  /** Split named by the file (official split mode). */
  fileSplit: string;
  split: SplitName;
  /** ENV lines (caption setting): each is preceded by <CAP>. */
  env: string[][];
  lan: LanLine[];
  /** Co-occurrence units (see the module comment). */
  units: { env: string[]; lan: string[] }[];
}

const allWords = (lines: readonly LanLine[]): string[] => lines.flatMap((l) => l.words);

type Dialog = VisualSources['dialogs'][number];
type CocoImage = VisualSources['cocoImages'][number];
/** A sequence's identity and origin: every field but its tokens, units and split. */
type SeqOrigin = Pick<VisualSeq, 'key' | 'source' | 'image' | 'file' | 'record' | 'fileSplit'>;

function dialogOrigin(d: Dialog): SeqOrigin {
  return { key: `${d.file}#${d.index}`, source: 'visdial', image: d.image, file: d.file, record: `data.dialogs[${d.index}]`, fileSplit: d.fileSplit };
}

function cocoOrigin(im: CocoImage): SeqOrigin {
  return { key: `${im.file}@${im.image}`, source: 'coco', image: im.image, file: im.file, record: `image ${im.image}`, fileSplit: im.fileSplit };
}

function dialogLines(d: Dialog): LanLine[] {
  const out: LanLine[] = [];
  for (const r of d.rounds) {
    if (r.question.length) out.push({ role: ROLES.question, words: r.question });
    if (r.answer && r.answer.length) out.push({ role: ROLES.answer, words: r.answer });
  }
  return out;
}

/** Sequences of the caption-grounded corpus. */
export function captionSequences(src: VisualSources, cocoMode: 'describe' | 'caption-only'): Omit<VisualSeq, 'split'>[] {
  const seqs: Omit<VisualSeq, 'split'>[] = [];
  for (const d of src.dialogs) {
    const lan = dialogLines(d);
    seqs.push({
      ...dialogOrigin(d),
      env: d.caption.length ? [d.caption] : [],
      lan,
      units: [{ env: d.caption, lan: allWords(lan) }],
    });
  }
  for (const im of src.cocoImages) {
    const caps = im.captions.filter((c) => c.length);
    if (!caps.length) continue;
    const base = cocoOrigin(im);
    if (cocoMode === 'caption-only') {
      seqs.push({ ...base, env: caps, lan: [], units: [{ env: caps.flat(), lan: [] }] });
    } else {
      const lan = caps.slice(1).map((words) => ({ role: ROLES.description, words }));
      seqs.push({ ...base, env: [caps[0]!], lan, units: [{ env: caps[0]!, lan: allWords(lan) }] });
    }
  }
  return seqs;
}

/** Sequences of the image-grounded corpus (language only; the image is the prefix). */
export function imageSequences(src: VisualSources, opts: { includeCaption: boolean; cocoCaptioning: boolean }): Omit<VisualSeq, 'split'>[] {
  const seqs: Omit<VisualSeq, 'split'>[] = [];
  const dialogImages = new Set<string>();
  for (const d of src.dialogs) {
    dialogImages.add(d.image);
    const talk = dialogLines(d);
    const lan = opts.includeCaption && d.caption.length ? [{ role: ROLES.caption, words: d.caption }, ...talk] : talk;
    seqs.push({
      ...dialogOrigin(d),
      env: [],
      lan,
      units: [{ env: d.caption, lan: allWords(talk) }],
    });
  }
  if (opts.cocoCaptioning) {
    for (const im of src.cocoImages) {
      if (dialogImages.has(im.image)) continue; // the dialog is this image's sequence
      const caps = im.captions.filter((c) => c.length);
      if (!caps.length) continue;
      seqs.push({
        ...cocoOrigin(im),
        env: [],
        lan: caps.map((words) => ({ role: ROLES.description, words })),
        units: caps.map((c, k) => ({ env: caps.filter((_, j) => j !== k).flat(), lan: c })),
      });
    }
  }
  return seqs;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Assigns splits by image (all sequences of an image share a split): a seeded shuffle of the sorted
 * image ids cut by the fractions (a non-zero split that would be empty gets one image from 3 images
 * up; training keeps at least one), or each file's own split ("official"). Sequences come back
 * sorted by key within each split.
 */
export function assignSplits(seqs: Omit<VisualSeq, 'split'>[], mode: 'shuffle' | 'official', fractions: number[], seed: number): VisualSeq[] {
  let splitOf: (s: Omit<VisualSeq, 'split'>) => SplitName;
  if (mode === 'official') {
    const missing = seqs.find((s) => !['train', 'val', 'test'].includes(s.fileSplit));
    if (missing) throw new UserError(`--split_mode official: the split of ${missing.file} is unknown (no "split" field and no train/val/test in its name); use --split_mode shuffle`);
    splitOf = (s) => s.fileSplit as SplitName;
  } else {
    const parts = seededSplit([...new Set(seqs.map((s) => s.image))].sort(cmp), fractions, seed);
    const split = new Map<string, SplitName>();
    for (const sp of SPLITS) for (const im of parts[sp]) split.set(im, sp);
    splitOf = (s) => split.get(s.image)!;
  }
  const out = seqs.map((s) => ({ ...s, split: splitOf(s) }));
  return SPLITS.flatMap((sp) => out.filter((s) => s.split === sp).sort((a, b) => cmp(a.key, b.key)));
}

/** Token strings of a sequence in stream order, with the kind of each. */
export function sequenceTokens(s: VisualSeq, emit: (token: string, kind: 'doc' | 'role' | 'env' | 'lan') => void): void {
  emit(DOC, 'doc');
  for (const line of s.env) {
    emit(speakerToken(ROLES.caption), 'role');
    for (const w of line) emit(envToken(w), 'env');
  }
  for (const line of s.lan) {
    emit(speakerToken(line.role), 'role');
    for (const w of line.words) emit(lanToken(w), 'lan');
  }
}

/** The units as CHILDES-style turns, for countCooccurrence (targets.ts). */
export function unitTurns(seqs: readonly VisualSeq[]): Turn[] {
  const turns: Turn[] = [];
  for (const s of seqs) {
    for (const u of s.units) {
      turns.push({ speaker: '', line: 0, lan: u.lan, env: [{ tier: 'caption', scope: null, position: 'before', words: u.env, line: 0 }], actionOnly: false });
    }
  }
  return turns;
}
