#!/usr/bin/env bash
# npm test: Debian packages the tests need, lint, type check, build, then every test
# (unit and namespace integration tests on this host, then the kernel tests on a real Xen
# 4.17 host in QEMU).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh --node18
echo "== lint (biome)"
npx --no-install biome check src test scripts
echo "== type check (tsc --noEmit, strict)"
npx --no-install tsc --noEmit
echo "== build"
node scripts/build.mjs
echo "== tests (vitest)"
mkdir -p .tmp
status=0
npx --no-install vitest run --reporter=default --reporter=json --outputFile=.tmp/vitest.json "$@" || status=$?
node scripts/summary.mjs .tmp/vitest.json || status=1
exit "$status"
