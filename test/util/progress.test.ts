import { describe, expect, it, vi } from 'vitest';
import { Progress } from '../../src/util/progress.js';

describe('Progress eta', () => {
  it('counts only the work done by this process on a resumed run', () => {
    vi.useFakeTimers();
    try {
      vi.setSystemTime(0);
      const bar = new Progress({ total: 5000, label: 't', quiet: true, start: 2000 });
      bar.update(2000);
      expect(bar.etaSeconds()).toBe(0); // nothing done yet here: unknown
      vi.setSystemTime(10_000);
      bar.update(2010); // 10 steps in 10 s -> 2990 s left
      expect(bar.etaSeconds()).toBeCloseTo(2990, 6);
    } finally {
      vi.useRealTimers();
    }
  });

  it('without a start, uses the whole position (fresh run)', () => {
    vi.useFakeTimers();
    try {
      vi.setSystemTime(0);
      const bar = new Progress({ total: 100, label: 't', quiet: true });
      vi.setSystemTime(5_000);
      bar.update(25);
      expect(bar.etaSeconds()).toBeCloseTo(15, 6);
      bar.update(100);
      expect(bar.etaSeconds()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
