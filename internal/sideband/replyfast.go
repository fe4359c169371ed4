package sideband

import (
	"bytes"
	"encoding/json"
)

// The fast path of DecodeReply and DecodeRequest: an allow, or a
// request-phase body, in the shape every known service and gateway writes
// (edgeward's both ends, PingOne, Kong, the recorded exchanges) is read
// without encoding/json's reflection, which was about a third of the
// sideband client's cost on the remote edge and as much of the decision
// service's decode. Anything else takes
// encoding/json, so that the result never differs from it: a key other
// than the request fields and state (in any case other than lower case; a
// "response", which is a deny; an access_token), a key twice, a null,
// a string source_port, a number that is not a plain port, invalid
// UTF-8, headers the headers fast path does not read, or any syntax
// error. FuzzReplyFast and FuzzRequestFast check it against encoding/json.

// Keys of the fast path, one bit each, to refuse a key seen twice
// (encoding/json keeps the last; the fast path leaves that to it).
const (
	keySourceIP = 1 << iota
	keySourcePort
	keyMethod
	keyURL
	keyHTTPVersion
	keyHeaders
	keyBody
	keyState
	keyClientCertificate
)

// parseReplyFast reads data into w as json.Unmarshal would, and reports
// false when it cannot vouch for that (w is then to be discarded).
func parseReplyFast(data []byte, w *replyWire) bool {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return skipSpace(data, i+1) == len(data)
	}
	seen := 0
	for {
		key, j, ok := plainKey(data, i)
		if !ok {
			return false
		}
		i = skipSpace(data, j)
		if i >= len(data) || data[i] != ':' {
			return false
		}
		i = skipSpace(data, i+1)
		bit := 0
		switch key {
		case "source_ip", "method", "url", "http_version":
			var dst *string
			dst, bit = w.stringField(key)
			*dst, i, ok = plainString(data, i)
		case "body":
			bit = keyBody
			var s string
			s, i, ok = plainString(data, i)
			w.Body = &s
		case "source_port":
			bit = keySourcePort
			var p int
			p, i, ok = plainPort(data, i)
			w.SourcePort = Port(p)
		case "headers":
			bit = keyHeaders
			end := valueEnd(data, i)
			if end < 0 {
				return false
			}
			var h Headers
			h, ok = parseHeaders(data[i:end], nil)
			w.Headers, i = &h, end
		case "state", "client_certificate":
			bit = keyState
			if key == "client_certificate" {
				bit = keyClientCertificate
			}
			end := valueEnd(data, i)
			if end < 0 || !json.Valid(data[i:end]) {
				return false
			}
			raw := json.RawMessage(bytes.Clone(data[i:end]))
			if bit == keyState {
				w.State = raw
			} else {
				w.ClientCertificate = raw
			}
			i = end
		default:
			return false
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		i = skipSpace(data, i)
		if i >= len(data) {
			return false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
			continue
		case '}':
			return skipSpace(data, i+1) == len(data)
		}
		return false
	}
}

// stringField returns the string field of a request-phase key, and its
// bit.
func (w *replyWire) stringField(key string) (*string, int) {
	switch key {
	case "source_ip":
		return &w.SourceIP, keySourceIP
	case "method":
		return &w.Method, keyMethod
	case "url":
		return &w.URL, keyURL
	}
	return &w.HTTPVersion, keyHTTPVersion
}

// plainKey reads an object key: a string of lower-case letters and
// underscores (encoding/json matches keys case-insensitively; a key
// spelled otherwise takes it).
func plainKey(data []byte, i int) (string, int, bool) {
	if i >= len(data) || data[i] != '"' {
		return "", 0, false
	}
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			return string(data[i+1 : j]), j + 1, true
		case c != '_' && (c < 'a' || c > 'z'):
			return "", 0, false
		}
	}
	return "", 0, false
}

// plainPort reads a JSON integer of 0-65535 written without sign,
// fraction or exponent (Port.UnmarshalJSON's range; anything else takes
// encoding/json and its error).
func plainPort(data []byte, i int) (int, int, bool) {
	n, j := 0, i
	for j < len(data) && data[j] >= '0' && data[j] <= '9' && j-i < 6 {
		n = n*10 + int(data[j]-'0')
		j++
	}
	switch {
	case j == i, j-i > 5, n > 65535, data[i] == '0' && j-i > 1:
		return 0, 0, false
	case j < len(data) && (data[j] == '.' || data[j] == 'e' || data[j] == 'E' || data[j] >= '0' && data[j] <= '9'):
		return 0, 0, false
	}
	return n, j, true
}

// valueEnd returns the index after the JSON array, object or string that
// starts at data[i], matching brackets outside strings; -1 for anything
// else. It does not validate what it skips.
func valueEnd(data []byte, i int) int {
	if i >= len(data) {
		return -1
	}
	switch data[i] {
	case '"':
		for j := i + 1; j < len(data); j++ {
			switch data[j] {
			case '\\':
				j++
			case '"':
				return j + 1
			}
		}
		return -1
	case '[', '{':
	default:
		return -1
	}
	depth := 0
	for j := i; j < len(data); j++ {
		switch data[j] {
		case '"':
			end := valueEnd(data, j)
			if end < 0 {
				return -1
			}
			j = end - 1
		case '[', '{':
			depth++
		case ']', '}':
			if depth--; depth == 0 {
				return j + 1
			}
		}
	}
	return -1
}
