#!/usr/bin/env bash
# The test command: installs what it needs, then runs the whole suite (unit, golden, property, end-to-end on ../shared/data).
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRA_APT="chromium" bash scripts/setup.sh
npx vitest run "$@"
