package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

var durationType = reflect.TypeFor[time.Duration]()

// checkValue decodes one leaf node (or a node whose type decodes itself)
// into a fresh value of t, so that every type error in the file is found
// with its path, not only the first one yaml.v3 would stop at. It returns
// the message an operator reads, in edgeward's words: "want an integer,
// got "abc"", never a Go type name.
func checkValue(n *yaml.Node, t reflect.Type) string {
	if isNull(n) {
		return ""
	}
	if t.Kind() == reflect.Interface {
		return ""
	}
	v := reflect.New(t)
	err := n.Decode(v.Interface())
	if err == nil {
		return ""
	}
	return typeMessage(err, n, t)
}

// typeMessage rewrites a decoding error: yaml.v3's "cannot unmarshal !!str
// `abc` into int" becomes "want an integer, got "abc"", and an
// Unmarshaler's own "line N: ..." loses the line (the problem has it).
func typeMessage(err error, n *yaml.Node, t reflect.Type) string {
	msgs := []string{err.Error()}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		if g := yamlLine.FindStringSubmatch(m); g != nil {
			m = g[2]
		}
		if strings.HasPrefix(m, "cannot unmarshal") {
			m = fmt.Sprintf("want %s, got %s", wantOf(t), gotOf(n))
		}
		out = append(out, m)
	}
	return strings.Join(out, "; ")
}

// wantOf describes what a value of t is written as, in YAML terms.
func wantOf(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == durationType {
		return "a duration such as 500ms, 30s or 1h"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false (unquoted)"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map:
		return "a mapping of names to settings (name: ...)"
	case reflect.Struct:
		return "a mapping (key: value)"
	}
	return "a value"
}

// gotOf describes a node as the operator wrote it.
func gotOf(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			return fmt.Sprintf("the quoted string %q", n.Value)
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "a value"
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// kindMismatch reports the problem of a node that is not the kind of
// YAML value t needs (a list where a mapping belongs, ...), or "".
func kindMismatch(n *yaml.Node, t reflect.Type) string {
	if isNull(n) {
		return ""
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		if n.Kind != yaml.MappingNode {
			return fmt.Sprintf("want %s, got %s", wantOf(t), gotOf(n))
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return fmt.Sprintf("want %s, got %s", wantOf(t), gotOf(n))
		}
	}
	return ""
}

var goTypeName = regexp.MustCompile(`\b(?:map\[[^\]]*\])?\*?\[?\]?[a-z][a-z0-9]*\.[A-Z][A-Za-z0-9]*\b`)

// cleanYAMLMessage removes Go type names from a message yaml.v3 wrote
// that checkTree did not already catch ("into config.Edge").
func cleanYAMLMessage(m string) string {
	if i := strings.Index(m, " into "); i >= 0 && strings.HasPrefix(m, "cannot unmarshal") {
		return strings.TrimPrefix(m[:i], "cannot unmarshal ") + " is not valid here"
	}
	return goTypeName.ReplaceAllString(m, "value")
}
