/** `reproduce --visdial`: both settings as studies, saliency tables, and the report's visual-dialog section. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeStudyReport } from '../../src/report/study-report.js';
import { readJson } from '../../src/util/files.js';
import { reproduceVisual } from '../../src/study/visual-study.js';
import { COCO, informativeFeatures, VISDIAL } from './helpers.js';

describe('reproduceVisual', () => {
  it('trains and evaluates both settings, measures saliency, writes one report with the visual-dialog section, and resumes', async () => {
    const w = mkdtempSync(join(tmpdir(), 'gl-visdial-study-'));
    informativeFeatures(join(w, 'features.safetensors'));
    const out = join(w, 'study');
    const opts = {
      visdial: [VISDIAL],
      coco: [COCO],
      images: [],
      features: join(w, 'features.safetensors'),
      out,
      preset: 'tiny',
      labels: ['gpt2'],
      quiet: true,
      log: () => {},
      writeReport: async (dir: string) => (await writeStudyReport(dir)).path,
    };
    const r = await reproduceVisual(opts);
    expect(r.image).not.toBeNull();
    for (const dir of [out, join(out, 'image')]) {
      expect(readJson<{ preset: string }>(join(dir, 'study.json')).preset).toBe('tiny');
      expect(existsSync(join(dir, 'runs', 'gpt2-s42', 'eval', 'grounding_summary.csv'))).toBe(true);
      const sal = readFileSync(join(dir, 'eval', 'visual_saliency.csv'), 'utf8').trim().split('\n');
      expect(sal[0]).toBe('setting,label,arch,seed,step,layer,unit,head,env_share,env_flow,n_items');
      expect(sal.slice(1).map((l) => l.split(',').slice(5, 8).join(','))).toEqual(['1,layer,', '1,head,1', '1,head,2', '2,layer,', '2,head,1', '2,head,2']);
      expect(sal.length).toBe(1 + 2 * 3); // 2 layers × (2 heads + the layer flow)
      const iv = readFileSync(join(dir, 'eval', 'visual_intervention.csv'), 'utf8').trim().split('\n');
      expect(iv.length).toBe(1 + 2); // gpt2: threshold:0.3 and top:1
      expect(readJson<{ runs: { saliency_reused: boolean }[] }>(join(dir, 'eval', 'visual_intervention.json')).runs.map((x) => x.saliency_reused)).toEqual([true]);
    }
    expect(readJson<{ settings: Record<string, string | null> }>(join(out, 'visual.json')).settings).toEqual({ caption: '.', image: 'image' });
    expect(r.caption.headline[0]!.label).toBe('gpt2');
    expect(r.image!.headline[0]!.label).toBe('gpt2');
    const html = readFileSync(r.report!, 'utf8');
    expect(html).toContain('Visual dialog: caption- and image-grounded settings');
    expect(html).toContain('image-grounded');
    expect(html).toContain('Image-grounded: matched vs mismatched image');
    expect(html).toContain('Where the environment enters');
    expect(html).toContain('Aggregate heads at the last checkpoint');
    // Re-running finds everything done: no run is trained again, no checkpoint evaluated again.
    const finished = (dir: string) => readJson<{ status: string; finished_at: string }>(join(dir, 'runs', 'gpt2-s42', 'manifest.json'));
    const before = [finished(out), finished(join(out, 'image'))];
    const evals = readFileSync(join(out, 'image', 'runs', 'gpt2-s42', 'eval', 'grounding_manifest.json'), 'utf8');
    await reproduceVisual(opts);
    expect([finished(out), finished(join(out, 'image'))]).toEqual(before);
    expect(before.every((m) => m.status === 'complete')).toBe(true);
    expect(readFileSync(join(out, 'image', 'runs', 'gpt2-s42', 'eval', 'grounding_manifest.json'), 'utf8')).toBe(evals);
  });
});
