package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/edgeward/edgeward/internal/config"
)

// The release every test renders: helm template prod ... --namespace edge.
const (
	release   = "prod"
	namespace = "edge"
	fullname  = "prod-edgeward"
	decision  = fullname + "-decision"
)

// TestChart_Renders renders the chart with its default values and with
// every option on (the files under the chart's ci/, which .ci/run lints
// and renders too), decodes every manifest strictly, and checks what a
// running edge depends on: probes on the admin listener, ports, the
// configuration mounted as a directory, a hardened pod, a grace period
// longer than the drain, Services that never expose the admin port to
// viewers, and edge and decision files that load as `edgeward validate`
// loads them, with every ${NAME} they reference supplied by the pod.
func TestChart_Renders(t *testing.T) {
	t.Parallel()
	base := []string{"ConfigMap/" + fullname, "PodDisruptionBudget/" + fullname, "Service/" + fullname, "Service/" + fullname + "-admin"}
	withDecision := []string{"ConfigMap/" + decision, "Deployment/" + decision, "PodDisruptionBudget/" + decision, "Service/" + decision}
	cases := []struct {
		name     string
		values   []string
		set      []string
		workload string // Deployment or DaemonSet
		kinds    []string
	}{
		{
			name:     "defaults",
			workload: "Deployment",
			kinds:    append([]string{"Deployment/" + fullname}, base...),
		},
		{
			name:     "deployment with every option",
			values:   []string{"ci/deployment-all-values.yaml"},
			workload: "Deployment",
			kinds: slices.Concat([]string{"Deployment/" + fullname, "HorizontalPodAutoscaler/" + fullname,
				"Secret/" + fullname, "ServiceMonitor/" + fullname}, base, withDecision),
		},
		{
			name:     "daemonset",
			values:   []string{"ci/daemonset-values.yaml"},
			workload: "DaemonSet",
			kinds:    slices.Concat([]string{"DaemonSet/" + fullname, "ServiceMonitor/" + fullname}, base, withDecision),
		},
		{
			// An address written into config is replaced: in a pod the
			// edge must listen on every interface, on the ports the
			// Services and probes use.
			name: "listen in config is replaced",
			set: []string{"config.listen=127.0.0.1:1", "config.admin=127.0.0.1:2", "ports.http=8443", "ports.admin=9000",
				"config.drain_delay=1h", "drainDelaySeconds=3", "preStopSleepSeconds=0", "terminationGracePeriodSeconds=29"},
			workload: "Deployment",
			kinds:    append([]string{"Deployment/" + fullname}, base...),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := render(t, tc.values, tc.set...)
			if err != nil {
				t.Fatalf("helm template: %v", err)
			}
			m, err := decodeManifests(out)
			if err != nil {
				t.Fatalf("decoding the rendered manifests: %v\n%s", err, out)
			}
			want := slices.Clone(tc.kinds)
			slices.Sort(want)
			if diff := cmp.Diff(want, m.Kinds()); diff != "" {
				t.Fatalf("rendered objects (-want +got):\n%s", diff)
			}
			edge := checkEdge(t, m, tc.workload)
			checkServices(t, m, edge.pod)
			if len(m.HPAs) > 0 {
				checkHPA(t, m)
			}
			if len(m.Monitors) > 0 {
				checkServiceMonitor(t, m)
			}
			if _, ok := m.Deployments[decision]; ok {
				checkDecision(t, m, edge.file)
			}
		})
	}
}

// TestChart_RefusesUnsafeValues: values that would give a broken or
// unsafe deployment stop the rendering with a message naming the value.
func TestChart_RefusesUnsafeValues(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		set     []string
		wantErr string
	}{
		{"grace shorter than the drain", []string{"terminationGracePeriodSeconds=30"}, "terminationGracePeriodSeconds (30) must exceed preStopSleepSeconds + drainDelaySeconds + shutdownGraceSeconds (30)"},
		{"grace shorter than the drain with a delay", []string{"drainDelaySeconds=10"}, "terminationGracePeriodSeconds (40) must exceed preStopSleepSeconds + drainDelaySeconds + shutdownGraceSeconds (40)"},
		{"unknown workload kind", []string{"kind=StatefulSet"}, `kind: want Deployment or DaemonSet, got "StatefulSet"`},
		{"autoscaled DaemonSet", []string{"kind=DaemonSet", "autoscaling.enabled=true"}, "a DaemonSet runs one edge per node and has no autoscaler"},
		{"chart-made Secret without its value", []string{"secret.create=true"}, "secret.values.EDGEWARD_GATEWAY_CREDENTIAL is required with secret.create"},
		{"decision grace shorter than its drain", []string{"decision.enabled=true", "decision.terminationGracePeriodSeconds=15"}, "decision.terminationGracePeriodSeconds (15) must exceed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := render(t, nil, tc.set...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("helm template --set %s: error %v, want one containing %q", strings.Join(tc.set, ","), err, tc.wantErr)
			}
		})
	}
}

