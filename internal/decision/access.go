package decision

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/edgeward/edgeward/internal/token"
)

// access runs the service's and then the operation's access control: the
// token, scopes, groups, condition. It reports whether the request may
// pass; otherwise d is the deny.
func (e *Engine) access(ctx context.Context, s *service, op *operation, in *Input, d *Decision) bool {
	auth := op.rules.auth
	if auth == "" {
		auth = s.rules.auth
	}
	needToken := auth == AuthRequired || len(s.rules.scopes) > 0 || len(op.rules.scopes) > 0 ||
		len(s.rules.groups) > 0 || len(op.rules.groups) > 0
	if auth != AuthNone {
		c, ok := e.authenticate(ctx, s, in, d, needToken)
		if !ok {
			return false
		}
		d.claims = c
		if c != nil {
			d.Subject = c.Subject
		}
	} else {
		if d.Trace != nil {
			d.trace("token", "not required", "authentication is none")
		}
	}
	var vars *celVars
	for _, r := range [2]*rules{&s.rules, &op.rules} {
		if !e.scopes(s, r, d) || !e.groups(r, d) {
			return false
		}
		if r.cond != nil {
			if vars == nil {
				vars = &celVars{in: *in, d: d}
			}
			if !e.condition(ctx, r.cond, vars, d) {
				return false
			}
		}
	}
	return true
}

// authenticate finds and checks the access token. It returns nil claims
// without denying when there is no token and none is needed.
func (e *Engine) authenticate(ctx context.Context, s *service, in *Input, d *Decision, need bool) (*token.Claims, bool) {
	if in.Claims != nil {
		return e.checkClaims(s, in, d)
	}
	value, n := headerValue(in.Headers, "authorization")
	if n > 1 {
		e.denyToken(d, s, "several Authorization headers")
		return nil, false
	}
	raw, isBearer := bearer(value)
	if n == 0 || !isBearer {
		if !need {
			if d.Trace != nil {
				d.trace("token", "none", "no bearer token; authentication is optional")
			}
			return nil, true
		}
		if d.Trace != nil {
			d.trace("token", "missing", "no Authorization: Bearer header")
		}
		d.WWWAuthenticate = `Bearer realm="` + s.realm + `"`
		e.deny(d, 401, ReasonTokenMissing, "unauthorized", "an access token is required")
		return nil, false
	}
	if raw == "" {
		e.denyToken(d, s, "empty bearer token")
		return nil, false
	}
	if s.verifier == nil {
		e.denyToken(d, s, "this API accepts no bearer tokens")
		return nil, false
	}
	c, err := s.verifier.Verify(ctx, raw)
	if err != nil {
		var te *token.Error
		if !errors.As(err, &te) {
			if ctx.Err() != nil {
				if d.Trace != nil {
					d.trace("token", "unavailable", "%v", ctx.Err())
				}
				e.deny(d, 503, ReasonUnavailable, "temporarily_unavailable", "the token could not be verified in time")
				return nil, false
			}
			e.denyToken(d, s, "the token could not be verified")
			return nil, false
		}
		e.denyToken(d, s, te.Description)
		return nil, false
	}
	if !slices.Contains(c.Audience, s.audience) {
		e.denyToken(d, s, "the token is not for this audience")
		return nil, false
	}
	if d.Trace != nil {
		d.trace("token", "valid", "bearer token of %q, sub %q", c.Issuer, c.Subject)
	}
	return c, true
}

// checkClaims checks an access token the gateway validated: still active,
// not expired, from the service's issuer when it names one, for its
// audience.
func (e *Engine) checkClaims(s *service, in *Input, d *Decision) (*token.Claims, bool) {
	c := in.Claims
	skew := s.skew
	if s.verifier == nil {
		skew = defaultClaimsSkew
	}
	switch {
	case in.ClaimsInactive:
		e.denyToken(d, s, "the token is not active")
	case !c.ExpiresAt.IsZero() && e.now().After(c.ExpiresAt.Add(skew)):
		e.denyToken(d, s, "the token has expired")
	case s.iss != "" && c.Issuer != "" && c.Issuer != s.iss:
		e.denyToken(d, s, "the token's issuer is not trusted here")
	case !slices.Contains(c.Audience, s.audience):
		e.denyToken(d, s, "the token is not for this audience")
	default:
		if d.Trace != nil {
			d.trace("token", "valid", "access_token object from the gateway, sub %q", c.Subject)
		}
		return c, true
	}
	return nil, false
}

// defaultClaimsSkew is the leeway for an access_token object's exp when
// the service names no issuer.
const defaultClaimsSkew = 30 * time.Second

