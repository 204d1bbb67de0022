#!/usr/bin/env bash
# The package as a user gets it: npm pack, install the tarball into a fresh directory offline
# (dependencies from the npm cache; the native addon built by scripts/install-native.mjs against
# the running node's headers), then `npx groundlab --help`, a tiny synthetic corpus and a tiny train.
# Slow (a native build): run as `npm run test:pack`, not part of the unit suite.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d "${TMPDIR:-/tmp}/groundlab-pack-XXXXXX")"
trap 'rm -rf "$work"' EXIT
echo "pack-test: packing into $work" >&2
tarball="$(npm pack --silent --pack-destination "$work" | tail -n 1)"
mkdir -p "$work/app"
cd "$work/app"
# A user's project pinning groundlab's dependencies with a lockfile (the versions of this
# checkout's package-lock.json, runtime dependencies only), so the install can run offline from
# the npm cache: without a lockfile npm needs registry metadata the cache may not hold.
node "$OLDPWD/scripts/pack-lock.mjs" "$OLDPWD/package-lock.json" "../$tarball" > package-lock.json
node -e "const l=require('./package-lock.json'); require('fs').writeFileSync('package.json', JSON.stringify({ name: 'groundlab-pack-test', version: '1.0.0', private: true, dependencies: l.packages[''].dependencies }, null, 2))"
echo "pack-test: installing $tarball offline (npm ci --offline)" >&2
npm ci --offline --no-audit --no-fund --loglevel=error
test -f node_modules/groundlab/build/Release/groundlab_native.node || { echo "pack-test: FAIL: the native addon was not built" >&2; exit 1; }
npx --offline groundlab --help | grep -q '^Commands:' || { echo "pack-test: FAIL: groundlab --help" >&2; exit 1; }
npx --offline groundlab corpus synth --out corpus --transcripts 6 --episodes 40 --objects 8 --scene_size 6 --min_count 2 --quiet >/dev/null
npx --offline groundlab train --corpus corpus --out run --preset tiny --train.steps 20 --train.checkpoints list:0,20 --quiet
node -e "const m=require('./run/manifest.json'); if (m.status!=='complete' || m.checkpoints.length!==2) { console.error('pack-test: FAIL: manifest', m.status, m.checkpoints.length); process.exit(1) }"
echo "pack-test: OK ($tarball: --help, corpus synth, train)" >&2
