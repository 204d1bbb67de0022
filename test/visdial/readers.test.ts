import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../helpers/shared-data.js';
import { readCoco } from '../../src/data/visdial/coco.js';
import { VisualDiagnostics } from '../../src/data/visdial/diagnostics.js';
import { readJsonInputs } from '../../src/data/visdial/json-input.js';
import { fileSplitName, readVisualSources } from '../../src/data/visdial/sources.js';
import { CompoundJoiner, textWords } from '../../src/data/visdial/text.js';
import { readVisDial } from '../../src/data/visdial/visdial.js';

const DATA = sharedData();
const VISDIAL = sharedData('visdial');
const COCO = sharedData('coco');
const raw = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'gl-visdial-read-'));
}

function writeJson(dir: string, name: string, v: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(v));
  return p;
}

describe('text', () => {
  it('lowercases, splits on punctuation, keeps inner apostrophes and hyphens', () => {
    expect(textWords('A man, riding a T-shirt-clad horse. Don\'t!')).toEqual(['a', 'man', 'riding', 'a', 't-shirt-clad', 'horse', "don't"]);
    expect(textWords("'quoted' -- 3:30 pm")).toEqual(['quoted', '3', '30', 'pm']);
    expect(textWords('  ')).toEqual([]);
  });

  it('joins listed compounds, longest first', () => {
    const j = new CompoundJoiner(['teddy bear', 'high_chair', 'ice cream', 'ice cream cone']);
    expect(textWords('A teddy bear in a high chair eats ice cream cone and ice cream', j)).toEqual(['a', 'teddy_bear', 'in', 'a', 'high_chair', 'eats', 'ice_cream_cone', 'and', 'ice_cream']);
    expect(textWords('a bear', j)).toEqual(['a', 'bear']);
  });
});

describe('VisDial reader', () => {
  it('reads both shared files with every dialog, round, question and answer (independent count)', () => {
    const d = new VisualDiagnostics();
    for (const input of readJsonInputs([VISDIAL], 'VisDial')) {
      const f = readVisDial(input, d);
      const j = raw(join(DATA, input.path));
      expect(f.version).toBe('1.0');
      expect(f.split).toBe('val2018');
      expect(f.questions).toBe(j.data.questions.length);
      expect(f.answers).toBe(j.data.answers.length);
      expect(f.dialogs.length).toBe(j.data.dialogs.length);
      for (const [k, dialog] of f.dialogs.entries()) {
        const src = j.data.dialogs[k];
        expect(dialog.image).toBe(String(src.image_id));
        expect(dialog.caption).toBe(src.caption);
        expect(dialog.rounds.length).toBe(src.dialog.length);
        expect(dialog.rounds.map((r) => r.question)).toEqual(src.dialog.map((r: { question: number }) => j.data.questions[r.question]));
        expect(dialog.rounds.map((r) => r.answer)).toEqual(src.dialog.map((r: { answer: number }) => j.data.answers[r.answer]));
      }
    }
    expect(d.items).toEqual([]);
  });

  it('drops exact duplicate dialogs across files (8 images are in both shared files)', () => {
    const s = readVisualSources({ visdial: [VISDIAL], coco: [], compounds: 'none', cdi: '' });
    const a = raw(join(VISDIAL, 'visdial_1.0_val_crowdsourced.json')).data.dialogs;
    const b = raw(join(VISDIAL, 'visdial_1.0_val_vispro.json')).data.dialogs;
    const images = new Set([...a, ...b].map((x: { image_id: number }) => x.image_id));
    expect(a.length + b.length).toBe(173);
    expect(s.dialogs.length).toBe(images.size);
    expect(s.dialogs.length).toBe(165);
    expect(s.diagnostics.items.filter((x) => x.code === 'duplicate-dialog').length).toBe(173 - 165);
  });

  it('accepts string rounds and test-style rounds without answers; skips malformed dialogs with diagnostics', () => {
    const dir = tmp();
    const p = writeJson(dir, 'visdial_1.0_test.json', {
      version: '1.0',
      split: 'test2018',
      data: {
        questions: ['is it sunny', 'what color is the dog'],
        answers: ['yes', 'brown'],
        dialogs: [
          { image_id: 1, caption: 'a dog on a beach', dialog: [{ question: 0, answer: 0 }, { question: 1, answer_options: [0, 1] }] },
          { image_id: 2, caption: 'a cat', dialog: [{ question: 'is the cat black', answer: 'no' }] },
          { image_id: 3, caption: 'x', dialog: [{ question: 7, answer: 0 }] },
          { image_id: 4, dialog: [] },
          'nonsense',
        ],
      },
    });
    const d = new VisualDiagnostics();
    const [input] = readJsonInputs([p], 'VisDial');
    const f = readVisDial(input!, d);
    expect(f.dialogs.map((x) => x.image)).toEqual(['1', '2']);
    expect(f.dialogs[0]!.rounds).toEqual([{ question: 'is it sunny', answer: 'yes' }, { question: 'what color is the dog', answer: null }]);
    expect(f.dialogs[1]!.rounds).toEqual([{ question: 'is the cat black', answer: 'no' }]);
    expect(d.items.map((x) => [x.code, x.record])).toEqual([
      ['round-without-answer', 'data.dialogs[0].dialog[1]'],
      ['malformed-round', 'data.dialogs[2].dialog[0].question'],
      ['malformed-dialog', 'data.dialogs[3].caption'],
      ['malformed-dialog', 'data.dialogs[4]'],
    ]);
    expect(fileSplitName(f.split, f.file)).toBe('test');
  });

  it('gives clear errors for files that are not VisDial', () => {
    const dir = tmp();
    const d = new VisualDiagnostics();
    const read = (v: unknown) => readVisDial(readJsonInputs([writeJson(dir, `f${Math.random()}.json`, v)], 'VisDial')[0]!, d);
    expect(() => read([1, 2])).toThrow(/expected a JSON object with "data"/);
    expect(() => read({ data: { questions: [], answers: [] } })).toThrow(/data\.dialogs must be an array/);
    expect(() => read({ data: { questions: ['a', 3], answers: [], dialogs: [] } })).toThrow(/data\.questions\[1\] is 3, not a string/);
    writeFileSync(join(dir, 'broken.json'), '{"data": ');
    expect(() => readJsonInputs([join(dir, 'broken.json')], 'VisDial')).toThrow(/broken\.json: not valid JSON/);
    expect(() => readVisualSources({ visdial: [join(COCO, 'captions_val2017.json')], coco: [], compounds: 'none', cdi: '' })).toThrow(/is a COCO annotation file, not VisDial: pass it with --coco/);
    expect(() => readVisualSources({ visdial: [], coco: [], compounds: 'none', cdi: '' })).toThrow(/no input/);
  });

  it('reads VisDial files inside a .zip archive as downloaded', () => {
    const dir = tmp();
    const bytes = readFileSync(join(VISDIAL, 'visdial_1.0_val_vispro.json'));
    writeFileSync(join(dir, 'visdial_1.0_val.zip'), zipSync({ 'visdial_1.0_val.json': bytes, '__MACOSX/._visdial_1.0_val.json': new Uint8Array(3) }));
    const inputs = readJsonInputs([join(dir, 'visdial_1.0_val.zip')], 'VisDial');
    expect(inputs.map((i) => i.path)).toEqual(['visdial_1.0_val.zip:visdial_1.0_val.json']);
    const f = readVisDial(inputs[0]!, new VisualDiagnostics());
    expect(f.dialogs.length).toBe(76);
  });
});

