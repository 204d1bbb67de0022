/** Reductions: sum/mean of everything, sums over the last dim or over the leading dims. */
import { defineOp, run1 } from '../autograd.js';
import { type Tensor, empty, tensor } from '../tensor.js';

const sumAllOp = defineOp<{ mean: boolean }, void>({
  name: 'sum',
  forward(k, [x], { mean }) {
    const s = k.sum(x!.data);
    return { outputs: [tensor([mean ? s / x!.size : s], [])] };
  },
  backward(k, [gy], { inputs: [x] }, { mean }) {
    const gx = empty(x!.shape);
    k.fill(gx.data, gy!.data[0]! / (mean ? x!.size : 1));
    return [gx];
  },
});

/** Σ x (a scalar) */
export const sum = (x: Tensor): Tensor => run1(sumAllOp, [x], { mean: false });
/** mean of x (a scalar) */
export const mean = (x: Tensor): Tensor => run1(sumAllOp, [x], { mean: true });

const sumLastOp = defineOp<void, void>({
  name: 'sumLastDim',
  forward(k, [x]) {
    const y = empty(x!.shape.slice(0, -1));
    k.sumInner(x!.data, y.data, 0);
    return { outputs: [y] };
  },
  backward(k, [gy], { inputs: [x] }) {
    const gx = empty(x!.shape);
    const inner = x!.shape[x!.ndim - 1]!;
    // Broadcast each output gradient across its row (stride-0 source).
    k.stridedCopy(gy!.data, 0, gx.data, 0, Int32Array.of(2, gy!.size, inner, 1, 0, inner, 1), 0);
    return [gx];
  },
});

/** Σ over the last dim: [..., n] → [...] */
export const sumLastDim = (x: Tensor): Tensor => run1(sumLastOp, [x], undefined);

const sumLeadingOp = defineOp<{ keep: number }, void>({
  name: 'sumLeading',
  forward(k, [x], { keep }) {
    const y = empty(x!.shape.slice(x!.ndim - keep));
    k.sumOuter(x!.data, y.data, 0);
    return { outputs: [y] };
  },
  backward(k, [gy], { inputs: [x] }) {
    const gx = empty(x!.shape);
    const outer = x!.size / gy!.size;
    k.stridedCopy(gy!.data, 0, gx.data, 0, Int32Array.of(2, outer, gy!.size, 0, 1, gy!.size, 1), 0);
    return [gx];
  },
});

/** Σ over all but the last `keep` dims: [a, b, ...rest] → [...rest] */
export const sumLeading = (x: Tensor, keep = 1): Tensor => run1(sumLeadingOp, [x], { keep });
