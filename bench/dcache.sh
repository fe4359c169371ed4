#!/usr/bin/env bash
# bench/dcache.sh: the remote decision hop and the decision cache, in one
# interleaved run (issue 18). Authorized cache hits (GET /orders/1 with the
# benchmark's RS256 token) through four edges in front of one nginx origin:
#
#   embedded          decision service in the edge (bench/edgeward/embedded.yaml)
#   remote-before     edge built from --before REV, asking `edgeward decision
#                     serve` built from REV too (:9244) over HTTP for every
#                     request (both ends of the hop before this work)
#   remote            the same with this tree's edge (the hop after this work)
#   remote-dcache     this tree's edge with decision_cache on
#   remote-coalesce   decision_cache on with both TTLs 0s: nothing kept,
#                     identical decisions in flight share one call
#
#   bench/dcache.sh [--rounds N] [--duration SECONDS] [--before REV] [--profile]
#
# Defaults: 3 rounds of 3 s, wrk -t2 -c64; --before is the merge base with
# main. --profile also takes a 5 s CPU profile of the `remote` edge under
# load and prints the top of it. Everything started is stopped on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUN=$ROOT/bench/out/dcache
ROUNDS=3 DURATION=3 CONNS=64 THREADS=2 PROFILE=0
BEFORE=$(cd "$ROOT" && git merge-base HEAD main 2>/dev/null || git rev-parse HEAD~1)
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --before) BEFORE=$2; shift ;;
    --profile) PROFILE=1 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "dcache.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
NAME=dcache.sh
. "$ROOT/bench/lib.sh"
for b in nginx wrk curl go git; do command -v "$b" >/dev/null || die "$b is not installed"; done
check_ports 9201 9241 9242 9243 9244 9245 9246 9247 9252

rm -rf "$RUN"
mkdir -p "$RUN"/{bin,conf,keys,log,run,www,nginx-prefix,wrk,before}
log "== build (this tree, and $BEFORE for remote-before)"
(cd "$ROOT" && go build -o "$RUN/bin/edgeward" ./cmd/edgeward && cd bench && go build -o "$RUN/bin/benchkit" ./cmd/benchkit)
(cd "$ROOT" && git archive "$BEFORE" | tar -x -C "$RUN/before")
(cd "$RUN/before" && go build -o "$RUN/bin/edgeward-before" ./cmd/edgeward)
BK=$RUN/bin/benchkit EW=$RUN/bin/edgeward

"$BK" setup -dir "$RUN/keys"
: >"$RUN/www/large.bin"
TOKEN=$(cat "$RUN/keys/token")
BENCH_GATEWAY_CREDENTIAL=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
export BENCH_GATEWAY_CREDENTIAL

sed "s|@OUT@|$RUN|g" "$ROOT/bench/peers/origin.conf" >"$RUN/conf/origin.conf"
sed 's|base_urls: \[http://127.0.0.1:9242\]|base_urls: [http://127.0.0.1:9242, http://127.0.0.1:9245, http://127.0.0.1:9246, http://127.0.0.1:9247]|' \
  "$ROOT/bench/edgeward/decision.yaml" >"$RUN/conf/decision.yaml"
edge_conf() { # PORT ADMIN FUNCTION-LINES
  sed -e "s|@PORT@|$1|" -e "s|@ADMIN@|$2|" "$ROOT/bench/dcache/remote.yaml" |
    awk -v f="$3" '{ if ($0 == "@FUNCTION@") { if (f != "") print f } else print }'
}
sed 's|^listen: 127.0.0.1:9243|listen: 127.0.0.1:9244|' "$RUN/conf/decision.yaml" >"$RUN/conf/decision-before.yaml"
edge_conf 9245 '"off"' "" | sed 's|service_url: http://127.0.0.1:9243|service_url: http://127.0.0.1:9244|' >"$RUN/conf/remote-before.yaml"
edge_conf 9242 127.0.0.1:9252 "" >"$RUN/conf/remote.yaml"
edge_conf 9246 '"off"' "    decision_cache: {enabled: true, allow_ttl: 60s, deny_ttl: 5s}" >"$RUN/conf/remote-dcache.yaml"
edge_conf 9247 '"off"' "    decision_cache: {enabled: true, allow_ttl: 0s, deny_ttl: 0s}" >"$RUN/conf/remote-coalesce.yaml"