// bearer extracts the token of an "Authorization: Bearer" value.
func bearer(v string) (string, bool) {
	const p = "bearer "
	if len(v) < len(p) || !strings.EqualFold(v[:len(p)], p) {
		return "", false
	}
	return strings.Trim(v[len(p):], " \t"), true
}

func (e *Engine) denyToken(d *Decision, s *service, desc string) {
	if d.Trace != nil {
		d.trace("token", "invalid", "%s", desc)
	}
	d.WWWAuthenticate = `Bearer realm="` + s.realm + `", error="invalid_token", error_description="` + quoteContent(desc) + `"`
	e.deny(d, 401, ReasonTokenInvalid, "invalid_token", desc)
}

// scopes checks a scope rule against the token's scope (or scp) claim.
func (e *Engine) scopes(s *service, r *rules, d *Decision) bool {
	if len(r.scopes) == 0 {
		return true
	}
	have := tokenScopes(d.claims)
	ok := false
	if r.scopeAll {
		ok = true
		for _, want := range r.scopes {
			if !slices.Contains(have, want) {
				ok = false
				break
			}
		}
	} else {
		for _, want := range r.scopes {
			if slices.Contains(have, want) {
				ok = true
				break
			}
		}
	}
	mode := MatchAny
	if r.scopeAll {
		mode = MatchAll
	}
	if ok {
		if d.Trace != nil {
			d.trace("scopes", "passed", "%s of %v", mode, r.scopes)
		}
		return true
	}
	if d.Trace != nil {
		d.trace("scopes", "failed", "%s of %v, token has %v", mode, r.scopes, have)
	}
	want := strings.Join(r.scopes, " ")
	d.WWWAuthenticate = `Bearer realm="` + s.realm + `", error="insufficient_scope", scope="` + quoteContent(want) + `"`
	e.deny(d, 403, ReasonScope, "insufficient_scope", "the token lacks a required scope")
	return false
}

// tokenScopes returns the token's scopes: the verifier's, or the scope
// claim (a space-separated string or an array), or scp.
func tokenScopes(c *token.Claims) []string {
	if c == nil {
		return nil
	}
	if len(c.Scopes) > 0 {
		return c.Scopes
	}
	for _, k := range []string{"scope", "scp"} {
		if v, ok := c.Raw[k]; ok {
			return stringList(v)
		}
	}
	return nil
}

// stringList reads a claim that holds a space-separated string or an
// array of strings.
func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		return strings.Fields(x)
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// groups checks that the token's groups claim holds one of the rule's
// groups.
func (e *Engine) groups(r *rules, d *Decision) bool {
	if len(r.groups) == 0 {
		return true
	}
	var have []string
	switch v, _ := claimValue(d.claims, r.groupsClaim); x := v.(type) {
	case string:
		have = []string{x} // one group, spaces and all
	default:
		have = stringList(x)
	}
	for _, g := range r.groups {
		if slices.Contains(have, g) {
			if d.Trace != nil {
				d.trace("groups", "passed", "member of %q", g)
			}
			return true
		}
	}
	if d.Trace != nil {
		d.trace("groups", "failed", "claim %q %v holds none of %v", r.groupsClaim, have, r.groups)
	}
	e.deny(d, 403, ReasonGroups, "access_denied", "not a member of a required group")
	return false
}

// condition evaluates a CEL condition; an error denies.
func (e *Engine) condition(ctx context.Context, c *condition, vars *celVars, d *Decision) bool {
	ok, err := c.eval(ctx, vars)
	switch {
	case err != nil:
		if d.Trace != nil {
			d.trace("condition", "error", "%s: %v", c.src, err)
		}
		e.deny(d, 403, ReasonConditionError, "access_denied", "the request does not meet the policy")
		return false
	case !ok:
		if d.Trace != nil {
			d.trace("condition", "false", "%s", c.src)
		}
		e.deny(d, 403, ReasonCondition, "access_denied", "the request does not meet the policy")
		return false
	}
	if d.Trace != nil {
		d.trace("condition", "true", "%s", c.src)
	}
	return true
}

// deny makes d a deny with a small JSON body.
func (e *Engine) deny(d *Decision, status int, reason Reason, code, desc string) {
	d.Allowed, d.Status, d.Reason, d.Error, d.Description = false, status, reason, code, desc
	d.RemoveHeaders, d.SetHeaders = nil, nil
	if d.Trace != nil {
		d.trace("decision", "deny", "%d %s", status, reason)
	}
}
