package testkit

import (
	"bufio"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Edgeward is an `edgeward serve` process started by StartEdgeward.
type Edgeward struct {
	Cmd *exec.Cmd
	// Addr and Admin are the viewer and admin listeners, as logged.
	Addr, Admin string
	// Logs holds everything the process wrote to stderr.
	Logs *Buffer
	// Exited is closed when the process has exited; ExitErr is then
	// what Wait returned.
	Exited  chan struct{}
	ExitErr error
}

// StartEdgeward runs `binary serve -c file` and returns once both of its
// listeners are logged. onLine, when not nil, is called with the message
// of every JSON log line, in order, on one goroutine. t.Cleanup stops the
// process (SIGTERM, then SIGKILL after 10s) and fails the test if it
// logged a panic.
func StartEdgeward(t testing.TB, binary, file string, onLine func(msg string)) *Edgeward {
	t.Helper()
	p := &Edgeward{Cmd: exec.Command(binary, "serve", "-c", file), Logs: &Buffer{}, Exited: make(chan struct{})}
	pr, pw := io.Pipe()
	p.Cmd.Stderr, p.Cmd.Stdout = pw, io.Discard
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.ExitErr = p.Cmd.Wait(); pw.Close(); close(p.Exited) }()
	up := make(chan [2]string, 1)
	go func() {
		var a [2]string
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			p.Logs.Write(append(line, '\n'))
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(line, &rec) != nil {
				continue
			}
			switch rec.Msg {
			case "edge listening":
				a[0] = rec.Addr
			case "admin listening":
				a[1] = rec.Addr
			}
			if onLine != nil {
				onLine(rec.Msg)
			}
			if a[0] != "" && a[1] != "" && up != nil {
				up <- a
				up = nil
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case a := <-up:
		p.Addr, p.Admin = a[0], a[1]
	case <-p.Exited:
		t.Fatalf("edgeward exited before listening: %v\n%s", p.ExitErr, p.Logs)
	case <-time.After(30 * time.Second):
		p.Cmd.Process.Kill()
		t.Fatalf("edgeward did not start listening in 30s\n%s", p.Logs)
	}
	t.Cleanup(func() {
		p.Cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.Exited:
		case <-time.After(10 * time.Second):
			p.Cmd.Process.Kill()
			<-p.Exited
			t.Errorf("edgeward did not stop on SIGTERM within 10s")
		}
		if strings.Contains(p.Logs.String(), "panic:") {
			t.Errorf("edgeward logged a panic:\n%s", p.Logs)
		}
	})
	return p
}

// Kill stops the process at once (SIGKILL) and waits for it.
func (p *Edgeward) Kill() {
	p.Cmd.Process.Kill()
	<-p.Exited
}
