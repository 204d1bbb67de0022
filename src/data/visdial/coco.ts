/**
 * COCO caption annotations (captions_train2017.json, captions_val2017.json, or the 2014 files):
 *
 *   { "images": [ { "id": int, "file_name": "000000000790.jpg", ... } ],
 *     "annotations": [ { "id": int, "image_id": int, "caption": string } ], "info", "licenses" }
 *
 * The structure must be right (else a UserError names the file); a bad annotation is a diagnostic.
 * Captions of an image are ordered by annotation id (then by position), so "the first caption" is
 * well defined and independent of file order.
 */
import { UserError } from '../../util/errors.js';
import type { VisualDiagnostics } from './diagnostics.js';
import type { JsonInput } from './json-input.js';

export interface CocoImage {
  /** Image id as a string. */
  image: string;
  file_name: string;
  /** Captions ordered by annotation id. */
  captions: string[];
  file: string;
}

export interface CocoFile {
  file: string;
  sha256: string;
  /** Records in "annotations". */
  records: number;
  /** Images listed in "images" (with or without captions), by id. */
  listed: number;
  /** Images with at least one caption, ordered by numeric id. */
  images: CocoImage[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function looksLikeCoco(v: unknown): boolean {
  return isObj(v) && Array.isArray(v.annotations) && Array.isArray(v.images);
}

const byId = (a: string, b: string): number => {
  const na = Number(a);
  const nb = Number(b);
  return Number.isFinite(na) && Number.isFinite(nb) ? na - nb : a < b ? -1 : a > b ? 1 : 0;
};

export function readCoco(input: JsonInput, diags: VisualDiagnostics): CocoFile {
  const file = input.path;
  const root = input.value;
  if (!isObj(root) || !Array.isArray(root.annotations)) {
    throw new UserError(`${file}: expected a COCO captions JSON object with "annotations": [{image_id, id, caption}] and "images": [{id, file_name}]`);
  }
  const names = new Map<string, string>();
  if (Array.isArray(root.images)) {
    root.images.forEach((im: unknown) => {
      if (isObj(im) && (typeof im.id === 'number' || typeof im.id === 'string')) names.set(String(im.id), typeof im.file_name === 'string' ? im.file_name : '');
    });
  }
  const caps = new Map<string, { id: number; pos: number; caption: string }[]>();
  root.annotations.forEach((a: unknown, pos: number) => {
    const rec = `annotations[${pos}]`;
    if (!isObj(a) || !(typeof a.image_id === 'number' || typeof a.image_id === 'string') || typeof a.caption !== 'string') {
      return diags.report(file, rec, 'malformed-caption', 'expected {image_id, caption} with a numeric image_id and a string caption');
    }
    const image = String(a.image_id);
    if (!names.has(image)) diags.report(file, rec, 'caption-without-image', `image_id ${image} is not in "images"`);
    const list = caps.get(image) ?? [];
    list.push({ id: typeof a.id === 'number' ? a.id : Number.POSITIVE_INFINITY, pos, caption: a.caption });
    caps.set(image, list);
  });
  const images: CocoImage[] = [...caps.keys()].sort(byId).map((image) => ({
    image,
    file_name: names.get(image) ?? '',
    captions: caps
      .get(image)!
      .sort((x, y) => x.id - y.id || x.pos - y.pos)
      .map((c) => c.caption),
    file,
  }));
  return { file, sha256: input.sha256, records: root.annotations.length, listed: names.size, images };
}
