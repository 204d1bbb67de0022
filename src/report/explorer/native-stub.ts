/**
 * Stands in for src/engine/backend/native.ts in the explorer page bundle (see
 * scripts/build-explorer.mjs): a browser has no addon, so the engine uses the reference kernels.
 */
import type { Kernels } from '../../engine/backend/kernels.js';

export const nativeAddonPath = '';

export function loadNativeKernels(): Kernels | null {
  return null;
}
