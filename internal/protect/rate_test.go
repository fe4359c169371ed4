package protect

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"
)

func TestRateRule_PerKeyLimitRetryAfterAndReset(t *testing.T) {
	c := newClock()
	s := build(t, one(SetConfig{RateRules: []RateRuleConfig{
		{Name: "per-ip", Key: []string{KeyIP}, Limit: 2, Window: time.Minute},
		{Name: "per-key", Key: []string{"header:X-Api-Key"}, Limit: 3, Window: time.Minute, Action: ActionCount},
	}}), Options{Clock: c.Now})
	ctx := context.Background()

	for i := 1; i <= 2; i++ {
		if _, err := s.Inspect(ctx, req("GET", "/x", "")); err != nil {
			t.Fatalf("request %d within the limit: %v", i, err)
		}
	}
	_, err := s.Inspect(ctx, req("GET", "/x", ""))
	if status(err) != 429 {
		t.Fatalf("third request = %v, want 429", err)
	}
	ra, _ := strconv.Atoi(headerOf(err, "Retry-After"))
	if ra < 1 || ra > 60 {
		t.Errorf("Retry-After = %d, want 1..60", ra)
	}
	if _, err := s.Inspect(ctx, from(req("GET", "/x", ""), "2001:db8::1")); err != nil {
		t.Errorf("another client: %v, want its own bucket", err)
	}
	c.advance(time.Duration(ra) * time.Second)
	if _, err := s.Inspect(ctx, req("GET", "/x", "")); err != nil {
		t.Errorf("after Retry-After: %v, want allowed", err)
	}
	c.advance(time.Minute)
	for i := 1; i <= 2; i++ {
		if _, err := s.Inspect(ctx, req("GET", "/x", "")); err != nil {
			t.Errorf("after a full window, request %d: %v, want allowed", i, err)
		}
	}
}

func TestRateRule_CountModeAndMissingKeyPart(t *testing.T) {
	l := &lines{}
	s := build(t, one(SetConfig{RateRules: []RateRuleConfig{
		{Name: "per-key", Key: []string{KeyIP, "header:X-Api-Key"}, Limit: 1, Window: time.Minute, Action: ActionCount},
	}}), Options{Clock: newClock().Now, Log: l})
	ctx := context.Background()
	for i := range 3 {
		r := req("GET", "/x", "", "X-Api-Key", "k1")
		r.ID = "r" + strconv.Itoa(i)
		if _, err := s.Inspect(ctx, r); err != nil {
			t.Fatalf("count mode request %d: %v, want passed", i, err)
		}
	}
	if m := findLog(t, l, "r2"); m == nil || len(m["rateBasedRuleList"].([]any)) != 1 || m["action"] != "ALLOW" {
		t.Errorf("log of the counted request = %v, want ALLOW with one rateBasedRuleList entry", m)
	}
	if m := findLog(t, l, "r0"); m != nil {
		t.Errorf("a request within the limit is logged: %v", m)
	}
}

func TestRateRule_IdentityRunsAfterTheFunction(t *testing.T) {
	s := build(t, one(SetConfig{RateRules: []RateRuleConfig{
		{Name: "per-user", Key: []string{KeyIdentity}, Limit: 1, Window: time.Minute},
	}}), Options{Clock: newClock().Now})
	ctx := context.Background()
	user := func(id string, byFunction bool) int {
		r := req("GET", "/x", "", "X-User-Id", id)
		if byFunction {
			r.SetByFunction("X-User-Id")
		}
		return inspect(s, r)
	}
	if got := user("alice", true); got != 200 {
		t.Fatalf("alice 1 = %d", got)
	}
	if got := user("alice", true); got != 429 {
		t.Errorf("alice 2 = %d, want 429", got)
	}
	if got := user("bob", true); got != 200 {
		t.Errorf("bob 1 = %d, want 200", got)
	}
	// A header the function did not set is not an identity: not counted.
	for range 3 {
		if got := user("mallory", false); got != 200 {
			t.Errorf("viewer-set identity = %d, want 200 (not counted)", got)
		}
	}
	_ = ctx
}

// flaky is a fleet counter that fails or answers as told.
type flaky struct {
	err   error
	calls int
}

func (f *flaky) Allow(ctx context.Context, key string, limit int, window time.Duration) (bool, time.Duration, error) {
	f.calls++
	if f.err != nil {
		return false, 0, f.err
	}
	return false, 7 * time.Second, nil
}

func TestRateRule_FleetCounterAndFallback(t *testing.T) {
	cfg := one(SetConfig{RateRules: []RateRuleConfig{{Name: "per-ip", Key: []string{KeyIP}, Limit: 1, Window: time.Minute}}})
	ctx := context.Background()

	fleet := &flaky{}
	s := build(t, cfg, Options{Clock: newClock().Now, Counter: fleet})
	_, err := s.Inspect(ctx, req("GET", "/x", ""))
	if status(err) != 429 || headerOf(err, "Retry-After") != "7" || fleet.calls != 1 {
		t.Errorf("fleet says no: %v (Retry-After %q, %d calls), want 429 Retry-After 7", err, headerOf(err, "Retry-After"), fleet.calls)
	}

	down := &flaky{err: errors.New("redis: connection refused")}
	s = build(t, cfg, Options{Clock: newClock().Now, Counter: down})
	if _, err := s.Inspect(ctx, req("GET", "/x", "")); err != nil {
		t.Errorf("fleet down, first request: %v, want the local limiter to allow", err)
	}
	if _, err := s.Inspect(ctx, req("GET", "/x", "")); status(err) != 429 {
		t.Errorf("fleet down, second request: %v, want the local limiter's 429", err)
	}
}
