package accesslog

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/edgeward/edgeward/internal/jsonstring"
	"github.com/edgeward/edgeward/internal/pct"
)

// fieldsLine lists CloudFront's 33 standard-log fields in CloudFront's
// order: the "#Fields" directive of the cloudfront format and the keys of
// the json format.
const fieldsLine = "date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status " +
	"cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id " +
	"x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher " +
	"x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port " +
	"time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len " +
	"sc-range-start sc-range-end"

// w3cHeader starts every cloudfront-format file.
const w3cHeader = "#Version: 1.0\n#Fields: " + fieldsLine + "\n"

// w3cTraceHeader is w3cHeader with the x-trace-id field, for an edge that
// traces requests (Options.TraceID).
const w3cTraceHeader = "#Version: 1.0\n#Fields: " + fieldsLine + " x-trace-id\n"

// FieldNames returns the names of the access log's fields, in order.
func FieldNames() []string { return strings.Fields(fieldsLine) }

// entry is one access-log record, the values of the 33 fields before
// encoding. Strings point into the request; nothing here is copied. An
// empty string, a zero Addr or a negative number or duration is an empty
// field.
type entry struct {
	when           time.Time // UTC
	location       string
	scBytes        int64
	clientIP       netip.Addr
	method         string
	host           string
	uriStem        string
	status         int
	referer        string
	userAgent      string
	query          string
	redact         []string // query parameters whose values are not logged
	cookies        []string // Cookie header lines, joined with "; "
	result         string
	requestID      string
	hostHeader     string
	protocol       string
	csBytes        int64
	timeTaken      time.Duration
	forwardedFor   netip.Addr
	sslProtocol    string
	sslCipher      string
	responseResult string
	protoVersion   string
	clientPort     int64
	ttfb           time.Duration
	detailedResult string
	contentType    string
	contentLen     int64
	rangeStart     int64
	rangeEnd       int64
	trace          bool   // the log has the x-trace-id field
	traceID        string // empty: "-"
}

// appendW3C appends e as one tab-separated line in CloudFront's field order,
// with a trailing newline.
func (e *entry) appendW3C(b []byte) []byte {
	b = appendDate(b, e.when)
	b = append(b, '\t')
	b = appendClock(b, e.when)
	b = append(b, '\t')
	b = appendEsc(b, e.location)
	b = append(b, '\t')
	b = appendNum(b, e.scBytes)
	b = append(b, '\t')
	b = appendAddr(b, e.clientIP)
	b = append(b, '\t')
	b = appendEsc(b, e.method)
	b = append(b, '\t')
	b = appendEsc(b, e.host)
	b = append(b, '\t')
	b = appendEsc(b, e.uriStem)
	b = append(b, '\t')
	b = appendStatus(b, e.status)
	b = append(b, '\t')
	b = appendEsc(b, e.referer)
	b = append(b, '\t')
	b = appendEsc(b, e.userAgent)
	b = append(b, '\t')
	b = appendQuery(b, e.query, e.redact, appendEscBytes)
	b = append(b, '\t')
	b = appendCookies(b, e.cookies, appendEscBytes)
	b = append(b, '\t')
	b = appendEsc(b, e.result)
	b = append(b, '\t')
	b = appendEsc(b, e.requestID)
	b = append(b, '\t')
	b = appendEsc(b, e.hostHeader)
	b = append(b, '\t')
	b = appendEsc(b, e.protocol)
	b = append(b, '\t')
	b = appendNum(b, e.csBytes)
	b = append(b, '\t')
	b = appendSeconds(b, e.timeTaken)
	b = append(b, '\t')
	b = appendAddr(b, e.forwardedFor)
	b = append(b, '\t')
	b = appendEsc(b, e.sslProtocol)
	b = append(b, '\t')
	b = appendEsc(b, e.sslCipher)
	b = append(b, '\t')
	b = appendEsc(b, e.responseResult)
	b = append(b, '\t')
	b = appendEsc(b, e.protoVersion)
	b = append(b, "\t-\t-\t"...) // fle-status, fle-encrypted-fields: no field-level encryption
	b = appendNum(b, e.clientPort)
	b = append(b, '\t')
	if e.ttfb >= 0 {
		b = appendSeconds(b, e.ttfb)
	} else {
		b = append(b, '-')
	}
	b = append(b, '\t')
	b = appendEsc(b, e.detailedResult)
	b = append(b, '\t')
	b = appendEsc(b, e.contentType)
	b = append(b, '\t')
	b = appendNum(b, e.contentLen)
	b = append(b, '\t')
	b = appendNum(b, e.rangeStart)
	b = append(b, '\t')
	b = appendNum(b, e.rangeEnd)
	if e.trace {
		b = append(b, '\t')
		b = appendEsc(b, e.traceID)
	}
	return append(b, '\n')
}

