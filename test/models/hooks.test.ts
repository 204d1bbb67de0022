/**
 * The public hook vocabulary, frozen: the names every architecture emits (users write them in
 * withHooks), the model-owned maps (model.hooks, archEntry(arch).hooks) agreeing with what a
 * forward pass reaches, the roles analyses ask for, and README's table generated from the maps.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as E from '../../src/engine/index.js';
import { Rng } from '../../src/util/rng.js';
import { archEntry, availableArchs, createModel, hookNames, hookTable, HookPattern, HOOK_NAMES, type LanguageModel } from '../../src/models/index.js';

// Frozen public names per architecture ({l}: block index). Changing this list breaks users' code:
// rename only by keeping the old name as an alias the model still emits, with a note in `about`.
const FROZEN: Record<string, string[]> = {
  gpt2: [
    'hook_embed',
    'blocks.{l}.hook_resid_pre',
    'blocks.{l}.attn.pattern',
    'blocks.{l}.attn.z',
    'blocks.{l}.hook_attn_out',
    'blocks.{l}.hook_resid_mid',
    'blocks.{l}.hook_mlp_out',
    'blocks.{l}.hook_resid_post',
    'ln_final.out',
    'logits',
  ],
  mamba2: [
    'hook_embed',
    'blocks.{l}.hook_resid_pre',
    'blocks.{l}.mixer.B',
    'blocks.{l}.mixer.C',
    'blocks.{l}.mixer.dt',
    'blocks.{l}.mixer.pattern',
    'blocks.{l}.mixer.y',
    'blocks.{l}.mixer.z',
    'blocks.{l}.hook_mixer_out',
    'blocks.{l}.hook_resid_post',
    'ln_final.out',
    'logits',
  ],
  lstm: [
    'hook_embed',
    'blocks.{l}.hook_resid_pre',
    'blocks.{l}.lstm.h',
    'blocks.{l}.lstm.c',
    'blocks.{l}.hook_resid_post',
    'proj.out',
    'ln_final.out', // alias of proj.out (the name before the hook maps; the LSTM has no final norm)
    'logits',
  ],
};

const TINY: Record<string, Record<string, number>> = {
  gpt2: { vocab_size: 11, n_positions: 16, n_embd: 8, n_layer: 2, n_head: 2 },
  mamba2: { vocab_size: 11, hidden_size: 8, num_hidden_layers: 2, state_size: 4, expand: 2, head_dim: 4, chunk_size: 4 },
  lstm: { vocab_size: 11, embedding_size: 8, hidden_size: 10, num_layers: 2 },
};

function tiny(arch: string): LanguageModel {
  const m = createModel(arch as never, TINY[arch]!);
  m.params.initialize(new Rng(1));
  return m;
}

function reached(m: LanguageModel): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const ids = Int32Array.from({ length: 2 * 6 }, (_, i) => (i * 7) % 11);
  E.noGrad(() => E.tidy(() => E.withHooks([{ name: () => true, forward: (t, n) => void shapes.set(n, [...t.shape]) }], () => void m.forward({ ids, batch: 2, seq: 6 }), { strict: false })));
  return shapes;
}

describe('hook vocabulary', () => {
  it('covers exactly the registered architectures', () => {
    expect(availableArchs().sort()).toEqual(Object.keys(FROZEN).sort());
  });

  for (const arch of Object.keys(FROZEN)) {
    describe(arch, () => {
      it('emits exactly the frozen public names, and its map lists exactly those', () => {
        const m = tiny(arch);
        const names = [...reached(m).keys()];
        const expected = [0, 1].flatMap((l) => FROZEN[arch]!.filter((n) => n.includes('{l}')).map((n) => n.replace('{l}', String(l))));
        const outside = FROZEN[arch]!.filter((n) => !n.includes('{l}'));
        expect(new Set(names)).toEqual(new Set([...outside, ...expected]));
        expect(new Set(hookNames(m.hooks, m.nLayers))).toEqual(new Set(names));
        expect(m.hooks).toBe(archEntry(m.arch).hooks);
      });

      it('each pattern is spelled in HOOK_NAMES, matches its own names and gives their block', () => {
        const m = tiny(arch);
        const all = Object.values(HOOK_NAMES) as string[];
        for (const p of m.hooks.points) {
          expect(p).toBeInstanceOf(HookPattern);
          expect(all).toContain(p.pattern);
          for (const a of p.aliases) expect(all).toContain(a);
          expect(p.about.length).toBeGreaterThan(10);
          if (p.perLayer) {
            expect(p.match(p.at(1))).toBe(1);
            expect(() => p.at()).toThrow(/block index/);
          } else {
            expect(p.match(p.at())).toBeNull();
          }
          expect(p.match(`${p.at(p.perLayer ? 0 : undefined)}.x`)).toBeUndefined();
        }
        // Every role is one of the listed points.
        for (const role of ['embed', 'residPre', 'residPost', 'mixerOut', 'pattern', 'headOut', 'finalOut', 'logits'] as const) {
          const p = m.hooks[role];
          if (p) expect(m.hooks.points).toContain(p);
        }
      });

      it('roles have the shapes analyses rely on', () => {
        const m = tiny(arch);
        const shapes = reached(m);
        const B = 2;
        const T = 6;
        expect(shapes.get(m.hooks.logits.at())).toEqual([B, T, 11]);
        expect(shapes.get(m.hooks.residPost.at(1))!.slice(0, 2)).toEqual([B, T]);
        if (m.hooks.pattern) expect(shapes.get(m.hooks.pattern.at(0))).toEqual([B, m.nHeads, T, T]);
        if (m.hooks.headOut) expect(shapes.get(m.hooks.headOut.at(0))!.slice(0, 3)).toEqual([B, T, m.nHeads]);
        expect(m.nHeads > 0).toBe(m.hooks.headOut !== null);
      });
    });
  }

  it('the LSTM alias ln_final.out carries the same tensor as proj.out', () => {
    const m = tiny('lstm');
    const seen = new Map<string, Float32Array>();
    const ids = Int32Array.from({ length: 6 }, (_, i) => i + 1);
    E.noGrad(() => E.tidy(() => E.withHooks([{ name: /^(proj|ln_final)\.out$/, forward: (t, n) => void seen.set(n, t.toFloat32Array()) }], () => void m.forward({ ids, batch: 1, seq: 6 }))));
    expect(Array.from(seen.get('ln_final.out')!)).toEqual(Array.from(seen.get('proj.out')!));
  });

  it("README's hook table is the one generated from the models (npx tsx scripts/hook-table.ts --write)", () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const start = readme.indexOf('<!-- hook-table:');
    const end = readme.indexOf('<!-- /hook-table -->');
    expect(start).toBeGreaterThanOrEqual(0);
    const body = readme.slice(readme.indexOf('\n', start) + 1, end).trim();
    expect(body).toBe(hookTable());
  });
});
