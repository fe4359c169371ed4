package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// runIdle opens -n keep-alive connections to -url, sends one request on
// each and reads its answer, then leaves them idle until ctx ends: the
// "many concurrent connections" part of the large-response scenario. It
// writes "ready" to -ready once every connection is open (or has failed),
// and at the end prints how many the server closed while they were idle.
func runIdle(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("idle", flag.ExitOnError)
	target := fs.String("url", "", "URL to request once on every connection")
	n := fs.Int("n", 5000, "connections to hold")
	auth := fs.String("authorization", "", "Authorization header value of the request")
	ready := fs.String("ready", "", "file to write once the connections are open")
	parallel := fs.Int("parallel", 64, "connections opened at once")
	fs.Parse(args)
	u, err := url.Parse(*target)
	if err != nil || u.Host == "" || u.Scheme != "http" {
		return fmt.Errorf("-url: want an http URL, got %q", *target)
	}
	head := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: benchkit-idle\r\n", u.RequestURI(), u.Host)
	if *auth != "" {
		head += "Authorization: " + *auth + "\r\n"
	}
	head += "\r\n"

	var (
		mu     sync.Mutex
		conns  []net.Conn
		failed atomic.Int64
		closed atomic.Int64
		done   atomic.Bool
		wg     sync.WaitGroup
		firstE atomic.Pointer[error]
	)
	sem := make(chan struct{}, *parallel)
	for range *n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			c, br, err := openIdle(ctx, u.Host, head)
			if err != nil {
				failed.Add(1)
				firstE.CompareAndSwap(nil, &err)
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			// A read returns only when the server closes the connection
			// (or sends something unasked), or when we close it at the end.
			go func() {
				if _, err := br.ReadByte(); err != nil && !done.Load() {
					closed.Add(1)
				}
			}()
		}()
	}
	wg.Wait()
	msg := fmt.Sprintf("open=%d failed=%d", len(conns), failed.Load())
	if e := firstE.Load(); e != nil {
		msg += fmt.Sprintf(" first_error=%q", (*e).Error())
	}
	if *ready != "" {
		if err := os.WriteFile(*ready, []byte(msg+"\n"), 0o644); err != nil {
			return err
		}
	}
	<-ctx.Done()
	done.Store(true)
	for _, c := range conns {
		c.Close()
	}
	fmt.Printf("IDLE %s closed_by_server=%d\n", msg, closed.Load())
	return nil
}

// openIdle dials addr, sends head and reads one whole response, leaving
// the connection open and idle.
func openIdle(ctx context.Context, addr, head string) (net.Conn, *bufio.Reader, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, head); err != nil {
		c.Close()
		return nil, nil, err
	}
	br := bufio.NewReaderSize(c, 4096)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.Close {
		err = errors.New("server closed the connection after the first response")
	}
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	c.SetDeadline(time.Time{})
	return c, br, nil
}
