/**
 * Tensors: a shape over a Float32Array, plus what autograd needs (requiresGrad, the tape node
 * that produced it, a persistent grad for leaves).
 *
 * Memory. Fresh memory is ~10x slower to touch than reused memory on this kind of VM, so op
 * outputs come from a buffer pool and go back to it when their scope ends:
 *
 *     const loss = tidy(() => { ...forward + backward...; return loss.item(); });
 *
 * Every tensor created inside `tidy` is released at its end unless it is returned (then it moves
 * to the enclosing scope) or `keep()`-ed. Tensors created outside any scope (parameters,
 * caches you keep) live until `dispose()`. Views (reshape) share storage, reference-counted.
 * A disposed tensor's data is an empty array, so use-after-free fails loudly.
 */
import type { TapeNode } from './autograd.js';

const EMPTY = new Float32Array(0);

/**
 * Float32Array free lists keyed by exact length: training steps repeat the same sizes. Free
 * buffers beyond `capFloats` (GROUNDLAB_POOL_MIB, default 4096 MiB) are left to the garbage
 * collector, so workloads with ever-changing shapes (evaluation over varied lengths) stay bounded.
 */
export class BufferPool {
  private readonly free = new Map<number, Float32Array[]>();
  private pooledFloats = 0;
  allocatedFloats = 0;
  capFloats = (Number(process.env.GROUNDLAB_POOL_MIB) || 4096) * 262144;

  take(n: number): Float32Array {
    const list = this.free.get(n);
    if (list && list.length) {
      this.pooledFloats -= n;
      return list.pop()!;
    }
    this.allocatedFloats += n;
    return new Float32Array(n);
  }

  give(a: Float32Array): void {
    if (a.length === 0) return;
    if (this.pooledFloats + a.length > this.capFloats) {
      this.allocatedFloats -= a.length;
      return;
    }
    let list = this.free.get(a.length);
    if (!list) this.free.set(a.length, (list = []));
    list.push(a);
    this.pooledFloats += a.length;
  }

  /** Drops every free buffer (e.g. between phases with different sizes). */
  clear(): void {
    this.allocatedFloats -= this.pooledFloats;
    this.free.clear();
    this.pooledFloats = 0;
  }

  stats(): { allocatedMiB: number; freeMiB: number } {
    return { allocatedMiB: (this.allocatedFloats * 4) / 2 ** 20, freeMiB: (this.pooledFloats * 4) / 2 ** 20 };
  }
}

export const pool = new BufferPool();