// appendJSON appends e as one JSON object with the same field names and
// order, and a trailing newline. Strings are the raw values (JSON-escaped,
// not URL-encoded), counts and durations are numbers, empty fields null.
func (e *entry) appendJSON(b []byte) []byte {
	b = append(b, `{"date":"`...)
	b = appendDate(b, e.when)
	b = append(b, `","time":"`...)
	b = appendClock(b, e.when)
	b = append(b, `","x-edge-location":`...)
	b = appendJSONString(b, e.location)
	b = append(b, `,"sc-bytes":`...)
	b = appendJSONNum(b, e.scBytes)
	b = append(b, `,"c-ip":`...)
	b = appendJSONAddr(b, e.clientIP)
	b = append(b, `,"cs-method":`...)
	b = appendJSONString(b, e.method)
	b = append(b, `,"cs(Host)":`...)
	b = appendJSONString(b, e.host)
	b = append(b, `,"cs-uri-stem":`...)
	b = appendJSONString(b, e.uriStem)
	b = append(b, `,"sc-status":`...)
	b = strconv.AppendInt(b, int64(e.status), 10)
	b = append(b, `,"cs(Referer)":`...)
	b = appendJSONString(b, e.referer)
	b = append(b, `,"cs(User-Agent)":`...)
	b = appendJSONString(b, e.userAgent)
	b = append(b, `,"cs-uri-query":`...)
	if e.query == "" {
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
		b = appendQuery(b, e.query, e.redact, jsonstring.AppendEscaped)
		b = append(b, '"')
	}
	b = append(b, `,"cs(Cookie)":`...)
	if len(e.cookies) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
		b = appendCookies(b, e.cookies, jsonstring.AppendEscaped)
		b = append(b, '"')
	}
	b = append(b, `,"x-edge-result-type":`...)
	b = appendJSONString(b, e.result)
	b = append(b, `,"x-edge-request-id":`...)
	b = appendJSONString(b, e.requestID)
	b = append(b, `,"x-host-header":`...)
	b = appendJSONString(b, e.hostHeader)
	b = append(b, `,"cs-protocol":`...)
	b = appendJSONString(b, e.protocol)
	b = append(b, `,"cs-bytes":`...)
	b = appendJSONNum(b, e.csBytes)
	b = append(b, `,"time-taken":`...)
	b = appendSeconds(b, e.timeTaken)
	b = append(b, `,"x-forwarded-for":`...)
	b = appendJSONAddr(b, e.forwardedFor)
	b = append(b, `,"ssl-protocol":`...)
	b = appendJSONString(b, e.sslProtocol)
	b = append(b, `,"ssl-cipher":`...)
	b = appendJSONString(b, e.sslCipher)
	b = append(b, `,"x-edge-response-result-type":`...)
	b = appendJSONString(b, e.responseResult)
	b = append(b, `,"cs-protocol-version":`...)
	b = appendJSONString(b, e.protoVersion)
	b = append(b, `,"fle-status":null,"fle-encrypted-fields":null,"c-port":`...)
	b = appendJSONNum(b, e.clientPort)
	b = append(b, `,"time-to-first-byte":`...)
	if e.ttfb >= 0 {
		b = appendSeconds(b, e.ttfb)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"x-edge-detailed-result-type":`...)
	b = appendJSONString(b, e.detailedResult)
	b = append(b, `,"sc-content-type":`...)
	b = appendJSONString(b, e.contentType)
	b = append(b, `,"sc-content-len":`...)
	b = appendJSONNum(b, e.contentLen)
	b = append(b, `,"sc-range-start":`...)
	b = appendJSONNum(b, e.rangeStart)
	b = append(b, `,"sc-range-end":`...)
	b = appendJSONNum(b, e.rangeEnd)
	if e.trace {
		b = append(b, `,"x-trace-id":`...)
		b = appendJSONString(b, e.traceID)
	}
	return append(b, "}\n"...)
}

// CloudFront URL-encodes, in every field value, ASCII codes 0-32, codes 127
// and higher, and < > " # % { } | \ ^ ~ [ ] ` ' (AccessLogs, "Standard log
// file format"). escLo and escHi are that set as bitmaps of bytes 0-63 and
// 64-127.
const (
	escLo = 1<<33 - 1 | 1<<'"' | 1<<'#' | 1<<'%' | 1<<'\'' | 1<<'<' | 1<<'>'
	escHi = 1<<('['-64) | 1<<('\\'-64) | 1<<(']'-64) | 1<<('^'-64) | 1<<('`'-64) |
		1<<('{'-64) | 1<<('|'-64) | 1<<('}'-64) | 1<<('~'-64) | 1<<(0x7f-64)
)

func needsEsc(c byte) bool {
	switch {
	case c < 64:
		return escLo&(uint64(1)<<c) != 0
	case c < 128:
		return escHi&(uint64(1)<<(c-64)) != 0
	}
	return true
}

const upperHex = "0123456789ABCDEF"

// appendEsc appends s URL-encoded as CloudFront's log does, or "-" for "".
func appendEsc(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	return appendEscBytes(b, s)
}

// appendEscBytes appends s URL-encoded as CloudFront's log does.
func appendEscBytes(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; needsEsc(c) {
			b = append(b, s[start:i]...)
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
			start = i + 1
		}
	}
	return append(b, s[start:]...)
}

