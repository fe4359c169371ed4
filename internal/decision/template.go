package decision

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/edgeward/edgeward/internal/hop"
	"github.com/edgeward/edgeward/internal/token"
)

// headerTemplate is a compiled set_headers entry.
type headerTemplate struct {
	name  string // lower-case
	parts []tmplPart
}

// tmplPart is literal text or one {{root.path}} variable.
type tmplPart struct {
	lit  string
	root string // "claims" or "params"; "" for literal text
	path []string
}

// unsettable reports whether a statement may not set the header name:
// hop-by-hop headers, and the ones that frame or route the message
// (changing them would desynchronise the edge and the origin).
func unsettable(name string) bool {
	return hop.Header(name) || strings.EqualFold(name, "content-length") || strings.EqualFold(name, "host")
}

// parseTemplate compiles a header value with {{claims.NAME}} and
// {{params.NAME}} variables; bound holds the service's parameter names.
func parseTemplate(s string, bound map[string]bool) ([]tmplPart, error) {
	var parts []tmplPart
	for s != "" {
		i := strings.Index(s, "{{")
		if i < 0 {
			parts = append(parts, tmplPart{lit: s})
			break
		}
		if i > 0 {
			parts = append(parts, tmplPart{lit: s[:i]})
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			return nil, errors.New(`unclosed "{{"`)
		}
		expr := strings.TrimSpace(s[i+2 : i+j])
		path := strings.Split(expr, ".")
		switch {
		case slices.Contains(path, ""):
			return nil, fmt.Errorf("template variable %q: want claims.NAME or params.NAME", expr)
		case path[0] == "claims" && len(path) >= 2:
		case path[0] == "params" && len(path) == 2:
			if !bound[path[1]] {
				return nil, fmt.Errorf("template variable %q: no pattern of this service binds {%s}", expr, path[1])
			}
		default:
			return nil, fmt.Errorf("unknown template variable %q: want claims.NAME or params.NAME", expr)
		}
		parts = append(parts, tmplPart{root: path[0], path: path[1:]})
		s = s[i+j+2:]
	}
	return parts, nil
}

// render resolves t; a missing variable renders as "".
func (t *headerTemplate) render(c *token.Claims, params []Param) string {
	if len(t.parts) == 1 {
		return t.parts[0].value(c, params)
	}
	var b strings.Builder
	for i := range t.parts {
		b.WriteString(t.parts[i].value(c, params))
	}
	return b.String()
}

func (p *tmplPart) value(c *token.Claims, params []Param) string {
	switch p.root {
	case "":
		return p.lit
	case "params":
		for _, q := range params {
			if q.Name == p.path[0] {
				return q.Value
			}
		}
		return ""
	}
	v, ok := claimValue(c, p.path[0])
	for _, k := range p.path[1:] {
		m, isMap := v.(map[string]any)
		if !ok || !isMap {
			return ""
		}
		v, ok = m[k]
	}
	if !ok {
		return ""
	}
	return formatClaim(v)
}

// claimValue returns a claim by name, from Raw or, for the standard claims,
// from the typed fields.
func claimValue(c *token.Claims, name string) (any, bool) {
	if c == nil {
		return nil, false
	}
	if v, ok := c.Raw[name]; ok {
		return v, true
	}
	switch name {
	case "sub":
		return c.Subject, c.Subject != ""
	case "iss":
		return c.Issuer, c.Issuer != ""
	case "client_id":
		return c.ClientID, c.ClientID != ""
	}
	return nil, false
}

// formatClaim renders a decoded JSON value as header text: strings as
// they are, numbers without exponent, arrays joined with ",", objects as
// JSON.
func formatClaim(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	case []any:
		s := make([]string, len(x))
		for i, e := range x {
			s[i] = formatClaim(e)
		}
		return strings.Join(s, ",")
	case []string:
		return strings.Join(x, ",")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// compileStatements compiles the service's statements and response
// statements.
func (s *service) compileStatements(sc *APIService, p string) []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	checkName := func(path, name string) (string, bool) {
		low := strings.ToLower(name)
		switch {
		case !httpguts.ValidHeaderFieldName(name):
			add("%s: %q is not a header name", path, name)
		case unsettable(low):
			add("%s: %q frames or routes the request and cannot be changed by a statement", path, name)
		default:
			return low, true
		}
		return "", false
	}
	st := sc.Statements
	for _, name := range slices.Sorted(maps.Keys(st.SetHeaders)) {
		path := p + ".statements.set_headers." + name
		low, ok := checkName(path, name)
		if !ok {
			continue
		}
		parts, err := parseTemplate(st.SetHeaders[name], s.paramsBound)
		if err != nil {
			add("%s: %v", path, err)
			continue
		}
		if !httpguts.ValidHeaderFieldValue(st.SetHeaders[name]) {
			add("%s: control characters are not allowed", path)
			continue
		}
		s.set = append(s.set, headerTemplate{name: low, parts: parts})
		s.remove = append(s.remove, low)
	}
	for k, name := range st.RemoveHeaders {
		if low, ok := checkName(fmt.Sprintf("%s.statements.remove_headers[%d]", p, k), name); ok && !slices.Contains(s.remove, low) {
			s.remove = append(s.remove, low)
		}
	}
	rs := sc.ResponseStatements
	for _, name := range slices.Sorted(maps.Keys(rs.SetHeaders)) {
		path := p + ".response_statements.set_headers." + name
		low, ok := checkName(path, name)
		v := rs.SetHeaders[name]
		switch {
		case !ok:
		case strings.Contains(v, "{{"):
			add("%s: templates are not available in response_statements", path)
		case !httpguts.ValidHeaderFieldValue(v):
			add("%s: control characters are not allowed", path)
		default:
			s.respSet = append(s.respSet, Header{Name: low, Value: v})
			s.respRemove = append(s.respRemove, low)
		}
	}
	for k, name := range rs.RemoveHeaders {
		if low, ok := checkName(fmt.Sprintf("%s.response_statements.remove_headers[%d]", p, k), name); ok && !slices.Contains(s.respRemove, low) {
			s.respRemove = append(s.respRemove, low)
		}
	}
	return errs
}
