/**
 * Loads the C addon (build/Release/groundlab_native.node, built by `npm ci` through node-gyp).
 *
 * OMP_WAIT_POLICY=PASSIVE must be in the environment before libgomp initialises (that is,
 * before the addon is loaded): otherwise OpenMP's spinning threads fight OpenBLAS's for the
 * cores and a training step gets up to 85% slower (../shared/notes/engines.md §5).
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import type { Kernels } from './kernels.js';
import { packageRoot } from '../../util/version.js';

export const nativeAddonPath = join(packageRoot, 'build', 'Release', 'groundlab_native.node');

let loaded: Kernels | null | undefined;

/** The native kernels, or null when the addon has not been built. */
export function loadNativeKernels(): Kernels | null {
  if (loaded !== undefined) return loaded;
  if (!existsSync(nativeAddonPath)) {
    loaded = null;
    return null;
  }
  process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
  const addon = createRequire(import.meta.url)(nativeAddonPath) as Omit<Kernels, 'name'>;
  const k = Object.assign(Object.create(null), addon, { name: 'native' as const }) as Kernels;
  const envThreads = Number(process.env.GROUNDLAB_THREADS);
  k.setThreads(Number.isInteger(envThreads) && envThreads > 0 ? envThreads : availableParallelism());
  if (!k.hasOpenBLAS() && !process.env.GROUNDLAB_QUIET) {
    process.stderr.write('groundlab: warning: the native addon was built without OpenBLAS; GEMMs use the slower built-in C loop (apt-get install -y libopenblas-dev && npm rebuild)\n');
  }
  loaded = k;
  return k;
}
