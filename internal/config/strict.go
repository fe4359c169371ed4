package config

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// checkTree walks the YAML tree alongside the Go type it will be decoded
// into and reports every mapping key the type does not have, every value
// of the wrong kind (a list where a mapping belongs) and every scalar that
// does not decode (an integer spelled "abc", a size of "-5"), each with its
// line and path. yaml.v3 stops at the first error of some kinds and names
// Go types in its messages, and its KnownFields works only on a Decoder
// reading text while edgeward decodes an already expanded node tree: so
// the checks are done here, before decoding, and all of them at once.
func checkTree(n *yaml.Node, t reflect.Type, path string, report func(*yaml.Node, string, string)) {
	if n == nil {
		return
	}
	if n.Kind == yaml.AliasNode {
		// Not followed: an alias may repeat a large subtree many times
		// (a "billion laughs" file); the decoder checks what it refers to,
		// with its own bound on aliasing.
		return
	}
	if n.Kind == yaml.DocumentNode {
		for _, c := range n.Content {
			checkTree(c, t, path, report)
		}
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) || t.Implements(unmarshalerType) {
		// The type decodes itself: decode this node alone to find its error.
		if msg := checkValue(n, t); msg != "" {
			report(n, path, msg)
		}
		return
	}
	if msg := kindMismatch(n, t); msg != "" {
		if path == "" {
			msg = "the file must be " + strings.TrimPrefix(msg, "want ")
		}
		report(n, path, msg)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return // null: the zero value
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				report(k, joinPath(path, k.Value), fmt.Sprintf("unknown key (known: %s)", strings.Join(slices.Sorted(maps.Keys(fields)), ", ")))
				continue
			}
			checkTree(v, ft, joinPath(path, k.Value), report)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			p := joinPath(path, k.Value)
			if msg := checkValue(k, t.Key()); msg != "" {
				report(k, p, "key: "+msg)
				continue
			}
			checkTree(n.Content[i+1], t.Elem(), p, report)
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, c := range n.Content {
			checkTree(c, t.Elem(), path+"["+strconv.Itoa(i)+"]", report)
		}
	default:
		if n.Kind != yaml.ScalarNode {
			report(n, path, fmt.Sprintf("want %s, got %s", wantOf(t), gotOf(n)))
			return
		}
		if msg := checkValue(n, t); msg != "" {
			report(n, path, msg)
		}
	}
}

// yamlFields maps a struct's YAML keys to field types, following ",inline".
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if strings.Contains(opts, "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range yamlFields(ft) {
					out[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// lineOf finds the line of the node at path (as written by validation
// errors: "a.b[2].c"), or of its nearest existing ancestor.
func lineOf(root *yaml.Node, path string) int {
	n := root
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n == nil {
		return 0
	}
	line := n.Line
	for _, seg := range splitSegments(path) {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		next := (*yaml.Node)(nil)
		switch {
		case seg.index >= 0 && n.Kind == yaml.SequenceNode:
			if seg.index < len(n.Content) {
				next = n.Content[seg.index]
			}
		case n.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == seg.key {
					next = n.Content[i+1]
					if next.Kind == yaml.ScalarNode || next.Kind == yaml.AliasNode {
						line = n.Content[i].Line
					}
					break
				}
			}
		}
		if next == nil {
			return line
		}
		n = next
		if n.Kind != yaml.ScalarNode {
			line = n.Line
		} else if n.Line > 0 {
			line = n.Line
		}
	}
	return line
}

type segment struct {
	key   string
	index int
}

// splitSegments splits "behaviors[1].origin" into behaviors, [1], origin.
// Map keys may contain dots only when they are not followed by a known
// field; edgeward's own ids avoid dots, so a plain split is used.
func splitSegments(path string) []segment {
	var out []segment
	for _, part := range strings.Split(path, ".") {
		for part != "" {
			if i := strings.IndexByte(part, '['); i >= 0 {
				if i > 0 {
					out = append(out, segment{key: part[:i], index: -1})
				}
				j := strings.IndexByte(part[i:], ']')
				if j < 0 {
					out = append(out, segment{key: part, index: -1})
					break
				}
				n, err := strconv.Atoi(part[i+1 : i+j])
				if err != nil {
					out = append(out, segment{key: part[i+1 : i+j], index: -1})
				} else {
					out = append(out, segment{index: n})
				}
				part = part[i+j+1:]
				continue
			}
			out = append(out, segment{key: part, index: -1})
			break
		}
	}
	return out
}
