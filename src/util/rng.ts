/**
 * Seeded, serialisable pseudo-random numbers (xoshiro128**, seeded through splitmix32).
 * Every random choice in groundlab goes through an Rng with an explicit seed, so runs replay
 * exactly and a training run's RNG state can be saved in a checkpoint and restored.
 */

/** splitmix32 step: used to expand seeds and to hash (seed, k) pairs into independent streams. */
function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Mixes any number of integers (and strings) into one 32-bit seed: `deriveSeed(seed, 'batch', k)`. */
export function deriveSeed(...parts: (number | string)[]): number {
  let h = 0x12345678;
  for (const p of parts) {
    if (typeof p === 'number') {
      // Mix both 32-bit halves so large integers (steps, seeds) stay distinct.
      h = splitmix32(h ^ (p >>> 0));
      h = splitmix32(h ^ Math.floor(p / 4294967296));
    } else {
      for (let i = 0; i < p.length; i++) h = splitmix32(h ^ p.charCodeAt(i));
      h = splitmix32(h ^ 0xff);
    }
  }
  return h >>> 0;
}

export type RngState = [number, number, number, number];

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | null = null;

  constructor(seed: number | RngState) {
    if (Array.isArray(seed)) {
      [this.s0, this.s1, this.s2, this.s3] = seed;
    } else {
      let x = seed >>> 0;
      this.s0 = x = splitmix32(x);
      this.s1 = x = splitmix32(x);
      this.s2 = x = splitmix32(x);
      this.s3 = splitmix32(x);
      if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
    }
  }

  /** State for checkpoints; `new Rng(state)` resumes the exact stream. */
  state(): RngState {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  float(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (n <= 0) throw new Error(`Rng.int: n must be positive, got ${n}`);
    // Rejection sampling removes modulo bias.
    const limit = Math.floor(4294967296 / n) * n;
    let x: number;
    do x = this.nextU32();
    while (x >= limit);
    return x % n;
  }

  /** Standard normal (Box-Muller, caching the second value). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.float();
    const v = this.float();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T>(arr: T[]): T[] {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = arr[i]!;
      arr[i] = arr[j]!;
      arr[j] = t;
    }
    return arr;
  }

  /** k distinct elements drawn uniformly without replacement, in draw order. */
  sample<T>(arr: readonly T[], k: number): T[] {
    if (k > arr.length) throw new Error(`Rng.sample: cannot draw ${k} from ${arr.length}`);
    const copy = arr.slice();
    for (let i = 0; i < k; i++) {
      const j = i + this.int(copy.length - i);
      const t = copy[i]!;
      copy[i] = copy[j]!;
      copy[j] = t;
    }
    return copy.slice(0, k);
  }

  pick<T>(arr: readonly T[]): T {
    return arr[this.int(arr.length)]!;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
