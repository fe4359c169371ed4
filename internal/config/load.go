package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/edgeward/edgeward/internal/joinerr"
)

// Source is one configuration document being read: its name (for error
// messages), its parsed tree (for line numbers) and the problems found so
// far.
type Source struct {
	Name     string
	Root     *yaml.Node
	problems Problems
}

// LookupEnv is how ${NAME} references are resolved; os.LookupEnv by default.
type LookupEnv func(string) (string, bool)

// decode parses data into v strictly: YAML syntax errors, unknown keys, type
// mismatches and unset environment variables each become a Problem with its
// line. It returns the source for later validation.
func decode(name string, data []byte, v any, lookup LookupEnv) *Source {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	s := &Source{Name: name}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			s.add(0, "", errNoDocument.Error())
			return s
		}
		s.addYAMLError(err)
		return s
	}
	s.Root = &root
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		s.addYAMLError(err)
	default:
		s.add(extra.Line, "", "a second YAML document (after ---) is not read: edgeward reads one document per file")
	}
	expandEnv(&root, lookup, func(n *yaml.Node, msg string) { s.add(n.Line, "", msg) })
	checkTree(&root, reflect.TypeOf(v), "", func(n *yaml.Node, path, msg string) { s.add(n.Line, path, msg) })
	if len(s.problems) > 0 {
		return s
	}
	if err := root.Decode(v); err != nil {
		s.addYAMLError(err)
	}
	return s
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// addYAMLError turns yaml.v3's errors ("line 5: cannot unmarshal ...") into
// problems with lines.
func (s *Source) addYAMLError(err error) {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	for _, m := range msgs {
		if g := yamlLine.FindStringSubmatch(m); g != nil {
			line, _ := strconv.Atoi(g[1])
			s.add(line, "", cleanYAMLMessage(g[2]))
			continue
		}
		s.add(0, "", cleanYAMLMessage(m))
	}
}

func (s *Source) add(line int, path, msg string) {
	s.problems = append(s.problems, Problem{File: s.Name, Line: line, Path: path, Msg: msg})
}

// Check records the errors of one section's Validate (or any check), whose
// messages start with a path relative to base. Each becomes a Problem with
// the full path and its line.
func (s *Source) Check(base string, err error) {
	for _, e := range joinerr.Leaves(err) {
		rel, msg := splitPath(e.Error())
		path := joinPath(base, rel)
		s.problems = append(s.problems, Problem{File: s.Name, Line: lineOf(s.Root, path), Path: path, Msg: msg})
	}
}

// Errorf records a problem at path.
func (s *Source) Errorf(path, format string, args ...any) {
	s.problems = append(s.problems, Problem{File: s.Name, Line: lineOf(s.Root, path), Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Has reports whether the document sets the key at path.
func (s *Source) Has(path string) bool {
	return s.Root != nil && find(s.Root, path) != nil
}

// Err returns the problems found, sorted by line, or nil.
func (s *Source) Err() error {
	if len(s.problems) == 0 {
		return nil
	}
	return s.problems.sorted()
}

func readFile(path string) (string, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", nil, fmt.Errorf("read config: %w", err)
	}
	return path, data, nil
}

// find returns the node at path or nil.
func find(root *yaml.Node, path string) *yaml.Node {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, seg := range splitSegments(path) {
		var next *yaml.Node
		switch {
		case seg.index >= 0 && n.Kind == yaml.SequenceNode && seg.index < len(n.Content):
			next = n.Content[seg.index]
		case n.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == seg.key {
					next = n.Content[i+1]
					break
				}
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}