// renderedEdge is what the edge checks found: its pod and its loaded file.
type renderedEdge struct {
	pod  corev1.PodTemplateSpec
	file *config.Edge
}

func checkEdge(t *testing.T, m *manifests, workload string) renderedEdge {
	t.Helper()
	var pod corev1.PodTemplateSpec
	var selector *metav1.LabelSelector
	switch workload {
	case "Deployment":
		d := m.Deployments[fullname]
		pod, selector = d.Spec.Template, d.Spec.Selector
		if len(m.HPAs) == 0 && (d.Spec.Replicas == nil || *d.Spec.Replicas < 2) {
			t.Errorf("Deployment replicas = %v, want at least 2 for availability", d.Spec.Replicas)
		}
	case "DaemonSet":
		d := m.DaemonSets[fullname]
		pod, selector = d.Spec.Template, d.Spec.Selector
	}
	checkSelects(t, workload+" selector", selector, pod.Labels)
	if pdb, ok := m.PDBs[fullname]; ok {
		checkSelects(t, "PodDisruptionBudget", pdb.Spec.Selector, pod.Labels)
		if pdb.Spec.MaxUnavailable == nil && pdb.Spec.MinAvailable == nil {
			t.Errorf("PodDisruptionBudget sets neither maxUnavailable nor minAvailable")
		}
	}

	c := container(t, pod.Spec, "edge")
	ports := checkPod(t, pod.Spec, c, []string{"serve", "-c", "/etc/edgeward/edgeward.yaml"}, "http", "admin")
	path := checkConfigMount(t, m, pod.Spec, c, fullname, "edgeward.yaml")
	f, err := config.LoadEdge(path, podEnv(t, m, c))
	if err != nil {
		t.Fatalf("the rendered edge file does not pass `edgeward validate`:\n%v", err)
	}
	if want := "0.0.0.0:" + strconv.Itoa(int(ports["http"])); f.Listen != want {
		t.Errorf("edge file listen = %q, want %q (every interface, the container's http port)", f.Listen, want)
	}
	if want := "0.0.0.0:" + strconv.Itoa(int(ports["admin"])); f.Admin != want {
		t.Errorf("edge file admin = %q, want %q (the probes' port)", f.Admin, want)
	}
	checkGrace(t, pod.Spec, c, f.DrainDelay, f.ShutdownGrace)
	return renderedEdge{pod: pod, file: f}
}

