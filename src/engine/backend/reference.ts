/**
 * Pure TypeScript reference kernels: slow, obvious, and the yardstick the native kernels are
 * tested against (test/engine/kernels.test.ts). Accumulations use float64 where the native
 * code accumulates in float32, so agreement is checked with a tolerance.
 */
import { BinaryOp, type F32, type Kernels, UnaryOp } from './kernels.js';

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

function unaryF(op: UnaryOp, x: number): number {
  switch (op) {
    case UnaryOp.Gelu:
      return 0.5 * x * (1 + Math.tanh(GELU_C * (x + GELU_A * x * x * x)));
    case UnaryOp.Silu:
      return x / (1 + Math.exp(-x));
    case UnaryOp.Sigmoid:
      return 1 / (1 + Math.exp(-x));
    case UnaryOp.Tanh:
      return Math.tanh(x);
    case UnaryOp.Exp:
      return Math.exp(x);
    case UnaryOp.Softplus:
      return x > 20 ? x : Math.log1p(Math.exp(x));
    case UnaryOp.Relu:
      return x > 0 ? x : 0;
    case UnaryOp.Log:
      return Math.log(x);
    case UnaryOp.Square:
      return x * x;
    case UnaryOp.Neg:
      return -x;
  }
}

function unaryD(op: UnaryOp, x: number, y: number): number {
  switch (op) {
    case UnaryOp.Gelu: {
      const t = Math.tanh(GELU_C * (x + GELU_A * x * x * x));
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_C * (1 + 3 * GELU_A * x * x);
    }
    case UnaryOp.Silu: {
      const s = 1 / (1 + Math.exp(-x));
      return s * (1 + x * (1 - s));
    }
    case UnaryOp.Sigmoid:
      return y * (1 - y);
    case UnaryOp.Tanh:
      return 1 - y * y;
    case UnaryOp.Exp:
      return y;
    case UnaryOp.Softplus:
      return 1 / (1 + Math.exp(-x));
    case UnaryOp.Relu:
      return x > 0 ? 1 : 0;
    case UnaryOp.Log:
      return 1 / x;
    case UnaryOp.Square:
      return 2 * x;
    case UnaryOp.Neg:
      return -1;
  }
}

function binF(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case BinaryOp.Add:
      return a + b;
    case BinaryOp.Sub:
      return a - b;
    case BinaryOp.Mul:
      return a * b;
    case BinaryOp.Div:
      return a / b;
  }
}

function check(cond: boolean, msg: string): void {
  if (!cond) throw new RangeError(`groundlab reference: ${msg}`);
}

let threads = 1;

