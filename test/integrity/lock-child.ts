/** Child for the lock race test: tries the lock once, holds it for argv[3] ms if won, prints the outcome as JSON. */
import { tryLock } from '../../src/util/lock.js';

const [path, holdMs] = [process.argv[2]!, Number(process.argv[3] ?? 1000)];
// Start together: wait for the go file so the five processes race within the same few milliseconds.
const go = process.argv[4];
if (go) {
  const { existsSync } = await import('node:fs');
  while (!existsSync(go)) await new Promise((r) => setTimeout(r, 2));
}
const r = tryLock(path, 'race test');
if (r.ok) {
  await new Promise((res) => setTimeout(res, holdMs));
  r.release();
  console.log(JSON.stringify({ pid: process.pid, won: true }));
} else {
  console.log(JSON.stringify({ pid: process.pid, won: false, holder: r.holder?.pid ?? null }));
}
