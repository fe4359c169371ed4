package edge

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"
)

// framingListener wraps every accepted plain-text connection in a
// framingConn.
type framingListener struct {
	net.Listener
	limit       int
	headTimeout time.Duration // see framingConn.headTimeout
}

// Accept implements net.Listener.
func (l *framingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	fc := newFramingConn(c, l.limit)
	fc.headTimeout = l.headTimeout
	return fc, nil
}

// tlsListener terminates TLS itself so that HTTP/1.1 over TLS gets the
// framing guard too: a connection that negotiated "h2" is handed to
// net/http as the *tls.Conn it expects (HTTP/2 framing has no such
// ambiguity), any other is wrapped in a framingConn. Handshakes run in
// their own goroutines, bounded by timeout, so a slow client never holds
// up Accept.
type tlsListener struct {
	inner   net.Listener
	cfg     *tls.Config
	timeout time.Duration
	limit   int

	conns chan net.Conn
	errs  chan error
	done  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
}

func newTLSListener(inner net.Listener, cfg *tls.Config, timeout time.Duration, limit int) *tlsListener {
	l := &tlsListener{
		inner:   inner,
		cfg:     cfg,
		timeout: timeout,
		limit:   limit,
		conns:   make(chan net.Conn),
		errs:    make(chan error, 1),
		done:    make(chan struct{}),
	}
	l.wg.Add(1)
	go l.acceptLoop()
	return l
}

func (l *tlsListener) acceptLoop() {
	defer l.wg.Done()
	for {
		c, err := l.inner.Accept()
		if err != nil {
			select {
			case l.errs <- err:
			case <-l.done:
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		l.wg.Add(1)
		go l.handshake(c)
	}
}

func (l *tlsListener) handshake(c net.Conn) {
	defer l.wg.Done()
	tc := tls.Server(c, l.cfg)
	ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		_ = c.Close()
		return
	}
	var out net.Conn = tc
	if tc.ConnectionState().NegotiatedProtocol != "h2" {
		fc := newFramingConn(tc, l.limit)
		fc.headTimeout = l.timeout
		st := tc.ConnectionState()
		fc.tls = &st
		out = fc
	}
	select {
	case l.conns <- out:
	case <-l.done:
		_ = out.Close()
	}
}

// Accept implements net.Listener.
func (l *tlsListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case err := <-l.errs:
		return nil, err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener.
func (l *tlsListener) Close() error {
	var err error
	l.once.Do(func() {
		close(l.done)
		err = l.inner.Close()
	})
	return err
}

// Addr implements net.Listener.
func (l *tlsListener) Addr() net.Addr { return l.inner.Addr() }
