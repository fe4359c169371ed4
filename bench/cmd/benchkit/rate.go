package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// runRate sends GET -url at a constant -rate for -duration (an open-loop
// load, unlike wrk's closed loop, so that queueing shows in the latency)
// and prints one BENCH line in the format of bench/wrk/report.lua.
func runRate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("rate", flag.ExitOnError)
	target := fs.String("url", "", "URL to request")
	rate := fs.Int("rate", 1000, "requests per second")
	dur := fs.Duration("duration", 5*time.Second, "how long")
	auth := fs.String("authorization", "", "Authorization header value")
	conns := fs.Int("connections", 64, "keep-alive connections")
	warmup := fs.Duration("warmup", time.Second, "load at the same rate before measuring (opens the connections)")
	fs.Parse(args)
	if *target == "" || *rate <= 0 {
		return errors.New("want -url and a -rate > 0")
	}
	h := http.Header{}
	if *auth != "" {
		h.Set("Authorization", *auth)
	}
	tr := vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: *target, Header: h})
	at := vegeta.NewAttacker(vegeta.KeepAlive(true), vegeta.Connections(*conns), vegeta.MaxConnections(*conns), vegeta.Workers(uint64(*conns)))
	go func() {
		<-ctx.Done()
		at.Stop()
	}()
	// One attack (an Attacker cannot be reused), its first -warmup of
	// results left out: they include opening the connections.
	start := time.Now().Add(*warmup)
	var m vegeta.Metrics
	for res := range at.Attack(tr, vegeta.Rate{Freq: *rate, Per: time.Second}, *warmup+*dur, "bench") {
		if !res.Timestamp.Before(start) {
			m.Add(res)
		}
	}
	m.Close()
	fmt.Println(benchLine(&m))
	return nil
}

// benchLine renders vegeta's metrics as report.lua's BENCH line.
func benchLine(m *vegeta.Metrics) string {
	non2xx, sockerr := 0, 0
	for code, n := range m.StatusCodes {
		c, _ := strconv.Atoi(code)
		switch {
		case c == 0:
			sockerr += n
		case c < 200 || c >= 400:
			non2xx += n
		}
	}
	us := func(d time.Duration) int64 { return d.Microseconds() }
	var b strings.Builder
	fmt.Fprintf(&b, "BENCH requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d p999_us=%d non2xx=%d sockerr=%d",
		m.Requests, us(m.Duration+m.Wait), m.Throughput,
		us(m.Latencies.P50), us(m.Latencies.P99), us(m.Latencies.Quantile(0.999)), non2xx, sockerr)
	return b.String()
}