describe('COCO reader', () => {
  it('reads every caption, grouped by image and ordered by annotation id (independent count)', () => {
    const d = new VisualDiagnostics();
    let images = 0;
    let captions = 0;
    for (const input of readJsonInputs([COCO], 'COCO', (n) => /caption/.test(n))) {
      const f = readCoco(input, d);
      const j = raw(join(DATA, input.path));
      const byImage = new Map<number, { id: number; caption: string }[]>();
      for (const a of j.annotations) byImage.set(a.image_id, [...(byImage.get(a.image_id) ?? []), a]);
      expect(f.images.length).toBe(byImage.size);
      for (const im of f.images) {
        const want = byImage.get(Number(im.image))!.sort((x, y) => x.id - y.id).map((x) => x.caption);
        expect(im.captions).toEqual(want);
        expect(im.file_name).toBe(j.images.find((x: { id: number }) => x.id === Number(im.image)).file_name);
      }
      images += f.images.length;
      captions += f.images.reduce((a, im) => a + im.captions.length, 0);
    }
    expect(images).toBe(159);
    expect(captions).toBe(795);
    expect(d.items).toEqual([]);
  });

  it('reports malformed annotations and captions of unlisted images', () => {
    const dir = tmp();
    const p = writeJson(dir, 'captions_x.json', { images: [{ id: 5, file_name: '5.jpg' }], annotations: [{ id: 2, image_id: 5, caption: 'b' }, { id: 1, image_id: 5, caption: 'a' }, { id: 3, image_id: 6, caption: 'c' }, { id: 4, caption: 7 }] });
    const d = new VisualDiagnostics();
    const f = readCoco(readJsonInputs([p], 'COCO')[0]!, d);
    expect(f.images.map((i) => [i.image, i.captions])).toEqual([['5', ['a', 'b']], ['6', ['c']]]);
    expect(d.items.map((x) => x.code)).toEqual(['caption-without-image', 'malformed-caption']);
    expect(() => readCoco(readJsonInputs([writeJson(dir, 'captions_y.json', { images: [] })], 'COCO')[0]!, d)).toThrow(/expected a COCO captions JSON object/);
  });
});
