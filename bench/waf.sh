#!/usr/bin/env bash
# bench/waf.sh: authorized-miss req/s through edgeward with its WAF (OWASP
# CRS v4 on Coraza, paranoia level 1, block) against nginx + ModSecurity v3
# + the CRS (Debian's libnginx-mod-http-modsecurity and modsecurity-crs),
# with each edge without its WAF for reference, in interleaved short rounds
# (A B C D A B C D ...). The same benign request for all: GET
# /orders?status=shipped&page=2 with a 600-byte RS256 bearer token, which
# edgeward verifies (embedded decision service, verified-token cache) and
# nginx hands to the trivial authorizer (auth_request). Everything it
# starts listens on 127.0.0.1 and is stopped on exit.
#
#   bench/waf.sh [--rounds N] [--duration SECONDS] [--out FILE]
#
# Defaults: 3 rounds of 3 s per system (about a minute with start-up);
# results in bench/out/waf.md.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUN=$ROOT/bench/out/waf
ROUNDS=3 DURATION=3 OUT=$ROOT/bench/out/waf.md
CONNS=64 THREADS=2
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --out) OUT=$2; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "waf.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
NAME=waf.sh
. "$ROOT/bench/lib.sh"

missing=()
command -v nginx >/dev/null || missing+=(nginx)
command -v wrk >/dev/null || missing+=(wrk)
command -v curl >/dev/null || missing+=(curl)
[ -e /usr/lib/nginx/modules/ngx_http_modsecurity_module.so ] || missing+=(libnginx-mod-http-modsecurity)
[ -d /usr/share/modsecurity-crs/rules ] || missing+=(modsecurity-crs)
if [ ${#missing[@]} -gt 0 ]; then
  log "== installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
check_ports 9301 9302 9304 9305 9341 9342

rm -rf "$RUN"
mkdir -p "$RUN"/{bin,conf,keys,log,run,tmp,nginx-prefix,wrk} "$(dirname "$OUT")"
log "== build"
(cd "$ROOT" && go build -o "$RUN/bin/edgeward" ./cmd/edgeward && cd bench && go build -o "$RUN/bin/benchkit" ./cmd/benchkit)
BK=$RUN/bin/benchkit EW=$RUN/bin/edgeward
"$BK" setup -dir "$RUN/keys" >/dev/null
TOKEN=$(cat "$RUN/keys/token")
for f in origin.conf nginx-modsec.conf modsec-main.conf; do
  sed "s|@OUT@|$RUN|g" "$ROOT/bench/waf/$f" >"$RUN/conf/$f"
done

log "== start"
nginx -p "$RUN/nginx-prefix" -c "$RUN/conf/origin.conf" -e "$RUN/log/origin-error.log"
PIDFILES+=("$RUN/run/origin.pid")
wait_up http://127.0.0.1:9301/
"$BK" authz -plain 127.0.0.1:9302 2>"$RUN/log/authz.log" &
PIDS+=($!)
nginx -p "$RUN/nginx-prefix" -c "$RUN/conf/nginx-modsec.conf" -e "$RUN/log/nginx-error.log"
PIDFILES+=("$RUN/run/nginx.pid")
"$EW" serve -c "$ROOT/bench/waf/edgeward.yaml" >"$RUN/log/ew-waf.log" 2>&1 &
PIDS+=($!)
"$EW" serve -c "$ROOT/bench/waf/edgeward-nowaf.yaml" >"$RUN/log/ew-nowaf.log" 2>&1 &
PIDS+=($!)
for p in 9302 9304 9305 9341 9342; do wait_up "http://127.0.0.1:$p/"; done

declare -A PORT=([edgeward-waf]=9341 [nginx-modsec]=9304 [edgeward-nowaf]=9342 [nginx-authreq]=9305)
SYSTEMS="edgeward-waf nginx-modsec edgeward-nowaf nginx-authreq"
TARGET="/orders?status=shipped&page=2"

log "== check: the benign request passes, attacks are blocked, by both WAFs"
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $TOKEN" "$@"; }
for s in $SYSTEMS; do
  got=$(code "http://127.0.0.1:${PORT[$s]}$TARGET")
  [ "$got" = 200 ] || die "$s: benign GET $TARGET = $got, want 200 (logs: $RUN/log/)"
done
for s in edgeward-waf nginx-modsec; do
  got=$(code "http://127.0.0.1:${PORT[$s]}/orders?id=1%27%20UNION%20SELECT%20password%20FROM%20users--")
  [ "$got" = 403 ] || die "$s: SQL injection = $got, want 403"
  got=$(code -H 'User-Agent: <script>alert(1)</script>' "http://127.0.0.1:${PORT[$s]}/orders")
  [ "$got" = 403 ] || die "$s: XSS in User-Agent = $got, want 403"
done

log "== warm"
for s in $SYSTEMS; do
  wrk -t1 -c8 -d1s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:${PORT[$s]}$TARGET" >/dev/null 2>&1 || true
done

log "== $ROUNDS rounds of ${DURATION}s per system, wrk -t$THREADS -c$CONNS, interleaved"
RAW=$RUN/raw.txt
: >"$RAW"
for r in $(seq "$ROUNDS"); do
  for s in $SYSTEMS; do
    line=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" -s "$ROOT/bench/wrk/report.lua" \
      -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:${PORT[$s]}$TARGET" 2>&1 | grep '^BENCH' || true)
    [ -n "$line" ] || die "wrk against $s printed no result"
    echo "$s round=$r $line" | tee -a "$RAW" >&2
  done
done

# median SYSTEM FIELD: the median over the rounds.
median() {
  grep "^$1 " "$RAW" | tr ' ' '\n' | sed -n "s/^$2=//p" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
}
{
  echo "# edgeward WAF vs nginx + ModSecurity (bench/waf.sh)"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores shared with other work; wrk -t$THREADS -c$CONNS, $ROUNDS interleaved rounds of ${DURATION}s; GET $TARGET with an RS256 bearer token, authorized miss (origin every time)."
  echo "CRS: edgeward embeds v4 (coraza-coreruleset); Debian's modsecurity-crs is $(dpkg-query -W -f='${Version}' modsecurity-crs 2>/dev/null || echo '?'), libmodsecurity $(dpkg-query -W -f='${Version}' libmodsecurity3 2>/dev/null || echo '?'). Both at paranoia level 1, blocking, request bodies on."
  echo
  echo "| system | req/s (median) | p50 | p99 | non-2xx |"
  echo "|---|---:|---:|---:|---:|"
  for s in $SYSTEMS; do
    printf '| %s | %.0f | %s µs | %s µs | %s |\n' "$s" "$(median "$s" rps)" "$(median "$s" p50_us)" "$(median "$s" p99_us)" "$(median "$s" non2xx)"
  done
  echo
  awk -v a="$(median edgeward-waf rps)" -v b="$(median nginx-modsec rps)" 'BEGIN { printf "edgeward-waf / nginx-modsec = %.2fx\n", a / b }'
} >"$OUT"
cat "$OUT"
