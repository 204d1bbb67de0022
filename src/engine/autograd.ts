/**
 * Reverse-mode autograd on a tape.
 *
 * Every differentiable op is an OpDef: a forward that computes outputs with the kernels, and a
 * separate backward (its vector-Jacobian product) that maps output gradients to input gradients.
 * `runOp` runs the forward and, when grad mode is on and an input requires grad, records a
 * TapeNode. `backward(loss)` walks the nodes in reverse topological order.
 *
 * Leaves (parameters) accumulate into a persistent `.grad`; a VJP may write straight into it
 * (e.g. a GEMM with beta = 1) through `ctx.leafGrad(i)` and return ACCUMULATED for that input,
 * which saves a pass over the weights.
 */
import { type Kernels, kernels } from './backend/index.js';
import { Tensor, empty, zeros, keep, tidy } from './tensor.js';

/** Marker a VJP returns for an input whose gradient it already added into ctx.leafGrad(i). */
export const ACCUMULATED: unique symbol = Symbol('accumulated');
export type InputGrad = Tensor | null | typeof ACCUMULATED;

export interface BackwardContext<S = unknown> {
  inputs: readonly Tensor[];
  outputs: readonly Tensor[];
  /** Whatever forward chose to keep for backward. */
  saved: S;
  /** Which inputs need a gradient (skip work for the others). */
  needsGrad: readonly boolean[];
  /** Persistent grad buffer of input i when it is a leaf (allocated on demand), else null. */
  leafGrad(i: number): Tensor | null;
}

export interface OpDef<A = void, S = unknown> {
  name: string;
  /** Computes the outputs; returns what backward needs in `saved`. */
  forward(k: Kernels, inputs: readonly Tensor[], attrs: A): { outputs: Tensor[]; saved?: S };
  /** VJP: gradients of the inputs from the gradients of the outputs (null: no gradient reached that output). */
  backward?(k: Kernels, grads: readonly (Tensor | null)[], ctx: BackwardContext<S>, attrs: A): InputGrad[];
}

export interface TapeNode {
  op: OpDef<any, any>;
  attrs: unknown;
  inputs: Tensor[];
  outputs: Tensor[];
  saved: unknown;
}

/** Every op defined so far, by name: the op tests check each one has a gradient check. */
export const opRegistry = new Map<string, OpDef<any, any>>();

