#!/usr/bin/env bash
# bench/fleet.sh: a fleet of three edgeward processes on one redis-server
# (issue 14): origin requests per object with and without the shared tier,
# and the invalidation latency (POST on one node -> Completed on all three,
# p50/p99). Needs redis-server (Debian package redis-server). About 30 s.
#
#   bench/fleet.sh [fleetbench flags: -objects N -clients N -invalidations N -origin-delay D]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
command -v redis-server >/dev/null || { echo "fleet.sh: install the Debian package redis-server" >&2; exit 1; }
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
cd "$ROOT"
go build -o "$OUT/edgeward" ./cmd/edgeward
(cd bench && go build -o "$OUT/fleetbench" ./cmd/fleetbench) # bench is its own module
"$OUT/fleetbench" -edgeward "$OUT/edgeward" "$@"