func checkDecision(t *testing.T, m *manifests, edge *config.Edge) {
	t.Helper()
	d := m.Deployments[decision]
	checkSelects(t, "decision Deployment selector", d.Spec.Selector, d.Spec.Template.Labels)
	checkSelects(t, "decision PodDisruptionBudget", m.PDBs[decision].Spec.Selector, d.Spec.Template.Labels)
	c := container(t, d.Spec.Template.Spec, "decision")
	ports := checkPod(t, d.Spec.Template.Spec, c, []string{"decision", "serve", "-c", "/etc/edgeward/decision.yaml"}, "sideband", "admin")
	path := checkConfigMount(t, m, d.Spec.Template.Spec, c, decision, "decision.yaml")
	f, err := config.LoadDecision(path, podEnv(t, m, c))
	if err != nil {
		t.Fatalf("the rendered decision file does not pass `edgeward validate --kind decision`:\n%v", err)
	}
	if want := "0.0.0.0:" + strconv.Itoa(int(ports["sideband"])); f.Listen != want {
		t.Errorf("decision file listen = %q, want %q", f.Listen, want)
	}
	if want := "0.0.0.0:" + strconv.Itoa(int(ports["admin"])); f.Admin != want {
		t.Errorf("decision file admin = %q, want %q", f.Admin, want)
	}
	// The decision service drains for a fixed 10 s (internal/app).
	checkGrace(t, d.Spec.Template.Spec, c, 0, 10*time.Second)

	svc := m.Services[decision]
	checkSelects(t, "Service "+decision, &metav1.LabelSelector{MatchLabels: svc.Spec.Selector}, d.Spec.Template.Labels)
	var sideband int32
	for _, p := range svc.Spec.Ports {
		if _, ok := ports[p.TargetPort.String()]; !ok {
			t.Errorf("Service %s port %s targets %q, not a port of the container", decision, p.Name, p.TargetPort.String())
		}
		if p.TargetPort.String() == "sideband" {
			sideband = p.Port
		}
	}
	// The edge's authorize function calls this Service, with a credential
	// the decision service accepts.
	auth := edge.Functions[config.ImplicitFunction]
	if want := "http://" + decision + ":" + strconv.Itoa(int(sideband)); auth.ServiceURL.String() != want {
		t.Errorf("edge authorize service_url = %q, want %q", auth.ServiceURL, want)
	}
	if !slices.Contains(f.Decision.GatewayCredentials, auth.SecretHeaderValue) {
		t.Errorf("the edge's secret_header_value is not one of the decision service's gateway_credentials")
	}
}

func container(t *testing.T, spec corev1.PodSpec, name string) corev1.Container {
	t.Helper()
	for _, c := range spec.Containers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no container %q in the pod", name)
	return corev1.Container{}
}

// checkPod checks the container's command, named ports, probes, security
// context and resources, and returns its ports by name.
func checkPod(t *testing.T, spec corev1.PodSpec, c corev1.Container, args []string, portNames ...string) map[string]int32 {
	t.Helper()
	if !slices.Equal(c.Args, args) || len(c.Command) != 0 {
		t.Errorf("container %s runs command %q args %q, want the image's entrypoint with %q", c.Name, c.Command, c.Args, args)
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	for _, n := range portNames {
		if ports[n] == 0 {
			t.Errorf("container %s has no port named %q", c.Name, n)
		}
	}

	// Readiness says whether to send traffic (503 while starting or
	// draining); liveness and startup only whether the process answers.
	for _, p := range []struct {
		kind  string
		probe *corev1.Probe
		path  string
	}{{"readiness", c.ReadinessProbe, "/readyz"}, {"liveness", c.LivenessProbe, "/healthz"}, {"startup", c.StartupProbe, "/healthz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("container %s: no HTTP %s probe", c.Name, p.kind)
			continue
		}
		g := p.probe.HTTPGet
		if g.Path != p.path || g.Port.String() != "admin" {
			t.Errorf("container %s %s probe = GET %s on port %s, want GET %s on the admin port", c.Name, p.kind, g.Path, g.Port.String(), p.path)
		}
	}

	psc, sc := spec.SecurityContext, c.SecurityContext
	if psc == nil || sc == nil {
		t.Fatalf("container %s: pod or container securityContext missing", c.Name)
	}
	nonRoot := (sc.RunAsNonRoot != nil && *sc.RunAsNonRoot) || (psc.RunAsNonRoot != nil && *psc.RunAsNonRoot)
	uid := sc.RunAsUser
	if uid == nil {
		uid = psc.RunAsUser
	}
	if !nonRoot || uid == nil || *uid == 0 {
		t.Errorf("container %s: runAsNonRoot %v with user %v, want a non-root numeric user", c.Name, nonRoot, uid)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("container %s: root file system is writable", c.Name)
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("container %s: privilege escalation allowed", c.Name)
	}
	if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
		t.Errorf("container %s: capabilities %+v, want every one dropped and none added", c.Name, sc.Capabilities)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Errorf("container %s: a service account token is mounted; the edge never calls the Kubernetes API", c.Name)
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("container %s: resources %+v, want CPU and memory requests and a memory limit", c.Name, c.Resources)
	}
	return ports
}

