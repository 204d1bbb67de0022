#!/usr/bin/env bash
# The main job: installs what it needs, then reproduces the study on the embedded synthetic world.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node bin/groundlab.js reproduce --preset demo "$@"
