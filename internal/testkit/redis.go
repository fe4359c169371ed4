package testkit

import (
	"io"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// WaitFor polls cond until it holds, failing the test past within: for
// external processes, whose progress a test cannot be told about.
func WaitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(5 * time.Millisecond) // polling an external process
	}
}

// Redis is a redis-server process without persistence on a fixed loopback
// port, which a test kills and starts again. The test is skipped (or fails
// under RequireToolsEnv) where the Debian package redis-server is missing.
type Redis struct {
	t    testing.TB
	bin  string
	port int
	args []string
	cmd  *exec.Cmd
	done chan struct{}
}

// NewRedis returns a server on a free port, not yet started; args are
// extra redis-server options. t.Cleanup kills it.
func NewRedis(t testing.TB, args ...string) *Redis {
	t.Helper()
	r := &Redis{t: t, bin: Tool(t, "redis-server", "redis-server"), port: FreePort(t), args: args}
	t.Cleanup(r.Kill)
	return r
}

// Addr is the server's host:port.
func (r *Redis) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)) }

// Start starts the server and returns once it accepts connections.
func (r *Redis) Start() {
	r.t.Helper()
	args := append([]string{"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--protected-mode", "no", "--dir", r.t.TempDir()}, r.args...)
	r.cmd = exec.Command(r.bin, args...)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(r.cmd, r.done)
	WaitFor(r.t, 10*time.Second, "redis-server listening", func() bool {
		c, err := net.DialTimeout("tcp", r.Addr(), 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// Kill stops the server at once (SIGKILL); its data is gone.
func (r *Redis) Kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Kill()
		<-r.done
		r.cmd = nil
	}
}

// Proxy is a TCP proxy on a fixed loopback port that a test stops (every
// connection cut, new ones refused) and starts again: a network cut
// between one client and its server.
type Proxy struct {
	t      testing.TB
	target string
	port   int
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
}

// NewProxy starts a proxy to target; t.Cleanup stops it.
func NewProxy(t testing.TB, target string) *Proxy {
	p := &Proxy{t: t, target: target, port: FreePort(t), conns: map[net.Conn]bool{}}
	p.Start()
	t.Cleanup(p.Stop)
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)) }

// Start accepts connections again, on the same port.
func (p *Proxy) Start() {
	p.t.Helper()
	var ln net.Listener
	WaitFor(p.t, 5*time.Second, "proxy port free again", func() bool {
		var err error
		ln, err = net.Listen("tcp", p.Addr())
		return err == nil
	})
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = true, true
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
}

// Stop cuts every connection and refuses new ones until Start.
func (p *Proxy) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}
