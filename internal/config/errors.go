package config

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Problem is one configuration error: where it is and what is wrong.
type Problem struct {
	File string
	Line int // 0 when unknown
	Path string
	Msg  string
}

// Error formats the problem as "file:line: path: message".
func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is every problem found in one file, in line order. It is the
// error Load returns for an invalid file.
type Problems []Problem

// Error joins the problems, one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

func (ps Problems) sorted() Problems {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), strings.Compare(a.Path, b.Path))
	})
	return ps
}

// splitPath splits a package validation error "key.path: message" into its
// path and message. A message without a recognisable path prefix has an
// empty path.
func splitPath(msg string) (path, rest string) {
	i := strings.Index(msg, ": ")
	if i <= 0 {
		return "", msg
	}
	p := msg[:i]
	if strings.ContainsAny(p, " \t\"'") {
		return "", msg
	}
	return p, msg[i+2:]
}

// joinPath joins a section path and a relative path.
func joinPath(base, rel string) string {
	switch {
	case base == "":
		return rel
	case rel == "":
		return base
	case strings.HasPrefix(rel, "["):
		return base + rel
	}
	return base + "." + rel
}

var errNoDocument = errors.New("the file is empty")
