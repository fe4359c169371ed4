package decisionapi

import (
	"encoding/hex"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/edgeward/edgeward/internal/decision"
	"github.com/edgeward/edgeward/internal/promreg"
)

// Sink receives the decision log's lines: any io.Writer (a file,
// os.Stdout). Each Write holds one or more whole lines.
type Sink interface {
	Write(p []byte) (n int, err error)
}

// LogOptions tune a Log.
type LogOptions struct {
	// Buffer is how many decisions may wait for the sink (default 4096).
	// Past it, decisions are dropped from the log and counted: a slow sink
	// never delays a request.
	Buffer int
	// Registerer receives the dropped-lines counter; nil means none.
	Registerer prometheus.Registerer
	// Logger receives sink failures; nil discards.
	Logger *slog.Logger
}

// Log is the decision log: one JSON line per decision (time, request id,
// gateway, service, operation, method, path, subject, decision, status,
// reason, latency), written by its own goroutine. It never holds a token:
// neither headers nor the query are recorded.
type Log struct {
	sink    Sink
	ch      chan entry
	quit    chan struct{}
	done    chan struct{}
	close   sync.Once
	closed  atomic.Bool
	dropped atomic.Uint64
	drops   prometheus.Counter
	logger  *slog.Logger
}

// entry is one decision on its way to the sink. It holds strings that the
// request already had: recording a decision allocates nothing.
type entry struct {
	time      time.Time
	requestID string
	idPrefix  string // with seq, the generated id when requestID is ""
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

// NewLog starts a decision log writing to sink. Close stops it.
func NewLog(sink Sink, opts LogOptions) *Log {
	if opts.Buffer <= 0 {
		opts.Buffer = decision.DefaultLogBuffer
	}
	l := &Log{
		sink:   sink,
		ch:     make(chan entry, opts.Buffer),
		quit:   make(chan struct{}),
		done:   make(chan struct{}),
		logger: opts.Logger,
	}
	if l.logger == nil {
		l.logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registerer != nil {
		l.drops = promreg.Reuse(opts.Registerer, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edgeward_decision_log_dropped_total",
			Help: "Decisions left out of the decision log because its buffer was full.",
		}))
	}
	go l.run()
	return l
}

// Dropped returns how many decisions were left out of the log.
func (l *Log) Dropped() uint64 { return l.dropped.Load() }

// Close writes what is buffered and stops the log. Decisions recorded
// afterwards are dropped.
func (l *Log) Close() {
	l.close.Do(func() {
		l.closed.Store(true)
		close(l.quit)
	})
	<-l.done
}

// record queues e without ever blocking.
func (l *Log) record(e entry) {
	if !l.closed.Load() {
		select {
		case l.ch <- e:
			return
		default:
		}
	}
	l.dropped.Add(1)
	if l.drops != nil {
		l.drops.Inc()
	}
}

// maxBatch bounds how many lines one Write carries.
const maxBatch = 256

func (l *Log) run() {
	defer close(l.done)
	var buf []byte
	failed := false
	write := func() {
		if len(buf) == 0 {
			return
		}
		if _, err := l.sink.Write(buf); err != nil && !failed {
			failed = true // said once; the sink's owner sees the rest
			l.logger.Error("decision log: writing failed", "err", err)
		}
		buf = buf[:0]
	}
	for {
		select {
		case e := <-l.ch:
			buf = e.appendJSON(buf)
			for n := 1; n < maxBatch; n++ {
				select {
				case e := <-l.ch:
					buf = e.appendJSON(buf)
					continue
				default:
				}
				break
			}
			write()
		case <-l.quit:
			for {
				select {
				case e := <-l.ch:
					buf = e.appendJSON(buf)
					if len(buf) > 64<<10 {
						write()
					}
					continue
				default:
				}
				write()
				return
			}
		}
	}
}

// appendJSON appends e as one JSON line.
func (e *entry) appendJSON(b []byte) []byte {
	b = append(b, `{"time":"`...)
	b = e.time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","request_id":`...)
	if e.requestID != "" {
		b = appendString(b, e.requestID)
	} else {
		b = append(b, '"')
		b = append(b, e.idPrefix...)
		b = strconv.AppendUint(b, e.seq, 36)
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
	b = appendString(b, e.service)
	b = append(b, `,"operation":`...)
	b = appendString(b, e.operation)
	b = append(b, `,"method":`...)
	b = appendString(b, e.method)
	b = append(b, `,"path":`...)
	b = appendString(b, e.path)
	b = append(b, `,"subject":`...)
	b = appendString(b, e.subject)
	if e.allowed {
		b = append(b, `,"decision":"allow"`...)
	} else {
		b = append(b, `,"decision":"deny"`...)
	}
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(e.status), 10)
	b = append(b, `,"reason":`...)
	b = appendString(b, string(e.reason))
	b = append(b, `,"latency_ms":`...)
	b = strconv.AppendFloat(b, float64(e.latency.Nanoseconds())/1e6, 'f', 3, 64)
	return append(b, "}\n"...)
}

// appendString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
			i++
		case c < 0x20 || c == 0x7f:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			i++
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+n]...)
			}
			i += n
		}
	}
	return append(b, '"')
}
