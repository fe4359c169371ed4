package decisionapi

import (
	"encoding/hex"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/edgeward/edgeward/internal/decision"
	"github.com/edgeward/edgeward/internal/jsonstring"
	"github.com/edgeward/edgeward/internal/promreg"
	"github.com/edgeward/edgeward/internal/requestid"
)

// LineSink is where the decision log's lines go: a bounded queue in front
// of a writer goroutine, as accesslog.Sink is (stdout, stderr or a
// size-rotated file). WriteLine must copy the line and never block; it
// reports false when it dropped the line. Close writes out what is queued
// and stops the writer.
type LineSink interface {
	WriteLine(line []byte) bool
	Close() error
}

// LogOptions tune a Log.
type LogOptions struct {
	// Registerer receives the dropped-decisions counter; nil means none.
	Registerer prometheus.Registerer
}

// Log is the decision log: one JSON line per decision (time, request id,
// gateway, service, operation, method, path, subject, decision, status,
// reason, latency), handed to a LineSink, whose goroutine writes it. A
// slow or full sink never delays a request: the decision is left out of
// the log and counted. It never holds a token: neither headers nor the
// query are recorded.
type Log struct {
	sink    LineSink
	buf     sync.Pool // *[]byte: a line is formatted here, then copied by the sink
	closed  atomic.Bool
	dropped atomic.Uint64
	drops   prometheus.Counter
}

// entry is one decision on its way to the log. It holds strings that the
// request already had.
type entry struct {
	time      time.Time
	requestID string
	ids       *requestid.Source // with seq, the generated id when requestID is ""
	seq       uint64
	gateway   int // credential index; -1 for the embedded door
	service   string
	operation string
	method    string
	path      string
	subject   string
	allowed   bool
	status    int
	reason    decision.Reason
	latency   time.Duration
	traceID   trace.TraceID // zero when the request was not traced
}

// NewLog returns a decision log writing through sink, which it owns from
// now on: Close closes it.
func NewLog(sink LineSink, opts LogOptions) *Log {
	l := &Log{sink: sink}
	l.buf.New = func() any {
		b := make([]byte, 0, 512)
		return &b
	}
	if opts.Registerer != nil {
		l.drops = promreg.Reuse(opts.Registerer, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edgeward_decision_log_dropped_total",
			Help: "Decisions left out of the decision log because its buffer was full.",
		}))
	}
	return l
}

// Dropped returns how many decisions were left out of the log.
func (l *Log) Dropped() uint64 { return l.dropped.Load() }

// Close stops the log: it writes out every line the sink holds, flushes
// it, stops the sink's goroutine and closes its file. Decisions recorded
// afterwards are dropped. Close is idempotent.
func (l *Log) Close() error {
	l.closed.Store(true)
	return l.sink.Close()
}

// record formats e and hands it to the sink without ever blocking.
func (l *Log) record(e entry) {
	if !l.closed.Load() {
		bp := l.buf.Get().(*[]byte)
		*bp = e.appendJSON((*bp)[:0])
		ok := l.sink.WriteLine(*bp)
		if cap(*bp) <= 64<<10 {
			l.buf.Put(bp)
		}
		if ok {
			return
		}
	}
	l.dropped.Add(1)
	if l.drops != nil {
		l.drops.Inc()
	}
}

// appendJSON appends e as one JSON line.
func (e *entry) appendJSON(b []byte) []byte {
	b = append(b, `{"time":"`...)
	b = e.time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","request_id":`...)
	if e.requestID != "" {
		b = jsonstring.Append(b, e.requestID)
	} else {
		b = append(b, '"')
		b = e.ids.Append(b, e.seq)
		b = append(b, '"')
	}
	if e.traceID.IsValid() {
		b = append(b, `,"trace_id":"`...)
		b = hex.AppendEncode(b, e.traceID[:])
		b = append(b, '"')
	}
	b = append(b, `,"gateway":`...)
	if e.gateway < 0 {
		b = append(b, `"embedded"`...)
	} else {
		b = append(b, `"credential-`...)
		b = strconv.AppendInt(b, int64(e.gateway), 10)
		b = append(b, '"')
	}
	b = append(b, `,"service":`...)
	b = jsonstring.Append(b, e.service)
	b = append(b, `,"operation":`...)
	b = jsonstring.Append(b, e.operation)
	b = append(b, `,"method":`...)
	b = jsonstring.Append(b, e.method)
	b = append(b, `,"path":`...)
	b = jsonstring.Append(b, e.path)
	b = append(b, `,"subject":`...)
	b = jsonstring.Append(b, e.subject)
	if e.allowed {
		b = append(b, `,"decision":"allow"`...)
	} else {
		b = append(b, `,"decision":"deny"`...)
	}
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(e.status), 10)
	b = append(b, `,"reason":`...)
	b = jsonstring.Append(b, string(e.reason))
	b = append(b, `,"latency_ms":`...)
	b = strconv.AppendFloat(b, float64(e.latency.Nanoseconds())/1e6, 'f', 3, 64)
	return append(b, "}\n"...)
}
