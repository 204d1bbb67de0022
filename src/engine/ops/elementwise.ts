/**
 * Elementwise ops. Binary ops broadcast b over a's leading dimensions (b's shape is a suffix of
 * a's, or b has one element), which covers biases, position embeddings and per-channel scales.
 */
import { ACCUMULATED, defineOp, run1 } from '../autograd.js';
import { BinaryOp, UnaryOp } from '../backend/kernels.js';
import { type Tensor, empty } from '../tensor.js';

function broadcastable(a: Tensor, b: Tensor, name: string): void {
  if (b.size === 1) return;
  // b's shape, without leading 1s, must be a suffix of a's shape.
  const bs = b.shape.slice(b.shape.findIndex((d) => d !== 1));
  const off = a.ndim - bs.length;
  const ok = off >= 0 && bs.every((d, i) => d === a.shape[off + i]) && (b.size !== a.size || a.shape.slice(0, off).every((d) => d === 1));
  if (!ok) throw new Error(`${name}: cannot broadcast [${b.shape}] over [${a.shape}] (b must be a suffix of a's shape)`);
}

export function sameShape(a: Tensor, b: Tensor): boolean {
  return a.ndim === b.ndim && a.shape.every((d, i) => d === b.shape[i]);
}

const binaryDefs = new Map<BinaryOp, ReturnType<typeof defineBinary>>();

function defineBinary(op: BinaryOp, name: string) {
  return defineOp<void, void>({
    name,
    forward(k, [a, b]) {
      broadcastable(a!, b!, name);
      const y = empty(a!.shape);
      k.binary(op, a!.data, b!.data, y.data);
      return { outputs: [y] };
    },
    backward(k, [gy], { inputs: [a, b], needsGrad, leafGrad }) {
      // Same-shape add: both gradients are gy itself (gradients are never modified in place).
      if (op === BinaryOp.Add && a!.size === b!.size && !(needsGrad[1] && leafGrad(1))) return [gy!, gy!];
      const da = needsGrad[0] ? empty(a!.shape) : null;
      // A leaf b (a bias, a position table) receives its broadcast-summed gradient in place.
      const leafB = needsGrad[1] ? leafGrad(1) : null;
      const db = needsGrad[1] ? (leafB ?? empty(b!.shape)) : null;
      k.binaryBwd(op, a!.data, b!.data, gy!.data, da?.data ?? null, db?.data ?? null, 0, leafB ? 1 : 0);
      return [da, leafB ? ACCUMULATED : db];
    },
  });
}

for (const [op, name] of [
  [BinaryOp.Add, 'add'],
  [BinaryOp.Sub, 'sub'],
  [BinaryOp.Mul, 'mul'],
  [BinaryOp.Div, 'div'],
] as const) {
  binaryDefs.set(op, defineBinary(op, name));
}

/** a + b (b broadcast over a's leading dims) */
export const add = (a: Tensor, b: Tensor): Tensor => run1(binaryDefs.get(BinaryOp.Add)!, [a, b], undefined);
/** a - b */
export const sub = (a: Tensor, b: Tensor): Tensor => run1(binaryDefs.get(BinaryOp.Sub)!, [a, b], undefined);
/** a * b */
export const mul = (a: Tensor, b: Tensor): Tensor => run1(binaryDefs.get(BinaryOp.Mul)!, [a, b], undefined);
/** a / b */
export const div = (a: Tensor, b: Tensor): Tensor => run1(binaryDefs.get(BinaryOp.Div)!, [a, b], undefined);

// ---- affine: x * mul + add (scalars) ----
const affineOp = defineOp<{ mul: number; add: number }, void>({
  name: 'affine',
  forward(k, [x], { mul, add }) {
    const y = empty(x!.shape);
    k.affine(x!.data, y.data, mul, add);
    return { outputs: [y] };
  },
  backward(k, [gy], _ctx, { mul }) {
    const gx = empty(gy!.shape);
    k.affine(gy!.data, gx.data, mul, 0);
    return [gx];
  },
});

/** x * s */
export const scale = (x: Tensor, s: number): Tensor => run1(affineOp, [x], { mul: s, add: 0 });
/** x + s */
export const addScalar = (x: Tensor, s: number): Tensor => run1(affineOp, [x], { mul: 1, add: s });
/** x * mul + add */
export const affine = (x: Tensor, mulBy: number, addTo: number): Tensor => run1(affineOp, [x], { mul: mulBy, add: addTo });

// ---- unary ----
function defineUnary(op: UnaryOp, name: string) {
  return defineOp<void, void>({
    name,
    forward(k, [x]) {
      const y = empty(x!.shape);
      k.unary(op, x!.data, y.data);
      return { outputs: [y] };
    },
    backward(k, [gy], { inputs: [x], outputs: [y] }) {
      const gx = empty(x!.shape);
      k.unaryBwd(op, x!.data, y!.data, gy!.data, gx.data, 0);
      return [gx];
    },
  });
}

const geluOp = defineUnary(UnaryOp.Gelu, 'gelu');
const siluOp = defineUnary(UnaryOp.Silu, 'silu');
const sigmoidOp = defineUnary(UnaryOp.Sigmoid, 'sigmoid');
const tanhOp = defineUnary(UnaryOp.Tanh, 'tanh');
const expOp = defineUnary(UnaryOp.Exp, 'exp');
const softplusOp = defineUnary(UnaryOp.Softplus, 'softplus');
const reluOp = defineUnary(UnaryOp.Relu, 'relu');
const logOp = defineUnary(UnaryOp.Log, 'log');
const squareOp = defineUnary(UnaryOp.Square, 'square');
const negOp = defineUnary(UnaryOp.Neg, 'neg');

/** GPT-2's GELU (tanh approximation, "gelu_new" in Hugging Face) */
export const gelu = (x: Tensor): Tensor => run1(geluOp, [x], undefined);
export const silu = (x: Tensor): Tensor => run1(siluOp, [x], undefined);
export const sigmoid = (x: Tensor): Tensor => run1(sigmoidOp, [x], undefined);
export const tanh = (x: Tensor): Tensor => run1(tanhOp, [x], undefined);
export const exp = (x: Tensor): Tensor => run1(expOp, [x], undefined);
export const softplus = (x: Tensor): Tensor => run1(softplusOp, [x], undefined);
export const relu = (x: Tensor): Tensor => run1(reluOp, [x], undefined);
export const log = (x: Tensor): Tensor => run1(logOp, [x], undefined);
export const square = (x: Tensor): Tensor => run1(squareOp, [x], undefined);
export const neg = (x: Tensor): Tensor => run1(negOp, [x], undefined);
