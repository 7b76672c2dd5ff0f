#!/usr/bin/env bash
# Builds mediasoup's C++ worker from the npm tarball's own sources against Debian 12 system libraries.
#
# mediasoup's postinstall downloads a prebuilt worker from GitHub (unreachable here) and its meson wraps download
# dependencies from GitHub too. We replace each wrap with a small local subproject that exposes the system library
# under the variable names worker/meson.build reads, then build only the `mediasoup-worker` executable.
#
# The binary is cached outside the clone, keyed by mediasoup version, and reused only if it starts a real worker.
# Prints the path of the binary on its last line. Idempotent.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
ms_dir="$root/node_modules/mediasoup"
[ -d "$ms_dir/worker" ] || { echo "mediasoup is not installed: run 'npm ci' first" >&2; exit 1; }
version=$(node -p "require('$ms_dir/package.json').version")
cache_root="${MESHMEET_CACHE:-$HOME/.cache/meshmeet}"
# libsrtp 2.5.0 from Debian's own source package, built against OpenSSL and linked statically (Debian's libsrtp2 is
# built against NSS: about half the speed for AES_CM_128_HMAC_SHA1_80, a fifth slower for AEAD_AES_256_GCM).
# Part of the cache key so that a worker linked against Debian's shared libsrtp2 is never reused.
srtp_version=2.5.0
cache="$cache_root/mediasoup-$version-srtp$srtp_version-openssl"
bin="$cache/mediasoup-worker"

check_worker() {
  [ -x "$1" ] && MEDIASOUP_WORKER_BIN="$1" node "$root/scripts/check-worker.mjs" >/dev/null 2>&1
}

if check_worker "$bin"; then
  echo "$bin"
  exit 0
fi

# System packages the build needs (Debian names). Fail early with a clear message.
need=(meson ninja-build pkg-config g++ make dpkg-dev libuv1-dev libssl-dev libusrsctp-dev libabsl-dev nlohmann-json3-dev)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "error: missing system packages for the mediasoup worker build: ${missing[*]}" >&2
  echo "       install them with: apt-get install -y ${missing[*]}" >&2
  exit 1
fi

mkdir -p "$cache"

# libsrtp: Debian's source package (deb-src for bookworm through a private apt state in the cache: the machine's
# apt sources and lists are not touched), configured with --enable-openssl, installed as a static library.
srtp="$cache/libsrtp"
if [ ! -f "$srtp/lib/libsrtp2.a" ]; then
  apt_dir="$cache/apt-src"
  rm -rf "$apt_dir" "$cache/srtp-src"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$cache/srtp-src"
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main" \
    > "$apt_dir/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=$apt_dir/none"
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o "APT::Sandbox::User=root")
  echo "fetching Debian's libsrtp2 source package..." >&2
  apt-get "${apt_opts[@]}" update >"$cache/srtp-apt.log" 2>&1 || { tail -20 "$cache/srtp-apt.log" >&2; exit 1; }
  (cd "$cache/srtp-src" && apt-get "${apt_opts[@]}" source libsrtp2) >>"$cache/srtp-apt.log" 2>&1 \
    || { tail -20 "$cache/srtp-apt.log" >&2; exit 1; }
  srtp_src=$(find "$cache/srtp-src" -maxdepth 1 -mindepth 1 -type d -name "libsrtp2-$srtp_version*" | head -n 1)
  [ -n "$srtp_src" ] || { echo "error: apt-get source libsrtp2 gave no source tree" >&2; exit 1; }
  echo "building libsrtp $srtp_version with OpenSSL (static)..." >&2
  (cd "$srtp_src" && ./configure --enable-openssl --prefix="$srtp" CFLAGS="-O2 -fPIC" \
    && make -j"$(nproc)" libsrtp2.a && make install) >"$cache/srtp-build.log" 2>&1 \
    || { tail -40 "$cache/srtp-build.log" >&2; exit 1; }
  rm -rf "$apt_dir" "$cache/srtp-src"
fi

src="$cache/src"
rm -rf "$src"
cp -r "$ms_dir/worker" "$src"
rm -rf "$src/out" "$src/subprojects"
sub="$src/subprojects"
mkdir -p "$sub"

# shim NAME OPTIONS_FILE_CONTENT MESON_BUILD_BODY
shim() {
  mkdir -p "$sub/$1"
  printf '%s\n' "$2" > "$sub/$1/meson_options.txt"
  printf "project('%s', ['c', 'cpp'])\nempty_lib = static_library('%s_empty', 'empty.c')\n%s\n" "$1" "${1//-/_}" "$3" \
    > "$sub/$1/meson.build"
  echo 'int meshmeet_empty_shim_symbol(void) { return 0; }' > "$sub/$1/empty.c"
}

shim openssl '' "
openssl_dep = dependency('openssl')
libcrypto_lib = empty_lib
libssl_lib = empty_lib"

shim nlohmann_json '' "
nlohmann_json_dep = dependency('nlohmann_json')"

shim libuv "option('build_tests', type: 'boolean', value: false)
option('build_benchmarks', type: 'boolean', value: false)" "
libuv_dep = dependency('libuv', version: '>= 1.44')
libuv = empty_lib"

shim libsrtp2 "option('crypto-library', type: 'string', value: 'openssl')
option('crypto-library-kdf', type: 'feature', value: 'disabled')
option('tests', type: 'feature', value: 'disabled')" "
libsrtp2_dep = declare_dependency(dependencies: dependency('openssl'), compile_args: ['-I$srtp/include', '-I$srtp/include/srtp2'],
  link_args: ['$srtp/lib/libsrtp2.a'])
libsrtp2 = empty_lib"

shim usrsctp "option('sctp_build_programs', type: 'boolean', value: false)" "
usrsctp_dep = dependency('usrsctp')
usrsctp = empty_lib"

shim abseil-cpp '' "
absl_container_dep = declare_dependency(dependencies: [
  dependency('absl_flat_hash_map'), dependency('absl_flat_hash_set'), dependency('absl_btree'),
  dependency('absl_inlined_vector'), dependency('absl_memory'), dependency('absl_optional'),
])
absl_strings_dep = dependency('absl_strings')
absl_types_dep = dependency('absl_optional')
absl_container_lib = empty_lib"

shim catch2 '' "
catch2_dep = declare_dependency()"

# Debian 12 ships meson 1.0.1; the worker asks for >= 1.1.0 but builds fine with 1.0.1.
sed -i "s/meson_version: '>= 1.1.0'/meson_version: '>= 1.0.0'/" "$src/meson.build"

echo "building mediasoup-worker $version in $src (a few minutes on 2 cores)..." >&2
start=$(date +%s)
build="$src/out/build"
meson setup --buildtype=release -Db_ndebug=true -Db_pie=true "$build" "$src" >"$cache/meson-setup.log" 2>&1 \
  || { tail -40 "$cache/meson-setup.log" >&2; exit 1; }
ninja -C "$build" mediasoup-worker >"$cache/ninja.log" 2>&1 || { tail -60 "$cache/ninja.log" >&2; exit 1; }
cp "$build/mediasoup-worker" "$bin.tmp"
mv "$bin.tmp" "$bin"
echo "built mediasoup-worker in $(( $(date +%s) - start ))s" >&2
if ! check_worker "$bin"; then
  echo "error: the built worker did not start; see scripts/check-worker.mjs" >&2
  exit 1
fi
rm -rf "$src"
echo "$bin"
