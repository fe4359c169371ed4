#!/usr/bin/env bash
# bench/run.sh: edgeward side by side with nginx, Caddy and HAProxy on this
# machine (issues 7 and 15). One command: installs what is missing, builds
# edgeward and benchkit, starts every system on 127.0.0.1, runs the
# scenarios with wrk in interleaved rounds (A B C A B C ...), and prints the
# goals of issue 15 (met or missed), then the medians with the ratios
# edgeward/peer. Everything it starts is stopped on exit.
#
#   bench/run.sh [--quick] [--profile] [--out FILE] [--scenarios LIST]
#                [--rounds N] [--duration SECONDS] [--idle N] [--idle-conns N]
#                [--added-rate N]
#
# --quick       3 rounds of 2 s, the issue-15 references, no large, added or
#               light scenario (about 3 minutes)
# (default)     5 rounds of 4 s, every scenario and system (about 15 minutes)
# --profile     also take a 10 s CPU profile of edgeward's hit path under
#               load and print `go tool pprof -top`
# --scenarios   comma-separated subset of idle,hit,proxy,added,light,miss,
#               deny,large,down, or "none" (with --profile: the profile alone)
# --idle N      idle connections held open in the large scenario
# --idle-conns  idle keep-alive connections of the idle-memory scenario
#               (default 5,000 in every mode)
# --added-rate  constant rate of the added-latency runs (default: half of
#               edgeward's median hit rate measured just before)
# --out FILE    results in Markdown (default bench/results/latest.md for a
#               full run, bench/out/quick.md for --quick); the raw records
#               go next to it as FILE with .raw.txt in place of .md
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUN=$ROOT/bench/out/run
MODE=full
PROFILE=0
OUT=
SCENARIOS=
ROUNDS= DURATION= IDLE= ADDED_RATE=
IDLE_CONNS=5000
CONNS=64
THREADS=2
ARGS="$*"

usage() { sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) MODE=quick ;;
    --full) MODE=full ;;
    --profile) PROFILE=1 ;;
    --out) OUT=$2; shift ;;
    --scenarios) SCENARIOS=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --idle) IDLE=$2; shift ;;
    --idle-conns) IDLE_CONNS=$2; shift ;;
    --added-rate) ADDED_RATE=$2; shift ;;
    -h|--help) usage 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; usage 2 ;;
  esac
  shift
done
if [ "$MODE" = quick ]; then
  : "${ROUNDS:=3}" "${DURATION:=2}" "${IDLE:=1000}" "${OUT:=$ROOT/bench/out/quick.md}"
  : "${SCENARIOS:=idle,hit,proxy,miss,deny,down}"
else
  : "${ROUNDS:=5}" "${DURATION:=4}" "${IDLE:=5000}" "${OUT:=$ROOT/bench/results/latest.md}"
  : "${SCENARIOS:=idle,hit,proxy,added,light,miss,deny,large,down}"
