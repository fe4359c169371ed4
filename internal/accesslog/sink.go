package accesslog

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Options are a Sink's and a Log's dependencies.
type Options struct {
	// Registerer receives the sink's metrics; nil means no metrics.
	Registerer prometheus.Registerer
	// Logger receives write and rotation errors; nil discards them.
	Logger *slog.Logger
	// Name labels the sink's metrics (log="access"); New defaults it to
	// "access", NewSink to "log".
	Name string
	// Writer, when non-nil, receives the lines instead of the configured
	// path (tests, custom destinations); it is never rotated or closed.
	Writer io.Writer
	// Header is written at the start of every file, including after each
	// rotation, and once at the start of stdout, stderr or Writer. New sets
	// it from the log format.
	Header []byte
	// FlushInterval bounds how long a line may wait in the write buffer;
	// zero means one second.
	FlushInterval time.Duration
	// Now is the clock a Log uses for a request without a start time; nil
	// means time.Now.
	Now func() time.Time
	// TraceID adds a 34th field, x-trace-id: the request's trace id when
	// tracing is on (the edge sets it then), "-" for a request not traced.
	TraceID bool
}

// Sink writes lines to stdout, stderr or a size-rotated file on its own
// goroutine, through a bounded queue. WriteLine never blocks: when the queue
// is full the line is dropped and counted. A Sink is safe for concurrent use.
type Sink struct {
	ch      chan *[]byte
	pool    sync.Pool
	off     bool // path "off": lines are accepted and discarded
	closed  atomic.Bool
	dropped atomic.Uint64
	m       *metrics
	log     *slog.Logger

	stop     chan struct{}
	exited   chan struct{}
	stopOnce sync.Once
	closeErr error

	out     *output // owned by the writer goroutine
	failing bool    // owned by the writer goroutine: the last operation failed
	tick    time.Duration
}

// maxPooled is the largest buffer kept for reuse: a rare huge line does not
// pin its memory forever.
const maxPooled = 64 << 10