log "== start"
nginx -p "$RUN/nginx-prefix" -c "$RUN/conf/origin.conf" -e "$RUN/log/origin-error.log"
PIDFILES+=("$RUN/run/origin.pid")
wait_up http://127.0.0.1:9201/
"$EW" decision serve -c "$RUN/conf/decision.yaml" >"$RUN/log/decision.log" 2>&1 & PIDS+=($!); DEC=$!
"$RUN/bin/edgeward-before" decision serve -c "$RUN/conf/decision-before.yaml" >"$RUN/log/decision-before.log" 2>&1 & PIDS+=($!); DECB=$!
"$EW" serve -c "$ROOT/bench/edgeward/embedded.yaml" >"$RUN/log/embedded.log" 2>&1 & PIDS+=($!); EMB=$!
"$RUN/bin/edgeward-before" serve -c "$RUN/conf/remote-before.yaml" >"$RUN/log/remote-before.log" 2>&1 & PIDS+=($!); RB=$!
"$EW" serve -c "$RUN/conf/remote.yaml" >"$RUN/log/remote.log" 2>&1 & PIDS+=($!); RA=$!
"$EW" serve -c "$RUN/conf/remote-dcache.yaml" >"$RUN/log/remote-dcache.log" 2>&1 & PIDS+=($!); RC=$!
"$EW" serve -c "$RUN/conf/remote-coalesce.yaml" >"$RUN/log/remote-coalesce.log" 2>&1 & PIDS+=($!); RD=$!
for p in 9243/sideband/request 9244/sideband/request 9241/ 9245/ 9242/ 9246/ 9247/; do wait_up "http://127.0.0.1:$p"; done

declare -A PORT=([embedded]=9241 [remote-before]=9245 [remote]=9242 [remote-dcache]=9246 [remote-coalesce]=9247)
declare -A PROCS=([embedded]="$EMB" [remote-before]="$RB $DECB" [remote]="$RA $DEC" [remote-dcache]="$RC $DEC" [remote-coalesce]="$RD $DEC")
SYSTEMS="embedded remote-before remote remote-dcache remote-coalesce"

log "== check: every edge answers 200 from its cache for the token, 401 without"
for s in $SYSTEMS; do
  u=http://127.0.0.1:${PORT[$s]}/orders/1
  curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "$u"
  got=$(curl -s -o /dev/null -D - -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$u" | tr -d '\r')
  case "$got" in *"X-Cache: Hit from edgeward"*200) ;; *) die "$s: $u is not an authorized hit: $got" ;; esac
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$u")" = 401 ] || die "$s: $u without a token is not 401"
done

ticks() { local p t=0; for p in $1; do t=$((t + $(awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$p/stat"))); done; echo $t; }
RAW=$RUN/raw.txt; : >"$RAW"
for s in $SYSTEMS; do wrk -t1 -c8 -d1s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:${PORT[$s]}/orders/1" >/dev/null 2>&1; done
log "== hit: $ROUNDS rounds x ($SYSTEMS), ${DURATION}s each, wrk -t$THREADS -c$CONNS"
for r in $(seq "$ROUNDS"); do
  for s in $SYSTEMS; do
    t0=$(ticks "${PROCS[$s]}")
    wrk -t$THREADS -c$CONNS -d"${DURATION}s" -s "$ROOT/bench/wrk/report.lua" -H "Authorization: Bearer $TOKEN" \
      "http://127.0.0.1:${PORT[$s]}/orders/1" >"$RUN/wrk/$s-$r.txt" 2>&1 || true
    t1=$(ticks "${PROCS[$s]}")
    line=$(grep '^BENCH' "$RUN/wrk/$s-$r.txt") || die "wrk gave no result for $s: $(cat "$RUN/wrk/$s-$r.txt")"
    echo "system=$s round=$r ${line#BENCH } cpu_ticks=$((t1 - t0))" >>"$RAW"
    log "   [r$r] $(printf '%-14s' "$s") ${line#BENCH }"
  done
done

if [ "$PROFILE" = 1 ]; then
  log "== profile: remote edge, 5 s under load"
  wrk -t$THREADS -c$CONNS -d7s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:9242/orders/1 >/dev/null 2>&1 &
  W=$!; PIDS+=("$W")
  curl -s -o "$RUN/remote.pprof" "http://127.0.0.1:9252/debug/pprof/profile?seconds=5"
  wait "$W" || true
  go tool pprof -top -nodecount=35 "$RUN/bin/edgeward" "$RUN/remote.pprof" 2>/dev/null | sed -n '1,45p' >&2
fi

# Medians and ratios.
awk -v rounds="$ROUNDS" '
  { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    rps[v["system"]] = rps[v["system"]] " " v["rps"]; p99[v["system"]] = p99[v["system"]] " " v["p99_us"]
    non2xx[v["system"]] += v["non2xx"] }
  function median(s,   a, n, i, j, t) {
    n = split(s, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    split("embedded remote-before remote remote-dcache remote-coalesce", order, " ")
    emb = median(rps["embedded"]); before = median(rps["remote-before"])
    printf "| system | req/s (median of %d) | p99 µs | vs embedded | vs remote-before | non-2xx |\n", rounds
    printf "|---|---:|---:|---:|---:|---:|\n"
    for (k = 1; k <= 5; k++) {
      s = order[k]; r = median(rps[s])
      printf "| %s | %.0f | %.0f | %.2fx | %.2fx | %d |\n", s, r, median(p99[s]), r / emb, r / before, non2xx[s]
    }
  }' "$RAW" | tee "$RUN/result.md"
log "(raw records: $RAW)"
