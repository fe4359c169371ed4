package httpcache

import (
	"errors"
	"strings"
)

// This file parses the Dictionary type of Structured Field Values (RFC
// 8941 4.2, kept by RFC 9651) for CDN-Cache-Control (RFC 9213), which is
// defined as one. Only what a cache directive can use is kept: each
// member's bare item (parameters are parsed, for the grammar, and
// dropped). RFC 9651's Date and Display String items are refused as RFC
// 8941 does, so such a field is ignored whole.

// sfKind is the type of a bare item.
type sfKind uint8

const (
	sfInteger sfKind = iota + 1
	sfDecimal
	sfString
	sfToken
	sfBytes
	sfBoolean
	sfInnerList
)

// sfItem is one dictionary member's value.
type sfItem struct {
	kind sfKind
	num  int64  // sfInteger; sfBoolean as 0/1
	str  string // sfString, sfToken, sfBytes (undecoded), sfDecimal (as written)
}

// sfMember is one dictionary member, in field order.
type sfMember struct {
	key  string
	item sfItem
}

var errSF = errors.New("not a structured field dictionary")

// parseSFDictionary parses the field lines of a Dictionary, combined as
// one list (RFC 8941 4.2: lines are joined with commas). A later member
// with the same key replaces an earlier one, keeping its first position
// (RFC 8941 3.2). Any syntax error fails the whole field.
func parseSFDictionary(lines []string) ([]sfMember, error) {
	p := sfParser{s: strings.Join(lines, ",")}
	p.skipSP()
	var out []sfMember
	for !p.done() {
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		var it sfItem
		if p.peek() == '=' {
			p.i++
			if it, err = p.itemOrInnerList(); err != nil {
				return nil, err
			}
		} else {
			it = sfItem{kind: sfBoolean, num: 1}
			if err := p.params(); err != nil {
				return nil, err
			}
		}
		replaced := false
		for i := range out {
			if out[i].key == key {
				out[i].item, replaced = it, true
			}
		}
		if !replaced {
			out = append(out, sfMember{key, it})
		}
		p.skipOWS()
		if p.done() {
			return out, nil
		}
		if p.peek() != ',' {
			return nil, errSF
		}
		p.i++
		p.skipOWS()
		if p.done() {
			return nil, errSF // a trailing comma
		}
	}
	return out, nil
}

type sfParser struct {
	s string
	i int
}

func (p *sfParser) done() bool { return p.i >= len(p.s) }

func (p *sfParser) peek() byte {
	if p.done() {
		return 0
	}
	return p.s[p.i]
}

func (p *sfParser) skipSP() {
	for !p.done() && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *sfParser) skipOWS() {
	for !p.done() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// key = ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" )
func (p *sfParser) key() (string, error) {
	start := p.i
	if c := p.peek(); !(c >= 'a' && c <= 'z') && c != '*' {
		return "", errSF
	}
	p.i++
	for !p.done() {
		c := p.s[p.i]
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' || c == '*' {
			p.i++
			continue
		}
		break
	}
	return p.s[start:p.i], nil
}

func (p *sfParser) itemOrInnerList() (sfItem, error) {
	if p.peek() == '(' {
		p.i++
		for {
			p.skipSP()
			if p.peek() == ')' {
				p.i++
				return sfItem{kind: sfInnerList}, p.params()
			}
			if _, err := p.bareItem(); err != nil {
				return sfItem{}, err
			}
			if err := p.params(); err != nil {
				return sfItem{}, err
			}
			if c := p.peek(); c != ' ' && c != ')' {
				return sfItem{}, errSF
			}
		}
	}
	it, err := p.bareItem()
	if err != nil {
		return sfItem{}, err
	}
	return it, p.params()
}

// params parses *( ";" *SP key [ "=" bare-item ] ) and drops them.
func (p *sfParser) params() error {
	for p.peek() == ';' {
		p.i++
		p.skipSP()
		if _, err := p.key(); err != nil {
			return err
		}
		if p.peek() == '=' {
			p.i++
			if _, err := p.bareItem(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *sfParser) bareItem() (sfItem, error) {
	switch c := p.peek(); {
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == '"':
		return p.str()
	case c == ':':
		end := strings.IndexByte(p.s[p.i+1:], ':')
		if end < 0 {
			return sfItem{}, errSF
		}
		b := p.s[p.i+1 : p.i+1+end]
		for i := 0; i < len(b); i++ {
			if !isBase64(b[i]) {
				return sfItem{}, errSF
			}
		}
		p.i += end + 2
		return sfItem{kind: sfBytes, str: b}, nil
	case c == '?':
		if p.i+1 >= len(p.s) || (p.s[p.i+1] != '0' && p.s[p.i+1] != '1') {
			return sfItem{}, errSF
		}
		v := int64(p.s[p.i+1] - '0')
		p.i += 2
		return sfItem{kind: sfBoolean, num: v}, nil
	case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '*':
		start := p.i
		p.i++
		for !p.done() && (isTokenChar(p.s[p.i]) || p.s[p.i] == ':' || p.s[p.i] == '/') {
			p.i++
		}
		return sfItem{kind: sfToken, str: p.s[start:p.i]}, nil
	}
	return sfItem{}, errSF
}

// number parses an Integer (at most 15 digits) or a Decimal (at most 12
// integer and 3 fraction digits).
func (p *sfParser) number() (sfItem, error) {
	start := p.i
	neg := p.peek() == '-'
	if neg {
		p.i++
	}
	var n int64
	digits, frac := 0, -1
	for !p.done() {
		c := p.s[p.i]
		switch {
		case c >= '0' && c <= '9':
			if frac >= 0 {
				frac++
			} else {
				digits++
				n = n*10 + int64(c-'0')
			}
		case c == '.' && frac < 0:
			if digits > 12 {
				return sfItem{}, errSF
			}
			frac = 0
		default:
			goto end
		}
		p.i++
		if digits > 15 || frac > 3 {
			return sfItem{}, errSF
		}
	}
end:
	if digits == 0 || frac == 0 {
		return sfItem{}, errSF
	}
	if frac > 0 {
		return sfItem{kind: sfDecimal, str: p.s[start:p.i]}, nil
	}
	if neg {
		n = -n
	}
	return sfItem{kind: sfInteger, num: n}, nil
}

// str parses a String: printable ASCII, with \" and \\ the only escapes.
func (p *sfParser) str() (sfItem, error) {
	p.i++
	var b strings.Builder
	for !p.done() {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '\\':
			if p.done() || (p.s[p.i] != '"' && p.s[p.i] != '\\') {
				return sfItem{}, errSF
			}
			b.WriteByte(p.s[p.i])
			p.i++
		case c == '"':
			return sfItem{kind: sfString, str: b.String()}, nil
		case c < 0x20 || c > 0x7e:
			return sfItem{}, errSF
		default:
			b.WriteByte(c)
		}
	}
	return sfItem{}, errSF
}

func isBase64(c byte) bool {
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '='
}
