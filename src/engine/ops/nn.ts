/**
 * Neural-network row ops, each one fused kernel forward and one backward: softmax (optionally
 * causal, with the attention scale folded in), log-softmax, LayerNorm, RMSNorm, embedding
 * lookup, and cross-entropy (fused log-softmax + NLL, per-row losses kept for surprisal).
 */
import { ACCUMULATED, defineOp, isGradEnabled, run1, runOp } from '../autograd.js';
import { type Tensor, empty, tensor } from '../tensor.js';

const lastDim = (t: Tensor): number => t.shape[t.ndim - 1]!;

// ---- softmax ----
interface SoftmaxAttrs {
  scale: number;
  /** Rows are query positions of a T×T (or T×S) pattern; column j > (row mod T) + offset is masked. */
  causal: boolean;
  causalOffset: number;
}

const softmaxOp = defineOp<SoftmaxAttrs, void>({
  name: 'softmax',
  forward(k, [x], { scale, causal, causalOffset }) {
    const y = empty(x!.shape);
    const T = causal ? x!.shape[x!.ndim - 2]! : 0;
    k.softmax(x!.data, y.data, lastDim(x!), scale, T, causalOffset);
    return { outputs: [y] };
  },
  backward(k, [gy], { outputs: [y] }, { scale }) {
    const gx = empty(y!.shape);
    k.softmaxBwd(y!.data, gy!.data, gx.data, lastDim(y!), scale, 0);
    return [gx];
  },
});

/**
 * softmax(scale · x) over the last dim. With causal, x is [..., T, S] and query row t attends to
 * keys j <= t + causalOffset (masked probabilities are exactly 0).
 */
export function softmax(x: Tensor, opts: { scale?: number; causal?: boolean; causalOffset?: number } = {}): Tensor {
  return run1(softmaxOp, [x], { scale: opts.scale ?? 1, causal: opts.causal ?? false, causalOffset: opts.causalOffset ?? 0 });
}

const logSoftmaxOp = defineOp<void, void>({
  name: 'logSoftmax',
  forward(k, [x]) {
    const y = empty(x!.shape);
    k.logSoftmax(x!.data, y.data, lastDim(x!));
    return { outputs: [y] };
  },
  backward(k, [gy], { outputs: [y] }) {
    const gx = empty(y!.shape);
    k.logSoftmaxBwd(y!.data, gy!.data, gx.data, lastDim(y!), 0);
    return [gx];
  },
});

/** log softmax over the last dim */
export const logSoftmax = (x: Tensor): Tensor => run1(logSoftmaxOp, [x], undefined);

// ---- normalisation ----
interface NormSaved {
  mean: Tensor | null;
  rstd: Tensor;
}

const layerNormOp = defineOp<{ eps: number }, NormSaved>({
  name: 'layerNorm',
  forward(k, [x, g, b], { eps }) {
    const cols = lastDim(x!);
    if (g!.size !== cols || b!.size !== cols) throw new Error(`layerNorm: weight/bias must have ${cols} elements`);
    const y = empty(x!.shape);
    const mean = empty([x!.size / cols]);
    const rstd = empty([x!.size / cols]);
    k.layerNorm(x!.data, g!.data, b!.data, y.data, mean.data, rstd.data, cols, eps);
    return { outputs: [y], saved: { mean, rstd } };
  },
  backward(k, [gy], { inputs: [x, g, b], saved, needsGrad }) {
    const gx = needsGrad[0] ? empty(x!.shape) : null;
    const gg = needsGrad[1] ? empty(g!.shape) : null;
    const gb = needsGrad[2] ? empty(b!.shape) : null;
    k.layerNormBwd(x!.data, g!.data, saved.mean!.data, saved.rstd.data, gy!.data, gx?.data ?? null, gg?.data ?? null, gb?.data ?? null, lastDim(x!), 0);
    return [gx, gg, gb];
  },
});

/** LayerNorm over the last dim: (x - mean) / sqrt(var + eps) · g + b */
export function layerNorm(x: Tensor, g: Tensor, b: Tensor, eps = 1e-5): Tensor {
  return run1(layerNormOp, [x, g, b], { eps });
}

const rmsNormOp = defineOp<{ eps: number }, NormSaved>({
  name: 'rmsNorm',
  forward(k, [x, g], { eps }) {
    const cols = lastDim(x!);
    if (g!.size !== cols) throw new Error(`rmsNorm: weight must have ${cols} elements`);
    const y = empty(x!.shape);
    const rstd = empty([x!.size / cols]);
    k.rmsNorm(x!.data, g!.data, y.data, rstd.data, cols, eps);
    return { outputs: [y], saved: { mean: null, rstd } };
  },
  backward(k, [gy], { inputs: [x, g], saved, needsGrad }) {
    const gx = needsGrad[0] ? empty(x!.shape) : null;
    const gg = needsGrad[1] ? empty(g!.shape) : null;
    k.rmsNormBwd(x!.data, g!.data, saved.rstd.data, gy!.data, gx?.data ?? null, gg?.data ?? null, lastDim(x!), 0);
    return [gx, gg];
  },
});

