package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// line is a raw record as bench/run.sh writes it around report.lua's
// BENCH line.
func line(scenario, system, round, expect, bench, extra string) string {
	return "scenario=" + scenario + " system=" + system + " round=" + round + " expect=" + expect + " " + bench +
		" cpu_ticks=50 clk_tck=100 rss_kb=20480 " + extra
}

func TestParseRecord_WrkLine(t *testing.T) {
	got, err := parseRecord(line("hit", "edgeward-embedded", "2", "allow",
		"requests=100000 duration_us=5000000 rps=20000.0 p50_us=2500 p99_us=9000 p999_us=15000 non2xx=0 sockerr=1", ""))
	if err != nil {
		t.Fatal(err)
	}
	want := record{
		scenario: "hit", system: "edgeward-embedded", expect: "allow", round: 2,
		requests: 100000, sock: 1, rps: 20000, p50: 2500, p99: 9000, p999: 15000,
		cpuSeconds: 0.5, rssKB: 20480, idleOpen: -1, rssBeforeKB: -1, rssAfterKB: -1,
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(record{})); diff != "" {
		t.Errorf("parseRecord mismatch (-want +got):\n%s", diff)
	}
}

func TestParseRecord_RefusesBrokenLines(t *testing.T) {
	for name, text := range map[string]string{
		"no system":     "scenario=hit round=1 requests=1 rps=1 p50_us=1 p99_us=1 p999_us=1 non2xx=0",
		"not a number":  "scenario=hit system=a round=1 requests=x rps=1 p50_us=1 p99_us=1 p999_us=1 non2xx=0",
		"missing p99":   "scenario=hit system=a round=1 requests=1 rps=1 p50_us=1 p999_us=1 non2xx=0",
		"bad expect":    "scenario=hit system=a round=1 expect=maybe requests=1 rps=1 p50_us=1 p99_us=1 p999_us=1 non2xx=0",
		"not key=value": "scenario=hit system=a round=1 oops requests=1 rps=1 p50_us=1 p99_us=1 p999_us=1 non2xx=0",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseRecord(text); err == nil {
				t.Errorf("parseRecord(%q) = nil error, want one", text)
			}
		})
	}
}

