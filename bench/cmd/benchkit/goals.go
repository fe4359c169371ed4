package main

import (
	"fmt"
	"io"
)

// The goals of issue 15, as ratios within one interleaved run: what
// bench/run.sh prints first. Goals for the code, reported, never enforced.
const (
	goalMissRatio   = 1.0  // authorized miss req/s ÷ the best peer's
	goalProxyRatio  = 0.9  // plain proxy req/s ÷ nginx proxy_pass
	goalHitRatio    = 1.25 // authorized hit req/s ÷ HAProxy jwt_verify + cache
	goalP99Ratio    = 1.2  // p99 at saturation ÷ HAProxy's (the most it may be)
	goalIdleKiBConn = 12.0 // KiB of RSS per idle keep-alive connection
)

// goal is one row of the goals table.
type goal struct{ name, measured, verdict string }

func verdictOf(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

// issue15Goals evaluates every goal the records allow; a goal whose runs
// are missing is listed as not measured.
func issue15Goals(sums []summary) []goal {
	var gs []goal
	notMeasured := func(name string) { gs = append(gs, goal{name, "not measured in this run", "-"}) }

	// Authorized miss: against the better of the two references.
	const missName = "authorized miss ≥ 1.0x the best of nginx auth_request + proxy_pass and HAProxy jwt_verify + proxy (req/s)"
	ew, okEW := find(sums, "miss", Reference)
	ng, okNG := find(sums, "miss", "nginx-authreq")
	hp, okHP := find(sums, "miss", "haproxy-jwt")
	if okEW && (okNG || okHP) {
		best := ng
		if !okNG || (okHP && hp.rps > ng.rps) {
			best = hp
		}
		gs = append(gs, goal{missName,
			fmt.Sprintf("%s (%.0f vs %s %.0f req/s)", ratio(ew.rps, best.rps), ew.rps, best.system, best.rps),
			verdictOf(best.rps > 0 && ew.rps >= goalMissRatio*best.rps)})
	} else {
		notMeasured(missName)
	}

	const proxyName = "plain proxy (no function) ≥ 0.9x nginx proxy_pass to the same origin (req/s)"
	if ew, ok := find(sums, "proxy", "edgeward-proxy"); ok {
		if ng, ok := find(sums, "proxy", "nginx-proxy"); ok {
			gs = append(gs, goal{proxyName,
				fmt.Sprintf("%s (%.0f vs %.0f req/s)", ratio(ew.rps, ng.rps), ew.rps, ng.rps),
				verdictOf(ng.rps > 0 && ew.rps >= goalProxyRatio*ng.rps)})
		} else {
			notMeasured(proxyName)
		}
	} else {
		notMeasured(proxyName)
	}

	const hitName = "authorized hit ≥ 1.25x HAProxy jwt_verify + cache (req/s)"
	ewHit, okEWHit := find(sums, "hit", Reference)
	hpHit, okHPHit := find(sums, "hit", "haproxy-jwt")
	if okEWHit && okHPHit {
		gs = append(gs, goal{hitName,
			fmt.Sprintf("%s (%.0f vs %.0f req/s)", ratio(ewHit.rps, hpHit.rps), ewHit.rps, hpHit.rps),
			verdictOf(hpHit.rps > 0 && ewHit.rps >= goalHitRatio*hpHit.rps)})
	} else {
		notMeasured(hitName)
	}

	// p99 at saturation: the closed-loop runs above (wrk -c64 keeps both
	// cores busy), edgeward's p99 over HAProxy's.
	for _, sc := range []string{"hit", "miss"} {
		name := fmt.Sprintf("p99 at saturation ≤ 1.2x HAProxy's, %s (wrk -c64)", sc)
		e, ok1 := find(sums, sc, Reference)
		h, ok2 := find(sums, sc, "haproxy-jwt")
		if !ok1 || !ok2 || e.p99 <= 0 || h.p99 <= 0 {
			notMeasured(name)
			continue
		}
		gs = append(gs, goal{name,
			fmt.Sprintf("%s (%s vs %s)", ratio(e.p99, h.p99), ms(e.p99), ms(h.p99)),
			verdictOf(e.p99 <= goalP99Ratio*h.p99)})
	}

	const idleName = "memory per idle keep-alive connection ≤ 12 KiB"
	if e, ok := find(sums, "idle", Reference); ok && e.kibPerConn >= 0 {
		m := fmt.Sprintf("%.1f KiB at %.0f connections", e.kibPerConn, e.idleOpenMin)
		for _, peer := range []string{"haproxy-jwt", "nginx-authreq"} {
			if p, ok := find(sums, "idle", peer); ok && p.kibPerConn >= 0 {
				m += fmt.Sprintf("; %s %.1f", peer, p.kibPerConn)
			}
		}
		gs = append(gs, goal{idleName, m, verdictOf(e.kibPerConn <= goalIdleKiBConn && e.idleOpenMin >= e.idleWanted)})
	} else {
		notMeasured(idleName)
	}
	return gs
}

// renderGoals writes the goals table of issue 15.
func renderGoals(w io.Writer, sums []summary) {
	fmt.Fprintf(w, "## Goals of issue 15 (ratios within this run)\n\n| goal | measured | |\n|---|---|---|\n")
	for _, g := range issue15Goals(sums) {
		fmt.Fprintf(w, "| %s | %s | %s |\n", g.name, g.measured, g.verdict)
	}
}

// renderIdle writes the idle-memory table and returns its failures.
func renderIdle(w io.Writer, title string, rows []summary) []string {
	var failures []string
	fmt.Fprintf(w, "\n### %s (`idle`, one round per system, before any load)\n\n", title)
	fmt.Fprintln(w, "RSS: VmRSS summed over every process of the system (nginx master and workers, HAProxy, edgeward), before and after the connections were opened, each after one request.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| system | connections held | RSS before | RSS after | KiB per connection | check |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|---|")
	for _, s := range rows {
		check := checkText(s)
		if check != "ok" {
			failures = append(failures, fmt.Sprintf("idle / %s: %s", s.system, check))
		}
		per := "-"
		if s.kibPerConn >= 0 {
			per = fmt.Sprintf("%.1f", s.kibPerConn)
		}
		fmt.Fprintf(w, "| %s | %.0f | %s | %s | %s | %s |\n", s.system, s.idleOpenMin,
			kibText(s.rssBeforeKB), kibText(s.rssAfterKB), per, check)
	}
	return failures
}

func kibText(kb float64) string {
	if kb < 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f MiB", kb/1024)
}
