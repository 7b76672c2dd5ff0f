#!/usr/bin/env bash
# The whole test suite: type check, then unit, integration and end-to-end tests (node:test), one file at a time.
# Expects scripts/setup.sh to have run (it is quick to re-run: everything is cached).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
MEDIASOUP_WORKER_BIN=$(bash scripts/build-mediasoup-worker.sh | tail -n 1)
export MEDIASOUP_WORKER_BIN
npx tsx web/build.ts
npx tsc -p tsconfig.json
mapfile -t files < <(find tests -name '*.test.ts' | sort)
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
