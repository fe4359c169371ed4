package decisionapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/edgeward/edgeward/internal/decision"
	"github.com/edgeward/edgeward/internal/requestid"
	"github.com/edgeward/edgeward/internal/sideband"
)

// Options are a Service's dependencies.
type Options struct {
	// Logger receives what is not a decision (sink failures, internal
	// errors); nil discards.
	Logger *slog.Logger
	// Registerer receives the metrics; nil means none.
	Registerer prometheus.Registerer
	// Log is the decision log; nil records nothing.
	Log *Log
}

// Service holds the current engine for every front door. SetEngine swaps
// it atomically: calls in flight finish with the engine they started with.
type Service struct {
	snap   atomic.Pointer[snapshot]
	log    *Log
	logger *slog.Logger
	met    *metrics
	ids    *requestid.Source
	pool   sync.Pool // *decision.Decision
}

// snapshot is an engine with everything the doors precompute from it.
type snapshot struct {
	e       *decision.Engine
	creds   [][sha256.Size]byte
	header  string
	maxBody int64
	states  []json.RawMessage      // by service index
	allowed [][]prometheus.Counter // by service and operation index
}

// NewService returns a Service answering with e.
func NewService(e *decision.Engine, opts Options) *Service {
	s := &Service{log: opts.Log, logger: opts.Logger, met: newMetrics(opts.Registerer), ids: requestid.New()}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	s.pool.New = func() any { return new(decision.Decision) }
	s.SetEngine(e)
	return s
}

// SetEngine makes e the engine of every door and returns the previous one
// (nil the first time), which the caller closes once it is no longer
// needed. Build and validate the new engine first: a configuration that
// does not load never replaces a working one.
func (s *Service) SetEngine(e *decision.Engine) *decision.Engine {
	cfg := e.Config()
	sn := &snapshot{
		e:       e,
		header:  http.CanonicalHeaderKey(cfg.CredentialHeader),
		maxBody: int64(cfg.MaxBodyBytes),
	}
	if sn.header == "" {
		sn.header = http.CanonicalHeaderKey(decision.DefaultCredentialHeader)
	}
	if sn.maxBody <= 0 {
		sn.maxBody = int64(decision.DefaultMaxBodyBytes)
	}
	for _, c := range cfg.GatewayCredentials {
		sn.creds = append(sn.creds, sha256.Sum256([]byte(c)))
	}
	for i, name := range e.Services() {
		st, _ := json.Marshal(state{Service: name})
		sn.states = append(sn.states, st)
		var cs []prometheus.Counter
		for _, op := range e.Operations(i) {
			cs = append(cs, s.met.allowCounter(name, op))
		}
		sn.allowed = append(sn.allowed, cs)
	}
	old := s.snap.Swap(sn)
	if old == nil {
		return nil
	}
	return old.e
}

// Engine returns the current engine.
func (s *Service) Engine() *decision.Engine { return s.snap.Load().e }

// Close closes the current engine and then the decision log (Options.Log),
// writing out what it holds and stopping its goroutine. Call it once the
// doors have drained.
func (s *Service) Close() {
	s.snap.Load().e.Close()
	if s.log != nil {
		if err := s.log.Close(); err != nil {
			s.logger.Error("decision log: closing failed", "err", err)
		}
	}
}

// state is what the request phase hands the response phase.
type state struct {
	Service string `json:"service"`
}

// credential returns the index of the gateway credential v, or -1. Every
// configured credential is compared, in constant time, whatever matches.
func (sn *snapshot) credential(v string) int {
	h := sha256.Sum256([]byte(v))
	found := -1
	for i := range sn.creds {
		if subtle.ConstantTimeCompare(h[:], sn.creds[i][:]) == 1 {
			found = i
		}
	}
	return found
}

// decide makes the request-phase decision for one door into d and builds
// the reply. gateway is the credential index (-1: embedded). With explain,
// the decision is traced, and neither counted nor logged.
func (s *Service) decide(ctx context.Context, sn *snapshot, req *sideband.Request, gateway int, d *decision.Decision, explain bool) (*sideband.Reply, *sideband.StatusError) {
	start := time.Now()
	var in decision.Input
	if err := input(&in, req); err != nil {
		s.met.failed(400)
		return nil, statusError(400, codeInvalid, err.Error())
	}
	in.Trace = explain
	sn.e.DecideInto(ctx, &in, d)
	if d.Status >= 500 {
		s.met.failed(d.Status)
		return nil, statusError(d.Status, codeUnavailable, d.Description)
	}
	rid := requestIDOf(req.Headers)
	rep := s.reply(sn, req, d, &rid)
	if !explain {
		s.record(sn, d, &in, rid, gateway, start, trace.SpanContextFromContext(ctx).TraceID())
	}
	return rep, nil
}

// record counts a decision and writes it to the decision log; requestID
// "" gets a generated id, formatted only when the line is written.
func (s *Service) record(sn *snapshot, d *decision.Decision, in *decision.Input, requestID string, gateway int, start time.Time, traceID trace.TraceID) {
	elapsed := time.Since(start)
	if d.Allowed {
		if c := sn.allowed[d.ServiceIndex][d.OperationIndex]; c != nil {
			c.Inc()
		}
	} else {
		s.met.denied(d.Service, d.Operation, d.Reason)
	}
	s.met.observe(gateway, elapsed)
	if s.log == nil {
		return
	}
	var seq uint64
	if requestID == "" {
		seq = s.ids.Seq()
	}
	s.log.record(entry{
		time:      start,
		requestID: requestID,
		ids:       s.ids,
		seq:       seq,
		gateway:   gateway,
		service:   d.Service,
		operation: d.Operation,
		method:    in.Method,
		path:      in.Path,
		subject:   d.Subject,
		allowed:   d.Allowed,
		status:    d.Status,
		reason:    d.Reason,
		latency:   elapsed,
		traceID:   traceID,
	})
}
