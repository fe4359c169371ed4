package config

import (
	"os"

	"go.yaml.in/yaml/v3"
)

// File kinds, as `edgeward validate --kind` names them.
const (
	KindEdge     = "edge"     // the file of `edgeward serve`
	KindDecision = "decision" // the file of `edgeward decision serve`
)

// DetectKind tells an edge file from a decision service file by its
// top-level keys: a file with origins or behaviors is an edge's; one with
// a decision section and neither of those is a standalone decision
// service's. Anything else (including a file that does not parse) is
// reported as an edge file, whose validation then says what is missing.
func DetectKind(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return KindEdge
	}
	return detectKind(data)
}

func detectKind(data []byte) string {
	var top map[string]yaml.Node
	if err := yaml.Unmarshal(data, &top); err != nil {
		return KindEdge
	}
	_, origins := top["origins"]
	_, behaviors := top["behaviors"]
	_, dec := top["decision"]
	if dec && !origins && !behaviors {
		return KindDecision
	}
	return KindEdge
}