fi
case "$OUT" in /*) ;; *) OUT=$PWD/$OUT ;; esac
RAWOUT=${OUT%.md}.raw.txt
has() { case ",$SCENARIOS," in *",$1,"*) return 0 ;; esac; return 1; }

NAME=run.sh
. "$ROOT/bench/lib.sh"

# ---- what the harness needs ------------------------------------------------
missing=()
for b in nginx caddy haproxy wrk curl; do
  command -v "$b" >/dev/null || missing+=("$b")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "== installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v go >/dev/null || die "go is not installed (edgeward and benchkit are built from source)"

# 5,000 idle connections plus load, in every process on either end.
want_fds=$(( (IDLE > IDLE_CONNS ? IDLE : IDLE_CONNS) + 2048 ))
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
ulimit -n 65536 2>/dev/null || true
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge "$want_fds" ] ||
  die "ulimit -n is $(ulimit -n); $IDLE idle connections need at least $want_fds (raise the hard limit)"

# Every port this harness listens on; a taken one is an error, not a guess.
PORTS="9201 9202 9203 9204 9205 9206 9207 9208 9209 9211 9231 9233 9234 9241 9242 9243 9244 9245 9251"
check_ports $PORTS

# ---- start and stop (PIDS, PIDFILES, cleanup and wait_up: bench/lib.sh) -----
trap 'log "run.sh: line $LINENO failed: $BASH_COMMAND (logs: $RUN/log/; records so far: $RUN/raw.txt, for benchkit report -raw)"' ERR

rm -rf "$RUN"
mkdir -p "$RUN"/{bin,conf,keys,log,run,www,nginx-cache,nginx-prefix,wrk} "$(dirname "$OUT")"

log "== build"
(cd "$ROOT" && go build -o "$RUN/bin/edgeward" ./cmd/edgeward) && (cd "$ROOT/bench" && go build -o "$RUN/bin/benchkit" ./cmd/benchkit)
BK=$RUN/bin/benchkit
EW=$RUN/bin/edgeward

"$BK" setup -dir "$RUN/keys"
head -c 1048576 /dev/urandom >"$RUN/www/large.bin"
TOKEN=$(cat "$RUN/keys/token")
BENCH_GATEWAY_CREDENTIAL=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
export BENCH_GATEWAY_CREDENTIAL
for f in origin.conf nginx.conf haproxy.cfg Caddyfile; do
  sed "s|@OUT@|$RUN|g" "$ROOT/bench/peers/$f" >"$RUN/conf/$f"
done

log "== start"
nginx -p "$RUN/nginx-prefix" -c "$RUN/conf/origin.conf" -e "$RUN/log/origin-error.log"
PIDFILES+=("$RUN/run/origin.pid")
wait_up http://127.0.0.1:9201/

"$BK" authz -plain 127.0.0.1:9202 -sideband 127.0.0.1:9206 -credential "$BENCH_GATEWAY_CREDENTIAL" 2>"$RUN/log/authz.log" &
AUTHZ=$!; PIDS+=("$AUTHZ")
nginx -p "$RUN/nginx-prefix" -c "$RUN/conf/nginx.conf" -e "$RUN/log/nginx-error.log"
PIDFILES+=("$RUN/run/nginx.pid")
haproxy -f "$RUN/conf/haproxy.cfg" 2>"$RUN/log/haproxy.log"
PIDFILES+=("$RUN/run/haproxy.pid")
caddy run --config "$RUN/conf/Caddyfile" --adapter caddyfile >"$RUN/log/caddy.log" 2>&1 &
CADDY=$!; PIDS+=("$CADDY")
"$EW" serve -c "$ROOT/bench/edgeward/embedded.yaml" >"$RUN/log/ew-embedded.log" 2>&1 &
EWA=$!; PIDS+=("$EWA")
"$EW" decision serve -c "$ROOT/bench/edgeward/decision.yaml" >"$RUN/log/ew-decision.log" 2>&1 &
EWD=$!; PIDS+=("$EWD")
"$EW" serve -c "$ROOT/bench/edgeward/standalone-edge.yaml" >"$RUN/log/ew-standalone.log" 2>&1 &
EWB=$!; PIDS+=("$EWB")
"$EW" serve -c "$ROOT/bench/edgeward/sideband.yaml" >"$RUN/log/ew-sideband.log" 2>&1 &
EWC=$!; PIDS+=("$EWC")
"$EW" serve -c "$ROOT/bench/edgeward/proxy.yaml" >"$RUN/log/ew-proxy.log" 2>&1 &
EWP=$!; PIDS+=("$EWP")
for u in 9202/ 9203/ 9204/ 9205/ 9207/ 9208/ 9209/ 9211/ 9231/ 9233/ 9234/ 9241/ 9242/ 9243/sideband/request 9244/ 9245/ 9206/sideband/request; do
  wait_up "http://127.0.0.1:$u"
done

children() { pgrep -P "$1" | tr '\n' ' ' || true; }
declare -A SYS_PIDS
SYS_PIDS[origin]="$(cat "$RUN/run/origin.pid") $(children "$(cat "$RUN/run/origin.pid")")"
NGINX_PIDS="$(cat "$RUN/run/nginx.pid") $(children "$(cat "$RUN/run/nginx.pid")")"
# The reference nginx asks a location of its own (as ../shared/peers): its
# processes are all there is. The -benchkit row also counts benchkit.
SYS_PIDS[nginx-authreq]="$NGINX_PIDS"
SYS_PIDS[nginx-authreq-benchkit]="$NGINX_PIDS $AUTHZ"
SYS_PIDS[nginx-proxy]="$NGINX_PIDS"
SYS_PIDS[haproxy-proxy]="$(cat "$RUN/run/haproxy.pid")"
SYS_PIDS[haproxy-jwt]="$(cat "$RUN/run/haproxy.pid")"
SYS_PIDS[caddy-fwdauth]="$CADDY $AUTHZ"
SYS_PIDS[edgeward-embedded]="$EWA"
SYS_PIDS[edgeward-standalone]="$EWB $EWD"
SYS_PIDS[edgeward-sideband]="$EWC $AUTHZ"
SYS_PIDS[edgeward-proxy]="$EWP"

# url SCENARIO SYSTEM: where the system serves the scenario's request.
url() {
  local path=/orders/1 port
  case "$1" in miss|proxy) path=/orders ;; large) path=/large ;; esac
  case "$2" in
    origin) port=9201 ;;
    haproxy-proxy) port=9231 ;;
    haproxy-jwt) if [ "$1" = hit ] || [ "$1" = deny ] || [ "$1" = idle ]; then port=9233; else port=9234; fi ;;
    nginx-authreq) if [ "$1" = hit ] || [ "$1" = deny ] || [ "$1" = down ] || [ "$1" = idle ]; then port=9205; else port=9204; fi ;;
    nginx-authreq-benchkit) if [ "$1" = hit ] || [ "$1" = deny ] || [ "$1" = down ]; then port=9209; else port=9208; fi ;;
    nginx-proxy) port=9207 ;;
    edgeward-proxy) port=9245 ;;
    caddy-fwdauth) port=9211 ;;
    edgeward-embedded) port=9241 ;;
    edgeward-standalone) port=9242 ;;
    edgeward-sideband) port=9244 ;;
  esac
  echo "http://127.0.0.1:$port$path"
}

# The issue-15 references (nginx-authreq, haproxy-jwt, nginx-proxy) are in
# every mode; the other modes and peers are extra rows of the full run.
if [ "$MODE" = quick ]; then
  SYS_HIT="origin haproxy-jwt nginx-authreq nginx-authreq-benchkit edgeward-embedded"
  SYS_MISS="origin haproxy-jwt nginx-authreq nginx-authreq-benchkit edgeward-embedded"
  SYS_DENY="haproxy-jwt nginx-authreq edgeward-embedded"
  SYS_DOWN="nginx-authreq-benchkit edgeward-standalone"
else
  SYS_HIT="origin haproxy-jwt nginx-authreq nginx-authreq-benchkit caddy-fwdauth edgeward-embedded edgeward-standalone edgeward-sideband"
  SYS_MISS="origin haproxy-jwt nginx-authreq nginx-authreq-benchkit caddy-fwdauth edgeward-embedded edgeward-standalone edgeward-sideband"
  SYS_DENY="haproxy-jwt nginx-authreq caddy-fwdauth edgeward-embedded edgeward-standalone edgeward-sideband"
  SYS_DOWN="nginx-authreq-benchkit caddy-fwdauth edgeward-standalone edgeward-sideband"
fi
SYS_PROXY="origin nginx-proxy haproxy-proxy edgeward-proxy"
SYS_IDLE="edgeward-embedded nginx-authreq haproxy-jwt edgeward-proxy nginx-proxy haproxy-proxy"
SYS_LARGE="origin haproxy-proxy haproxy-jwt nginx-authreq caddy-fwdauth edgeward-embedded edgeward-standalone edgeward-sideband"

# ---- correctness before speed -------------------------------------------------
# status URL [TOKEN]: the HTTP status of one GET.
status() {
  if [ -n "${2:-}" ]; then
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $2" "$1"
  else
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1"
  fi
}
log "== check every system answers as the scenario assumes"
bad=0
check() { # what want got
  if [ "$2" != "$3" ]; then log "   CHECK FAILED: $1: want $2, got $3"; bad=1; fi
}
for s in $SYS_HIT; do
  u=$(url hit "$s"); status "$u" "$TOKEN" >/dev/null
  check "hit $s $u" 200 "$(status "$u" "$TOKEN")"
done
for s in $SYS_HIT; do
  case "$s" in edgeward-*) ;; *) continue ;; esac
  u=$(url hit "$s")
  xc=$(curl -s -o /dev/null -D - -H "Authorization: Bearer $TOKEN" "$u" | tr -d '\r' | sed -n 's/^X-Cache: //ip')
  check "$s $u is a cache hit (X-Cache)" "Hit from edgeward" "$xc"
done
for s in $SYS_PROXY; do
  u=$(url proxy "$s"); check "proxy $s $u" 200 "$(status "$u")"
done
for s in $SYS_MISS; do
  u=$(url miss "$s"); check "miss $s $u" 200 "$(status "$u" "$TOKEN")"
done
for s in $SYS_LARGE; do
  u=$(url large "$s")
  check "large $s $u (bytes)" 1048576 "$(curl -s -o /dev/null -w '%{size_download}' --max-time 10 -H "Authorization: Bearer $TOKEN" "$u")"
done
for s in $SYS_DENY; do
  u=$(url deny "$s"); got=$(status "$u")
  case "$got" in 401|403) ;; *) check "deny $s $u" "401 or 403" "$got" ;; esac
done
[ "$bad" = 0 ] || die "a system does not answer as the benchmark assumes; fix that first"

# ---- load -----------------------------------------------------------------
RAW=$RUN/raw.txt
: >"$RAW"
CLK_TCK=$(getconf CLK_TCK)

# procfiles PIDS NAME: the /proc/PID/NAME files of the processes.
procfiles() { local p; for p in $1; do printf '/proc/%s/%s\n' "$p" "$2"; done; }
# ticks PIDS: utime+stime of the processes, in clock ticks (gone ones count 0).
ticks() {
  procfiles "$1" stat | { xargs cat 2>/dev/null || true; } | awk '{sub(/^.*\) /, ""); t += $12 + $13} END {print t + 0}'
}
# peak_reset PIDS / peak_rss PIDS: VmHWM, reset before each run, summed after.
peak_reset() { local p; for p in $1; do { echo 5 >"/proc/$p/clear_refs"; } 2>/dev/null || true; done; }
peak_rss() {
  procfiles "$1" status | { xargs cat 2>/dev/null || true; } | awk '/^VmHWM:/ {t += $2} END {print t + 0}'
}

# load SCENARIO SYSTEM ROUND EXPECT AUTH [EXTRA...]: one measured wrk run.
load() {
  local sc=$1 sys=$2 round=$3 expect=$4 auth=$5 u pids t0 t1 line extra=""
  u=$(url "$sc" "$sys")
  pids=${SYS_PIDS[$sys]}
  local hdr=()
  [ "$auth" = token ] && hdr=(-H "Authorization: Bearer $TOKEN")
  local idle_pid=""
  if [ "$sc" = large ]; then
    rm -f "$RUN/idle.ready"
    "$BK" idle -url "$(url hit "$sys")" -n "$IDLE" -authorization "Bearer $TOKEN" -ready "$RUN/idle.ready" >"$RUN/idle.out" 2>&1 &
    idle_pid=$!; PIDS+=("$idle_pid")
    for _ in $(seq 600); do [ -s "$RUN/idle.ready" ] && break; kill -0 "$idle_pid" 2>/dev/null || break; sleep 0.1; done
    [ -s "$RUN/idle.ready" ] || die "benchkit idle did not get ready against $sys: $(cat "$RUN/idle.out")"
  fi
  peak_reset "$pids"
  t0=$(ticks "$pids")
  wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" -s "$ROOT/bench/wrk/report.lua" "${hdr[@]}" "$u" >"$RUN/wrk/$sc-$sys-$round.txt" 2>&1 || true
  t1=$(ticks "$pids")
  if [ -n "$idle_pid" ]; then
    kill "$idle_pid" 2>/dev/null; wait "$idle_pid" 2>/dev/null || true
    local iline; iline=$(grep '^IDLE' "$RUN/idle.out" || echo "IDLE open=0 closed_by_server=0")
    extra="idle_wanted=$IDLE idle_open=$(sed 's/.*open=\([0-9]*\).*/\1/' <<<"$iline") idle_closed=$(sed 's/.*closed_by_server=\([0-9]*\).*/\1/' <<<"$iline")"
  fi
  line=$(grep '^BENCH' "$RUN/wrk/$sc-$sys-$round.txt") || die "wrk gave no result for $sc/$sys: $(cat "$RUN/wrk/$sc-$sys-$round.txt")"
  echo "scenario=$sc system=$sys round=$round expect=$expect ${line#BENCH } cpu_ticks=$((t1 - t0)) clk_tck=$CLK_TCK rss_kb=$(peak_rss "$pids") load1=$(cut -d' ' -f1 /proc/loadavg) $extra" >>"$RAW"
  log "   [$sc r$round] $(printf '%-20s' "$sys") ${line#BENCH requests=* duration_us=* }"
}