export const referenceKernels: Kernels = {
  name: 'reference',
  setThreads(n) {
    threads = Math.max(1, n);
  },
  getThreads: () => threads,
  hasOpenBLAS: () => false,

  gemm(ta, tb, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const a = ta ? A[aOff + k * lda + i]! : A[aOff + i * lda + k]!;
          const b = tb ? B[bOff + j * ldb + k]! : B[bOff + k * ldb + j]!;
          s += a * b;
        }
        const ci = cOff + i * ldc + j;
        C[ci] = alpha * s + (beta === 0 ? 0 : beta * C[ci]!);
      }
    }
  },

  gemmBatched(batch, ta, tb, M, N, K, alpha, A, aOff, sA, lda, B, bOff, sB, ldb, beta, C, cOff, sC, ldc) {
    for (let b = 0; b < batch; b++) this.gemm(ta, tb, M, N, K, alpha, A, aOff + b * sA, lda, B, bOff + b * sB, ldb, beta, C, cOff + b * sC, ldc);
  },

  fill(x, v) {
    x.fill(v);
  },
  copy(src, dst) {
    check(dst.length >= src.length, 'copy: destination too small');
    dst.set(src);
  },

  binary(op, a, b, out) {
    check(b.length > 0 && a.length % b.length === 0 && out.length === a.length, 'binary: shapes');
    const inner = b.length;
    for (let i = 0; i < a.length; i++) out[i] = binF(op, a[i]!, b[i % inner]!);
  },

  binaryBwd(op, a, b, dy, da, db, accA, accB) {
    const n = a.length;
    const inner = b.length;
    if (da) {
      for (let i = 0; i < n; i++) {
        const bj = b[i % inner]!;
        const v = op === BinaryOp.Mul ? dy[i]! * bj : op === BinaryOp.Div ? dy[i]! / bj : dy[i]!;
        da[i] = accA ? da[i]! + v : v;
      }
    }
    if (db) {
      const s = new Float64Array(inner);
      for (let i = 0; i < n; i++) {
        const j = i % inner;
        switch (op) {
          case BinaryOp.Add:
            s[j]! += dy[i]!;
            break;
          case BinaryOp.Sub:
            s[j]! -= dy[i]!;
            break;
          case BinaryOp.Mul:
            s[j]! += dy[i]! * a[i]!;
            break;
          case BinaryOp.Div:
            s[j]! -= (dy[i]! * a[i]!) / (b[j]! * b[j]!);
            break;
        }
      }
      for (let j = 0; j < inner; j++) db[j] = accB ? db[j]! + s[j]! : s[j]!;
    }
  },

  axpby(x, y, out, a, b) {
    for (let i = 0; i < x.length; i++) out[i] = a * x[i]! + b * y[i]!;
  },
  affine(x, out, mul, add) {
    for (let i = 0; i < x.length; i++) out[i] = x[i]! * mul + add;
  },

  unary(op, x, y) {
    for (let i = 0; i < x.length; i++) y[i] = unaryF(op, x[i]!);
  },
  unaryBwd(op, x, y, dy, dx, acc) {
    for (let i = 0; i < x.length; i++) {
      const g = dy[i]! * unaryD(op, x[i]!, y[i]!);
      dx[i] = acc ? dx[i]! + g : g;
    }
  },

  softmax(x, y, cols, scale, causalT, causalOff) {
    const rows = x.length / cols;
    for (let r = 0; r < rows; r++) {
      const valid = causalT > 0 ? Math.max(0, Math.min(cols, (r % causalT) + causalOff + 1)) : cols;
      let mx = -Infinity;
      for (let j = 0; j < valid; j++) mx = Math.max(mx, x[r * cols + j]!);
      let s = 0;
      for (let j = 0; j < valid; j++) s += Math.exp((x[r * cols + j]! - mx) * scale);
      for (let j = 0; j < cols; j++) y[r * cols + j] = j < valid ? Math.exp((x[r * cols + j]! - mx) * scale) / s : 0;
    }
  },
  softmaxBwd(y, dy, dx, cols, scale, acc) {
    const rows = y.length / cols;
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let j = 0; j < cols; j++) s += y[r * cols + j]! * dy[r * cols + j]!;
      for (let j = 0; j < cols; j++) {
        const i = r * cols + j;
        const v = scale * y[i]! * (dy[i]! - s);
        dx[i] = acc ? dx[i]! + v : v;
      }
    }
  },
  logSoftmax(x, y, cols) {
    const rows = x.length / cols;
    for (let r = 0; r < rows; r++) {
      let mx = -Infinity;
      for (let j = 0; j < cols; j++) mx = Math.max(mx, x[r * cols + j]!);
      let s = 0;
      for (let j = 0; j < cols; j++) s += Math.exp(x[r * cols + j]! - mx);
      const lse = mx + Math.log(s);
      for (let j = 0; j < cols; j++) y[r * cols + j] = x[r * cols + j]! - lse;
    }
  },
  logSoftmaxBwd(y, dy, dx, cols, acc) {
    const rows = y.length / cols;
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let j = 0; j < cols; j++) s += dy[r * cols + j]!;
      for (let j = 0; j < cols; j++) {
        const i = r * cols + j;
        const v = dy[i]! - Math.exp(y[i]!) * s;
        dx[i] = acc ? dx[i]! + v : v;
      }
    }
  },

  crossEntropy(logits, targets, losses, dlogits, V, gradScale, ignore) {
    check(logits.length === targets.length * V && losses.length === targets.length, 'crossEntropy: shapes');
    let total = 0;
    let count = 0;
    for (let r = 0; r < targets.length; r++) {
      const t = targets[r]!;
      if (t === ignore || t < 0 || t >= V) {
        losses[r] = 0;
        if (dlogits) dlogits.fill(0, r * V, (r + 1) * V);
        continue;
      }
      let mx = -Infinity;
      for (let j = 0; j < V; j++) mx = Math.max(mx, logits[r * V + j]!);
      let s = 0;
      for (let j = 0; j < V; j++) s += Math.exp(logits[r * V + j]! - mx);
      const lse = mx + Math.log(s);
      losses[r] = lse - logits[r * V + t]!;
      total += losses[r]!;
      count++;
      if (dlogits) {
        for (let j = 0; j < V; j++) dlogits[r * V + j] = gradScale * Math.exp(logits[r * V + j]! - lse);
        dlogits[r * V + t]! -= gradScale;
      }
    }
    return [total, count];
  },

  layerNorm(x, g, b, y, mean, rstd, cols, eps) {
    const rows = x.length / cols;
    for (let r = 0; r < rows; r++) {
      let m = 0;
      for (let j = 0; j < cols; j++) m += x[r * cols + j]!;
      m /= cols;
      let v = 0;
      for (let j = 0; j < cols; j++) v += (x[r * cols + j]! - m) ** 2;
      v /= cols;
      const rs = 1 / Math.sqrt(v + eps);
      mean[r] = m;
      rstd[r] = rs;
      for (let j = 0; j < cols; j++) y[r * cols + j] = (x[r * cols + j]! - m) * rs * g[j]! + b[j]!;
    }
  },
  layerNormBwd(x, g, mean, rstd, dy, dx, dg, db, cols, accDx) {
    const rows = x.length / cols;
    const sg = new Float64Array(cols);
    const sb = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      const m = mean[r]!;
      const rs = rstd[r]!;
      let s1 = 0;
      let s2 = 0;
      for (let j = 0; j < cols; j++) {
        const i = r * cols + j;
        const xh = (x[i]! - m) * rs;
        const dxh = dy[i]! * g[j]!;
        s1 += dxh;
        s2 += dxh * xh;
        sg[j]! += dy[i]! * xh;
        sb[j]! += dy[i]!;
      }
      s1 /= cols;
      s2 /= cols;
      if (dx) {
        for (let j = 0; j < cols; j++) {
          const i = r * cols + j;
          const xh = (x[i]! - m) * rs;
          const v = rs * (dy[i]! * g[j]! - s1 - xh * s2);
          dx[i] = accDx ? dx[i]! + v : v;
        }
      }
    }
    if (dg) for (let j = 0; j < cols; j++) dg[j] = sg[j]!;
    if (db) for (let j = 0; j < cols; j++) db[j] = sb[j]!;
  },
  rmsNorm(x, g, y, rstd, cols, eps) {
    const rows = x.length / cols;
    for (let r = 0; r < rows; r++) {
      let ss = 0;
      for (let j = 0; j < cols; j++) ss += x[r * cols + j]! ** 2;
      const rs = 1 / Math.sqrt(ss / cols + eps);
      rstd[r] = rs;
      for (let j = 0; j < cols; j++) y[r * cols + j] = x[r * cols + j]! * rs * g[j]!;
    }
  },
  rmsNormBwd(x, g, rstd, dy, dx, dg, cols, accDx) {
    const rows = x.length / cols;
    const sg = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      const rs = rstd[r]!;
      let s = 0;
      for (let j = 0; j < cols; j++) {
        const i = r * cols + j;
        s += dy[i]! * g[j]! * x[i]! * rs;
        sg[j]! += dy[i]! * x[i]! * rs;
      }
      s /= cols;
      if (dx) {
        for (let j = 0; j < cols; j++) {
          const i = r * cols + j;
          const v = rs * (dy[i]! * g[j]! - x[i]! * rs * s);
          dx[i] = accDx ? dx[i]! + v : v;
        }
      }
    }
    if (dg) for (let j = 0; j < cols; j++) dg[j] = sg[j]!;
  },

  embedding(ids, table, out, dim) {
    const vocab = table.length / dim;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      for (let j = 0; j < dim; j++) out[i * dim + j] = id >= 0 && id < vocab ? table[id * dim + j]! : 0;
    }
  },
  embeddingBwd(ids, dout, dtable, dim) {
    const vocab = dtable.length / dim;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id < 0 || id >= vocab) continue;
      for (let j = 0; j < dim; j++) dtable[id * dim + j]! += dout[i * dim + j]!;
    }
  },

  stridedCopy(src, srcOff, dst, dstOff, spec, acc) {
    const nd = spec[0]!;
    const shape = Array.from(spec.subarray(1, 1 + nd));
    const ss = Array.from(spec.subarray(1 + nd, 1 + 2 * nd));
    const ds = Array.from(spec.subarray(1 + 2 * nd, 1 + 3 * nd));
    const total = shape.reduce((a, b) => a * b, 1);
    const idx = new Array<number>(nd).fill(0);
    for (let n = 0; n < total; n++) {
      let so = srcOff;
      let dof = dstOff;
      for (let d = 0; d < nd; d++) {
        so += idx[d]! * ss[d]!;
        dof += idx[d]! * ds[d]!;
      }
      check(so < src.length && dof < dst.length, 'stridedCopy: out of bounds');
      dst[dof] = acc ? dst[dof]! + src[so]! : src[so]!;
      for (let d = nd - 1; d >= 0; d--) {
        if (++idx[d]! < shape[d]!) break;
        idx[d] = 0;
      }
    }
  },

  sum(x) {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[i]!;
    return s;
  },
  sumSquares(x) {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
    return s;
  },
  dot(a, b) {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
    return s;
  },
  sumOuter(x, out, acc) {
    const inner = out.length;
    const s = new Float64Array(inner);
    for (let i = 0; i < x.length; i++) s[i % inner]! += x[i]!;
    for (let j = 0; j < inner; j++) out[j] = acc ? out[j]! + s[j]! : s[j]!;
  },
  sumInner(x, out, acc) {
    const outer = out.length;
    const inner = x.length / outer;
    for (let o = 0; o < outer; o++) {
      let s = 0;
      for (let j = 0; j < inner; j++) s += x[o * inner + j]!;
      out[o] = acc ? out[o]! + s : s;
    }
  },
  adamw(p, g, m, v, lr, b1, b2, eps, wd, bc1, bc2) {
    for (let i = 0; i < p.length; i++) {
      m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
      v[i] = b2 * v[i]! + (1 - b2) * g[i]! * g[i]!;
      p[i] = p[i]! * (1 - lr * wd) - ((lr / bc1) * m[i]!) / (Math.sqrt(v[i]!) / Math.sqrt(bc2) + eps);
    }
  },
  cumsum(x, y, cols, reverse, acc) {
    const rows = x.length / cols;
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let k = 0; k < cols; k++) {
        const j = reverse ? cols - 1 - k : k;
        s += x[r * cols + j]!;
        y[r * cols + j] = acc ? y[r * cols + j]! + s : s;
      }
    }
  },
};
