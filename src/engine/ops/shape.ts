/**
 * Shape ops: reshape (a view), permute, narrow, split and concat. Everything that moves data is
 * the one strided-copy kernel; a slice along the leading dimension is a view (no copy).
 */
import { defineOp, run1, runOp } from '../autograd.js';
import type { Kernels } from '../backend/kernels.js';
import { type Shape, type Tensor, empty, sizeOf, viewOf, viewRange, zeros } from '../tensor.js';

export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** The strided-copy spec the kernel takes: [nd, ...shape, ...srcStrides, ...dstStrides]. */
export function copySpec(shape: Shape, src: readonly number[], dst: readonly number[]): Int32Array {
  return Int32Array.from([shape.length, ...shape, ...src, ...dst]);
}

// ---- reshape ----
function resolveShape(size: number, shape: Shape): number[] {
  const out = [...shape];
  const infer = out.indexOf(-1);
  if (infer >= 0) {
    const rest = out.reduce((a, d, i) => (i === infer ? a : a * d), 1);
    out[infer] = rest === 0 ? 0 : size / rest;
  }
  if (sizeOf(out) !== size) throw new Error(`reshape: cannot reshape ${size} elements into [${shape.join(', ')}]`);
  return out;
}

const reshapeOp = defineOp<{ shape: number[] }, void>({
  name: 'reshape',
  forward(_k, [x], { shape }) {
    return { outputs: [viewOf(x!, shape)] };
  },
  backward(_k, [gy], { inputs: [x] }) {
    return [viewOf(gy!, x!.shape)];
  },
});

/** Same data, new shape (one dimension may be -1). A view: no copy. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  return run1(reshapeOp, [x], { shape: resolveShape(x.size, shape) });
}

// ---- permute ----
function permuteCopy(k: Kernels, x: Tensor, perm: readonly number[], y: Tensor): void {
  const xs = stridesOf(x.shape);
  const shape = perm.map((p) => x.shape[p]!);
  // Destination is contiguous in the permuted order; source strides follow the permutation.
  k.stridedCopy(x.data, 0, y.data, 0, copySpec(shape, perm.map((p) => xs[p]!), stridesOf(shape)), 0);
}

const permuteOp = defineOp<{ perm: number[] }, void>({
  name: 'permute',
  forward(k, [x], { perm }) {
    const y = empty(perm.map((p) => x!.shape[p]!));
    permuteCopy(k, x!, perm, y);
    return { outputs: [y] };
  },
  backward(k, [gy], { inputs: [x] }, { perm }) {
    const inv = new Array<number>(perm.length);
    perm.forEach((p, i) => (inv[p] = i));
    const gx = empty(x!.shape);
    permuteCopy(k, gy!, inv, gx);
    return [gx];
  },
});

/** Reorders dimensions: output dim i is input dim perm[i] (a copy). */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  if (perm.length !== x.ndim || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) throw new Error(`permute: [${perm}] is not a permutation of ${x.ndim} dims`);
  if (perm.every((p, i) => p === i)) return reshape(x, x.shape);
  return run1(permuteOp, [x], { perm: [...perm] });
}

/** Swaps two dimensions. */
export function transpose(x: Tensor, d0: number, d1: number): Tensor {
  const perm = x.shape.map((_, i) => i);
  perm[d0] = d1;
  perm[d1] = d0;
  return permute(x, perm);
}

// ---- split / narrow ----
interface SplitAttrs {
  dim: number;
  sizes: number[];
}

function isLeadingContiguous(shape: Shape, dim: number): boolean {
  for (let i = 0; i < dim; i++) if (shape[i] !== 1) return false;
  return true;
}

/** Copies part j of x (along dim) to/from a contiguous tensor. */
function partSpec(shape: Shape, dim: number, start: number, len: number) {
  const xs = stridesOf(shape);
  const partShape = [...shape];
  partShape[dim] = len;
  return { partShape, offset: start * xs[dim]!, spec: copySpec(partShape, xs, stridesOf(partShape)), back: copySpec(partShape, stridesOf(partShape), xs) };
}

