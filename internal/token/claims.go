package token

import (
	"fmt"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// newClaims reads the claims the decision service uses from a verified
// token's payload. A registered claim of the wrong JSON type makes the
// token malformed rather than silently empty.
func newClaims(mc jwt.MapClaims) (*Claims, error) {
	c := &Claims{Raw: map[string]any(mc)}
	var err error
	if c.Issuer, err = str(mc, "iss"); err != nil {
		return nil, err
	}
	if c.Subject, err = str(mc, "sub"); err != nil {
		return nil, err
	}
	if c.Audience, err = strs(mc, "aud", false); err != nil {
		return nil, err
	}
	if c.ClientID, err = str(mc, "client_id"); err != nil {
		return nil, err
	}
	if c.ClientID == "" {
		if c.ClientID, err = str(mc, "azp"); err != nil {
			return nil, err
		}
	}
	scopeKey := "scope"
	if _, ok := mc["scope"]; !ok {
		scopeKey = "scp"
	}
	if c.Scopes, err = strs(mc, scopeKey, true); err != nil {
		return nil, err
	}
	exp, err := mc.GetExpirationTime()
	if err != nil || exp == nil {
		return nil, fmt.Errorf("%w: exp", errClaimType)
	}
	c.ExpiresAt = exp.Time
	return c, nil
}

// str returns the string claim name, "" when absent.
func str(mc jwt.MapClaims, name string) (string, error) {
	switch v := mc[name].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	}
	return "", fmt.Errorf("%w: %s is not a string", errClaimType, name)
}

// strs returns a claim that is a string or an array of strings (RFC 7519
// aud; the scope of RFC 8693 and the scp array of several issuers). With
// split, a string is a space-separated list.
func strs(mc jwt.MapClaims, name string, split bool) ([]string, error) {
	switch v := mc[name].(type) {
	case nil:
		return nil, nil
	case string:
		if split {
			return strings.Fields(v), nil
		}
		if v == "" {
			return nil, nil
		}
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%w: %s holds a non-string", errClaimType, name)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: %s is neither a string nor an array of strings", errClaimType, name)
}
