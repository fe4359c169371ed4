package decision

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp/cmpopts"
	"go.yaml.in/yaml/v3"
)

var cmpEmpty = cmpopts.EquateEmpty()

// parseConfig decodes the decision: section from YAML, strictly, and
// applies the defaults.
func parseConfig(t testing.TB, src string) Config {
	t.Helper()
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("decode config: %v", err)
	}
	c.Defaults()
	return c
}

// newTestEngine builds an engine from YAML, failing the test on error.
func newTestEngine(t testing.TB, src string) *Engine {
	t.Helper()
	return newEngineFrom(t, parseConfig(t, src))
}

func newEngineFrom(t testing.TB, c Config) *Engine {
	t.Helper()
	e, err := New(t.Context(), c, Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(e.Close)
	return e
}

// request builds an Input; headers are name, value pairs.
func request(method, url string, headers ...string) *Input {
	in := &Input{Method: method}
	if err := in.SetURL(url); err != nil {
		panic(err)
	}
	var h HeaderList
	for i := 0; i+1 < len(headers); i += 2 {
		h = append(h, Header{Name: headers[i], Value: headers[i+1]})
	}
	in.Headers = h
	return in
}

func get(url string, headers ...string) *Input { return request("GET", url, headers...) }