# scenario NAME EXPECT AUTH SYSTEMS: interleaved rounds.
scenario() {
  local sc=$1 expect=$2 auth=$3 systems=$4 r s
  log "== $sc: $ROUNDS rounds x ($systems), ${DURATION}s each, $CONNS connections"
  for r in $(seq "$ROUNDS"); do
    for s in $systems; do load "$sc" "$s" "$r" "$expect" "$auth"; done
  done
}

# warm SCENARIO SYSTEMS: fill caches, token caches and connection pools
# (in a quick run the checks above did the caches).
warm() {
  local s
  [ "$MODE" = quick ] && return 0
  for s in $2; do
    wrk -t1 -c8 -d1s -H "Authorization: Bearer $TOKEN" "$(url "$1" "$s")" >/dev/null 2>&1 || true
  done
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date +%s)

# cur_rss PIDS: VmRSS summed over the processes, in KiB.
cur_rss() {
  procfiles "$1" status | { xargs cat 2>/dev/null || true; } | awk '/^VmRSS:/ {t += $2} END {print t + 0}'
}

# idle_run SYSTEM: RSS of every process of the system before and after
# IDLE_CONNS keep-alive connections, each having completed one request (the
# hit URL), are opened and left idle.
idle_run() {
  local sys=$1 pids before after idle_pid iline open closed
  pids=${SYS_PIDS[$sys]}
  before=$(cur_rss "$pids")
  rm -f "$RUN/idle.ready"
  "$BK" idle -url "$(url idle "$sys")" -n "$IDLE_CONNS" -authorization "Bearer $TOKEN" -ready "$RUN/idle.ready" >"$RUN/idle-$sys.out" 2>&1 &
  idle_pid=$!; PIDS+=("$idle_pid")
  for _ in $(seq 600); do [ -s "$RUN/idle.ready" ] && break; kill -0 "$idle_pid" 2>/dev/null || break; sleep 0.1; done
  [ -s "$RUN/idle.ready" ] || die "benchkit idle did not get ready against $sys: $(cat "$RUN/idle-$sys.out")"
  # The last answers are read; let the server finish with their requests.
  sleep 1
  after=$(cur_rss "$pids")
  kill "$idle_pid" 2>/dev/null; wait "$idle_pid" 2>/dev/null || true
  iline=$(grep '^IDLE' "$RUN/idle-$sys.out" || echo "IDLE open=0 closed_by_server=0")
  open=$(sed 's/.*open=\([0-9]*\).*/\1/' <<<"$iline")
  closed=$(sed 's/.*closed_by_server=\([0-9]*\).*/\1/' <<<"$iline")
  echo "scenario=idle system=$sys round=1 expect=allow requests=$open non2xx=0 rps=0 p50_us=-1 p99_us=-1 p999_us=-1 rss_before_kb=$before rss_after_kb=$after idle_wanted=$IDLE_CONNS idle_open=$open idle_closed=$closed load1=$(cut -d' ' -f1 /proc/loadavg)" >>"$RAW"
  log "   [idle] $(printf '%-20s' "$sys") $open connections: RSS $before -> $after KiB ($(awk -v a="$after" -v b="$before" -v n="$open" 'BEGIN {if (n > 0) printf "%.1f", (a - b) / n; else printf "-"}') KiB per connection)"
  # Let the closed connections' sockets go before the next system.
  sleep 1
}

