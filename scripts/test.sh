#!/usr/bin/env bash
# The whole test suite: type check, then unit, integration and end-to-end tests (node:test), one file at a time.
# Starts one real PostgreSQL and one real Cassandra for the whole run (tests isolate themselves in fresh databases
# and keyspaces) and stops them at the end. Expects scripts/setup.sh to have run (quick to re-run: all cached).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
MEDIASOUP_WORKER_BIN=$(bash scripts/build-mediasoup-worker.sh | tail -n 1)
export MEDIASOUP_WORKER_BIN
npx tsx web/build.ts
npx tsc -p tsconfig.json

cleanup() {
  [ -n "${PG_DIR:-}" ] && bash scripts/postgres/stop.sh --clean >/dev/null 2>&1 || true
  [ -n "${CASSANDRA_DIR:-}" ] && bash scripts/cassandra/stop.sh --clean >/dev/null 2>&1 || true
}
trap cleanup EXIT
if [ -z "${MESHMEET_TEST_PG_URL:-}" ]; then
  out=$(bash scripts/postgres/start.sh)
  eval "$out"
  export MESHMEET_TEST_PG_URL="$PG_URL"
fi
if [ -z "${MESHMEET_TEST_CASSANDRA:-}" ]; then
  # Free ports (CQL and storage), never 9042/7000: two runs on one machine must not collide.
  out=$(CASSANDRA_PORT=auto bash scripts/cassandra/start.sh)
  eval "$out"
  export MESHMEET_TEST_CASSANDRA="127.0.0.1:$CASSANDRA_PORT"
fi

mapfile -t files < <(find tests -name '*.test.ts' | sort)
# Each file is one test for the runner: --test-timeout bounds a whole file, so a hang fails clearly (as cancelled,
# naming the file) instead of running into CI's limit. The slowest file takes a few minutes; raise it by hand if needed.
node --import tsx --test --test-concurrency=1 --test-reporter=spec --test-timeout="${MESHMEET_TEST_FILE_TIMEOUT_MS:-600000}" "${files[@]}"
