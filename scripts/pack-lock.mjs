#!/usr/bin/env node
/**
 * For scripts/pack-test.sh: a lockfile for a fresh project that depends on the packed tarball,
 * with groundlab's runtime dependencies at the versions of this checkout's package-lock.json.
 * Usage: node scripts/pack-lock.mjs <package-lock.json> <tarball path relative to the project>
 */
import { readFileSync } from 'node:fs';

const [lockPath, tarball] = process.argv.slice(2);
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
const root = lock.packages[''];
const packages = {
  '': { name: 'groundlab-pack-test', version: '1.0.0', dependencies: { groundlab: `file:${tarball}` } },
  'node_modules/groundlab': {
    version: root.version,
    resolved: `file:${tarball}`,
    hasInstallScript: true,
    license: root.license,
    dependencies: root.dependencies,
    bin: root.bin,
    engines: root.engines,
  },
};
for (const [key, entry] of Object.entries(lock.packages)) {
  if (key === '' || entry.dev || entry.link) continue;
  packages[key] = entry;
}
process.stdout.write(JSON.stringify({ name: 'groundlab-pack-test', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2) + '\n');