export function defineOp<A = void, S = unknown>(def: OpDef<A, S>): OpDef<A, S> {
  if (opRegistry.has(def.name)) throw new Error(`op ${def.name} is defined twice`);
  opRegistry.set(def.name, def);
  return def;
}

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn without recording the tape (evaluation, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Per-op wall time (ms) and call counts while profiling is on: see profileOps(). */
let profile: Map<string, { ms: number; calls: number }> | null = null;

function profiled<T>(key: string, fn: () => T): T {
  if (!profile) return fn();
  const t0 = performance.now();
  const r = fn();
  const e = profile.get(key) ?? { ms: 0, calls: 0 };
  e.ms += performance.now() - t0;
  e.calls++;
  profile.set(key, e);
  return r;
}

/** Runs fn and returns time spent per op forward / backward, slowest first. */
export function profileOps(fn: () => void): { op: string; ms: number; calls: number }[] {
  profile = new Map();
  try {
    fn();
    return [...profile.entries()].map(([op, v]) => ({ op, ...v })).sort((a, b) => b.ms - a.ms);
  } finally {
    profile = null;
  }
}

export function runOp<A, S>(op: OpDef<A, S>, inputs: readonly Tensor[], attrs: A): Tensor[] {
  for (const t of inputs) {
    if (t.isDisposed) throw new Error(`${op.name}: an input tensor was already released (used outside the tidy() scope that created it?)`);
  }
  const { outputs, saved } = profiled(op.name, () => op.forward(kernels(), inputs, attrs));
  if (gradEnabled && op.backward && inputs.some((t) => t.requiresGrad)) {
    const node: TapeNode = { op, attrs, inputs: [...inputs], outputs, saved };
    outputs.forEach((o, i) => {
      o.requiresGrad = true;
      o.node = node;
      o.outputIndex = i;
    });
  }
  return outputs;
}

export function run1<A, S>(op: OpDef<A, S>, inputs: readonly Tensor[], attrs: A): Tensor {
  return runOp(op, inputs, attrs)[0]!;
}

function topoOrder(root: Tensor): TapeNode[] {
  const order: TapeNode[] = [];
  const seen = new Set<TapeNode>();
  if (!root.node) return order;
  // Iterative post-order DFS (deep models would overflow a recursive one).
  const stack: [TapeNode, number][] = [[root.node, 0]];
  seen.add(root.node);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [node, i] = top;
    if (i < node.inputs.length) {
      top[1]++;
      const child = node.inputs[i]!.node;
      if (child && !seen.has(child)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  return order;
}

function ensureLeafGrad(t: Tensor): Tensor {
  if (!t.grad) t.grad = keep(zeros(t.shape));
  return t.grad;
}

/**
 * Backpropagates from `root` (a scalar, or any tensor with an explicit `seed` gradient).
 * Leaf gradients accumulate into `.grad`; intermediate gradients are released at the end of the
 * enclosing tidy() scope. Returns the gradients of the tensors listed in `retain`, if any.
 */
export function backward(root: Tensor, seed?: Tensor, retain: Tensor[] = []): Map<Tensor, Tensor> {
  if (!root.requiresGrad) throw new Error('backward(): the tensor does not require grad (was it computed under noGrad, or from inputs without requiresGrad?)');
  const k = kernels();
  const grads = new Map<Tensor, Tensor>();
  if (seed) {
    if (seed.size !== root.size) throw new Error('backward(): seed gradient has the wrong size');
    grads.set(root, seed);
  } else {
    if (root.size !== 1) throw new Error(`backward(): root must be a scalar or get an explicit seed, got shape [${root.shape.join(', ')}]`);
    const one = empty(root.shape);
    one.data[0] = 1;
    grads.set(root, one);
  }
  if (!root.node) {
    ensureLeafGrad(root);
    k.binary(0, root.grad!.data, grads.get(root)!.data, root.grad!.data);
    return new Map();
  }
  const order = topoOrder(root);
  const retained = new Set(retain);
  const out = new Map<Tensor, Tensor>();
  noGrad(() => {
    for (let n = order.length - 1; n >= 0; n--) {
      const node = order[n]!;
      const gys = node.outputs.map((o) => grads.get(o) ?? null);
      for (const o of node.outputs) {
        if (retained.has(o) && grads.has(o)) out.set(o, grads.get(o)!);
      }
      if (gys.every((g) => g === null)) continue;
      const ctx: BackwardContext = {
        inputs: node.inputs,
        outputs: node.outputs,
        saved: node.saved,
        needsGrad: node.inputs.map((t) => t.requiresGrad),
        leafGrad: (i) => {
          const t = node.inputs[i]!;
          return t.requiresGrad && !t.node ? ensureLeafGrad(t) : null;
        },
      };
      const gxs = profiled(`${node.op.name}.backward`, () => node.op.backward!(k, gys, ctx, node.attrs));
      for (let i = 0; i < node.inputs.length; i++) {
        const x = node.inputs[i]!;
        const gx = gxs[i];
        if (!x.requiresGrad || gx === null || gx === undefined || gx === ACCUMULATED) continue;
        if (gx.size !== x.size) throw new Error(`${node.op.name}: backward returned a gradient of size ${gx.size} for an input of size ${x.size}`);
        if (!x.node) {
          const g = ensureLeafGrad(x);
          k.binary(0, g.data, gx.data, g.data);
          continue;
        }
        const prev = grads.get(x);
        if (!prev) grads.set(x, gx);
        else {
          // Never add in place: a VJP may hand the same gradient tensor to several inputs.
          const sum = empty(x.shape);
          k.binary(0, prev.data, gx.data, sum.data);
          grads.set(x, sum);
        }
      }
      // Gradients of this node's outputs are no longer needed unless retained.
      for (const o of node.outputs) if (!retained.has(o)) grads.delete(o);
    }
  });
  for (const t of retain) if (!out.has(t) && grads.has(t)) out.set(t, grads.get(t)!);
  return out;
}

/** Convenience: value and leaf gradients of a scalar function, in a tidy scope. */
export function valueAndGrad(fn: () => Tensor): number {
  return tidy(() => {
    const loss = fn();
    backward(loss);
    return loss.item();
  });
}
