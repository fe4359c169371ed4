package httpcache

import (
	"net/http"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/edgeward/edgeward/internal/edge"
)

// TestMaxTTLZeroMeansZero pins CloudFront's reading of max_ttl: 0s (as in
// CachingDisabled) is zero, so an origin's max-age=60 is not stored, while
// a max_ttl left out is the 365-day default.
func TestMaxTTLZeroMeansZero(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		yaml   string
		second edge.Result
	}{
		{"CachingDisabled: min, default and max 0", "min_ttl: 0s\ndefault_ttl: 0s\nmax_ttl: 0s\n", edge.ResultMiss},
		{"max_ttl 0 alone", "max_ttl: 0s\n", edge.ResultMiss},
		{"max_ttl left out", "min_ttl: 0s\ndefault_ttl: 0s\n", edge.ResultHit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var cfg PolicyConfig
			if err := yaml.Unmarshal([]byte(tt.yaml), &cfg); err != nil {
				t.Fatal(err)
			}
			_, c, clock := newCache(t, cfg, StoreConfig{})
			o := newOrigin(t, clock, fixed(200, "v", "Cache-Control: max-age=60", `ETag: "1"`))
			serve(t, c, o, "GET", "/a")
			if _, r := serve(t, c, o, "GET", "/a"); r.Result != tt.second {
				t.Errorf("second request Result = %s, want %s (origin saw %d)", r.Result, tt.second, o.count())
			}
		})
	}
}

func TestMaxTTLDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		yaml         string
		wantDefault  time.Duration
		wantMax      time.Duration
		wantValidErr bool
	}{
		{"max_ttl: 0s\n", 0, 0, false},
		{"max_ttl: 1h\n", time.Hour, time.Hour, false},
		{"min_ttl: 48h\n", 48 * time.Hour, DefaultMaxTTL, false},
		{"{}\n", DefaultDefaultTTL, DefaultMaxTTL, false},
		{"max_ttl: -1s\n", 0, -time.Second, true},
	}
	for _, tt := range tests {
		var cfg PolicyConfig
		if err := yaml.Unmarshal([]byte(tt.yaml), &cfg); err != nil {
			t.Fatal(err)
		}
		cfg.Defaults()
		if *cfg.DefaultTTL != tt.wantDefault || *cfg.MaxTTL != tt.wantMax {
			t.Errorf("%q: default_ttl %v max_ttl %v, want %v %v", tt.yaml, *cfg.DefaultTTL, *cfg.MaxTTL, tt.wantDefault, tt.wantMax)
		}
		if err := cfg.Validate(); (err != nil) != tt.wantValidErr {
			t.Errorf("%q: Validate() = %v, want error %v", tt.yaml, err, tt.wantValidErr)
		}
	}
}

// TestMaxTTLZero_NoCollapsing pins that a behavior that stores nothing
// does not make concurrent requests wait for each other: each goes to the
// origin at once.
func TestMaxTTLZero_NoCollapsing(t *testing.T) {
	t.Parallel()
	zero := time.Duration(0)
	_, c, clock := newCache(t, PolicyConfig{MaxTTL: &zero}, StoreConfig{})
	release := make(chan struct{})
	arrived := make(chan struct{}, 2)
	o := newOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write([]byte("v"))
	})
	done := make(chan edge.Result, 2)
	for range 2 {
		go func() {
			_, r := serve(t, c, o, "GET", "/same")
			done <- r.Result
		}()
	}
	for range 2 {
		select {
		case <-arrived:
		case <-time.After(10 * time.Second):
			t.Fatal("the second request did not reach the origin while the first was in flight (collapsed)")
		}
	}
	close(release)
	for range 2 {
		if got := <-done; got != edge.ResultMiss {
			t.Errorf("Result = %s, want Miss", got)
		}
	}
}
