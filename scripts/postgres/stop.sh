#!/usr/bin/env bash
# Stop the PostgreSQL started by start.sh (pg_ctl stop -m fast: disconnects clients, clean shutdown).
#   PG_DIR=/path bash scripts/postgres/stop.sh [--clean]
#   bash scripts/postgres/stop.sh /path [--clean]
# --clean also deletes PG_DIR (only if start.sh created its contents). Exits 0 when nothing is running.
set -euo pipefail
log() { echo "postgres/stop: $*" >&2; }

CLEAN=0
for a in "$@"; do
  case "$a" in
    --clean) CLEAN=1 ;;
    *) PG_DIR="$a" ;;
  esac
done
[[ -n "${PG_DIR:-}" ]] || { log "set PG_DIR (or pass it as an argument)"; exit 2; }
BIN="/usr/lib/postgresql/${PG_VERSION:-15}/bin"
DATA="$PG_DIR/data"
TIMEOUT="${PG_STOP_TIMEOUT:-60}"

as_pg() {
  if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [[ -f "$DATA/postmaster.pid" ]] && as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  log "stopping the server in $DATA"
  if ! as_pg "$BIN/pg_ctl" -D "$DATA" stop -m fast -w -t "$TIMEOUT" >&2; then
    log "fast shutdown did not finish within ${TIMEOUT}s: immediate shutdown"
    as_pg "$BIN/pg_ctl" -D "$DATA" stop -m immediate -w -t 30 >&2 || { log "PostgreSQL in $DATA did not stop"; exit 1; }
  fi
  log "stopped"
else
  log "not running in $DATA"
fi

if [[ $CLEAN == 1 && -f "$PG_DIR/.meshmeet-postgres" ]]; then
  rm -rf -- "$PG_DIR"
  log "removed $PG_DIR"
fi
