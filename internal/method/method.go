// Package method is the one rule for a valid HTTP method, shared by every
// place that accepts a method from outside: the behaviors' allowed_methods
// (internal/edge), the method a decision service's allow may set
// (internal/authorizer) and the methods on the sideband wire
// (internal/sideband). The HTTP/1.1 request parser applies the same
// grammar to request lines.
//
// RFC 9110 section 9.1: method = token, case-sensitive. Any token is a
// method; whether it is served is each behavior's allowed_methods.
package method

import "golang.org/x/net/http/httpguts"

// Valid reports whether m is an RFC 9110 method: a non-empty token
// (RFC 9110 section 5.6.2).
func Valid(m string) bool {
	// A header field name is exactly a token (RFC 9110 section 5.1).
	return m != "" && httpguts.ValidHeaderFieldName(m)
}