/** Shared backing buffer of a tensor and its views. Pool-owned storage returns to the pool at refs 0. */
export class Storage {
  refs = 0;
  constructor(
    public data: Float32Array,
    public readonly pooled: boolean,
  ) {}
}

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`invalid shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

export class Tensor {
  readonly shape: Shape;
  readonly size: number;
  data: Float32Array;
  readonly storage: Storage;
  requiresGrad = false;
  /** Persistent gradient of a leaf (parameters); intermediate gradients live only during backward. */
  grad: Tensor | null = null;
  /** The tape node that produced this tensor, and which of its outputs it is. */
  node: TapeNode | null = null;
  outputIndex = 0;
  /** Optional label (parameter name) for error messages and checkpoints. */
  name?: string;
  private disposed = false;

  constructor(shape: Shape, storage: Storage, data?: Float32Array) {
    this.shape = Object.freeze([...shape]);
    this.size = sizeOf(shape);
    this.storage = storage;
    this.data = data ?? storage.data;
    if (this.data.length !== this.size) throw new Error(`tensor data length ${this.data.length} does not match shape [${shape.join(', ')}]`);
    storage.refs++;
    track(this);
  }

  get ndim(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item() needs a one-element tensor, got shape [${this.shape.join(', ')}]`);
    return this.data[0]!;
  }

  /** A copy of the data as a plain Float32Array (safe to keep after the tensor is released). */
  toFloat32Array(): Float32Array {
    return this.data.slice();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.data = EMPTY;
    this.node = null;
    const s = this.storage;
    if (--s.refs === 0 && s.pooled) {
      pool.give(s.data);
      s.data = EMPTY;
    }
  }

  toString(): string {
    return `Tensor(${this.name ? this.name + ', ' : ''}[${this.shape.join(', ')}]${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}

// ---- scopes ----------------------------------------------------------------------------------

const scopes: Tensor[][] = [];

function track(t: Tensor): void {
  const s = scopes[scopes.length - 1];
  if (s) s.push(t);
}

function collect(value: unknown, into: Set<Tensor>, depth = 0): void {
  if (value instanceof Tensor) into.add(value);
  else if (depth < 3 && value && typeof value === 'object') {
    for (const v of Array.isArray(value) ? value : value instanceof Map ? value.values() : Object.values(value)) collect(v, into, depth + 1);
  }
}

/**
 * Runs fn; releases every tensor it created except those in its return value (tensors, or arrays,
 * Maps and plain objects of tensors, up to 3 levels deep), which move to the enclosing scope.
 * Synchronous only.
 */
export function tidy<T>(fn: () => T): T {
  scopes.push([]);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    for (const t of scopes.pop()!) t.dispose();
    throw e;
  }
  const created = scopes.pop()!;
  const kept = new Set<Tensor>();
  collect(result, kept);
  const parent = scopes[scopes.length - 1];
  for (const t of created) {
    if (kept.has(t)) parent?.push(t);
    else t.dispose();
  }
  return result;
}

/** Removes a tensor from scope tracking: it lives until dispose(). */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) {
    const i = s.lastIndexOf(t);
    if (i >= 0) s.splice(i, 1);
  }
  return t;
}

// ---- creation --------------------------------------------------------------------------------

/** A tensor with uninitialised (pooled, possibly dirty) data: callers must write every element. */
export function empty(shape: Shape): Tensor {
  return new Tensor(shape, new Storage(pool.take(sizeOf(shape)), true));
}

export function zeros(shape: Shape): Tensor {
  const t = empty(shape);
  t.data.fill(0);
  return t;
}

export function full(shape: Shape, value: number): Tensor {
  const t = empty(shape);
  t.data.fill(value);
  return t;
}

/** Wraps (copies) values into a new tensor. */
export function tensor(values: ArrayLike<number>, shape?: Shape): Tensor {
  const s = shape ?? [values.length];
  const t = empty(s);
  if (values.length !== t.size) throw new Error(`tensor(): ${values.length} values do not fill shape [${s.join(', ')}]`);
  t.data.set(values);
  return t;
}

/** A tensor over existing memory (not pooled, never returned to the pool): parameter views. */
export function fromBuffer(data: Float32Array, shape: Shape): Tensor {
  return new Tensor(shape, new Storage(data, false), data);
}

/** A view with another shape over the same storage (no copy, no autograd: see ops.reshape). */
export function viewOf(t: Tensor, shape: Shape): Tensor {
  if (sizeOf(shape) !== t.size) throw new Error(`cannot view [${t.shape.join(', ')}] as [${shape.join(', ')}]`);
  return new Tensor(shape, t.storage, t.data);
}

/** A view of `size(shape)` elements starting at `offset` of t's data (same storage, no copy). */
export function viewRange(t: Tensor, shape: Shape, offset: number): Tensor {
  const n = sizeOf(shape);
  if (offset < 0 || offset + n > t.size) throw new Error(`viewRange: [${offset}, ${offset + n}) is outside a tensor of ${t.size} elements`);
  return new Tensor(shape, t.storage, t.data.subarray(offset, offset + n));
}

/** A leaf that gradients flow into (its .grad is allocated on first accumulation). */
export function variable(t: Tensor): Tensor {
  t.requiresGrad = true;
  return t;
}
