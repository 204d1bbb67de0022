/**
 * Every registered op: gradient against finite differences, on the reference and the native
 * backend (the same specs run on both, tfjs-style), and forward agreement between the backends.
 * Specs live in ./op-specs/*.ts (one file per family of ops).
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as E from '../../src/engine/index.js';
import '../../src/models/index.js'; // registers the model-specific ops too
import { Rng } from '../../src/util/rng.js';
import { gradcheck } from './gradcheck.js';
import type { OpSpecs } from './op-specs/types.js';

const modules = import.meta.glob<{ specs: OpSpecs }>('./op-specs/*.ts', { eager: true });
const specs: OpSpecs = {};
for (const [file, mod] of Object.entries(modules)) {
  if (!mod.specs) continue;
  for (const [name, list] of Object.entries(mod.specs)) {
    if (name in specs) throw new Error(`op ${name} has specs in two files (${file})`);
    specs[name] = list;
  }
}

for (const backend of ['reference', 'native'] as const) {
  describe(`op gradients (${backend} backend)`, () => {
    E.useBackend(backend);
    afterAll(() => E.useBackend('native'));
    for (const [name, list] of Object.entries(specs)) {
      list.forEach((spec, i) => {
        it(`${name} #${i}`, () => {
          E.useBackend(backend);
          const { f, inputs } = spec.build(new Rng(1000 + i));
          gradcheck(f, inputs, spec.tol);
        });
      });
    }
  });
}

describe('op registry', () => {
  it('every registered op has a gradient check', () => {
    const missing = [...E.opRegistry.keys()].filter((n) => !(n in specs));
    expect(missing).toEqual([]);
  });

  it('native and reference forwards agree on every spec', () => {
    for (const [name, list] of Object.entries(specs)) {
      list.forEach((spec, i) => {
        const run = (b: 'native' | 'reference') => {
          E.useBackend(b);
          const { f, inputs } = spec.build(new Rng(2000 + i));
          return E.noGrad(() => E.tidy(() => f(...inputs).toFloat32Array()));
        };
        const a = run('reference');
        const b = run('native');
        E.useBackend('native');
        expect(b.length, name).toBe(a.length);
        for (let j = 0; j < a.length; j++) expect(Math.abs(a[j]! - b[j]!), `${name} #${i} [${j}]`).toBeLessThan(1e-4 + 1e-4 * Math.abs(a[j]!));
      });
    }
  });
});
