/**
 * The timed training step of every step worker, with the engine, optimiser and rng passed in (type
 * imports only: importing this file loads no engine, so cpu-step.ts --root can time another checkout).
 * Weights are initialised with seed 1, ids and targets are B × T random tokens from seed 2; a step is
 * zeroGrad, forward, cross-entropy over all B·T positions, backward, clipping at norm 1 and an AdamW
 * update (lr 1e-3, no weight decay).
 */
import type * as E from '../../src/engine/index.js';
import type { LanguageModel } from '../../src/models/types.js';
import type { AdamW, clipGradNorm } from '../../src/train/optim.js';
import type { Rng } from '../../src/util/rng.js';

/** The modules a step uses: ours by default, or another checkout's (cpu-step.ts --root times old main). */
export interface StepDeps {
  E: Pick<typeof E, 'tidy' | 'crossEntropy' | 'reshape' | 'backward'>;
  AdamW: typeof AdamW;
  clipGradNorm: typeof clipGradNorm;
  Rng: typeof Rng;
}

export interface StepTiming {
  /** Wall time of each step, ms. */
  times: number[];
  /** Process CPU time (all threads) of each step, ms: robust to other load on the machine. */
  cpu: number[];
  /** Runs one more training step (e.g. under E.profileOps) and returns its loss. */
  step: () => number;
  /** Loss of the last timed step. */
  loss: number;
}

/** Initialises `model` and times `steps` training steps on a batch of `batch` × `seq` random tokens below `vocab`. */
export function timeTrainingSteps(model: LanguageModel, sizes: { vocab: number; batch: number; seq: number }, steps: number, deps: StepDeps): StepTiming {
  const { vocab: V, batch: B, seq: T } = sizes;
  const { E, AdamW, clipGradNorm, Rng } = deps;
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
  let loss = NaN;
  for (let s = 0; s < steps; s++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    loss = step();
    const c = process.cpuUsage(c0);
    times.push(performance.now() - t0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { times, cpu, step, loss };
}