// appendJSONString appends s as a JSON string, or null for "".
func appendJSONString(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return jsonstring.Append(b, s)
}

// appendQuery appends the query string q, with the values of the
// parameters named in redact replaced by REDACTED, through enc.
func appendQuery(b []byte, q string, redact []string, enc func([]byte, string) []byte) []byte {
	if q == "" {
		return append(b, '-')
	}
	if len(redact) == 0 {
		return enc(b, q)
	}
	for first := true; ; first = false {
		param, rest, more := strings.Cut(q, "&")
		if !first {
			b = append(b, '&')
		}
		name, _, hasValue := strings.Cut(param, "=")
		if hasValue && redacted(name, redact) {
			b = enc(b, name)
			b = append(b, "=REDACTED"...)
		} else {
			b = enc(b, param)
		}
		if !more {
			return b
		}
		q = rest
	}
}

// redacted reports whether the raw (possibly percent-encoded) parameter
// name is in redact.
func redacted(name string, redact []string) bool {
	for _, r := range redact {
		if queryNameIs(name, r) {
			return true
		}
	}
	return false
}

// queryNameIs reports whether the raw query parameter name decodes
// (percent-escapes and '+') to want, without allocating.
func queryNameIs(raw, want string) bool {
	j := 0
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if d, ok := pct.At(raw, i); ok {
			c = d
			i += 2
		} else if c == '+' {
			c = ' '
		}
		if j >= len(want) || want[j] != c {
			return false
		}
		j++
	}
	return j == len(want)
}

// appendCookies appends the Cookie header lines joined with "; " (HTTP/2
// may split them), or "-" when there are none.
func appendCookies(b []byte, cookies []string, enc func([]byte, string) []byte) []byte {
	if len(cookies) == 0 {
		return append(b, '-')
	}
	for i, c := range cookies {
		if i > 0 {
			b = enc(b, "; ")
		}
		b = enc(b, c)
	}
	return b
}

// appendDate appends t's date as YYYY-MM-DD.
func appendDate(b []byte, t time.Time) []byte {
	y, m, d := t.Date()
	b = appendPad(b, y, 4)
	b = append(b, '-')
	b = appendPad(b, int(m), 2)
	b = append(b, '-')
	return appendPad(b, d, 2)
}

// appendClock appends t's time of day as HH:MM:SS.
func appendClock(b []byte, t time.Time) []byte {
	h, m, s := t.Clock()
	b = appendPad(b, h, 2)
	b = append(b, ':')
	b = appendPad(b, m, 2)
	b = append(b, ':')
	return appendPad(b, s, 2)
}

// appendPad appends the non-negative n with at least width digits.
func appendPad(b []byte, n, width int) []byte {
	var tmp [20]byte
	i := len(tmp)
	for n >= 10 || width > 1 {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
		width--
	}
	i--
	tmp[i] = byte('0' + n)
	return append(b, tmp[i:]...)
}

// appendSeconds appends d in seconds to the millisecond, e.g. 0.082.
func appendSeconds(b []byte, d time.Duration) []byte {
	if d < 0 {
		d = 0
	}
	ms := int64((d + time.Millisecond/2) / time.Millisecond)
	b = strconv.AppendInt(b, ms/1000, 10)
	b = append(b, '.')
	return appendPad(b, int(ms%1000), 3)
}

// appendStatus appends the status code; 000 means the viewer went away
// before a response was written.
func appendStatus(b []byte, status int) []byte {
	if status <= 0 {
		return append(b, "000"...)
	}
	return strconv.AppendInt(b, int64(status), 10)
}

func appendNum(b []byte, n int64) []byte {
	if n < 0 {
		return append(b, '-')
	}
	return strconv.AppendInt(b, n, 10)
}

func appendJSONNum(b []byte, n int64) []byte {
	if n < 0 {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, n, 10)
}

func appendAddr(b []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return append(b, '-')
	}
	return a.Unmap().WithZone("").AppendTo(b)
}

func appendJSONAddr(b []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = a.Unmap().WithZone("").AppendTo(b)
	return append(b, '"')
}
