/**
 * AdamW (Loshchilov & Hutter 2019, PyTorch's formulation) over a ParamStore's flat buffers,
 * and global-norm gradient clipping. One kernel call per run of parameters that share a
 * weight-decay setting.
 */
import { type ParamStore, kernels } from '../engine/index.js';

export interface AdamWConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export class AdamW {
  readonly m: Float32Array;
  readonly v: Float32Array;
  /** Number of updates applied so far (bias correction uses step + 1). */
  step = 0;
  private readonly ranges: { start: number; end: number; decay: boolean }[] = [];

  constructor(
    private readonly params: ParamStore,
    readonly config: AdamWConfig,
  ) {
    this.m = new Float32Array(params.count);
    this.v = new Float32Array(params.count);
    for (const s of params.specs) {
      const start = params.offsetOf(s.name);
      const end = start + params.get(s.name).size;
      const decay = s.decay ?? s.shape.length >= 2;
      const last = this.ranges[this.ranges.length - 1];
      if (last && last.end === start && last.decay === decay) last.end = end;
      else this.ranges.push({ start, end, decay });
    }
  }

  /** Applies one update with learning rate lr (from the schedule). */
  update(lr: number): void {
    const { beta1, beta2, eps, weightDecay } = this.config;
    this.step++;
    const bc1 = 1 - beta1 ** this.step;
    const bc2 = 1 - beta2 ** this.step;
    const k = kernels();
    const { data, grad } = this.params;
    if (weightDecay === 0) {
      k.adamw(data, grad, this.m, this.v, lr, beta1, beta2, eps, 0, bc1, bc2);
      return;
    }
    for (const r of this.ranges) {
      k.adamw(data.subarray(r.start, r.end), grad.subarray(r.start, r.end), this.m.subarray(r.start, r.end), this.v.subarray(r.start, r.end), lr, beta1, beta2, eps, r.decay ? weightDecay : 0, bc1, bc2);
    }
  }
}

/** Global L2 norm of all gradients; scales them down to maxNorm when above it. Returns the norm before clipping. */
export function clipGradNorm(params: ParamStore, maxNorm: number): number {
  const k = kernels();
  const norm = Math.sqrt(k.sumSquares(params.grad));
  if (maxNorm > 0 && norm > maxNorm) k.affine(params.grad, params.grad, maxNorm / (norm + 1e-6), 0);
  return norm;
}
