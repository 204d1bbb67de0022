/** Learning-rate schedules and checkpoint schedules: pure functions of the step. */

export interface LrSchedule {
  /** Peak learning rate. */
  lr: number;
  warmup: number;
  /** Total steps; decay ends here. */
  steps: number;
  decay: 'linear' | 'cosine' | 'constant';
  /** Final learning rate as a fraction of the peak (the paper decays linearly to 0). */
  minRatio: number;
}

/** Learning rate for the update made at `step` (0-based): linear warm-up, then decay. */
export function learningRate(s: LrSchedule, step: number): number {
  if (s.warmup > 0 && step < s.warmup) return (s.lr * (step + 1)) / s.warmup;
  if (s.decay === 'constant') return s.lr;
  const span = Math.max(1, s.steps - s.warmup);
  const t = Math.min(1, Math.max(0, (step - s.warmup) / span));
  const min = s.lr * s.minRatio;
  if (s.decay === 'linear') return min + (s.lr - min) * (1 - t);
  return min + 0.5 * (s.lr - min) * (1 + Math.cos(Math.PI * t));
}

/**
 * When to keep a checkpoint (after `step` updates; 0 = the initialisation):
 *   paper        0, 150, 300, then every 500 (the paper's schedule), up to the last step
 *   every:N      0, N, 2N, ...
 *   log:N        0 and N log-spaced steps up to the last (dense early, like Pythia)
 *   list:a,b,c   exactly these
 * The last step is always included.
 */
export function checkpointSteps(spec: string, steps: number): number[] {
  const [kind, arg] = spec.split(':') as [string, string | undefined];
  let out: number[];
  switch (kind) {
    case 'paper':
      out = [0, 150, 300];
      for (let s = 500; s <= steps; s += 500) out.push(s);
      break;
    case 'every': {
      const n = Number(arg);
      if (!Number.isInteger(n) || n <= 0) throw new Error(`checkpoint schedule "${spec}": every:N needs a positive integer`);
      out = [];
      for (let s = 0; s <= steps; s += n) out.push(s);
      break;
    }
    case 'log': {
      const n = Number(arg);
      if (!Number.isInteger(n) || n <= 0) throw new Error(`checkpoint schedule "${spec}": log:N needs a positive integer`);
      out = [0];
      for (let i = 1; i <= n; i++) out.push(Math.round(Math.exp((Math.log(steps) * i) / n)));
      break;
    }
    case 'list':
      out = (arg ?? '').split(',').filter(Boolean).map(Number);
      if (out.some((s) => !Number.isInteger(s) || s < 0)) throw new Error(`checkpoint schedule "${spec}": list needs non-negative integers`);
      break;
    default:
      throw new Error(`unknown checkpoint schedule "${spec}" (use paper, every:N, log:N or list:a,b,c)`);
  }
  out.push(steps);
  return [...new Set(out.filter((s) => s <= steps))].sort((a, b) => a - b);
}
