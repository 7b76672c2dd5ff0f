#!/usr/bin/env bash
# Download Apache Cassandra (cassandra-all) and its runtime dependency tree from
# Maven Central into a cache outside the repo:
#   ${MESHMEET_CACHE:-$HOME/.cache/meshmeet}/cassandra-<version>/lib
# Idempotent: a completed download is marked by lib/.complete and reused.
# Prints the lib dir on stdout as its last line.
set -euo pipefail

CASSANDRA_VERSION="${CASSANDRA_VERSION:-5.0.9}"
CACHE_ROOT="${MESHMEET_CACHE:-${HOME:-/tmp}/.cache/meshmeet}"
DEST="$CACHE_ROOT/cassandra-$CASSANDRA_VERSION"
LIB="$DEST/lib"
MARKER="$LIB/.complete"

die() { echo "cassandra/fetch: $*" >&2; exit 1; }

command -v java >/dev/null 2>&1 || die "java not found on PATH (need JDK 11 or 17, e.g. apt-get install openjdk-17-jdk-headless)"
command -v mvn  >/dev/null 2>&1 || die "mvn not found on PATH (apt-get install maven)"

if [[ -f "$MARKER" && "$(cat "$MARKER")" == "$CASSANDRA_VERSION" ]]; then
  echo "cassandra/fetch: cache hit: $LIB ($(ls "$LIB"/*.jar | wc -l) jars)" >&2
  echo "$LIB"
  exit 0
fi

mkdir -p "$DEST"
WORK="$(mktemp -d "$DEST/.fetch.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

cat > "$WORK/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>meshmeet.local</groupId>
  <artifactId>cassandra-fetch</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.cassandra</groupId>
      <artifactId>cassandra-all</artifactId>
      <version>$CASSANDRA_VERSION</version>
    </dependency>
  </dependencies>
</project>
POM

echo "cassandra/fetch: resolving org.apache.cassandra:cassandra-all:$CASSANDRA_VERSION + runtime deps (Maven Central)..." >&2
start=$(date +%s)
if ! mvn -B -q -f "$WORK/pom.xml" \
      org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$WORK/lib" >"$WORK/mvn.log" 2>&1; then
  tail -40 "$WORK/mvn.log" >&2
  die "mvn dependency:copy-dependencies failed (see above)"
fi
n=$(ls "$WORK/lib"/*.jar 2>/dev/null | wc -l)
[[ -f "$WORK/lib/cassandra-all-$CASSANDRA_VERSION.jar" && $n -gt 20 ]] \
  || die "download looks incomplete ($n jars in $WORK/lib)"

rm -rf "$LIB"
mv "$WORK/lib" "$LIB"
echo "$CASSANDRA_VERSION" > "$MARKER"
echo "cassandra/fetch: done in $(( $(date +%s) - start ))s: $n jars, $(du -sh "$LIB" | cut -f1) in $LIB" >&2
echo "$LIB"