if has idle; then
  # First, before any load: a process that has served load or held
  # connections before keeps memory it would reuse, and would look cheaper.
  # One round per system for the same reason.
  log "== idle: $IDLE_CONNS idle keep-alive connections to each of ($SYS_IDLE)"
  for s in $SYS_IDLE; do idle_run "$s"; done
fi

if has hit; then warm hit "$SYS_HIT"; scenario hit allow token "$SYS_HIT"; fi
if has proxy; then warm proxy "$SYS_PROXY"; scenario proxy allow none "$SYS_PROXY"; fi

if has added; then
  # Half of edgeward's median peak hit rate, open loop, against the bare
  # origin and edgeward: what edgeward adds at moderate load.
  peak=$(awk '/scenario=hit / && /system=edgeward-embedded / {for (i=1;i<=NF;i++) if ($i ~ /^rps=/) print substr($i,5)}' "$RAW" |
    sort -n | awk '{v[NR]=$1} END {if (NR==0) print 0; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}')
  rate=${ADDED_RATE:-$(awk -v p="$peak" 'BEGIN {printf "%d", p / 2}')}
  if [ "$rate" -gt 0 ]; then
    log "== added: $ROUNDS rounds x (origin edgeward-embedded) at $rate req/s, ${DURATION}s each"
    for r in $(seq "$ROUNDS"); do
      for s in origin edgeward-embedded; do
        pids=${SYS_PIDS[$s]}; peak_reset "$pids"; t0=$(ticks "$pids")
        line=$("$BK" rate -url "$(url hit "$s")" -rate "$rate" -duration "${DURATION}s" -authorization "Bearer $TOKEN" -connections "$CONNS")
        t1=$(ticks "$pids")
        echo "scenario=added system=$s round=$r expect=allow ${line#BENCH } cpu_ticks=$((t1 - t0)) clk_tck=$CLK_TCK rss_kb=$(peak_rss "$pids") load1=$(cut -d' ' -f1 /proc/loadavg) target_rps=$rate" >>"$RAW"
        log "   [added r$r] $(printf '%-20s' "$s") ${line#BENCH requests=* duration_us=* }"
      done
    done
  else
    log "== added: skipped (needs the hit scenario's edgeward rate)"
  fi
