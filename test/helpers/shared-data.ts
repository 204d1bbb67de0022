/**
 * The shared data (../shared/data beside the checkout, never copied into the repo), or the
 * directory GROUNDLAB_SHARED_DATA names. Tests that need it FAIL when it is missing, in CI and
 * locally: a silent skip would let a suite go green without its real-data tests.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SHARED_DATA = process.env.GROUNDLAB_SHARED_DATA ? resolve(process.env.GROUNDLAB_SHARED_DATA) : fileURLToPath(new URL('../../../shared/data', import.meta.url));

/** Path of `sub` inside the shared data; throws a clear error naming the path and the fix when it is absent. */
export function sharedData(...sub: string[]): string {
  const p = join(SHARED_DATA, ...sub);
  if (!existsSync(p)) {
    throw new Error(
      `shared test data missing: ${p} does not exist. These tests need the shared data set (../shared/data beside the checkout); ` +
        `put it there or set GROUNDLAB_SHARED_DATA=/path/to/data. They never skip silently.`,
    );
  }
  return p;
}