func TestParseRecords_SkipsCommentsAndNamesTheLine(t *testing.T) {
	in := "# header\n\n" + line("hit", "origin", "1", "allow",
		"requests=10 duration_us=1 rps=10 p50_us=1 p99_us=2 p999_us=3 non2xx=0 sockerr=0", "") + "\nscenario=hit\n"
	_, err := parseRecords(strings.NewReader(in))
	if err == nil || !strings.HasPrefix(err.Error(), "line 4:") {
		t.Errorf("parseRecords error = %v, want one about line 4", err)
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{nil, -1},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestSummarize_MediansOfRounds(t *testing.T) {
	var recs []record
	for i, rps := range []string{"1000", "3000", "2000"} {
		r, err := parseRecord(line("hit", "nginx-authreq", string(rune('1'+i)), "allow",
			"requests=10000 duration_us=1 rps="+rps+" p50_us="+rps+" p99_us=1 p999_us=1 non2xx=0 sockerr=0", ""))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	got := summarize(recs)
	if len(got) != 1 {
		t.Fatalf("summarize gave %d groups, want 1", len(got))
	}
	s := got[0]
	if s.rps != 2000 || s.p50 != 2000 || s.rounds != 3 {
		t.Errorf("summary rps, p50, rounds = %v, %v, %d; want 2000, 2000, 3", s.rps, s.p50, s.rounds)
	}
	// 0.5 CPU seconds per 10,000 requests in every round.
	if s.cpuPer10k != 0.5 {
		t.Errorf("cpuPer10k = %v, want 0.5", s.cpuPer10k)
	}
}

func render1(t *testing.T, lines ...string) (string, error) {
	t.Helper()
	recs, err := parseRecords(strings.NewReader(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	err = render(&b, summarize(recs))
	return b.String(), err
}

func TestRender_RatiosAgainstEdgeward(t *testing.T) {
	out, err := render1(t,
		line("hit", "nginx-authreq", "1", "allow", "requests=1 duration_us=1 rps=10000 p50_us=1 p99_us=4000 p999_us=1 non2xx=0 sockerr=0", ""),
		line("hit", Reference, "1", "allow", "requests=1 duration_us=1 rps=20000 p50_us=1 p99_us=2000 p999_us=1 non2xx=0 sockerr=0", ""),
	)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| nginx-authreq | 10000 | 0.00 ms | 4.00 ms | 0.00 ms | 5000.00 | 20 MiB | 2.00x | 0.50x | ok |",
		"| hit: ≥ 1.5x nginx auth_request + proxy_cache req/s, lower p99 | 2.00x req/s, p99 2.00 ms vs 4.00 ms | met |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("render output lacks %q:\n%s", want, out)
		}
	}
}

func TestRender_FailOpenIsAnError(t *testing.T) {
	out, err := render1(t,
		// 10 of 1000 requests answered 2xx while the authorizer was down.
		line("down", "nginx-authreq", "1", "deny", "requests=1000 duration_us=1 rps=1 p50_us=1 p99_us=1 p999_us=1 non2xx=990 sockerr=0", ""),
		line("down", Reference, "1", "deny", "requests=1000 duration_us=1 rps=1 p50_us=1 p99_us=1 p999_us=1 non2xx=1000 sockerr=0", ""),
	)
	if !errors.Is(err, errFailOpen) {
		t.Errorf("render error = %v, want errFailOpen", err)
	}
	if !strings.Contains(out, "- **down / nginx-authreq: FAIL-OPEN: 10 of 1000 answered 2xx/3xx**") {
		t.Errorf("render output does not name the failure:\n%s", out)
	}
}

func TestRender_AllowErrorsAndIdleLossesAreFlagged(t *testing.T) {
	out, err := render1(t,
		line("large", Reference, "1", "allow", "requests=100 duration_us=1 rps=1 p50_us=1 p99_us=1 p999_us=1 non2xx=3 sockerr=2",
			"idle_wanted=5000 idle_open=4990 idle_closed=7"),
	)
	if err != nil {
		t.Fatalf("render error = %v, want nil (errors are not fail-open)", err)
	}
	want := "ERRORS: 5 of 100 non-2xx or socket errors; IDLE: 4990 of 5000 held, 7 closed by the server"
	if !strings.Contains(out, want) || !strings.Contains(out, "### FAILURES") {
		t.Errorf("render output lacks %q and a FAILURES section:\n%s", want, out)
	}
}

func TestRender_AddedLatency(t *testing.T) {
	out, _ := render1(t,
		line("added", "origin", "1", "allow", "requests=1 duration_us=1 rps=5000 p50_us=1 p99_us=400 p999_us=1 non2xx=0 sockerr=0", ""),
		line("added", Reference, "1", "allow", "requests=1 duration_us=1 rps=5000 p50_us=1 p99_us=1700 p999_us=1 non2xx=0 sockerr=0", ""),
	)
	want := "| added p99 over the bare origin at 50% of peak: < 1 ms | +1.30 ms (p99 1.70 ms vs origin 0.40 ms at 5000 req/s) | **missed** |"
	if !strings.Contains(out, want) {
		t.Errorf("render output lacks %q:\n%s", want, out)
	}
}

func TestRender_AddedLatencyAtLightLoad(t *testing.T) {
	out, _ := render1(t,
		line("light", "origin", "1", "allow", "requests=1 duration_us=1 rps=9000 p50_us=1 p99_us=300 p999_us=1 non2xx=0 sockerr=0", ""),
		line("light", Reference, "1", "allow", "requests=1 duration_us=1 rps=5000 p50_us=1 p99_us=1100 p999_us=1 non2xx=0 sockerr=0", ""),
	)
	want := "| added p99 over the bare origin at light load: < 1 ms | +0.80 ms (p99 1.10 ms vs origin 0.30 ms) | met |"
	if !strings.Contains(out, want) {
		t.Errorf("render output lacks %q:\n%s", want, out)
	}
}

func TestRender_AddedLatencyNeedsAPacedGenerator(t *testing.T) {
	out, _ := render1(t,
		line("added", "origin", "1", "allow", "requests=1 duration_us=1 rps=528 p50_us=1 p99_us=6000000 p999_us=1 non2xx=0 sockerr=0", "target_rps=3198"),
		line("added", Reference, "1", "allow", "requests=1 duration_us=1 rps=3190 p50_us=1 p99_us=900 p999_us=1 non2xx=0 sockerr=0", "target_rps=3198"),
	)
	want := "not measured: the load generator reached 528 and 3190 of 3198 req/s (origin, edgeward) | **unknown** |"
	if !strings.Contains(out, want) {
		t.Errorf("render output lacks %q:\n%s", want, out)
	}
}

func TestRender_ReferenceFallsBackToAnEdgewardMode(t *testing.T) {
	out, err := render1(t,
		line("down", "nginx-authreq", "1", "deny", "requests=10 duration_us=1 rps=1000 p50_us=1 p99_us=1 p999_us=1 non2xx=10 sockerr=0", ""),
		line("down", "edgeward-standalone", "1", "deny", "requests=10 duration_us=1 rps=3000 p50_us=1 p99_us=1 p999_us=1 non2xx=10 sockerr=0", ""),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Ratios: edgeward-standalone ÷ system") || !strings.Contains(out, "| 3.00x | 1.00x | ok |") {
		t.Errorf("render output does not compare with edgeward-standalone:\n%s", out)
	}
}
