package connpool

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/textproto"
	"strconv"

	"golang.org/x/net/http/httpguts"
)

// ReadResponse reads a response head from br as http.ReadResponse(br, req)
// does, and returns the same *http.Response. The common answer of an
// origin or a decision service, an HTTP/1.1 head already in br's buffer
// with a status from 200 to 599 other than 204 and 304, one
// Content-Length, canonical header names and no Transfer-Encoding,
// Trailer, Pragma or folded line, to a request other than HEAD, is parsed
// in place: the head becomes one string that the status and header values
// share, the values one backing array, the body a reader of exactly
// Content-Length bytes. Every other head, and every head that
// http.ReadResponse would refuse, goes to http.ReadResponse unread, so
// that its parsing and its errors are net/http's own. FuzzReadResponse
// holds the two to the same result.
//
// http.ReadResponse spends most of a small exchange's parsing in
// allocations: a string per value, the header slices, the transfer state
// and its body wrappers (8-9 per answer, against 4 here).
func ReadResponse(br *bufio.Reader, req *http.Request) (*http.Response, error) {
	if res := readCommon(br, req); res != nil {
		return res, nil
	}
	return http.ReadResponse(br, req)
}

var crlfcrlf = []byte("\r\n\r\n")

// readCommon parses the common head in place, or returns nil having read
// nothing.
func readCommon(br *bufio.Reader, req *http.Request) *http.Response {
	if req != nil && req.Method == http.MethodHead {
		return nil
	}
	buf, _ := br.Peek(br.Buffered())
	end := bytes.Index(buf, crlfcrlf)
	if end < 0 {
		return nil
	}
	raw := buf[:end+2] // every line with its CRLF
	// The status line: "HTTP/1.1 DDD" and an optional reason.
	const proto = "HTTP/1.1 "
	eol := bytes.IndexByte(raw, '\n')
	if eol < len(proto)+4 || raw[eol-1] != '\r' || string(raw[:len(proto)]) != proto {
		return nil
	}
	head := string(raw) // the one allocation the strings below share
	if !statusLineOK(head[len(proto) : eol-1]) {
		return nil
	}
	code := int(raw[9]-'0')*100 + int(raw[10]-'0')*10 + int(raw[11]-'0')
	if code < 200 || code > 599 || code == http.StatusNoContent || code == http.StatusNotModified {
		return nil
	}
	// Count the header lines first: one backing array for the values.
	lines := bytes.Count(raw[eol+1:], []byte("\n"))
	res := &http.Response{
		Status:        head[len(proto) : eol-1],
		StatusCode:    code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        make(http.Header, lines),
		ContentLength: -1,
		Request:       req,
	}
	strs := make([]string, lines)
	for i := eol + 1; i < len(head); {
		j := i + bytes.IndexByte(raw[i:], '\n')
		if j == i || raw[j-1] != '\r' {
			return nil // a bare LF ends the line
		}
		name, value, ok := headerLine(head[i : j-1])
		if !ok {
			return nil
		}
		switch name {
		case "Transfer-Encoding", "Trailer", "Pragma":
			return nil // net/http's own rules: chunking, trailers, fixPragmaCacheControl
		case "Content-Length":
			if res.ContentLength >= 0 {
				return nil // more than one: net/http compares and dedupes them
			}
			n, ok := contentLength(value)
			if !ok {
				return nil
			}
			res.ContentLength = n
		}
		if vv := res.Header[name]; vv != nil {
			res.Header[name] = append(vv, value)
		} else {
			vv, strs = strs[:1:1], strs[1:]
			vv[0] = value
			res.Header[name] = vv
		}
		i = j + 1
	}
	if res.ContentLength < 0 {
		return nil // the body ends with the connection: net/http's business
	}
	if httpguts.HeaderValuesContainsToken(res.Header["Connection"], "close") {
		res.Close = true
		delete(res.Header, "Connection") // as net/http reads a response
	}
	if res.ContentLength == 0 {
		res.Body = http.NoBody
	} else {
		res.Body = &lengthBody{br: br, n: res.ContentLength}
	}
	if _, err := br.Discard(end + 4); err != nil {
		return nil // cannot happen: the bytes are buffered
	}
	return res
}

// statusLineOK reports whether s, the status line after "HTTP/1.1 " and
// before its CRLF, is three digits and, if anything follows, a space and a
// reason of header-value bytes (HTAB, SP, VCHAR, obs-text: net/textproto's
// rule, as httpguts states it).
func statusLineOK(s string) bool {
	if len(s) < 3 || !isDigit(s[0]) || !isDigit(s[1]) || !isDigit(s[2]) {
		return false
	}
	if len(s) == 3 {
		return true
	}
	return s[3] == ' ' && httpguts.ValidHeaderFieldValue(s[4:])
}

// headerLine splits "Name: value" (no CRLF) as net/textproto would, for a
// name already in canonical form made of letters, digits and hyphens and
// a value of valid bytes; false for anything else (a folded line
// included).
func headerLine(line string) (name, value string, ok bool) {
	upper := true
	i := 0
	for ; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ':':
			if i == 0 {
				return "", "", false
			}
			name, value = line[:i], line[i+1:]
			if !httpguts.ValidHeaderFieldValue(value) {
				return "", "", false
			}
			return name, textproto.TrimString(value), true
		case c == '-':
			upper = true
			continue
		case 'A' <= c && c <= 'Z':
			if !upper {
				return "", "", false
			}
		case 'a' <= c && c <= 'z' || isDigit(c):
			if upper && !isDigit(c) {
				return "", "", false
			}
		default:
			return "", "", false
		}
		upper = false
	}
	return "", "", false
}

// contentLength parses a Content-Length value as net/http does (digits,
// at most 2^63-1).
func contentLength(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 63)
	return int64(n), err == nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// lengthBody reads exactly n bytes from br: io.EOF after them,
// io.ErrUnexpectedEOF if the connection ends first (as net/http's body).
type lengthBody struct {
	br     *bufio.Reader
	n      int64
	closed bool
}

func (b *lengthBody) Read(p []byte) (int, error) {
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	if b.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.br.Read(p)
	b.n -= int64(n)
	switch {
	case b.n == 0:
		return n, io.EOF
	case err == io.EOF:
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

// Close ends the body. What is left unread stays unread: the clients never
// reuse a connection whose answer was not read to its end.
func (b *lengthBody) Close() error {
	b.closed = true
	return nil
}