fi

if has light; then
  # The same comparison at light load, closed loop: two connections keep
  # the generator idle most of the time, so on a machine too small for an
  # open-loop generator beside the systems the latency is the systems'.
  log "== light: $ROUNDS rounds x (origin edgeward-embedded), ${DURATION}s each, 2 connections"
  for r in $(seq "$ROUNDS"); do
    for s in origin edgeward-embedded; do THREADS=1 CONNS=2 load light "$s" "$r" allow token; done
  done
fi

PROFILE_TXT=
if [ "$PROFILE" = 1 ]; then
  # Before miss and large: their garbage would put the runtime's scavenger
  # in the hit path's profile.
  log "== profile: 10 s CPU profile of edgeward-embedded under the hit load"
  wrk -t"$THREADS" -c"$CONNS" -d12s -H "Authorization: Bearer $TOKEN" "$(url hit edgeward-embedded)" >"$RUN/wrk/profile.txt" 2>&1 &
  wrk_pid=$!; PIDS+=("$wrk_pid")
  curl -s --max-time 30 -o "$RUN/hit.pprof" "http://127.0.0.1:9251/debug/pprof/profile?seconds=10"
  wait "$wrk_pid" || true
  PROFILE_TXT=$RUN/profile-top.txt
  # sed reads all of pprof's output: head would end the pipe early (SIGPIPE).
  {
    (cd "$ROOT" && go tool pprof -top "$EW" "$RUN/hit.pprof" 2>&1 | sed -n '1,32p')
    echo
    echo "cumulative (go tool pprof -top -cum):"
    (cd "$ROOT" && go tool pprof -top -cum "$EW" "$RUN/hit.pprof" 2>&1 | sed -n '7,46p')
  } >"$PROFILE_TXT" || log "   (go tool pprof failed; the profile is in $RUN/hit.pprof)"
  cp "$RUN/hit.pprof" "$ROOT/bench/out/hit.pprof"
  cat "$PROFILE_TXT" >&2
