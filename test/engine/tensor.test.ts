import { describe, expect, it } from 'vitest';
import * as E from '../../src/engine/index.js';

describe('tensors, scopes and the pool', () => {
  it('tidy releases what it created except the returned tensors', () => {
    let inner!: E.Tensor;
    const kept = E.tidy(() => {
      inner = E.tensor([1, 2, 3]);
      return E.scale(inner, 2);
    });
    expect(inner.isDisposed).toBe(true);
    expect(kept.isDisposed).toBe(false);
    expect(Array.from(kept.data)).toEqual([2, 4, 6]);
    kept.dispose();
    expect(() => E.scale(kept, 1)).toThrow(/already released/);
  });

  it('nested scopes hand returned tensors to the parent scope', () => {
    let mid!: E.Tensor;
    E.tidy(() => {
      mid = E.tidy(() => E.tensor([5]));
      expect(mid.isDisposed).toBe(false);
    });
    expect(mid.isDisposed).toBe(true);
  });

  it('keep() survives the scope; views keep storage alive until the last one is released', () => {
    const t = E.tidy(() => E.keep(E.tensor([1, 2, 3, 4])));
    expect(t.isDisposed).toBe(false);
    const v = E.viewOf(t, [2, 2]);
    t.dispose();
    expect(Array.from(v.data)).toEqual([1, 2, 3, 4]);
    v.dispose();
  });

  it('released buffers are reused by the next allocation of the same size', () => {
    const a = E.tidy(() => E.keep(E.empty([1234])));
    const buf = a.data;
    a.dispose();
    const b = E.tidy(() => E.keep(E.empty([1234])));
    expect(b.data).toBe(buf);
    b.dispose();
  });

  it('an exception inside tidy releases everything', () => {
    let t!: E.Tensor;
    expect(() =>
      E.tidy(() => {
        t = E.tensor([1]);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(t.isDisposed).toBe(true);
  });
});

describe('autograd', () => {
  it('accumulates gradients over repeated uses and into leaves', () => {
    const x = E.variable(E.keep(E.tensor([1, 2, 3])));
    E.tidy(() => E.backward(E.sum(E.add(E.mul(x, x), x)))); // d/dx (x² + x) = 2x + 1
    expect(Array.from(x.grad!.data)).toEqual([3, 5, 7]);
    E.tidy(() => E.backward(E.sum(x)));
    expect(Array.from(x.grad!.data)).toEqual([4, 6, 8]);
  });

  it('noGrad records nothing', () => {
    const x = E.variable(E.keep(E.tensor([1, 2])));
    const y = E.noGrad(() => E.tidy(() => E.keep(E.mul(x, x))));
    expect(y.requiresGrad).toBe(false);
    expect(() => E.backward(y)).toThrow(/does not require grad/);
  });

  it('retains intermediate gradients on request', () => {
    const x = E.variable(E.keep(E.tensor([1, 2])));
    E.tidy(() => {
      const h = E.scale(x, 3);
      const g = E.backward(E.sum(E.square(h)), undefined, [h]);
      expect(Array.from(g.get(h)!.data)).toEqual([6, 12]);
    });
  });

  it('profileOps reports forward and backward time per op', () => {
    const x = E.variable(E.keep(E.tensor([1, 2])));
    const prof = E.profileOps(() => E.tidy(() => E.backward(E.sum(E.exp(x)))));
    const names = prof.map((p) => p.op);
    expect(names).toEqual(expect.arrayContaining(['exp', 'sum', 'exp.backward', 'sum.backward']));
  });
});
