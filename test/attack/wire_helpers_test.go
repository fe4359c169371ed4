package attack

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// wireDeadline bounds every raw exchange. It only ever matters when the
// edge is broken (hangs): a working edge answers or closes long before.
const wireDeadline = 15 * time.Second

// wireResult is what came back on one raw connection.
type wireResult struct {
	responses []response
	// closed: the edge closed the connection (EOF or reset) after the
	// responses it sent.
	closed bool
	// err is the read error that ended the exchange, if it was not the
	// close (a timeout means the edge neither answered nor closed).
	err error
}

// statuses lists the status codes of the responses.
func (w wireResult) statuses() []int {
	var out []int
	for _, r := range w.responses {
		out = append(out, r.status)
	}
	return out
}

// wire writes request bytes on a fresh connection and reads up to n
// responses. It does not half-close the connection (net/http
// treats a half-closed connection as a client that went away and cancels
// the request), so allowed requests are answered normally. After the n-th
// response it reads on only if the edge announced "Connection: close", to
// confirm that the close follows; a connection the edge keeps open is
// reported as not closed without waiting.
func wire(t testing.TB, addr, request string, n int) wireResult {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(wireDeadline))
	var out wireResult
	if _, err := io.WriteString(c, request); err != nil {
		// The edge may refuse and close before reading everything.
		out.closed = true
	}
	br := bufio.NewReader(c)
	for len(out.responses) < n {
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			out.closed, out.err = wireClosed(err)
			return out
		}
		if res.StatusCode < 200 {
			continue // 100 Continue and friends precede the answer
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		r := response{status: res.StatusCode, header: res.Header, body: string(b), closed: res.Close}
		out.responses = append(out.responses, r)
		if err != nil {
			out.closed, out.err = wireClosed(err)
			return out
		}
		if res.Close {
			break
		}
	}
	if len(out.responses) > 0 && out.responses[len(out.responses)-1].closed {
		_, err := br.ReadByte()
		if err == nil {
			out.err = errors.New("the edge announced Connection: close and sent more bytes")
			return out
		}
		out.closed, out.err = wireClosed(err)
	}
	return out
}

// wireClosed says whether a read error is the edge closing the connection.
func wireClosed(err error) (bool, error) {
	if isTimeout(err) {
		return false, err
	}
	return true, nil
}

// wireDrain writes request bytes on a fresh connection and reads
// everything until the edge closes the connection; it returns the bytes
// and the read error (nil for a clean close, a timeout if the edge never
// closed).
func wireDrain(t testing.TB, addr string, request []byte) ([]byte, error) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(wireDeadline))
	c.Write(request)
	b, err := io.ReadAll(c)
	var ne *net.OpError
	if errors.As(err, &ne) && !ne.Timeout() {
		err = nil // reset by the edge: a close
	}
	return b, err
}
