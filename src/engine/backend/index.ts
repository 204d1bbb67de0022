/**
 * Backend selection. The active kernels are native when the addon is built, else the TypeScript
 * reference (with a warning: it is orders of magnitude slower). Tests switch explicitly.
 */
import type { Kernels } from './kernels.js';
import { loadNativeKernels } from './native.js';
import { referenceKernels } from './reference.js';

export * from './kernels.js';
export { referenceKernels } from './reference.js';
export { loadNativeKernels } from './native.js';

let active: Kernels | undefined;

/** The kernels every op uses. */
export function kernels(): Kernels {
  if (active) return active;
  const native = process.env.GROUNDLAB_BACKEND === 'reference' ? null : loadNativeKernels();
  if (!native && process.env.GROUNDLAB_BACKEND !== 'reference') {
    process.stderr.write('groundlab: warning: native addon not built (run `npm ci` or `npm rebuild`); using the slow TypeScript reference kernels\n');
  }
  active = native ?? referenceKernels;
  return active;
}

export function useBackend(name: 'native' | 'reference'): Kernels {
  if (name === 'reference') active = referenceKernels;
  else {
    const k = loadNativeKernels();
    if (!k) throw new Error('groundlab: the native addon is not built (run `npm ci` or `npm rebuild`)');
    active = k;
  }
  return active;
}

/** Number of threads for native kernels and OpenBLAS (default: all cores, or GROUNDLAB_THREADS). */
export function setThreads(n: number): void {
  kernels().setThreads(n);
}

export function getThreads(): number {
  return kernels().getThreads();
}
