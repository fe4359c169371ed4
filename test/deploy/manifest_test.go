package deploy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/edgeward/edgeward/internal/testkit"
)

// chartDir is the chart, relative to this package's directory.
const chartDir = "../../deploy/helm/edgeward"

// helmInstall is how CI (.ci/run) and a developer get helm; the Go module
// proxy serves it, so no other download is needed.
const helmInstall = "go install helm.sh/helm/v4/cmd/helm@v4.3.2"

// helm returns the helm program: on PATH, or where go install puts it.
// Where it is missing the test is skipped with the command that installs
// it, or fails under EDGEWARD_REQUIRE_TOOLS=1 (CI installs it).
func helm(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	var dirs []string
	if d := os.Getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	if d := os.Getenv("GOPATH"); d != "" {
		dirs = append(dirs, filepath.Join(filepath.SplitList(d)[0], "bin"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "helm")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	msg := "helm is not on PATH: install it with `" + helmInstall + "`"
	if os.Getenv(testkit.RequireToolsEnv) == "1" {
		t.Fatalf("%s; %s=1 requires it", msg, testkit.RequireToolsEnv)
	}
	t.Skip(msg)
	return ""
}

// render runs `helm template` on the chart with the values files (relative
// to the chart) and --set arguments, and returns its output, or the error
// with helm's message.
func render(t *testing.T, valuesFiles []string, set ...string) ([]byte, error) {
	t.Helper()
	readChart(t)
	args := []string{"template", release, chartDir, "--namespace", namespace}
	for _, f := range valuesFiles {
		args = append(args, "--values", filepath.Join(chartDir, f))
	}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	cmd := exec.Command(helm(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	// No repositories or plugins are involved; keep helm away from the
	// user's configuration and caches.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CONFIG_HOME="+home, "HELM_CACHE_HOME="+home, "HELM_DATA_HOME="+home)
	out, err := cmd.Output()
	if err != nil {
		return nil, errors.New(stderr.String())
	}
	return out, nil
}

// readChart reads every file of the chart. helm reads them in another
// process, which go test's result cache does not see; reading them here
// makes a change to the chart rerun the tests instead of replaying a
// cached pass.
func readChart(t *testing.T) {
	t.Helper()
	err := filepath.WalkDir(chartDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		_, err = os.ReadFile(path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// serviceMonitor is the part of the Prometheus Operator's
// monitoring.coreos.com/v1 ServiceMonitor that the chart writes, with the
// operator's field names. The CRD's Go types are not in k8s.io/api, and
// importing the operator's module for one struct is not worth it: strict
// decoding into this struct still fails on any field the chart writes that
// is not listed here, so a typo cannot hide.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector  metav1.LabelSelector `json:"selector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Interval      string `json:"interval"`
			ScrapeTimeout string `json:"scrapeTimeout"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// manifests is one rendering of the chart, decoded strictly into the
// Kubernetes API's types, by name.
type manifests struct {
	ConfigMaps   map[string]*corev1.ConfigMap
	Secrets      map[string]*corev1.Secret
	Services     map[string]*corev1.Service
	Deployments  map[string]*appsv1.Deployment
	DaemonSets   map[string]*appsv1.DaemonSet
	PDBs         map[string]*policyv1.PodDisruptionBudget
	HPAs         map[string]*autoscalingv2.HorizontalPodAutoscaler
	Monitors     map[string]*serviceMonitor
	kindAndNames []string
}

// Kinds lists "Kind/name" of every object, sorted.
func (m *manifests) Kinds() []string {
	k := append([]string(nil), m.kindAndNames...)
	sort.Strings(k)
	return k
}

// decodeManifests splits helm's output into documents and decodes each
// strictly (unknown or duplicate fields are errors) into the type its
// apiVersion and kind name. A kind the chart is not expected to render is
// an error too.
func decodeManifests(data []byte) (*manifests, error) {
	m := &manifests{
		ConfigMaps: map[string]*corev1.ConfigMap{}, Secrets: map[string]*corev1.Secret{},
		Services: map[string]*corev1.Service{}, Deployments: map[string]*appsv1.Deployment{},
		DaemonSets: map[string]*appsv1.DaemonSet{}, PDBs: map[string]*policyv1.PodDisruptionBudget{},
		HPAs: map[string]*autoscalingv2.HorizontalPodAutoscaler{}, Monitors: map[string]*serviceMonitor{},
	}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var errs []error
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		j, err := sigsyaml.YAMLToJSON(doc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if string(bytes.TrimSpace(j)) == "null" {
			continue // only comments
		}
		var tm metav1.TypeMeta
		if err := sigsyaml.Unmarshal(doc, &tm); err != nil {
			errs = append(errs, err)
			continue
		}
		name, err := decodeObject(m, tm, doc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		m.kindAndNames = append(m.kindAndNames, tm.Kind+"/"+name)
	}
	return m, errors.Join(errs...)
}

func decodeObject(m *manifests, tm metav1.TypeMeta, doc []byte) (string, error) {
	switch tm.APIVersion + " " + tm.Kind {
	case "v1 ConfigMap":
		return decodeInto(m.ConfigMaps, &corev1.ConfigMap{}, doc)
	case "v1 Secret":
		return decodeInto(m.Secrets, &corev1.Secret{}, doc)
	case "v1 Service":
		return decodeInto(m.Services, &corev1.Service{}, doc)
	case "apps/v1 Deployment":
		return decodeInto(m.Deployments, &appsv1.Deployment{}, doc)
	case "apps/v1 DaemonSet":
		return decodeInto(m.DaemonSets, &appsv1.DaemonSet{}, doc)
	case "policy/v1 PodDisruptionBudget":
		return decodeInto(m.PDBs, &policyv1.PodDisruptionBudget{}, doc)
	case "autoscaling/v2 HorizontalPodAutoscaler":
		return decodeInto(m.HPAs, &autoscalingv2.HorizontalPodAutoscaler{}, doc)
	case "monitoring.coreos.com/v1 ServiceMonitor":
		return decodeInto(m.Monitors, &serviceMonitor{}, doc)
	}
	return "", fmt.Errorf("unexpected object %s %s", tm.APIVersion, tm.Kind)
}

// decodeInto decodes doc strictly into o and files it under its name.
func decodeInto[T metav1.Object](into map[string]T, o T, doc []byte) (string, error) {
	if err := sigsyaml.UnmarshalStrict(doc, o); err != nil {
		return "", fmt.Errorf("%T: %w", o, err)
	}
	if _, dup := into[o.GetName()]; dup {
		return "", fmt.Errorf("%T %q rendered twice", o, o.GetName())
	}
	into[o.GetName()] = o
	return o.GetName(), nil
}

// TestDecodeManifests_IsStrict pins that the decoder the chart tests rely
// on refuses what the API server would refuse or silently drop: an
// unknown field, a duplicate key, a kind the chart does not render.
func TestDecodeManifests_IsStrict(t *testing.T) {
	t.Parallel()
	const ok = "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  ports: [{port: 80}]\n"
	cases := []struct {
		name, doc string
		wantErr   bool
	}{
		{"valid", "# a comment-only document\n---\n" + ok, false},
		{"unknown field", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  replica: 2\n", true},
		{"unknown nested field", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  ports: [{port: 80, targetPorts: http}]\n", true},
		{"duplicate key", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: \"1\"}\ndata: {y: \"2\"}\n", true},
		{"wrong type", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  replicas: two\n", true},
		{"unexpected kind", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: a}\n", true},
		{"unknown ServiceMonitor field", "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: a}\nspec:\n  endpoints: [{port: admin, honorLabel: true}]\n", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeManifests([]byte(tc.doc))
			if (err != nil) != tc.wantErr {
				t.Errorf("decodeManifests(%s) error = %v, want error %v", tc.name, err, tc.wantErr)
			}
		})
	}
}
