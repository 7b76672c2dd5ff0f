#!/usr/bin/env bash
# Stop the Cassandra started by start.sh, using $CASSANDRA_DIR/cassandra.pid:
# SIGTERM, wait up to CASSANDRA_STOP_TIMEOUT (default 30) s, then SIGKILL.
#   CASSANDRA_DIR=/path bash scripts/cassandra/stop.sh [--clean]
#   bash scripts/cassandra/stop.sh /path [--clean]
# --clean also deletes CASSANDRA_DIR (only if start.sh created its contents).
# Exits 0 when nothing is running.
set -euo pipefail
log() { echo "cassandra/stop: $*" >&2; }

CLEAN=0
for a in "$@"; do
  case "$a" in
    --clean) CLEAN=1 ;;
    *) CASSANDRA_DIR="$a" ;;
  esac
done
[[ -n "${CASSANDRA_DIR:-}" ]] || { log "set CASSANDRA_DIR (or pass it as an argument)"; exit 2; }
PIDFILE="$CASSANDRA_DIR/cassandra.pid"
TIMEOUT="${CASSANDRA_STOP_TIMEOUT:-30}"

alive() {  # exists and is not a zombie
  kill -0 "$1" 2>/dev/null || return 1
  local st; st="$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null || true)"
  [[ "$st" != "Z" ]]
}
is_ours() {  # alive and really our CassandraDaemon (guards against PID reuse)
  alive "$1" && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q 'CassandraDaemon'
}

if [[ -f "$PIDFILE" ]]; then
  PID="$(cat "$PIDFILE")"
  if [[ "$PID" =~ ^[0-9]+$ ]] && is_ours "$PID"; then
    log "stopping pid $PID (SIGTERM)"
    kill -TERM "$PID" 2>/dev/null || true
    for ((i = 0; i < TIMEOUT * 5; i++)); do alive "$PID" || break; sleep 0.2; done
    if alive "$PID"; then
      log "still alive after ${TIMEOUT}s: SIGKILL"
      kill -KILL "$PID" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do alive "$PID" || break; sleep 0.2; done
    fi
    if alive "$PID"; then log "pid $PID did not exit"; exit 1; fi
    log "stopped"
  else
    log "not running (stale pid file)"
  fi
  rm -f "$PIDFILE"
else
  log "no pid file in $CASSANDRA_DIR: not running"
fi

if [[ $CLEAN == 1 && -f "$CASSANDRA_DIR/.meshmeet-cassandra" ]]; then
  rm -rf -- "$CASSANDRA_DIR"
  log "removed $CASSANDRA_DIR"
fi