// NewSink applies cfg's defaults, validates it, opens its destination and
// starts the writer. With opts.Writer set, cfg.Path is ignored. A Sink for
// path "off" accepts every line and discards it. Close it to flush.
func NewSink(cfg SinkConfig, opts Options) (*Sink, error) {
	if opts.Writer != nil {
		cfg.Path = PathStdout
	}
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Name == "" {
		opts.Name = "log"
	}
	s := &Sink{
		m:    newMetrics(opts.Registerer, opts.Name),
		log:  opts.Logger,
		stop: make(chan struct{}),
		tick: opts.FlushInterval,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.tick <= 0 {
		s.tick = time.Second
	}
	s.pool.New = func() any {
		b := make([]byte, 0, 1024)
		return &b
	}
	if cfg.Path == PathOff {
		s.off = true
		return s, nil
	}
	out, err := openOutput(cfg, opts)
	if err != nil {
		return nil, err
	}
	s.out = out
	s.ch = make(chan *[]byte, cfg.Buffer)
	s.exited = make(chan struct{})
	go s.run()
	return s, nil
}

// WriteLine queues a copy of b, one line, for writing; a newline is added
// unless b ends with one. It never blocks. It returns false when the line
// was dropped: the queue was full (the line is counted in Dropped) or the
// sink is closed.
func (s *Sink) WriteLine(b []byte) bool {
	if s.off {
		return !s.closed.Load()
	}
	if s.closed.Load() {
		return false
	}
	bp := s.buffer()
	*bp = append(*bp, b...)
	return s.submit(bp)
}

// Dropped returns how many lines were dropped because the queue was full.
func (s *Sink) Dropped() uint64 { return s.dropped.Load() }

// Close stops accepting lines, writes every queued line, flushes and closes
// the file. Lines written concurrently with Close may be lost. Close is
// idempotent and returns the error of the final flush or close.
func (s *Sink) Close() error {
	s.stopOnce.Do(func() {
		s.closed.Store(true)
		if s.off {
			return
		}
		close(s.stop)
		<-s.exited
	})
	return s.closeErr
}

// buffer returns an empty pooled buffer for one line.
func (s *Sink) buffer() *[]byte {
	bp := s.pool.Get().(*[]byte)
	*bp = (*bp)[:0]
	return bp
}

// submit queues the line in bp, which the sink now owns, or drops it.
func (s *Sink) submit(bp *[]byte) bool {
	if s.closed.Load() {
		s.release(bp)
		return false
	}
	if b := *bp; len(b) == 0 || b[len(b)-1] != '\n' {
		*bp = append(b, '\n')
	}
	select {
	case s.ch <- bp:
		return true
	default:
		s.release(bp)
		s.dropped.Add(1)
		s.m.dropped.Inc()
		return false
	}
}

func (s *Sink) release(bp *[]byte) {
	if cap(*bp) <= maxPooled {
		s.pool.Put(bp)
	}
}

// batchDelay is how long the writer rests after draining the queue while
// lines keep coming. Without it, every line would wake the writer
// goroutine, which costs the request path more than formatting the line;
// with it, a busy edge wakes the writer a few hundred times a second at
// most. The queue must hold batchDelay's worth of lines (8192 lines in 2ms
// is 4 million lines a second).
const batchDelay = 2 * time.Millisecond

// run is the writer goroutine: it writes queued lines in batches, flushes
// on a timer, and on stop drains the queue and closes the output.
func (s *Sink) run() {
	defer close(s.exited)
	flush := time.NewTicker(s.tick)
	defer flush.Stop()
	rest := time.NewTimer(batchDelay)
	defer rest.Stop()
	for {
		select {
		case bp := <-s.ch:
			s.write(bp)
			s.drain()
			rest.Reset(batchDelay)
			select {
			case <-rest.C:
			case <-s.stop:
				s.finish()
				return
			}
		case <-flush.C:
			s.check(s.out.flush(), "flush")
		case <-s.stop:
			s.finish()
			return
		}
	}
}

// drain writes the lines queued now, without waiting for more.
func (s *Sink) drain() {
	for {
		select {
		case bp := <-s.ch:
			s.write(bp)
		default:
			return
		}
	}
}

// finish writes what is left and closes the output.
func (s *Sink) finish() {
	s.drain()
	s.closeErr = s.out.close()
	s.check(s.closeErr, "close")
}

func (s *Sink) write(bp *[]byte) {
	rotated, rotErr, err := s.out.write(*bp)
	s.release(bp)
	if rotated {
		s.m.rotations.Inc()
	}
	if err == nil {
		s.m.lines.Inc()
	}
	switch {
	case rotErr != nil:
		s.check(rotErr, "rotation")
	default:
		s.check(err, "write")
	}
}

// check counts an output error and logs the first of a run of them (a full
// disk must not flood the process log). The output has already recovered,
// so later lines are tried again.
func (s *Sink) check(err error, op string) {
	if err == nil {
		s.failing = false
		return
	}
	s.m.errors.Inc()
	if !s.failing {
		s.failing = true
		s.log.Error("log "+op+" failed; counting further failures in edgeward_log_write_errors_total",
			"log_path", s.out.path, "err", err)
	}
}

// output is the destination: a buffered writer over stdout, stderr, a
// custom writer or a file that it rotates by size.
type output struct {
	w          *bufio.Writer
	dst        io.Writer // stdout, stderr or Options.Writer; nil for a file
	f          *os.File  // the open log file; nil when not a file or not open
	path       string
	maxSize    int64
	maxBackups int
	header     []byte
	size       int64 // bytes in the current file, header included
	lines      int   // lines in the current file
}

const bufSize = 64 << 10

func openOutput(cfg SinkConfig, opts Options) (*output, error) {
	o := &output{path: cfg.Path, header: opts.Header}
	switch {
	case opts.Writer != nil:
		o.dst, o.path = opts.Writer, "writer"
	case cfg.Path == PathStdout:
		o.dst = os.Stdout
	case cfg.Path == PathStderr:
		o.dst = os.Stderr
	default:
		o.maxSize, o.maxBackups = int64(cfg.MaxSize), cfg.MaxBackups
		o.w = bufio.NewWriterSize(nil, bufSize)
		if err := o.open(); err != nil {
			return nil, err
		}
		return o, nil
	}
	o.w = bufio.NewWriterSize(o.dst, bufSize)
	if len(o.header) > 0 {
		_, _ = o.w.Write(o.header) // errors surface on the first flush
	}
	return o, nil
}

// open opens (appending) or creates the log file and writes the header if
// the file is empty.
func (o *output) open() error {
	f, err := os.OpenFile(o.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("path: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("path: %w", err)
	}
	o.f, o.size, o.lines = f, fi.Size(), 0
	o.w.Reset(f)
	if o.size == 0 && len(o.header) > 0 {
		n, _ := o.w.Write(o.header)
		o.size += int64(n)
	}
	return nil
}

// write writes one line, rotating first when the line would take a file
// that already holds lines past maxSize. A file that could not be opened
// is tried again. rotErr is a problem met while rotating (the line may
// still have been written); err means the line was lost.
func (o *output) write(line []byte) (rotated bool, rotErr, err error) {
	if o.dst == nil {
		switch {
		case o.f == nil:
			if err := o.open(); err != nil {
				return false, nil, err
			}
		case o.lines > 0 && o.size+int64(len(line)) > o.maxSize:
			rotErr = o.rotate()
			if o.f == nil {
				return false, rotErr, rotErr
			}
			rotated = true
		}
	}
	// Flush whole lines only: each write(2) then holds complete lines, so
	// two sinks appending to one file (briefly, across a reload) or a
	// reader tailing it never see half a line.
	if o.w.Buffered() > 0 && o.w.Available() < len(line) {
		if err = o.w.Flush(); err != nil {
			o.recover()
			return rotated, rotErr, err
		}
	}
	n, err := o.w.Write(line)
	o.size += int64(n)
	o.lines++
	if err != nil {
		o.recover()
	}
	return rotated, rotErr, err
}

// rotate closes the file, shifts path.N-1 to path.N ... path to path.1
// (or removes path when no backup is kept) and opens a new file. It opens
// the new file even after an error, so that logging goes on.
func (o *output) rotate() error {
	err := o.w.Flush()
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	o.f = nil
	if o.maxBackups > 0 {
		for i := o.maxBackups - 1; i >= 1; i-- {
			old := o.path + "." + strconv.Itoa(i)
			if _, serr := os.Lstat(old); serr != nil {
				continue
			}
			if rerr := os.Rename(old, o.path+"."+strconv.Itoa(i+1)); err == nil {
				err = rerr
			}
		}
		if rerr := os.Rename(o.path, o.path+".1"); err == nil {
			err = rerr
		}
	} else if rerr := os.Remove(o.path); err == nil {
		err = rerr
	}
	if oerr := o.open(); oerr != nil {
		o.w.Reset(io.Discard)
		return oerr
	}
	return err
}

func (o *output) flush() error {
	if o.w.Buffered() == 0 {
		return nil
	}
	err := o.w.Flush()
	if err != nil {
		o.recover()
	}
	return err
}

// recover drops the buffered data after a failed write: bufio.Writer keeps
// its first error forever, which would silence the log for good.
func (o *output) recover() {
	switch {
	case o.dst != nil:
		o.w.Reset(o.dst)
	case o.f != nil:
		o.w.Reset(o.f)
	default:
		o.w.Reset(io.Discard)
	}
}

func (o *output) close() error {
	err := o.w.Flush()
	if o.f != nil {
		if cerr := o.f.Close(); err == nil {
			err = cerr
		}
		o.f = nil
	}
	return err
}