fi

if has miss; then warm miss "$SYS_MISS"; scenario miss allow token "$SYS_MISS"; fi
has deny && scenario deny deny none "$SYS_DENY"
has large && scenario large allow token "$SYS_LARGE"


if has down; then
  # The trivial authorizer (nginx, Caddy, edgeward sideband) and the
  # standalone decision service are stopped: every answer must be a deny
  # or a 5xx. Last, because they stay down.
  kill "$AUTHZ" "$EWD"; wait "$AUTHZ" "$EWD" 2>/dev/null || true
  scenario down deny token "$SYS_DOWN"
fi

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$(( $(date +%s) - started ))

# ---- report -----------------------------------------------------------------
cp "$RAW" "$RAWOUT"
report_status=0
"$BK" report -raw "$RAW" -out "$RUN/tables.md" -goals "$RUN/goals.md" >/dev/null || report_status=$?
{
  echo "# edgeward side by side ($MODE run)"
  echo
  cat "$RUN/goals.md"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "- machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(uname -sr)"
  echo "- load average (1/5/15 min): $LOAD_START at the start, $LOAD_END at the end; 1-min load after each run: $(awk '{for (i=1;i<=NF;i++) if ($i ~ /^load1=/) print substr($i,7)}' "$RAW" | sort -n | awk 'NR==1 {lo=$1} {hi=$1} END {if (NR) printf "%s to %s", lo, hi; else printf "-"}')"
  echo "- command: \`bench/run.sh $ARGS\`; ${ROUNDS} interleaved rounds of ${DURATION} s per system, medians; wrk -t$THREADS -c$CONNS; $IDLE_CONNS idle connections per system in the idle scenario, $IDLE in the large one; load took ${elapsed} s"
  echo "- versions: $(nginx -v 2>&1 | sed 's/.*: //'), HAProxy $(haproxy -v | head -1 | awk '{print $3}'), Caddy $(caddy version | awk '{print $1}'), $(go version | awk '{print $3}')"
  echo "- systems: origin = the bare nginx origin; haproxy-proxy = HAProxy plain proxy (no auth, the floor);"
  echo "  haproxy-jwt = HAProxy RS256 jwt_verify + claims, then its cache (hit, deny, idle) or proxy (miss, large);"
  echo "  nginx-authreq = nginx auth_request to a trivial authorizer location of the same nginx (../shared/peers/nginx-edge.conf),"
  echo "  + proxy_cache (hit, deny, idle) or proxy_pass (miss, large); nginx-authreq-benchkit = the same asking benchkit, a separate Go process (extra row);"
  echo "  nginx-proxy = nginx proxy_pass, no authorization; edgeward-proxy = edgeward with no function and no cache (bench/edgeward/proxy.yaml);"
  echo "  caddy-fwdauth = Caddy forward_auth + reverse_proxy (no cache in any scenario);"
  echo "  edgeward-embedded = decision service in process, real RS256 token (verified-token cache warm);"
  echo "  edgeward-standalone = edge + \`edgeward decision serve\` over HTTP; edgeward-sideband = authorize function to the trivial authorizer."
  echo "- CPU s / 10k req: utime+stime of every process of the system (authorizer and decision service included, origin excluded"
  echo "  except for the origin row); peak RSS: VmHWM summed over the same processes, reset before each run."
  cat "$RUN/tables.md"
  if [ -n "$PROFILE_TXT" ]; then
    echo
    echo "### CPU profile of edgeward's hit path (10 s under wrk -c$CONNS, \`go tool pprof -top\`; bench/out/hit.pprof)"
    echo
    echo '```'
    cat "$PROFILE_TXT"
    echo '```'
  fi
} >"$OUT"
echo
cat "$OUT"
echo
echo "results: $OUT (raw records: $RAWOUT)"
if [ "$report_status" != 0 ]; then
  printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n' >&2
  printf '!!  FAILURE: a system answered 2xx/3xx where it had to deny (FAIL-OPEN)  !!\n' >&2
  printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n' >&2
  exit 3
fi
if grep -q '^### FAILURES' "$OUT"; then
  log "!! some runs had errors: see FAILURES in $OUT"
fi
