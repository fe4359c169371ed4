package accesslog

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/edgeward/edgeward/internal/size"
	"github.com/edgeward/edgeward/internal/testkit"
	"github.com/prometheus/client_golang/prometheus"
)

// blockingWriter blocks every Write until release is closed, announcing on
// entered that a write has started.
type blockingWriter struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
	buf     testkit.Buffer
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.entered) })
	<-w.release
	return w.buf.Write(p)
}

func TestSink_WriteLineNeverBlocksWhenTheWriterIsStuck(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := &blockingWriter{entered: make(chan struct{}), release: make(chan struct{})}
		reg := prometheus.NewRegistry()
		const queue = 4
		s, err := NewSink(SinkConfig{Buffer: queue}, Options{Writer: w, Registerer: reg, Name: "test"})
		if err != nil {
			t.Fatal(err)
		}
		// A line larger than the write buffer goes straight to the writer,
		// where the writer goroutine now hangs.
		big := bytes.Repeat([]byte("x"), bufSize+1)
		if !s.WriteLine(big) {
			t.Fatal("WriteLine(big) = false on an empty queue, want true")
		}
		<-w.entered
		synctest.Wait() // the writer goroutine is blocked in Write

		for i := range queue {
			if !s.WriteLine([]byte("line " + strconv.Itoa(i))) {
				t.Fatalf("WriteLine(line %d) = false with room in the queue, want true", i)
			}
		}
		start := time.Now()
		for range 3 {
			if s.WriteLine([]byte("overflow")) {
				t.Fatal("WriteLine(overflow) = true on a full queue, want false")
			}
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("WriteLine on a full queue took %v of (fake) time, want 0: it blocked", d)
		}
		if got := s.Dropped(); got != 3 {
			t.Errorf("Dropped() = %d, want 3", got)
		}
		if got := counter(t, reg, "edgeward_log_dropped_total"); got != 3 {
			t.Errorf("edgeward_log_dropped_total = %v, want 3", got)
		}

		close(w.release)
		if err := s.Close(); err != nil {
			t.Fatalf("Close() = %v", err)
		}
		lines := strings.Split(strings.TrimSuffix(w.buf.String(), "\n"), "\n")
		if len(lines) != 1+queue {
			t.Fatalf("wrote %d lines, want %d (the big one and the queued ones)", len(lines), 1+queue)
		}
		for i := range queue {
			if want := "line " + strconv.Itoa(i); lines[1+i] != want {
				t.Errorf("line %d = %q, want %q", 1+i, lines[1+i], want)
			}
		}
	})
}

// counter returns the value of the counter name in reg (one series).
func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			if n := len(mf.GetMetric()); n != 1 {
				t.Fatalf("metric %s has %d series, want 1", name, n)
			}
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

func TestSink_CloseWritesEveryQueuedLine(t *testing.T) {
	t.Parallel()
	var buf testkit.Buffer
	const n = 500
	s, err := NewSink(SinkConfig{Buffer: n}, Options{Writer: &buf, Header: []byte("#h\n")})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if !s.WriteLine([]byte(strconv.Itoa(i))) {
			t.Fatalf("WriteLine(%d) = false", i)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != n+1 || lines[0] != "#h" {
		t.Fatalf("got %d lines starting %q, want the header and %d lines", len(lines), lines[0], n)
	}
	for i := range n {
		if lines[i+1] != strconv.Itoa(i) {
			t.Fatalf("line %d = %q, want %d (order kept)", i+1, lines[i+1], i)
		}
	}
	if s.WriteLine([]byte("late")) {
		t.Error("WriteLine after Close = true, want false")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
}

func TestSink_KeepsTheNewlineOfALineThatHasOne(t *testing.T) {
	t.Parallel()
	var buf testkit.Buffer
	s, err := NewSink(SinkConfig{}, Options{Writer: &buf})
	if err != nil {
		t.Fatal(err)
	}
	s.WriteLine([]byte("a\n"))
	s.WriteLine([]byte("b"))
	s.WriteLine(nil)
	s.Close()
	if got, want := buf.String(), "a\nb\n\n"; got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
}

func TestSink_FlushesWithinTheIntervalWithoutClose(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var buf testkit.Buffer
		s, err := NewSink(SinkConfig{}, Options{Writer: &buf})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		s.WriteLine([]byte("hello"))
		synctest.Wait()
		if got := buf.String(); got != "" {
			t.Fatalf("output before the flush interval = %q, want nothing yet (buffered)", got)
		}
		time.Sleep(time.Second) // fake time: the flush tick
		synctest.Wait()
		if got := buf.String(); got != "hello\n" {
			t.Errorf("output after one second = %q, want %q", got, "hello\n")
		}
	})
}

