package demo

import (
	"regexp"
	"strings"
)

// metricsPattern selects the demo's useful series: requests by behavior
// and result, decisions by operation and reason, the cache's size.
const metricsPattern = `^edgeward_(edge_requests_total|decisions_total|cache_paths|cache_bytes)`

var metricsRE = regexp.MustCompile(metricsPattern)

// MetricsCommand is the shell command the demo prints to see what the
// edge counted: the few series that say what happened, without the
// zeros (every label combination is pre-created) and the Go runtime's.
func MetricsCommand(adminURL string) string {
	return "curl -s " + adminURL + "/metrics | grep -E '" + metricsPattern + "' | grep -v ' 0$'"
}

// usefulSeries applies MetricsCommand's filter to an exposition text.
func usefulSeries(exposition string) []string {
	var out []string
	for line := range strings.SplitSeq(exposition, "\n") {
		if metricsRE.MatchString(line) && !strings.HasSuffix(line, " 0") {
			out = append(out, line)
		}
	}
	return out
}
