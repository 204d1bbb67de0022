#!/usr/bin/env bash
# Opens a report in headless Chromium and fails on console errors, page errors or any request
# leaving the file. With no argument, builds the synthetic demo report and checks that (for CI).
#   scripts/report-check.sh [REPORT.html] [--screenshot out.png]
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -eq 0 || "$1" == --* ]]; then
  out="${TMPDIR:-/tmp}/groundlab-demo-report.html"
  exec npx tsx src/report/check-main.ts --demo "$out" "$@"
fi
exec npx tsx src/report/check-main.ts "$@"