// checkConfigMount checks that the ConfigMap cm is mounted as the
// directory /etc/edgeward (a subPath mount never sees an update), that the
// container is told to read file from it, and writes the file to a
// temporary directory for the loaders; it returns its path.
func checkConfigMount(t *testing.T, m *manifests, spec corev1.PodSpec, c corev1.Container, cm, file string) string {
	t.Helper()
	var mount *corev1.VolumeMount
	for i, vm := range c.VolumeMounts {
		if vm.MountPath == "/etc/edgeward" {
			mount = &c.VolumeMounts[i]
		}
	}
	if mount == nil {
		t.Fatalf("container %s mounts nothing at /etc/edgeward", c.Name)
	}
	if mount.SubPath != "" || mount.SubPathExpr != "" || !mount.ReadOnly {
		t.Errorf("container %s: /etc/edgeward mounted with subPath %q, read-only %v; want the whole directory, read-only", c.Name, mount.SubPath+mount.SubPathExpr, mount.ReadOnly)
	}
	var vol *corev1.Volume
	for i, v := range spec.Volumes {
		if v.Name == mount.Name {
			vol = &spec.Volumes[i]
		}
	}
	if vol == nil || vol.ConfigMap == nil || vol.ConfigMap.Name != cm || len(vol.ConfigMap.Items) > 0 {
		t.Fatalf("volume %q is %+v, want the whole ConfigMap %s", mount.Name, vol, cm)
	}
	if c.Args[len(c.Args)-1] != "/etc/edgeward/"+file {
		t.Errorf("container %s reads %s, want /etc/edgeward/%s", c.Name, c.Args[len(c.Args)-1], file)
	}
	data, ok := m.ConfigMaps[cm].Data[file]
	if !ok {
		t.Fatalf("ConfigMap %s has no key %s", cm, file)
	}
	path := filepath.Join(t.TempDir(), file)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// podEnv is the environment the container gets: plain values as written,
// values from a Secret the chart renders as written there, and from a
// Secret made outside the chart a stand-in. A ${NAME} the file references
// that the pod does not set fails the loaders, as it would fail the pod.
func podEnv(t *testing.T, m *manifests, c corev1.Container) config.LookupEnv {
	t.Helper()
	if len(c.EnvFrom) > 0 {
		t.Errorf("container %s: envFrom imports every key of a source; name each variable", c.Name)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			if ref.Optional != nil && *ref.Optional {
				t.Errorf("container %s: env %s is optional; a missing credential must stop the pod", c.Name, e.Name)
			}
			s, ok := m.Secrets[ref.Name]
			if !ok {
				env[e.Name] = "stand-in-for-" + ref.Name + "-" + ref.Key
				continue
			}
			v, ok := s.StringData[ref.Key]
			if !ok {
				t.Errorf("container %s: env %s reads key %s, which Secret %s lacks", c.Name, e.Name, ref.Key, ref.Name)
			}
			env[e.Name] = v
		default:
			t.Errorf("container %s: env %s from an unexpected source", c.Name, e.Name)
		}
	}
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

// checkGrace: something holds the listener open while endpoints stop
// routing to the pod (a preStop sleep, or the edge's drain_delay); and as
// Kubernetes counts the grace period from the start of the preStop hook,
// it must cover the hook's sleep, the delay and the drain.
func checkGrace(t *testing.T, spec corev1.PodSpec, c corev1.Container, delay, drain time.Duration) {
	t.Helper()
	var sleep time.Duration
	if l := c.Lifecycle; l != nil && l.PreStop != nil {
		if l.PreStop.Exec != nil || l.PreStop.Sleep == nil {
			t.Errorf("container %s: preStop %+v, want the sleep action (the image has no shell)", c.Name, l.PreStop)
		} else {
			sleep = time.Duration(l.PreStop.Sleep.Seconds) * time.Second
		}
	}
	if sleep+delay <= 0 {
		t.Errorf("container %s: neither a preStop sleep nor a drain delay; endpoints may still route to a pod that stopped listening", c.Name)
	}
	if spec.TerminationGracePeriodSeconds == nil {
		t.Fatalf("container %s: no terminationGracePeriodSeconds", c.Name)
	}
	if grace := time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second; grace <= sleep+delay+drain {
		t.Errorf("container %s: terminationGracePeriodSeconds %v, want more than the preStop sleep %v + the delay %v + the drain %v", c.Name, grace, sleep, delay, drain)
	}
}

// checkServices: the viewer Service reaches only the http port; the admin
// Service (health, metrics, invalidations, profiles) is ClusterIP only.
func checkServices(t *testing.T, m *manifests, pod corev1.PodTemplateSpec) {
	t.Helper()
	for name, want := range map[string]string{fullname: "http", fullname + "-admin": "admin"} {
		svc, ok := m.Services[name]
		if !ok {
			t.Errorf("no Service %s", name)
			continue
		}
		checkSelects(t, "Service "+name, &metav1.LabelSelector{MatchLabels: svc.Spec.Selector}, pod.Labels)
		if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort.String() != want {
			t.Errorf("Service %s ports %+v, want exactly one, to the container's %q port", name, svc.Spec.Ports, want)
		}
	}
	if typ := m.Services[fullname+"-admin"].Spec.Type; typ != corev1.ServiceTypeClusterIP {
		t.Errorf("admin Service type %s, want ClusterIP", typ)
	}
}

func checkHPA(t *testing.T, m *manifests) {
	t.Helper()
	h := m.HPAs[fullname]
	ref := h.Spec.ScaleTargetRef
	d, ok := m.Deployments[ref.Name]
	if ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || !ok {
		t.Fatalf("HPA scales %s %s %s, want the edge's Deployment", ref.APIVersion, ref.Kind, ref.Name)
	}
	if d.Spec.Replicas != nil {
		t.Errorf("Deployment sets replicas %d while the HPA owns the count", *d.Spec.Replicas)
	}
	if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 2 || h.Spec.MaxReplicas < *h.Spec.MinReplicas {
		t.Errorf("HPA replicas %v..%d, want at least 2 and max >= min", h.Spec.MinReplicas, h.Spec.MaxReplicas)
	}
}

// checkServiceMonitor: it selects exactly the admin Services (never the
// viewer Service) and scrapes /metrics on a port they have.
func checkServiceMonitor(t *testing.T, m *manifests) {
	t.Helper()
	sm := m.Monitors[fullname]
	want := []string{fullname + "-admin"}
	if _, ok := m.Services[decision]; ok {
		want = append(want, decision)
	}
	var got []string
	for name, svc := range m.Services {
		if selects(sm.Spec.Selector.MatchLabels, svc.Labels) {
			got = append(got, name)
			for _, ep := range sm.Spec.Endpoints {
				if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == ep.Port }) {
					t.Errorf("ServiceMonitor scrapes port %q, which Service %s lacks", ep.Port, name)
				}
			}
		}
	}
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Services the ServiceMonitor selects (-want +got):\n%s", diff)
	}
	if len(sm.Spec.Endpoints) == 0 || sm.Spec.Endpoints[0].Path != "/metrics" {
		t.Errorf("ServiceMonitor endpoints %+v, want /metrics", sm.Spec.Endpoints)
	}
}

