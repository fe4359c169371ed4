package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Reference is the system every other is compared with: edgeward with its
// embedded decision service and a real RS256 token.
const Reference = "edgeward-embedded"

// Expectations of a run: allow runs must answer 2xx; deny runs (a denied
// request, the authorizer down) must never answer 2xx or 3xx.
const (
	expectAllow = "allow"
	expectDeny  = "deny"
)

// errFailOpen is returned by the report when a deny run let a request
// through: a security failure, not a slow result.
var errFailOpen = errors.New("FAIL-OPEN: a denied or undecidable request was answered 2xx/3xx (see the table)")

// scenarioTitles names the scenarios of bench/run.sh in report order.
var scenarioTitles = []struct{ id, title string }{
	{"idle", "0. Memory per idle keep-alive connection"},
	{"hit", "1. Authorized cache hit"},
	{"proxy", "1b. Plain proxy (no function, no cache, origin every time)"},
	{"miss", "2. Authorized miss (origin every time)"},
	{"deny", "3. Denied request (no token)"},
	{"down", "4. Authorizer down (must fail closed)"},
	{"large", "5. 1 MB response, streamed, with idle connections held open"},
	{"added", "Added latency at a constant rate (50% of edgeward's peak hit rate)"},
	{"light", "Added latency at light load (closed loop, wrk -t1 -c2)"},
}

// record is one load run: one system, one scenario, one round.
type record struct {
	scenario, system, expect string
	round                    int
	requests, non2xx, sock   float64
	rps, p50, p99, p999      float64 // latencies in µs
	cpuSeconds, rssKB        float64
	idleOpen, idleClosed     float64 // -1 when the run held no idle connections
	idleWanted               float64
	targetRPS                float64 // the constant rate asked for (rate runs); 0 for wrk runs
	rssBeforeKB, rssAfterKB  float64 // idle runs: VmRSS before and after the idle connections; -1 otherwise
}

// parseRecords reads the raw file bench/run.sh writes: one run per line as
// space-separated key=value pairs (the BENCH line of report.lua, plus the
// harness's scenario, system, round, expect, cpu_ticks, clk_tck, rss_kb and
// idle_* fields). Blank lines and lines starting with # are skipped.
func parseRecords(r io.Reader) ([]record, error) {
	var out []record
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		rec, err := parseRecord(text)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		out = append(out, rec)
	}
	return out, sc.Err()
}

func parseRecord(text string) (record, error) {
	kv := map[string]string{}
	for _, f := range strings.Fields(text) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			if f == "BENCH" {
				continue
			}
			return record{}, fmt.Errorf("%q is not key=value", f)
		}
		kv[k] = v
	}
	var errs []error
	num := func(k string, def float64, required bool) float64 {
		v, ok := kv[k]
		if !ok {
			if required {
				errs = append(errs, fmt.Errorf("%s: missing", k))
			}
			return def
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a number", k, v))
		}
		return f
	}
	rec := record{
		scenario: kv["scenario"], system: kv["system"], expect: kv["expect"],
		round:    int(num("round", 0, true)),
		requests: num("requests", 0, true), non2xx: num("non2xx", 0, true), sock: num("sockerr", 0, false),
		rps: num("rps", 0, true), p50: num("p50_us", 0, true), p99: num("p99_us", 0, true), p999: num("p999_us", 0, true),
		rssKB:       num("rss_kb", 0, false),
		idleOpen:    num("idle_open", -1, false),
		idleClosed:  num("idle_closed", 0, false),
		idleWanted:  num("idle_wanted", 0, false),
		targetRPS:   num("target_rps", 0, false),
		rssBeforeKB: num("rss_before_kb", -1, false),
		rssAfterKB:  num("rss_after_kb", -1, false),
	}
	if ticks := num("cpu_ticks", -1, false); ticks >= 0 {
		rec.cpuSeconds = ticks / num("clk_tck", 100, false)
	} else {
		rec.cpuSeconds = -1
	}
	if rec.scenario == "" || rec.system == "" {
		errs = append(errs, errors.New("scenario and system are required"))
	}
	switch rec.expect {
	case "":
		rec.expect = expectAllow
	case expectAllow, expectDeny:
	default:
		errs = append(errs, fmt.Errorf("expect: want allow or deny, got %q", rec.expect))
	}
	return rec, errors.Join(errs...)
}

