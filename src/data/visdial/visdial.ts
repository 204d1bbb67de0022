/**
 * The official VisDial v1.0 JSON (Das et al. 2017), as downloaded for train, val and test:
 *
 *   { "version": "1.0", "split": "train" | "val2018" | "test2018",
 *     "data": { "questions": [string], "answers": [string],
 *               "dialogs": [ { "image_id": int, "caption": string,
 *                              "dialog": [ { "question": int, "answer": int,
 *                                            "answer_options"?: [int × 100], "gt_index"?: int } ] } ] } }
 *
 * Question and answer fields index data.questions / data.answers. Test dialogs stop at a round
 * with a question and answer_options but no answer. The reader also accepts question/answer given
 * as strings (some community re-exports inline them). The file structure must be right (else a
 * UserError names the file and the JSON path); a bad dialog or round is a diagnostic and that
 * dialog is skipped.
 */
import { UserError } from '../../util/errors.js';
import type { VisualDiagnostics } from './diagnostics.js';
import type { JsonInput } from './json-input.js';

export interface VisDialRound {
  question: string;
  /** null when the round has no answer (last round of a test dialog). */
  answer: string | null;
}

export interface VisDialDialog {
  /** Image id as a string (VisDial ids are integers; COCO ids for train, Flickr-based for val/test). */
  image: string;
  caption: string;
  rounds: VisDialRound[];
  /** Display path of the file and index of the dialog in data.dialogs. */
  file: string;
  index: number;
  /** The file's "split" field ("train", "val2018", "test2018", or "" when absent). */
  split: string;
}

export interface VisDialFile {
  file: string;
  sha256: string;
  version: string;
  split: string;
  questions: number;
  answers: number;
  /** Records in data.dialogs (before skipping malformed ones). */
  records: number;
  dialogs: VisDialDialog[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Does this JSON look like a VisDial file (used to tell VisDial from COCO inputs in a directory)? */
export function looksLikeVisDial(v: unknown): boolean {
  return isObj(v) && isObj(v.data) && Array.isArray((v.data as Record<string, unknown>).dialogs);
}

function stringArray(v: unknown, file: string, path: string): string[] {
  if (!Array.isArray(v)) throw new UserError(`${file}: ${path} must be an array of strings (is this the official VisDial v1.0 JSON?)`);
  const bad = v.findIndex((s) => typeof s !== 'string');
  if (bad >= 0) throw new UserError(`${file}: ${path}[${bad}] is ${JSON.stringify(v[bad])?.slice(0, 40)}, not a string`);
  return v as string[];
}

/** Reads one parsed VisDial file. */
export function readVisDial(input: JsonInput, diags: VisualDiagnostics): VisDialFile {
  const file = input.path;
  const root = input.value;
  if (!isObj(root)) throw new UserError(`${file}: expected a JSON object with "data": {questions, answers, dialogs} (the official VisDial v1.0 layout)`);
  if (!isObj(root.data)) throw new UserError(`${file}: "data" is missing or not an object; expected data.questions, data.answers and data.dialogs (the official VisDial v1.0 layout)`);
  const data = root.data;
  const questions = stringArray(data.questions, file, 'data.questions');
  const answers = stringArray(data.answers, file, 'data.answers');
  if (!Array.isArray(data.dialogs)) throw new UserError(`${file}: data.dialogs must be an array of dialogs`);
  const split = typeof root.split === 'string' ? root.split : '';
  const version = typeof root.version === 'string' || typeof root.version === 'number' ? String(root.version) : '';

  const text = (ref: unknown, table: string[], what: 'question' | 'answer', record: string): string | undefined => {
    if (typeof ref === 'string') return ref;
    if (typeof ref === 'number' && Number.isInteger(ref) && ref >= 0 && ref < table.length) return table[ref];
    diags.report(file, record, 'malformed-round', `${what} ${JSON.stringify(ref)?.slice(0, 40)} is not an index into data.${what}s (0..${table.length - 1}) or a string`);
    return undefined;
  };

  const dialogs: VisDialDialog[] = [];
  data.dialogs.forEach((d: unknown, index: number) => {
    const rec = `data.dialogs[${index}]`;
    if (!isObj(d)) return diags.report(file, rec, 'malformed-dialog', 'not an object');
    const id = d.image_id;
    if (!((typeof id === 'number' && Number.isFinite(id)) || (typeof id === 'string' && id !== ''))) {
      return diags.report(file, `${rec}.image_id`, 'malformed-dialog', `image_id ${JSON.stringify(id)} is not a number or a non-empty string`);
    }
    if (typeof d.caption !== 'string') return diags.report(file, `${rec}.caption`, 'malformed-dialog', 'caption is missing or not a string');
    if (!Array.isArray(d.dialog)) return diags.report(file, `${rec}.dialog`, 'malformed-dialog', 'dialog is missing or not an array of rounds');
    const rounds: VisDialRound[] = [];
    for (const [r, round] of d.dialog.entries()) {
      const rr = `${rec}.dialog[${r}]`;
      if (!isObj(round)) return diags.report(file, rr, 'malformed-round', 'round is not an object');
      const q = text(round.question, questions, 'question', `${rr}.question`);
      if (q === undefined) return;
      let a: string | null = null;
      if (round.answer === undefined || round.answer === null) {
        diags.report(file, rr, 'round-without-answer', 'round has a question and no answer');
      } else {
        const t = text(round.answer, answers, 'answer', `${rr}.answer`);
        if (t === undefined) return;
        a = t;
      }
      rounds.push({ question: q, answer: a });
    }
    dialogs.push({ image: String(id), caption: d.caption, rounds, file, index, split });
  });
  return { file, sha256: input.sha256, version, split, questions: questions.length, answers: answers.length, records: data.dialogs.length, dialogs };
}
