/**
 * Shared by the training-step workers (gpt2-step, lstm-step, mamba2-step): the timed training step
 * every one of them measures. Weights are initialised with seed 1, ids and targets are B × T random
 * tokens from seed 2; a step is zeroGrad, forward, cross-entropy over all B·T positions, backward,
 * clipping at norm 1 and an AdamW update (lr 1e-3, no weight decay).
 */
import * as E from '../../src/engine/index.js';
import type { LanguageModel } from '../../src/models/types.js';
import { AdamW, clipGradNorm } from '../../src/train/optim.js';
import { Rng } from '../../src/util/rng.js';
import { median } from '../lib.js';

export interface StepTiming {
  /** Wall time of each step, ms. */
  times: number[];
  /** Process CPU time (all threads) of each step, ms: robust to other load on the machine. */
  cpu: number[];
  /** Runs one more training step (e.g. under E.profileOps) and returns its loss. */
  step: () => number;
}

/** Initialises `model` and times `steps` training steps on a batch of `batch` × `seq` random tokens below `vocab`. */
export function timeTrainingSteps(model: LanguageModel, sizes: { vocab: number; batch: number; seq: number }, steps: number): StepTiming {
  const { vocab: V, batch: B, seq: T } = sizes;
  model.params.initialize(new Rng(1));
  const opt = new AdamW(model.params, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
  const rng = new Rng(2);
  const ids = Int32Array.from({ length: B * T }, () => rng.int(V));
  const targets = Int32Array.from({ length: B * T }, () => rng.int(V));

  function step(): number {
    model.params.zeroGrad();
    const loss = E.tidy(() => {
      const logits = model.forward({ ids, batch: B, seq: T });
      const l = E.crossEntropy(E.reshape(logits, [B * T, V]), targets);
      E.backward(l);
      return l.item();
    });
    clipGradNorm(model.params, 1);
    opt.update(1e-3);
    return loss;
  }

  const times: number[] = [];
  const cpu: number[] = [];
  for (let s = 0; s < steps; s++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    step();
    const c = process.cpuUsage(c0);
    times.push(performance.now() - t0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { times, cpu, step };
}

/** Median of per-step times after the first 2 (warm-up) steps. */
export const medianAfterWarmup = (xs: number[]): number => median(xs.slice(2));
