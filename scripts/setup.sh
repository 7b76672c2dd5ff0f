#!/usr/bin/env bash
# Installs everything the local system and the tests need, idempotently:
# Debian packages (build tools and libraries for the mediasoup worker, Chromium for the browser tests),
# npm packages (npm ci), the mediasoup worker (built from source once, cached), and the web client bundle.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "error: Node.js 20 or newer is needed (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

# mediasoup worker build; Chromium for browser tests; PostgreSQL for tests; a JDK and Maven for Cassandra (tests);
# coturn (TURN), SIPp (sip-tester, phone tests) and espeak-ng (the phone gateway's voice prompts).
apt_packages=(meson ninja-build pkg-config g++ libuv1-dev libssl-dev libsrtp2-dev libusrsctp-dev libabsl-dev
  nlohmann-json3-dev chromium fonts-liberation postgresql
  coturn sip-tester espeak-ng)  # TURN (coturn), phone dial-in tests (SIPp) and the gateway's voice prompts
apt_packages+=(fonts-noto-color-emoji)  # emoji in reactions and screenshots
# bench: ffmpeg encodes the bots' media once, Janus is a peer SFU, dpkg-dev unpacks Debian's libsrtp2 source for the worker
apt_packages+=(ffmpeg janus dpkg-dev make)
command -v java >/dev/null 2>&1 || apt_packages+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || apt_packages+=(maven)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing Debian packages: ${missing[*]}" >&2
    echo "       run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

bash scripts/build-mediasoup-worker.sh >/dev/null
bash scripts/cassandra/fetch.sh >/dev/null
npx tsx web/build.ts
# The SIP gateway's voice prompts, spoken once by espeak-ng (cached in ~/.cache/meshmeet/prompts).
npx tsx edge-node/sip/main.ts --make-prompts
echo "setup done"
