package token

import (
	"errors"

	"github.com/golang-jwt/jwt/v5"
)

// The short descriptions of an *Error. They are safe to show to a client in
// an RFC 6750 error_description: none of them carries any part of a token.
const (
	descMalformed    = "malformed token"
	descAlgorithm    = "algorithm not allowed"
	descKeyHeader    = "key header not allowed"
	descCritical     = "critical header not supported"
	descIssuer       = "wrong issuer"
	descUnknownKey   = "unknown signing key"
	descSignature    = "signature invalid"
	descExpired      = "token expired"
	descNotYetValid  = "token not yet valid"
	descMissingExp   = "token has no exp claim"
	descUnverifiable = "token cannot be verified"
)

// reasons are the metric label values of the descriptions (snake case, one
// per description, a fixed set), plus reasonOversized.
var reasons = map[string]string{
	descMalformed:    "malformed",
	descAlgorithm:    "algorithm_not_allowed",
	descKeyHeader:    "key_header",
	descCritical:     "critical_header",
	descIssuer:       "wrong_issuer",
	descUnknownKey:   "unknown_key",
	descSignature:    "signature_invalid",
	descExpired:      "expired",
	descNotYetValid:  "not_yet_valid",
	descMissingExp:   "missing_exp",
	descUnverifiable: "unverifiable",
}

// reasonOversized counts the malformed tokens refused for their size alone.
const reasonOversized = "oversized"

// Causes wrapped by *Error.Err where no library error says it better.
var (
	errTooLarge        = errors.New("token exceeds the maximum size")
	errKeysUnavailable = errors.New("the issuer's signing keys are not available")
	errWrongIssuer     = errors.New("iss does not match the configured issuer")
	errHeader          = errors.New("the token names its own key (jku, jwk, x5u or x5c)")
	errCrit            = errors.New("the token has a crit header")
	errAlg             = errors.New("alg is not in the issuer's allow-list")
	errClaimType       = errors.New("a registered claim has the wrong JSON type")
)

func invalid(desc string, cause error) *Error {
	return &Error{Description: desc, Err: cause}
}

// transient reports whether e may go away without the token changing (new
// keys may arrive, a refresh may succeed, a deadline may be longer next
// time), so that it must not be negatively cached.
func (e *Error) transient() bool {
	switch e.Description {
	case descUnknownKey, descUnverifiable, descNotYetValid:
		return true
	}
	return false
}

// classify turns an error from jwt.Parser into an *Error. allowed reports
// whether the token's alg is on the issuer's list, hasExp whether the
// token has an exp claim.
func classify(err error, allowed, hasExp bool) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return invalid(descMalformed, err)
	case errors.Is(err, jwt.ErrTokenUnverifiable) && !allowed:
		// No alg, or one the library does not know.
		return invalid(descAlgorithm, err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid) && !allowed:
		// jwt.WithValidMethods reports a method outside the list this way.
		return invalid(descAlgorithm, err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return invalid(descSignature, err)
	case errors.Is(err, jwt.ErrInvalidType):
		return invalid(descMalformed, err)
	case errors.Is(err, jwt.ErrTokenExpired):
		return invalid(descExpired, err)
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return invalid(descNotYetValid, err)
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing) && !hasExp:
		return invalid(descMissingExp, err)
	case errors.Is(err, jwt.ErrTokenInvalidIssuer), errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		// The only other required claim is iss.
		return invalid(descIssuer, err)
	}
	return invalid(descUnverifiable, err)
}
