#!/usr/bin/env bash
# Runs the public HTTP cache-tests suite (npm package http-cache-tests,
# pinned) against edgeward configured as a standards-following shared
# cache, and prints how many required and optimal tests pass:
#
#   scripts/conformance.sh          -> required N/165 optimal N/95
#   LIST=1 scripts/conformance.sh   also lists each test that did not pass
#   ID=<test-id> scripts/conformance.sh   replays one test verbosely
#
# Everything it needs is in this repository plus node and npm: the suite
# is installed with npm into a cache directory on first use
# (CACHE_TESTS_HOME, default ~/.cache/http-cache-tests-VERSION). edgeward
# serves one "*" behavior to the suite's origin: no authorization,
# default TTL 0, the whole URL in the key, every header, cookie and query
# forwarded; M-SEARCH is allowed too, so that the suite's extension-method
# invalidation tests reach the cache. Ports: EDGE_PORT (38080) and ORIGIN_PORT (38000), loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
version=0.4.5
port=${EDGE_PORT:-38080}
origin=${ORIGIN_PORT:-38000}
out=${OUT:-}
home=${CACHE_TESTS_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/http-cache-tests-$version}
suite=$home/node_modules/http-cache-tests
for tool in node npm go; do
  command -v "$tool" >/dev/null || { echo "conformance: $tool is required" >&2; exit 1; }
done

if [ ! -f "$suite/cli.mjs" ]; then
  echo "conformance: installing http-cache-tests@$version into $home" >&2
  mkdir -p "$home"
  (cd "$home" && npm install --silent --no-audit --no-fund --omit=dev --ignore-scripts \
    "http-cache-tests@$version" >/dev/null)
fi

tmp=$(mktemp -d)
edge_pid= origin_pid=
cleanup() {
  [ -n "$edge_pid" ] && kill "$edge_pid" 2>/dev/null || true
  [ -n "$origin_pid" ] && kill "$origin_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/edgeward" ./cmd/edgeward
cat >"$tmp/edgeward.yaml" <<YAML
listen: 127.0.0.1:$port
admin: off
origins:
  suite: {url: "http://127.0.0.1:$origin"}
behaviors:
  - path_pattern: "*"
    origin: suite
    allowed_methods: [GET, HEAD, OPTIONS, PUT, POST, PATCH, DELETE, M-SEARCH]
    cache:
      default_ttl: 0s
      error_caching_min_ttl: 0s
      cache_set_cookie: true
      key: {query_strings: all}
      forward: {headers: all, cookies: all, query_strings: all}
logging: {level: error, access_log: {path: off}}
YAML
"$tmp/edgeward" validate -c "$tmp/edgeward.yaml" >/dev/null
"$tmp/edgeward" serve -c "$tmp/edgeward.yaml" &
edge_pid=$!

# The suite's origin server, configured through npm_config_* variables as
# its package scripts would.
(cd "$suite" && exec env npm_config_port="$origin" npm_config_protocol=http \
  npm_config_pidfile="$tmp/origin.pid" node server/server.mjs >"$tmp/origin.log" 2>&1) &
origin_pid=$!

wait_port() { # port name
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "conformance: $2 did not listen on 127.0.0.1:$1" >&2
  [ -f "$tmp/origin.log" ] && cat "$tmp/origin.log" >&2
  return 1
}
wait_port "$port" edgeward
wait_port "$origin" "the suite's origin"

base=http://127.0.0.1:$port
if [ -n "${ID:-}" ]; then
  (cd "$suite" && env npm_config_base="$base" npm_config_id="$ID" timeout 120 node --no-warnings cli.mjs)
  exit
fi
(cd "$suite" && env npm_config_base="$base" npm_config_id= npm_package_config_id= \
  timeout 600 node --no-warnings cli.mjs) >"$tmp/results.json"
[ -n "$out" ] && cp "$tmp/results.json" "$out"
node scripts/conformance/score.mjs "$suite" "$tmp/results.json" ${LIST:+--list}
