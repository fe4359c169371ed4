package edge

// PathOptions tune path canonicalisation (see Canonicalize).
type PathOptions struct {
	// KeepEmptySegments keeps "//" instead of merging it into "/".
	KeepEmptySegments bool
	// AllowEncodedSlash lets %2F and %5C through (kept encoded) instead of
	// refusing the request with 400.
	AllowEncodedSlash bool
}

// Canonicalize returns the canonical form of the request path p (an escaped
// path as sent by the client), or an error for a path the edge refuses
// (400). Placeholder: the real implementation replaces this file.
func Canonicalize(p string, opt PathOptions) (string, error) {
	return p, nil
}
