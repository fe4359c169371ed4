#!/usr/bin/env bash
# Runs the public HTTP cache-tests suite (../shared/conformance/cache-tests.sh)
# against edgeward configured as a standards-following shared cache: one "*"
# behavior to the suite's origin, no authorization, default TTL 0, the whole
# URL in the key, every header, cookie and query forwarded.
#   scripts/conformance.sh            (LIST=1 prints each failing test)
set -euo pipefail
cd "$(dirname "$0")/.."
suite=${CACHE_TESTS:-../shared/conformance/cache-tests.sh}
port=${EDGE_PORT:-38080}
origin=${ORIGIN_PORT:-38000}
tmp=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$tmp"' EXIT

go build -o "$tmp/edgeward" ./cmd/edgeward
cat >"$tmp/edgeward.yaml" <<YAML
listen: 127.0.0.1:$port
admin: off
origins:
  suite: {url: "http://127.0.0.1:$origin"}
behaviors:
  - path_pattern: "*"
    origin: suite
    allowed_methods: [GET, HEAD, OPTIONS, PUT, POST, PATCH, DELETE]
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
pid=$!
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
bash "$suite" "http://127.0.0.1:$port" "$origin" "$tmp/results.json"
