# bench/lib.sh: what the side-by-side scripts (run.sh, dcache.sh, waf.sh)
# share: messages, the check that their ports are free, starting and
# stopping what they start, and waiting for a server to answer. Sourced
# after the script sets NAME (for messages) and RUN (its run directory).

log() { printf '%s\n' "$*" >&2; }
die() { printf '\n%s: %s\n' "$NAME" "$*" >&2; exit 1; }

# check_ports PORT...: a port already listened on is an error, not a guess.
check_ports() {
  local p
  for p in "$@"; do
    if ss -Hltn "sport = :$p" | grep -q .; then
      die "port $p is taken: $(ss -Hltnp "sport = :$p" | head -1). Stop what listens there (another bench run?) and retry."
    fi
  done
}

# Everything started is stopped on exit: background processes in PIDS,
# daemons (nginx, haproxy) by the pid files in PIDFILES.
PIDS=()
PIDFILES=()
cleanup() {
  local status=$?
  set +e
  for f in "${PIDFILES[@]}"; do
    [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null
  done
  for p in "${PIDS[@]}"; do
    kill "$p" 2>/dev/null
  done
  for p in "${PIDS[@]}"; do
    wait "$p" 2>/dev/null
  done
  # Daemons exit asynchronously; give them a moment, then make sure.
  for f in "${PIDFILES[@]}"; do
    for _ in $(seq 50); do [ -s "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null || break; sleep 0.1; done
  done
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_up URL: poll until the server answers at all (any HTTP status).
wait_up() {
  for _ in $(seq 100); do
    curl -s -o /dev/null --max-time 1 "$1" && return 0
    sleep 0.1
  done
  die "nothing answers at $1 (see $RUN/log/)"
}
