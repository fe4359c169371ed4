package httpcache

import "time"

// parseAge reads the Age field of a response as RFC 9111 5.1 asks of a
// cache: a list (several field lines, or commas in one) counts by its
// first member only (empty list elements are skipped, RFC 9110 5.6.1), and a first member that is not delta-seconds
// (1*DIGIT: "1.5", "-1", "", "abc") is ignored, as if there were no Age
// at all. ok is false when there is no usable value. A value beyond 2^31
// is 2^31 (RFC 9111 1.2.2).
func parseAge(lines []string) (age time.Duration, ok bool) {
	var first string
	found := false
	splitList(lines, func(member string) {
		if !found {
			first, found = member, true
		}
	})
	if !found {
		return 0, false
	}
	n := parseDelta(first, true, -1)
	if n < 0 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}
