#!/usr/bin/env bash
# Stop a coturn started by scripts/coturn/start.sh: TURN_DIR=... bash scripts/coturn/stop.sh [--clean]
set -euo pipefail
dir="${TURN_DIR:?TURN_DIR is required}"
pid=$(cat "$dir/pid.launch" 2>/dev/null || true)
if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
  kill "$pid"
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
fi
[[ "${1:-}" == --clean ]] && rm -rf "$dir"
true
