package protect

// The CRS costs Coraza about 300 rule evaluations per request, most of
// them regular expressions run by Go's regexp (no DFA) over every
// argument and header value, including a bearer token of several hundred
// bytes. The settings here cut that work without changing what is
// detected; TestDetection compares the tuned rule group with the plain
// CRS on the whole attack sample.

// tuningDirectives go right after Coraza's recommended configuration,
// before any rule is compiled.
//
// SecRxPreFilter (Coraza 3.7+, marked experimental) extracts from each
// @rx pattern, when it is compiled, the literals any match must contain
// and the shortest input it can match; a value without them skips the
// regular expression. It is a necessary-condition check: it can only make
// a regular expression run when it need not, never skip one that could
// match.
const tuningDirectives = "SecRxPreFilter On\n"
