package main

import (
	"strconv"
	"strings"
	"testing"
)

func TestIssue15Goals(t *testing.T) {
	wrk := func(sc, sys string, rps, p99 int) string {
		return line(sc, sys, "1", "allow", "requests=1000 duration_us=1 rps="+itoa(rps)+" p50_us=1 p99_us="+itoa(p99)+" p999_us=1 non2xx=0 sockerr=0", "")
	}
	idle := func(sys string, before, after int) string {
		return "scenario=idle system=" + sys + " round=1 expect=allow requests=5000 non2xx=0 rps=0 p50_us=-1 p99_us=-1 p999_us=-1 rss_before_kb=" +
			itoa(before) + " rss_after_kb=" + itoa(after) + " idle_wanted=5000 idle_open=5000 idle_closed=0"
	}
	raw := strings.Join([]string{
		wrk("miss", Reference, 20000, 5000),
		wrk("miss", "nginx-authreq", 21000, 4000), // the best peer: 0.95x, missed
		wrk("miss", "haproxy-jwt", 18000, 5000),   // p99 1.0x: met
		wrk("proxy", "edgeward-proxy", 27000, 1),
		wrk("proxy", "nginx-proxy", 30000, 1), // 0.9x: met
		wrk("hit", Reference, 40000, 7000),
		wrk("hit", "haproxy-jwt", 33000, 5000), // 1.21x: missed; p99 1.4x: missed
		idle(Reference, 10000, 70000),          // 12.0 KiB: met
		idle("haproxy-jwt", 10000, 30000),
	}, "\n")
	recs, err := parseRecords(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, g := range issue15Goals(summarize(recs)) {
		got[g.name[:12]] = g.verdict
	}
	want := map[string]string{
		"authorized m": "**missed**",
		"plain proxy ": "met",
		"authorized h": "**missed**",
		"p99 at satur": "met", // the miss row, written last under this prefix
		"memory per i": "met",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("goal %q: verdict %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	var b strings.Builder
	renderGoals(&b, summarize(recs))
	for _, s := range []string{"0.95x (20000 vs nginx-authreq 21000 req/s)", "12.0 KiB at 5000 connections; haproxy-jwt 4.0", "1.40x (7.00 ms vs 5.00 ms)"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("goals table lacks %q:\n%s", s, b.String())
		}
	}
}

func TestIssue15Goals_NotMeasured(t *testing.T) {
	for _, g := range issue15Goals(nil) {
		if g.verdict != "-" {
			t.Errorf("goal %q with no runs: verdict %q, want -", g.name, g.verdict)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
