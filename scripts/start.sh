#!/usr/bin/env bash
# npm start: the main job on the built-in example. Installs what is missing (npm packages,
# Debian packages), builds the single-file bundle, and runs `xenplan lab`: the admin's
# bonded bridge end to end on a real Xen 4.17 host in QEMU (a throwaway VM).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules/esbuild ] || npm ci --no-audit --no-fund
bash scripts/deps.sh   # the lab's packages only; Node 18 is for npm test's compatibility test
node scripts/build.mjs
exec node dist/xenplan.cjs lab "$@"
