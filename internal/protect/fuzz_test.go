package protect

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/edgeward/edgeward/internal/edge"
)

// witnessRule runs last, in the request body phase, when the body was
// parsed without error, and records the body processor and (for the
// URLENCODED processor, which the CRS forces for any content type it has
// no parser for) how many bytes it read.
const witnessRule = `SecRule REQBODY_ERROR "@eq 0" "id:1001,phase:2,pass,t:none,log,msg:'inspected',logdata:'%{REQBODY_PROCESSOR} %{REQUEST_BODY_LENGTH}'"`

var contentTypes = []string{
	"application/json",
	"application/x-www-form-urlencoded",
	"multipart/form-data; boundary=XyZ",
	"text/xml",
	"application/vnd.api+json",
	"text/plain",
	"",
}

var (
	witnessOnce sync.Once
	witness     *Set
)

// FuzzInspectBody sends hostile bodies under every content type the CRS
// parses (and some it does not) through a block-mode set: Inspect never
// panics; a request it lets through had every byte of its body inspected,
// and the origin gets exactly those bytes.
func FuzzInspectBody(f *testing.F) {
	f.Add(uint8(0), []byte(`{"a":[1,{"b":"c"}]}`))
	f.Add(uint8(0), []byte(`{"a":`))
	f.Add(uint8(0), bytes.Repeat([]byte("["), 2000))
	f.Add(uint8(1), []byte("a=1&b=%zz&&=&c"))
	f.Add(uint8(2), []byte("--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\nhello\r\n--XyZ--\r\n"))
	f.Add(uint8(2), []byte("--XyZ\r\nContent-Disposition: form-data; name=\"f\r\n\r\n--XyZ"))
	f.Add(uint8(3), []byte(`<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>`))
	f.Add(uint8(4), []byte{0xff, 0xfe, 0x00, '{'})
	f.Add(uint8(6), []byte("\x00\x01\x02"))
	f.Fuzz(func(t *testing.T, ct uint8, body []byte) {
		witnessOnce.Do(func() {
			p, err := New(context.Background(), one(SetConfig{WAF: WAFConfig{Mode: ModeBlock, MaxBodyBytes: 1 << 16, Directives: witnessRule}}), Options{})
			if err != nil {
				t.Fatal(err)
			}
			witness = p.Set("s")
		})
		hr := httptest.NewRequest("POST", "/orders", bytes.NewReader(body))
		if c := contentTypes[int(ct)%len(contentTypes)]; c != "" {
			hr.Header.Set("Content-Type", c)
		}
		r := &edge.Request{ID: "fuzz", HTTP: hr, Client: netip.MustParseAddrPort("192.0.2.1:1"), Host: "api.example"}
		v := newView(r)
		res, err := witness.waf.inspect(r, &v)
		if err != nil {
			if int64(len(body)) > 1<<16 && status(err) == 413 {
				return
			}
			t.Fatalf("inspect(%d bytes) error %v", len(body), err)
		}
		if res.interrupted {
			return // blocked
		}
		witnessed := ""
		for _, m := range res.matched {
			if m.id == 1001 {
				witnessed = m.data
			}
		}
		proc, n, _ := strings.Cut(witnessed, " ")
		switch {
		case witnessed == "":
			t.Fatalf("passed without a parsed body (content type %q)", hr.Header.Get("Content-Type"))
		case len(body) == 0:
		case !strings.Contains("URLENCODED MULTIPART XML JSON", proc) || proc == "":
			t.Fatalf("passed with body processor %q (content type %q)", proc, hr.Header.Get("Content-Type"))
		case proc == "URLENCODED" && n != strconv.Itoa(len(body)):
			t.Fatalf("passed with %s of %d body bytes inspected", n, len(body))
		}
		got, _ := io.ReadAll(r.HTTP.Body)
		if !bytes.Equal(got, body) {
			t.Fatalf("origin body = %q, want %q", got, body)
		}
	})
}