const splitOp = defineOp<SplitAttrs, void>({
  name: 'split',
  forward(k, [x], { dim, sizes }) {
    const outputs: Tensor[] = [];
    let start = 0;
    const xs = stridesOf(x!.shape);
    for (const len of sizes) {
      const { partShape, offset, spec } = partSpec(x!.shape, dim, start, len);
      if (isLeadingContiguous(x!.shape, dim)) {
        // Contiguous block: a view over the same storage.
        outputs.push(viewRange(x!, partShape, start * xs[dim]!));
      } else {
        const y = empty(partShape);
        k.stridedCopy(x!.data, offset, y.data, 0, spec, 0);
        outputs.push(y);
      }
      start += len;
    }
    return { outputs };
  },
  backward(k, gys, { inputs: [x] }, { dim, sizes }) {
    const gx = gys.every((g) => g) ? empty(x!.shape) : zeros(x!.shape);
    let start = 0;
    sizes.forEach((len, j) => {
      const g = gys[j];
      if (g) {
        const { offset, back } = partSpec(x!.shape, dim, start, len);
        k.stridedCopy(g.data, 0, gx.data, offset, back, 0);
      }
      start += len;
    });
    return [gx];
  },
});

/** Splits x along dim into parts of the given sizes. */
export function split(x: Tensor, sizes: readonly number[], dim = -1): Tensor[] {
  const d = dim < 0 ? x.ndim + dim : dim;
  if (sizes.reduce((a, b) => a + b, 0) !== x.shape[d]) throw new Error(`split: sizes [${sizes}] do not add up to dim ${d} of [${x.shape}]`);
  return runOp(splitOp, [x], { dim: d, sizes: [...sizes] });
}

/** x restricted to [start, start+length) along dim. */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = dim < 0 ? x.ndim + dim : dim;
  const n = x.shape[d]!;
  if (start < 0 || length < 0 || start + length > n) throw new Error(`narrow: [${start}, ${start + length}) is outside dim ${d} of size ${n}`);
  const sizes = [start, length, n - start - length].filter((s) => s > 0);
  if (length === n) return reshape(x, x.shape);
  const parts = split(x, sizes, d);
  return parts[start > 0 ? 1 : 0]!;
}

// ---- concat ----
const concatOp = defineOp<{ dim: number }, void>({
  name: 'concat',
  forward(k, xs, { dim }) {
    const shape = [...xs[0]!.shape];
    shape[dim] = xs.reduce((a, t) => a + t.shape[dim]!, 0);
    const y = empty(shape);
    let start = 0;
    for (const x of xs) {
      const { offset, back } = partSpec(shape, dim, start, x.shape[dim]!);
      k.stridedCopy(x.data, 0, y.data, offset, back, 0);
      start += x.shape[dim]!;
    }
    return { outputs: [y] };
  },
  backward(k, [gy], { inputs, needsGrad }, { dim }) {
    let start = 0;
    return inputs.map((x, i) => {
      const { offset, spec } = partSpec(gy!.shape, dim, start, x.shape[dim]!);
      start += x.shape[dim]!;
      if (!needsGrad[i]) return null;
      const gx = empty(x.shape);
      k.stridedCopy(gy!.data, offset, gx.data, 0, spec, 0);
      return gx;
    });
  },
});

/** Joins tensors along dim (all other dims equal). */
export function concat(xs: readonly Tensor[], dim = -1): Tensor {
  if (!xs.length) throw new Error('concat: no tensors');
  const d = dim < 0 ? xs[0]!.ndim + dim : dim;
  for (const x of xs) {
    if (x.ndim !== xs[0]!.ndim || x.shape.some((s, i) => i !== d && s !== xs[0]!.shape[i])) throw new Error(`concat: shapes [${xs.map((t) => `[${t.shape}]`).join(' ')}] differ outside dim ${d}`);
  }
  return run1(concatOp, xs, { dim: d });
}