// summary is the medians of one system's rounds in one scenario.
type summary struct {
	scenario, system, expect string
	rounds                   int
	rps, p50, p99, p999      float64
	cpuPer10k                float64 // CPU seconds per 10,000 requests; -1 unknown
	rssKB                    float64 // the largest peak of the rounds
	requests                 float64 // all rounds
	passed                   float64 // 2xx/3xx answers in deny runs (must be 0)
	failed                   float64 // non-2xx answers and socket errors in allow runs
	sock                     float64
	idleOpenMin, idleWanted  float64
	idleClosed               float64
	targetRPS                float64
	kibPerConn               float64 // idle runs: (RSS after - before) / connections held; -1 otherwise
	rssBeforeKB, rssAfterKB  float64 // idle runs: medians
}

// summarize groups records by scenario and system, keeping the order in
// which each first appears.
func summarize(recs []record) []summary {
	type key struct{ scenario, system string }
	var order []key
	groups := map[key][]record{}
	for _, r := range recs {
		k := key{r.scenario, r.system}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	out := make([]summary, 0, len(order))
	for _, k := range order {
		g := groups[k]
		s := summary{scenario: k.scenario, system: k.system, expect: g[0].expect, rounds: len(g), idleOpenMin: -1}
		col := func(f func(record) float64) float64 {
			vs := make([]float64, 0, len(g))
			for _, r := range g {
				if v := f(r); v >= 0 {
					vs = append(vs, v)
				}
			}
			return median(vs)
		}
		s.rps = col(func(r record) float64 { return r.rps })
		s.targetRPS = col(func(r record) float64 { return r.targetRPS })
		s.rssBeforeKB = col(func(r record) float64 { return r.rssBeforeKB })
		s.rssAfterKB = col(func(r record) float64 { return r.rssAfterKB })
		s.kibPerConn = col(func(r record) float64 {
			if r.rssBeforeKB < 0 || r.rssAfterKB < 0 || r.idleOpen <= 0 {
				return -1
			}
			return (r.rssAfterKB - r.rssBeforeKB) / r.idleOpen
		})
		s.p50 = col(func(r record) float64 { return r.p50 })
		s.p99 = col(func(r record) float64 { return r.p99 })
		s.p999 = col(func(r record) float64 { return r.p999 })
		s.cpuPer10k = col(func(r record) float64 {
			if r.cpuSeconds < 0 || r.requests <= 0 {
				return -1
			}
			return r.cpuSeconds / r.requests * 10000
		})
		for _, r := range g {
			s.rssKB = max(s.rssKB, r.rssKB)
			s.requests += r.requests
			s.sock += r.sock
			if r.expect == expectDeny {
				s.passed += max(0, r.requests-r.non2xx)
			} else {
				s.failed += r.non2xx + r.sock
			}
			if r.idleOpen >= 0 {
				if s.idleOpenMin < 0 || r.idleOpen < s.idleOpenMin {
					s.idleOpenMin = r.idleOpen
				}
				s.idleWanted = max(s.idleWanted, r.idleWanted)
				s.idleClosed += r.idleClosed
			}
		}
		out = append(out, s)
	}
	return out
}

// median of vs; NaN-free: an empty slice gives -1 (unknown).
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return -1
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// ratio is a/b as "1.23x", or "-" when either is unknown.
func ratio(a, b float64) string {
	if a <= 0 || b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

// ms renders a latency in µs as milliseconds; a negative value is unknown.
func ms(us float64) string {
	if us < 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f ms", us/1000)
}

func find(sums []summary, scenario, system string) (summary, bool) {
	for _, s := range sums {
		if s.scenario == scenario && s.system == system {
			return s, true
		}
	}
	return summary{}, false
}

// render writes the results as Markdown: one table per scenario, the
// targets of issue 7, and a loud list of failures. It returns errFailOpen
// when a deny run let a request through.
func render(w io.Writer, sums []summary) error {
	known := map[string]bool{}
	for _, st := range scenarioTitles {
		known[st.id] = true
	}
	titles := slices.Clone(scenarioTitles)
	for _, s := range sums {
		if !known[s.scenario] {
			known[s.scenario] = true
			titles = append(titles, struct{ id, title string }{s.scenario, s.scenario})
		}
	}
	var failures []string
	for _, st := range titles {
		var rows []summary
		for _, s := range sums {
			if s.scenario == st.id {
				rows = append(rows, s)
			}
		}
		if len(rows) == 0 {
			continue
		}
		if st.id == "idle" {
			failures = append(failures, renderIdle(w, st.title, rows)...)
			continue
		}
		ref, hasRef := reference(rows)
		fmt.Fprintf(w, "\n### %s (`%s`, median of %d rounds)\n\n", st.title, st.id, rows[0].rounds)
		if hasRef {
			fmt.Fprintf(w, "Ratios: %s ÷ system (req/s above 1 and p99 below 1 favour edgeward).\n\n", ref.system)
		}
		fmt.Fprintln(w, "| system | req/s | p50 | p99 | p99.9 | CPU s / 10k req | peak RSS | ratio req/s | ratio p99 | check |")
		fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|")
		for _, s := range rows {
			rr, pr := "-", "-"
			if hasRef && s.system != ref.system {
				rr, pr = ratio(ref.rps, s.rps), ratio(ref.p99, s.p99)
			}
			check := checkText(s)
			if check != "ok" {
				failures = append(failures, fmt.Sprintf("%s / %s: %s", st.id, s.system, check))
			}
			fmt.Fprintf(w, "| %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				s.system, s.rps, ms(s.p50), ms(s.p99), ms(s.p999), cpuText(s.cpuPer10k), rssText(s.rssKB), rr, pr, check)
		}
	}
	renderTargets(w, sums)
	if len(failures) > 0 {
		fmt.Fprintf(w, "\n### FAILURES\n\n")
		for _, f := range failures {
			fmt.Fprintf(w, "- **%s**\n", f)
		}
	}
	for _, s := range sums {
		if s.passed > 0 {
			return errFailOpen
		}
	}
	return nil
}

// reference is the row the others are compared with: Reference, or else
// the first edgeward mode of the scenario (the authorizer-down scenario has
// no embedded edgeward: it has no authorizer to lose).
func reference(rows []summary) (summary, bool) {
	for _, s := range rows {
		if s.system == Reference {
			return s, true
		}
	}
	for _, s := range rows {
		if strings.HasPrefix(s.system, "edgeward") {
			return s, true
		}
	}
	return summary{}, false
}

func checkText(s summary) string {
	var parts []string
	switch {
	case s.expect == expectDeny && s.passed > 0:
		parts = append(parts, fmt.Sprintf("FAIL-OPEN: %.0f of %.0f answered 2xx/3xx", s.passed, s.requests))
	case s.expect == expectAllow && s.failed > 0:
		parts = append(parts, fmt.Sprintf("ERRORS: %.0f of %.0f non-2xx or socket errors", s.failed, s.requests))
	}
	if s.expect == expectDeny && s.sock > 0 {
		parts = append(parts, fmt.Sprintf("%.0f socket errors", s.sock))
	}
	if s.idleOpenMin >= 0 && (s.idleOpenMin < s.idleWanted || s.idleClosed > 0) {
		parts = append(parts, fmt.Sprintf("IDLE: %.0f of %.0f held, %.0f closed by the server", s.idleOpenMin, s.idleWanted, s.idleClosed))
	}
	if len(parts) == 0 {
		return "ok"
	}
	return strings.Join(parts, "; ")
}

func cpuText(v float64) string {
	if v < 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}

func rssText(kb float64) string {
	if kb <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f MiB", kb/1024)
}

// renderTargets checks the goals of issue 7 and DESIGN.md against the
// medians: they are goals for the code, reported, never enforced.
func renderTargets(w io.Writer, sums []summary) {
	type target struct{ goal, got, verdict string }
	var ts []target
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**missed**"
	}
	ew, ok := find(sums, "hit", Reference)
	if ok {
		for _, p := range []struct {
			system string
			factor float64
			goal   string
		}{
			{"nginx-authreq", 1.5, "hit: ≥ 1.5x nginx auth_request + proxy_cache req/s, lower p99"},
			{"haproxy-jwt", 1.25, "hit: ≥ 1.25x HAProxy jwt_verify + cache req/s"},
		} {
			if peer, ok := find(sums, "hit", p.system); ok && peer.rps > 0 {
				got := fmt.Sprintf("%s req/s, p99 %s vs %s", ratio(ew.rps, peer.rps), ms(ew.p99), ms(peer.p99))
				met := ew.rps >= p.factor*peer.rps
				if p.system == "nginx-authreq" {
					met = met && ew.p99 < peer.p99
				}
				ts = append(ts, target{p.goal, got, verdict(met)})
			}
		}
	}
	if ew, ok := find(sums, "miss", Reference); ok {
		if peer, ok := find(sums, "miss", "nginx-authreq"); ok && peer.rps > 0 {
			ts = append(ts, target{"miss: ≥ nginx auth_request + proxy req/s", ratio(ew.rps, peer.rps) + " req/s", verdict(ew.rps >= peer.rps)})
		}
	}
	if ew, ok := find(sums, "added", Reference); ok {
		const goal = "added p99 over the bare origin at 50% of peak: < 1 ms"
		o, ok := find(sums, "added", "origin")
		switch {
		case !ok || ew.p99 < 0 || o.p99 < 0:
		case !paced(ew) || !paced(o):
			// A generator that falls behind measures its own queue.
			ts = append(ts, target{goal, fmt.Sprintf("not measured: the load generator reached %.0f and %.0f of %.0f req/s (origin, edgeward)",
				o.rps, ew.rps, ew.targetRPS), "**unknown**"})
		default:
			add := ew.p99 - o.p99
			ts = append(ts, target{goal,
				fmt.Sprintf("%+.2f ms (p99 %s vs origin %s at %.0f req/s)", add/1000, ms(ew.p99), ms(o.p99), ew.rps), verdict(add < 1000)})
		}
	}
	if ew, ok := find(sums, "light", Reference); ok {
		// A closed loop of two connections leaves the generator idle most
		// of the time: on a machine too small for an open-loop generator
		// beside the edge, this is the added latency that can be measured.
		if o, ok := find(sums, "light", "origin"); ok && ew.p99 >= 0 && o.p99 >= 0 {
			add := ew.p99 - o.p99
			ts = append(ts, target{"added p99 over the bare origin at light load: < 1 ms",
				fmt.Sprintf("%+.2f ms (p99 %s vs origin %s)", add/1000, ms(ew.p99), ms(o.p99)), verdict(add < 1000)})
		}
	}
	if len(ts) == 0 {
		return
	}
	fmt.Fprintf(w, "\n### Targets (goals for the code, not thresholds)\n\n| goal | measured | |\n|---|---|---|\n")
	for _, t := range ts {
		fmt.Fprintf(w, "| %s | %s | %s |\n", t.goal, t.got, t.verdict)
	}
}

// paced reports whether a constant-rate run delivered at least 90% of
// the rate asked for (a run without a target always is).
func paced(s summary) bool { return s.targetRPS <= 0 || s.rps >= 0.9*s.targetRPS }

// runReport reads -raw and writes the tables to stdout and to -out.
func runReport(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	raw := fs.String("raw", "", "raw records written by bench/run.sh")
	out := fs.String("out", "", "also write the tables to this file")
	goals := fs.String("goals", "", "also write the goals table of issue 15 to this file")
	fs.Parse(args)
	f, err := os.Open(*raw)
	if err != nil {
		return err
	}
	defer f.Close()
	recs, err := parseRecords(f)
	if err != nil {
		return fmt.Errorf("%s: %w", *raw, err)
	}
	var b strings.Builder
	sums := summarize(recs)
	if *goals != "" {
		var g strings.Builder
		renderGoals(&g, sums)
		if err := os.WriteFile(*goals, []byte(g.String()), 0o644); err != nil {
			return err
		}
	}
	rerr := render(&b, sums)
	io.WriteString(stdout, b.String())
	if *out != "" {
		if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return rerr
}