func checkSelects(t *testing.T, what string, sel *metav1.LabelSelector, labels map[string]string) {
	t.Helper()
	if sel == nil || len(sel.MatchLabels) == 0 || len(sel.MatchExpressions) > 0 || !selects(sel.MatchLabels, labels) {
		t.Errorf("%s %+v does not select the pods (labels %v)", what, sel, labels)
	}
}

func selects(match, labels map[string]string) bool {
	for k, v := range match {
		if labels[k] != v {
			return false
		}
	}
	return len(match) > 0
}

// TestChart_FileNeedsEveryVariableItReferences: an edge file referencing
// a ${NAME} the pod does not set fails to load, as it would fail the pod;
// the chart tests see it through the same lookup.
func TestChart_FileNeedsEveryVariableItReferences(t *testing.T) {
	t.Parallel()
	out, err := render(t, nil, "secret.keys={EDGEWARD_GATEWAY_CREDENTIAL}")
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	m, err := decodeManifests(out)
	if err != nil {
		t.Fatal(err)
	}
	pod := m.Deployments[fullname].Spec.Template.Spec
	c := container(t, pod, "edge")
	path := checkConfigMount(t, m, pod, c, fullname, "edgeward.yaml")
	_, err = config.LoadEdge(path, podEnv(t, m, c))
	if err == nil || !strings.Contains(err.Error(), "PINGONE_ENV_ID") {
		t.Errorf("loading the edge file without $PINGONE_ENV_ID: error %v, want one naming it", err)
	}
}
