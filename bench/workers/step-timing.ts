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
import { type StepTiming, timeTrainingSteps as timeSteps } from './step-loop.js';

export type { StepTiming };

/** The step of step-loop.ts with this checkout's engine, optimiser and rng. */
export function timeTrainingSteps(model: LanguageModel, sizes: { vocab: number; batch: number; seq: number }, steps: number): StepTiming {
  return timeSteps(model, sizes, steps, { E, AdamW, clipGradNorm, Rng });
}

/** Median of per-step times after the first 2 (warm-up) steps. */
export const medianAfterWarmup = (xs: number[]): number => median(xs.slice(2));
