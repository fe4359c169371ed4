-- wrk reporting script of bench/run.sh: one parseable line per run, read by
-- `benchkit report`. Latencies are in microseconds; non2xx counts answers
-- outside 2xx/3xx (wrk's "Non-2xx or 3xx responses"), sockerr the connect,
-- read, write and timeout errors. No request()/response() callbacks: they
-- would slow wrk down on every request.
done = function(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "BENCH requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d p999_us=%d non2xx=%d sockerr=%d\n",
    summary.requests, summary.duration, summary.requests / secs,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    e.status, e.connect + e.read + e.write + e.timeout))
end
