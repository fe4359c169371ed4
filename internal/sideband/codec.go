package sideband

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/edgeward/edgeward/internal/jsonstring"
)

// Header is one header value.
type Header struct {
	Name  string
	Value string
}

// Headers is the sideband header list: on the wire an array of one-key
// objects, [{"host":"a"},{"accept":"*/*"}], one object per value. Names are
// compared case-insensitively; order between different names carries no
// meaning.
type Headers []Header

// Get returns the first value of the header named name (case-insensitive).
func (h Headers) Get(name string) (string, bool) {
	for _, e := range h {
		if strings.EqualFold(e.Name, name) {
			return e.Value, true
		}
	}
	return "", false
}

// Values returns every value of the header named name, in order.
func (h Headers) Values(name string) []string {
	var vs []string
	for _, e := range h {
		if strings.EqualFold(e.Name, name) {
			vs = append(vs, e.Value)
		}
	}
	return vs
}

// MarshalJSON writes the array of one-key objects. A nil list is written as
// [] because Kong walks it with ipairs.
func (h Headers) MarshalJSON() ([]byte, error) {
	return h.appendJSON(make([]byte, 0, 2+len(h)*32)), nil
}

// appendJSON appends the array of one-key objects to b.
func (h Headers) appendJSON(b []byte) []byte {
	b = append(b, '[')
	for i, e := range h {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = jsonstring.Append(b, e.Name)
		b = append(b, ':')
		b = jsonstring.Append(b, e.Value)
		b = append(b, '}')
	}
	return append(b, ']')
}

// UnmarshalJSON reads the array of objects. An object with several keys is
// accepted (each key a header; key order kept as written); values must be
// strings (a number or boolean is taken as its JSON text, as Lua gateways
// sometimes send them). null is an empty list.
func (h *Headers) UnmarshalJSON(data []byte) error {
	if out, ok := parseHeaders(data, (*h)[:0]); ok {
		*h = out
		return nil
	}
	out, err := decodeHeaders(data, (*h)[:0])
	if err != nil {
		return err
	}
	*h = out
	return nil
}

// decodeHeaders is the general (slow) path of Headers.UnmarshalJSON.
func decodeHeaders(data []byte, out Headers) (Headers, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if tok == nil {
		return nil, nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, errors.New("headers: want an array of {name: value} objects")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if d, ok := tok.(json.Delim); !ok || d != '{' {
			return nil, errors.New("headers: each entry must be a {name: value} object")
		}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			name, _ := kt.(string)
			vt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			var value string
			switch v := vt.(type) {
			case string:
				value = v
			case json.Number:
				value = v.String()
			case bool:
				value = strconv.FormatBool(v)
			default:
				return nil, fmt.Errorf("headers: value of %q must be a string", name)
			}
			out = append(out, Header{Name: name, Value: value})
		}
		if _, err := dec.Token(); err != nil { // '}'
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil { // ']'
		return nil, err
	}
	return out, nil
}

// Port is a TCP port that decodes from a JSON number or a numeric string
// (Kong sends a number, some gateways a string) and encodes as a number.
type Port int

// UnmarshalJSON implements json.Unmarshaler.
func (p *Port) UnmarshalJSON(data []byte) error {
	s := string(bytes.TrimSpace(data))
	if s == "null" {
		*p = 0
		return nil
	}
	if unq, err := strconv.Unquote(s); err == nil {
		s = unq
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("source_port: want a port number 1-65535, got %s", data)
	}
	*p = Port(n)
	return nil
}

// Code is an HTTP status code that travels as a string ("403") and decodes
// from a string or a number.
type Code int

// MarshalJSON writes the code as a string, as PingOne does.
func (c Code) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.Itoa(int(c)) + `"`), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (c *Code) UnmarshalJSON(data []byte) error {
	s := string(bytes.TrimSpace(data))
	if unq, err := strconv.Unquote(s); err == nil {
		s = unq
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 100 || n > 999 {
		return fmt.Errorf("response_code: want an HTTP status code, got %s", data)
	}
	*c = Code(n)
	return nil
}

// StringList decodes from a JSON array of strings or from one string (OAuth
// scope is space-separated; aud may be a single string).
type StringList []string

// UnmarshalJSON implements json.Unmarshaler. A single string is split on
// spaces.
func (l *StringList) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		*l = strings.Fields(s)
		return nil
	}
	var a []string
	if err := json.Unmarshal(data, &a); err != nil {
		return errors.New("want a string or an array of strings")
	}
	*l = a
	return nil
}

// parseHeaders is the fast path of Headers.UnmarshalJSON for the common
// shape: an array of objects whose keys and values are strings without
// escapes. It reports false for anything else (escapes, numbers, empty
// objects, invalid input), which the general decoder then handles.
func parseHeaders(data []byte, out Headers) (Headers, bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return nil, false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		return out, skipSpace(data, i+1) == len(data)
	}
	for {
		if i >= len(data) || data[i] != '{' {
			return nil, false
		}
		i = skipSpace(data, i+1)
		for {
			name, j, ok := plainString(data, i)
			if !ok {
				return nil, false
			}
			i = skipSpace(data, j)
			if i >= len(data) || data[i] != ':' {
				return nil, false
			}
			value, j, ok := plainString(data, skipSpace(data, i+1))
			if !ok {
				return nil, false
			}
			out = append(out, Header{Name: name, Value: value})
			i = skipSpace(data, j)
			if i >= len(data) {
				return nil, false
			}
			if data[i] == ',' {
				i = skipSpace(data, i+1)
				continue
			}
			if data[i] != '}' {
				return nil, false
			}
			break
		}
		i = skipSpace(data, i+1)
		if i >= len(data) {
			return nil, false
		}
		if data[i] == ',' {
			i = skipSpace(data, i+1)
			continue
		}
		if data[i] != ']' {
			return nil, false
		}
		return out, skipSpace(data, i+1) == len(data)
	}
}

// plainString reads a JSON string at data[i] that has no escapes, control
// characters or invalid UTF-8, and returns it and the index after it.
func plainString(data []byte, i int) (string, int, bool) {
	if i >= len(data) || data[i] != '"' {
		return "", 0, false
	}
	ascii := true
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			s := data[i+1 : j]
			if !ascii && !utf8.Valid(s) {
				return "", 0, false
			}
			return string(s), j + 1, true
		case c == '\\':
			return escapedString(data, i)
		case c < 0x20:
			return "", 0, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", 0, false
}

// escapedString reads a JSON string at data[i] that has escapes.
func escapedString(data []byte, i int) (string, int, bool) {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			var s string
			if json.Unmarshal(data[i:j+1], &s) != nil {
				return "", 0, false
			}
			return s, j + 1, true
		}
	}
	return "", 0, false
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}
