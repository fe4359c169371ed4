package origin_test

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/origin"
)

// cannedOrigin is a minimal HTTP/1.1 origin on a loopback port: for every
// request head it reads, it writes the same small JSON answer, keep-alive.
// It costs next to nothing, so a benchmark measures the proxy, not the
// origin.
func cannedOrigin(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
	answer := []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: max-age=60\r\n" +
		"Content-Length: 43\r\n\r\n{\"id\":42,\"item\":\"order\",\"status\":\"shipped\"}")
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadSlice('\n')
					if err != nil {
						return
					}
					if len(bytes.TrimRight(line, "\r\n")) == 0 {
						if _, err := c.Write(answer); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
	return "http://" + l.Addr().String()
}

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

func BenchmarkForward(b *testing.B) {
	for _, path := range bothPaths {
		b.Run(path, func(b *testing.B) {
			o := newOrigin(b, path, origin.Config{URL: cannedOrigin(b) + "/prod"}, origin.Options{})
			hr := httptest.NewRequest(http.MethodGet, "/orders/1?expand=items", nil)
			hr.Header.Set("Authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
			hr.Header.Set("Accept", "application/json")
			hr.Header.Set("User-Agent", "wrk")
			r := &edge.Request{ID: "req-1", HTTP: hr, Scheme: "https", Host: "api.example.com",
				Peer: netip.MustParseAddrPort("192.0.2.1:5555")}
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				if err := o.Forward(w, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
