#!/usr/bin/env bash
# Start coturn (Debian's `coturn`, /usr/bin/turnserver) beside an edge node, with the TURN REST scheme
# (`use-auth-secret` + `static-auth-secret`): the control plane hands clients time-limited credentials made from the
# same secret. The config, a self-signed certificate for local runs (unless TURN_CERT/TURN_PKEY are given) and the log
# live in a run dir.
#
# Env (all optional):
#   TURN_DIR          run dir: turnserver.conf, cert.pem, key.pem, turnserver.log, pid (default: a new mktemp dir)
#   TURN_LISTEN_IP    address to listen on and relay from               (default 127.0.0.1)
#   TURN_EXTERNAL_IP  public address announced in relayed candidates    (default: none, behind no NAT)
#   TURN_PORT         UDP and TCP listening port                         (default 3478)
#   TURN_TLS_PORT     TLS listening port                                 (default 443; use e.g. 5349 without root)
#   TURN_SECRET       static-auth-secret shared with the control plane   (default: a random one, printed)
#   TURN_REALM        realm                                              (default meshmeet)
#   TURN_CERT / TURN_PKEY  certificate and key (PEM) the operator provides (default: self-signed, made with openssl)
#   TURN_RELAY_MIN_PORT / TURN_RELAY_MAX_PORT  relay ports               (default 49152 / 65535)
#   TURN_NO_UDP=1 / TURN_NO_TCP=1  no plain UDP / TCP listeners (then only TLS is open)
#   TURN_TEST=1       tests only: allow relaying to loopback peers (an edge node on 127.0.0.1)
#
# Prints shell lines for eval "$(bash scripts/coturn/start.sh)": TURN_DIR, TURN_PID, TURN_SECRET, TURN_URLS.
# Stop with: TURN_DIR=... bash scripts/coturn/stop.sh [--clean]
set -euo pipefail
log() { echo "coturn/start: $*" >&2; }
die() { log "$*"; exit 1; }

command -v turnserver >/dev/null || die "turnserver not found: apt-get install coturn (scripts/setup.sh does)"
dir="${TURN_DIR:-$(mktemp -d -t meshmeet-coturn-XXXXXX)}"
mkdir -p "$dir"
ip="${TURN_LISTEN_IP:-127.0.0.1}"
port="${TURN_PORT:-3478}"
tls_port="${TURN_TLS_PORT:-443}"
secret="${TURN_SECRET:-$(openssl rand -hex 24)}"
realm="${TURN_REALM:-meshmeet}"
for p in "$port" "$tls_port" "${TURN_RELAY_MIN_PORT:-49152}" "${TURN_RELAY_MAX_PORT:-65535}"; do
  [[ "$p" =~ ^[0-9]+$ ]] && (( p > 0 && p < 65536 )) || die "invalid port '$p'"
done
[[ "$secret" =~ ^[A-Za-z0-9_.~+/=-]{16,}$ ]] || die "TURN_SECRET must be at least 16 characters of [A-Za-z0-9_.~+/=-]"

cert="${TURN_CERT:-$dir/cert.pem}"
pkey="${TURN_PKEY:-$dir/key.pem}"
if [[ -z "${TURN_CERT:-}" && ! -s "$cert" ]]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj "/CN=meshmeet-turn" \
    -addext "subjectAltName=IP:$ip,DNS:localhost" -keyout "$pkey" -out "$cert" 2>/dev/null || die "openssl failed"
fi

{
  echo "listening-ip=$ip"
  echo "relay-ip=$ip"
  [[ -n "${TURN_EXTERNAL_IP:-}" ]] && echo "external-ip=$TURN_EXTERNAL_IP"
  echo "listening-port=$port"
  echo "tls-listening-port=$tls_port"
  echo "min-port=${TURN_RELAY_MIN_PORT:-49152}"
  echo "max-port=${TURN_RELAY_MAX_PORT:-65535}"
  echo "use-auth-secret"
  echo "static-auth-secret=$secret"
  echo "realm=$realm"
  echo "cert=$cert"
  echo "pkey=$pkey"
  echo "fingerprint"
  echo "no-dtls"
  echo "no-cli"
  echo "no-multicast-peers"
  echo "no-software-attribute"
  echo "stale-nonce=600"
  echo "pidfile=$dir/pid"
  echo "log-file=$dir/turnserver.log"
  echo "simple-log"
  [[ "${TURN_NO_UDP:-}" == 1 ]] && echo "no-udp"
  [[ "${TURN_NO_TCP:-}" == 1 ]] && echo "no-tcp"
  [[ "${TURN_TEST:-}" == 1 ]] && echo "allow-loopback-peers"
  true
} > "$dir/turnserver.conf"
chmod 600 "$dir/turnserver.conf"

turnserver -c "$dir/turnserver.conf" >/dev/null 2>&1 &
pid=$!
echo "$pid" > "$dir/pid.launch"
# Ready when the TLS port accepts connections (bounded wait).
for _ in $(seq 1 100); do
  kill -0 "$pid" 2>/dev/null || die "turnserver exited; see $dir/turnserver.log"
  if (exec 3<>"/dev/tcp/$ip/$tls_port") 2>/dev/null; then break; fi
  sleep 0.1
done
(exec 3<>"/dev/tcp/$ip/$tls_port") 2>/dev/null || { kill "$pid"; die "TLS port $tls_port never opened"; }

host="$ip"; [[ "$ip" == *:* ]] && host="[$ip]"
urls="turns:$host:$tls_port?transport=tcp"
[[ "${TURN_NO_TCP:-}" == 1 ]] || urls="turn:$host:$port?transport=tcp,$urls"
[[ "${TURN_NO_UDP:-}" == 1 ]] || urls="turn:$host:$port?transport=udp,$urls"
echo "export TURN_DIR=$dir TURN_PID=$pid TURN_SECRET=$secret TURN_URLS='$urls'"
