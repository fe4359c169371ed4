package demo

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/internal/config"
)

// examplesDir is the repository's examples/ directory.
const examplesDir = "../../examples"

// exampleEnv is what the examples' ${ENV} references resolve to in the
// test; a reference to anything else fails the test.
var exampleEnv = map[string]string{
	"EDGEWARD_GATEWAY_CREDENTIAL": "test-gateway-credential-0123456789",
	"PINGONE_ENV_ID":              "abcdef01-2345-6789-abcd-ef0123456789",
	"EDGEWARD_ORIGIN_URL":         "https://abc123.execute-api.us-east-1.amazonaws.com/prod",
	"EDGEWARD_DECISION_URL":       "https://http-access-api.pingone.com/v1/environments/abcdef01-2345-6789-abcd-ef0123456789",
}

// TestExamples_Load parses every file under examples/ as `edgeward
// validate` would, so that an example cannot rot when a key changes.
func TestExamples_Load(t *testing.T) {
	t.Parallel()
	kinds := map[string]string{
		"edgeward.yaml":            "edge",
		"standalone/decision.yaml": "decision",
		"standalone/edge.yaml":     "edge",
		"pingone/edgeward.yaml":    "edge",
		"container/edgeward.yaml":  "edge",
	}
	var found []string
	err := filepath.WalkDir(examplesDir, func(path string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			rel, _ := filepath.Rel(examplesDir, path)
			found = append(found, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for name := range kinds {
		if !slices.Contains(found, name) {
			t.Errorf("examples/%s is missing", name)
		}
	}
	var used []string
	lookup := func(name string) (string, bool) {
		v, ok := exampleEnv[name]
		used = append(used, name)
		return v, ok
	}
	for _, name := range found {
		kind, ok := kinds[name]
		if !ok {
			t.Errorf("examples/%s: the test does not know whether it is an edge or a decision file; add it to kinds", name)
			continue
		}
		data, err := os.ReadFile(filepath.Join(examplesDir, name))
		if err != nil {
			t.Fatal(err)
		}
		switch kind {
		case "edge":
			_, err = config.ParseEdge("examples/"+name, data, lookup)
		case "decision":
			_, err = config.ParseDecision("examples/"+name, data, lookup)
		}
		if err != nil {
			t.Errorf("examples/%s does not load:\n%v", name, err)
		}
	}
	for name := range exampleEnv {
		if !slices.Contains(used, name) {
			t.Errorf("no example uses ${%s}; drop it from exampleEnv", name)
		}
	}
}

// TestExamples_DemoConfigMatchesTheExample keeps examples/edgeward.yaml
// the demo's configuration: the same behaviors, origin path, issuer,
// service and operations.
func TestExamples_DemoConfigMatchesTheExample(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(examplesDir, "edgeward.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	example, err := config.ParseEdge("examples/edgeward.yaml", data, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	generated, err := config.ParseEdge("demo", Config(Layout{
		Listen:    "127.0.0.1:8080",
		Admin:     "127.0.0.1:9901",
		OriginURL: "http://127.0.0.1:8090" + Stage,
		IssuerURL: "http://127.0.0.1:8082",
	}), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if example.Origins["orders-api"].URL != generated.Origins["orders-api"].URL {
		t.Errorf("origin url: example %q, demo %q", example.Origins["orders-api"].URL, generated.Origins["orders-api"].URL)
	}
	if !equalJSON(t, example.Behaviors, generated.Behaviors) {
		t.Errorf("behaviors differ between examples/edgeward.yaml and the demo")
	}
	if !equalJSON(t, example.Decision.APIServices, generated.Decision.APIServices) {
		t.Errorf("decision.api_services differ between examples/edgeward.yaml and the demo")
	}
	if !equalJSON(t, example.Decision.TokenIssuers, generated.Decision.TokenIssuers) {
		t.Errorf("decision.token_issuers differ between examples/edgeward.yaml and the demo")
	}
}

// equalJSON compares a and b by their JSON encodings (the config types
// hold unexported state that cmp would refuse), reporting a diff.
func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err := json.MarshalIndent(a, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.MarshalIndent(b, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(ja), string(jb)); diff != "" {
		t.Logf("(-example +demo):\n%s", diff)
		return false
	}
	return true
}