// readLog returns a log file's lines.
func readLog(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func TestSink_RotatesBySizeKeepingBackupsWithHeaders(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	header := "#Version: 1.0\n#Fields: n\n"
	reg := prometheus.NewRegistry()
	// Header (25 bytes) + 10 lines of 10 bytes = 125 bytes per file.
	cfg := SinkConfig{Path: path, MaxSize: 125, MaxBackups: 2, Buffer: 100}
	s, err := NewSink(cfg, Options{Header: []byte(header), Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	const n = 45 // five files' worth: path, path.1, path.2 remain
	for i := range n {
		if !s.WriteLine(fmt.Appendf(nil, "line %04d", i)) {
			t.Fatalf("WriteLine(%d) = false", i)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}

	wantFiles := map[string][2]int{ // file: first and last line number
		path:        {40, 44},
		path + ".1": {30, 39},
		path + ".2": {20, 29},
	}
	for f, span := range wantFiles {
		lines := readLog(t, f)
		if len(lines) < 2 || lines[0]+"\n"+lines[1]+"\n" != header {
			t.Errorf("%s does not start with the header: %q", filepath.Base(f), lines)
			continue
		}
		body := lines[2:]
		if want := span[1] - span[0] + 1; len(body) != want {
			t.Errorf("%s has %d lines, want %d", filepath.Base(f), len(body), want)
			continue
		}
		if first, last := fmt.Sprintf("line %04d", span[0]), fmt.Sprintf("line %04d", span[1]); body[0] != first || body[len(body)-1] != last {
			t.Errorf("%s holds %q..%q, want %q..%q", filepath.Base(f), body[0], body[len(body)-1], first, last)
		}
		if fi, _ := os.Stat(f); fi.Size() > int64(cfg.MaxSize) {
			t.Errorf("%s is %d bytes, want at most max_size %d", filepath.Base(f), fi.Size(), cfg.MaxSize)
		}
	}
	if _, err := os.Stat(path + ".3"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Stat(%s.3) = %v, want not exist (max_backups 2)", filepath.Base(path), err)
	}
	if got := counter(t, reg, "edgeward_log_rotations_total"); got != 4 {
		t.Errorf("edgeward_log_rotations_total = %v, want 4", got)
	}
	if got := counter(t, reg, "edgeward_log_lines_total"); got != n {
		t.Errorf("edgeward_log_lines_total = %v, want %d", got, n)
	}
}

func TestSink_NoBackupsStartsTheFileAgain(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "access.log")
	s, err := NewSink(SinkConfig{Path: path, MaxSize: 20, MaxBackups: -1}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		s.WriteLine(fmt.Appendf(nil, "line %d...", i)) // 11 bytes with newline
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := readLog(t, path), []string{"line 4..."}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("file lines = %q, want %q", got, want)
	}
	matches, _ := filepath.Glob(path + ".*")
	if len(matches) != 0 {
		t.Errorf("backups %q exist, want none", matches)
	}
}

func TestSink_LineLargerThanMaxSizeGetsAFileOfItsOwn(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "access.log")
	s, err := NewSink(SinkConfig{Path: path, MaxSize: 8, MaxBackups: 5}, Options{Header: []byte("#h\n")})
	if err != nil {
		t.Fatal(err)
	}
	s.WriteLine([]byte("a very long line"))
	s.WriteLine([]byte("another long line"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readLog(t, path); strings.Join(got, "|") != "#h|another long line" {
		t.Errorf("current file = %q, want header and the second line", got)
	}
	if got := readLog(t, path+".1"); strings.Join(got, "|") != "#h|a very long line" {
		t.Errorf("backup = %q, want header and the first line", got)
	}
}

func TestSink_AppendsToAnExistingFileWithoutASecondHeader(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "access.log")
	for run := range 2 {
		s, err := NewSink(SinkConfig{Path: path}, Options{Header: []byte("#h\n")})
		if err != nil {
			t.Fatal(err)
		}
		s.WriteLine([]byte("run " + strconv.Itoa(run)))
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if got := readLog(t, path); strings.Join(got, "|") != "#h|run 0|run 1" {
		t.Errorf("file = %q, want one header and both runs", got)
	}
}

// flakyWriter fails its first fails writes.
type flakyWriter struct {
	fails int
	buf   testkit.Buffer
}

func (w *flakyWriter) Write(p []byte) (int, error) {
	if w.fails > 0 {
		w.fails--
		return 0, errors.New("disk full")
	}
	return w.buf.Write(p)
}

func TestSink_GoesOnAfterAWriteError(t *testing.T) {
	t.Parallel()
	w := &flakyWriter{fails: 1}
	reg := prometheus.NewRegistry()
	s, err := NewSink(SinkConfig{}, Options{Writer: w, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("y"), bufSize+1) // written through, fails
	s.WriteLine(big)
	s.WriteLine([]byte("after"))
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if got := w.buf.String(); got != "after\n" {
		t.Errorf("output = %q, want the line after the failure", got)
	}
	if got := counter(t, reg, "edgeward_log_write_errors_total"); got != 1 {
		t.Errorf("edgeward_log_write_errors_total = %v, want 1", got)
	}
}

func TestSink_OffDiscardsLinesWithoutCountingDrops(t *testing.T) {
	t.Parallel()
	s, err := NewSink(SinkConfig{Path: PathOff}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !s.WriteLine([]byte("x")) {
		t.Error("WriteLine on an off sink = false, want true (discarded, not dropped)")
	}
	if d := s.Dropped(); d != 0 {
		t.Errorf("Dropped() = %d, want 0", d)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	if s.WriteLine([]byte("x")) {
		t.Error("WriteLine after Close = true, want false")
	}
}

func TestSink_RebuiltSinkCountsOnTheSameSeries(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	for range 2 {
		s, err := NewSink(SinkConfig{}, Options{Writer: &testkit.Buffer{}, Registerer: reg, Name: "decision"})
		if err != nil {
			t.Fatalf("NewSink on a registry that has its metrics = %v, want nil", err)
		}
		s.WriteLine([]byte("x"))
		s.Close()
	}
	if got := counter(t, reg, "edgeward_log_lines_total"); got != 2 {
		t.Errorf("edgeward_log_lines_total = %v, want 2", got)
	}
}

func TestNewSink_ReportsAnUnopenablePath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := NewSink(SinkConfig{Path: dir}, Options{}) // a directory
	if err == nil || !strings.HasPrefix(err.Error(), "path: ") {
		t.Errorf("NewSink(path %s) = %v, want a path: error", dir, err)
	}
}

func TestSinkConfig_DefaultsThenValidate(t *testing.T) {
	t.Parallel()
	var c SinkConfig
	c.Defaults()
	want := SinkConfig{Path: PathStdout, MaxSize: 100 * size.MiB, MaxBackups: 5, Buffer: 8192}
	if c != want {
		t.Errorf("Defaults() = %+v, want %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate() of the defaults = %v", err)
	}
}

// recordingWriter keeps each Write call separately.
type recordingWriter struct {
	mu     sync.Mutex
	writes []string
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

func TestSink_EveryWriteHoldsWholeLines(t *testing.T) {
	t.Parallel()
	w := &recordingWriter{}
	s, err := NewSink(SinkConfig{Buffer: 1000}, Options{Writer: w})
	if err != nil {
		t.Fatal(err)
	}
	line := bytes.Repeat([]byte("z"), 999) // 1000 bytes with the newline: not a divisor of the buffer
	const n = 300
	for range n {
		s.WriteLine(line)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if len(w.writes) < 2 {
		t.Fatalf("%d writes, want several (the buffer is %d bytes)", len(w.writes), bufSize)
	}
	total := 0
	for i, p := range w.writes {
		if len(p)%1000 != 0 || !strings.HasSuffix(p, "\n") {
			t.Errorf("write %d is %d bytes, want whole 1000-byte lines", i, len(p))
		}
		total += len(p)
	}
	if total != n*1000 {
		t.Errorf("wrote %d bytes, want %d", total, n*1000)
	}
}
