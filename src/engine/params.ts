/**
 * Parameters live in one flat Float32Array (and their gradients in another), each parameter a
 * named view. The optimizer, gradient clipping and checkpoint I/O then touch one buffer instead
 * of dozens, and the names are exactly the checkpoint's tensor names.
 */
import { kernels } from './backend/index.js';
import { type Shape, type Tensor, fromBuffer, sizeOf } from './tensor.js';
import type { Rng } from '../util/rng.js';

export interface ParamSpec {
  name: string;
  shape: number[];
  /** How to initialise: normal(0, std), a constant, or zeros. */
  init: { kind: 'normal'; std: number } | { kind: 'const'; value: number } | { kind: 'uniform'; low: number; high: number } | { kind: 'custom'; fill: (data: Float32Array, rng: Rng) => void };
  /** Apply weight decay to this parameter (default: matrices yes, vectors no). */
  decay?: boolean;
}

export class ParamStore {
  readonly data: Float32Array;
  readonly grad: Float32Array;
  readonly params = new Map<string, Tensor>();
  readonly specs: ParamSpec[];
  private readonly offsets = new Map<string, number>();

  constructor(specs: ParamSpec[]) {
    this.specs = specs;
    const total = specs.reduce((a, s) => a + sizeOf(s.shape), 0);
    this.data = new Float32Array(total);
    this.grad = new Float32Array(total);
    let off = 0;
    for (const s of specs) {
      if (this.params.has(s.name)) throw new Error(`parameter ${s.name} is declared twice`);
      const n = sizeOf(s.shape);
      const p = fromBuffer(this.data.subarray(off, off + n), s.shape);
      p.name = s.name;
      p.requiresGrad = true;
      p.grad = fromBuffer(this.grad.subarray(off, off + n), s.shape);
      this.params.set(s.name, p);
      this.offsets.set(s.name, off);
      off += n;
    }
  }

  get(name: string): Tensor {
    const p = this.params.get(name);
    if (!p) throw new Error(`no parameter named ${name}`);
    return p;
  }

  get count(): number {
    return this.data.length;
  }

  names(): string[] {
    return [...this.params.keys()];
  }

  offsetOf(name: string): number {
    return this.offsets.get(name)!;
  }

  /** Initialises every parameter from the spec, drawing from rng in declaration order. */
  initialize(rng: Rng): void {
    for (const s of this.specs) {
      const d = this.get(s.name).data;
      const init = s.init;
      switch (init.kind) {
        case 'normal':
          for (let i = 0; i < d.length; i++) d[i] = rng.normal() * init.std;
          break;
        case 'uniform':
          for (let i = 0; i < d.length; i++) d[i] = init.low + (init.high - init.low) * rng.float();
          break;
        case 'const':
          d.fill(init.value);
          break;
        case 'custom':
          init.fill(d, rng);
          break;
      }
    }
  }

  zeroGrad(): void {
    kernels().fill(this.grad, 0);
  }

  /** Freezes (or unfreezes) every parameter: frozen parameters get no gradient. */
  setRequiresGrad(on: boolean): void {
    for (const p of this.params.values()) p.requiresGrad = on;
  }

  /** Copies values in by name; shapes must match. */
  load(tensors: Map<string, { shape: Shape; data: Float32Array }>, opts: { strict?: boolean } = {}): void {
    const strict = opts.strict ?? true;
    for (const [name, p] of this.params) {
      const t = tensors.get(name);
      if (!t) {
        if (strict) throw new Error(`checkpoint has no tensor ${name}`);
        continue;
      }
      if (sizeOf(t.shape) !== p.size || t.shape.length !== p.ndim || t.shape.some((d, i) => d !== p.shape[i])) {
        throw new Error(`tensor ${name}: checkpoint shape [${t.shape}] does not match model shape [${p.shape}]`);
      }
      p.data.set(t.data);
    }
    if (strict) {
      const extra = [...tensors.keys()].filter((n) => !this.params.has(n));
      if (extra.length) throw new Error(`checkpoint has tensors the model does not: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', ...' : ''}`);
    }
  }
}