/** RMSNorm over the last dim: x / sqrt(mean(x²) + eps) · g */
export function rmsNorm(x: Tensor, g: Tensor, eps = 1e-5): Tensor {
  return run1(rmsNormOp, [x, g], { eps });
}

// ---- embedding ----
const embeddingOp = defineOp<{ ids: Int32Array; shape: number[] }, void>({
  name: 'embedding',
  forward(k, [table], { ids, shape }) {
    const dim = lastDim(table!);
    const y = empty([...shape, dim]);
    k.embedding(ids, table!.data, y.data, dim);
    return { outputs: [y] };
  },
  backward(k, [gy], { inputs: [table], leafGrad }, { ids }) {
    const dim = lastDim(table!);
    const leaf = leafGrad(0);
    if (leaf) {
      k.embeddingBwd(ids, gy!.data, leaf.data, dim);
      return [ACCUMULATED];
    }
    const g = empty(table!.shape);
    g.data.fill(0);
    k.embeddingBwd(ids, gy!.data, g.data, dim);
    return [g];
  },
});

/** Rows of table[V, d] at ids → [...shape, d]; ids outside [0, V) give zero rows. */
export function embedding(table: Tensor, ids: Int32Array, shape: readonly number[] = [ids.length]): Tensor {
  if (shape.reduce((a, b) => a * b, 1) !== ids.length) throw new Error(`embedding: ${ids.length} ids do not fill shape [${shape}]`);
  return run1(embeddingOp, [table], { ids, shape: [...shape] });
}

// ---- cross-entropy ----
interface XentAttrs {
  targets: Int32Array;
  ignoreIndex: number;
  reduction: 'mean' | 'sum' | 'none';
}

function countTargets(targets: Int32Array, ignoreIndex: number, V: number): number {
  let c = 0;
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i]!;
    if (t !== ignoreIndex && t >= 0 && t < V) c++;
  }
  return c;
}

/**
 * Forward computes the per-row losses and, when a gradient will be needed, the gradient
 * (softmax - onehot, already scaled for the reduction) in the same pass over the logits, so
 * backward only rescales it when the incoming gradient is not 1.
 */
const crossEntropyOp = defineOp<XentAttrs, { dlogits: Tensor | null; rowScale: number }>({
  name: 'crossEntropy',
  forward(k, [logits], { targets, ignoreIndex, reduction }) {
    const V = lastDim(logits!);
    const rows = logits!.size / V;
    if (targets.length !== rows) throw new Error(`crossEntropy: ${targets.length} targets for ${rows} rows of logits`);
    const count = countTargets(targets, ignoreIndex, V);
    const rowScale = reduction === 'mean' ? (count > 0 ? 1 / count : 0) : 1;
    const dlogits = isGradEnabled() && logits!.requiresGrad ? empty(logits!.shape) : null;
    const losses = empty(logits!.shape.slice(0, -1));
    const [total] = k.crossEntropy(logits!.data, targets, losses.data, dlogits?.data ?? null, V, rowScale, ignoreIndex);
    if (reduction === 'none') return { outputs: [losses], saved: { dlogits, rowScale } };
    const out = tensor([total * rowScale], []);
    return { outputs: [out], saved: { dlogits, rowScale } };
  },
  backward(k, [gy], { inputs: [logits], saved }, { reduction }) {
    const V = lastDim(logits!);
    const d = saved.dlogits!;
    if (reduction !== 'none') {
      const s = gy!.data[0]!;
      if (s === 1) return [d];
      const gx = empty(d.shape);
      k.affine(d.data, gx.data, s, 0);
      return [gx];
    }
    // Per-row losses: row r of the gradient is scaled by gy[r].
    const gx = empty(d.shape);
    for (let r = 0; r < gy!.size; r++) {
      const s = gy!.data[r]!;
      k.affine(d.data.subarray(r * V, (r + 1) * V), gx.data.subarray(r * V, (r + 1) * V), s, 0);
    }
    return [gx];
  },
});

/**
 * Cross-entropy of logits[..., V] against integer targets (one per row); rows whose target is
 * ignoreIndex count for nothing. reduction 'none' returns the per-row losses (surprisal in nats).
 */
export function crossEntropy(logits: Tensor, targets: Int32Array, opts: { ignoreIndex?: number; reduction?: 'mean' | 'sum' | 'none' } = {}): Tensor {
  return runOp(crossEntropyOp, [logits], { targets, ignoreIndex: opts.ignoreIndex ?? -100, reduction: opts.reduction ?? 'mean' })[0]!;
}
