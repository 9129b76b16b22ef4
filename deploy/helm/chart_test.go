package helm_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// TestChartLints runs helm lint --strict (warnings fail) with every values file.
func TestChartLints(t *testing.T) {
	for _, file := range valuesFiles {
		t.Run(file, func(t *testing.T) {
			args := append([]string{"lint", "--strict", chartDir}, valuesArgs(file)...)
			out, stderr, err := runHelm(t, args...)
			if err != nil {
				t.Fatalf("helm %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr)
			}
			if !strings.Contains(out, "0 chart(s) failed") {
				t.Fatalf("helm lint did not report success:\n%s", out)
			}
		})
	}
}

// TestChartRendersValidObjects renders every values file, decodes every object strictly
// and checks what must hold in all of them.
func TestChartRendersValidObjects(t *testing.T) {
	for _, file := range valuesFiles {
		t.Run(file, func(t *testing.T) {
			m := render(t, file)
			if m.Docs < 8 {
				t.Fatalf("only %d objects rendered", m.Docs)
			}
			checkPodSecurity(t, m)
			checkNoInlineSecrets(t, m)
			checkProbes(t, m)
			checkWorkerGrace(t, m)
			checkStarterGrace(t, m)
			checkMigrationsHook(t, m)
			checkWiring(t, m)
		})
	}
}

// podTemplates lists every pod template rendered (Deployments and Jobs) by name.
func podTemplates(m *manifests) map[string]corev1.PodTemplateSpec {
	pods := map[string]corev1.PodTemplateSpec{}
	for _, d := range m.Deployments {
		pods["Deployment/"+d.Name] = d.Spec.Template
	}
	for _, j := range m.Jobs {
		pods["Job/"+j.Name] = j.Spec.Template
	}
	return pods
}

// checkPodSecurity: every pod runs as non-root with a read-only root filesystem, no
// privilege escalation, no capabilities and the runtime's seccomp profile; ours as 65532.
func checkPodSecurity(t *testing.T, m *manifests) {
	t.Helper()
	for name, pod := range podTemplates(m) {
		ps := pod.Spec.SecurityContext
		if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot {
			t.Errorf("%s: pod securityContext.runAsNonRoot is not true", name)
		}
		if ps == nil || ps.SeccompProfile == nil || ps.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: pod seccompProfile is not RuntimeDefault", name)
		}
		if pod.Spec.AutomountServiceAccountToken == nil || *pod.Spec.AutomountServiceAccountToken {
			t.Errorf("%s: automountServiceAccountToken is not false", name)
		}
		ours := pod.Labels["app.kubernetes.io/component"] != "ui"
		for _, c := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
			sc := c.SecurityContext
			where := name + " container " + c.Name
			switch {
			case sc == nil:
				t.Errorf("%s: no securityContext", where)
				continue
			case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot:
				t.Errorf("%s: runAsNonRoot is not true", where)
			case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
				t.Errorf("%s: readOnlyRootFilesystem is not true", where)
			case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
				t.Errorf("%s: allowPrivilegeEscalation is not false", where)
			case sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) > 0:
				t.Errorf("%s: capabilities are not drop [ALL]", where)
			case sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
				t.Errorf("%s: seccompProfile is not RuntimeDefault", where)
			case ours && (sc.RunAsUser == nil || *sc.RunAsUser != 65532):
				t.Errorf("%s: runAsUser is not 65532 (the images' user)", where)
			}
		}
	}
}

// secretEnv are the variables that must come from a Secret (secretKeyRef), never a value.
var secretEnv = map[string]bool{
	"DATABASE_URL": true, "FULFILMENT_PAYLOAD_KEYS": true, "TEMPORAL_API_KEY": true,
	"TEMPORAL_AUTH_CLIENT_SECRET": true, "STRIPE_SECRET_KEY": true, "EASYPOST_API_KEY": true,
	"SENDGRID_API_KEY": true, "TWILIO_AUTH_TOKEN": true, "TWILIO_ACCOUNT_SID": true,
	"STRIPE_WEBHOOK_SECRET": true, "EASYPOST_WEBHOOK_SECRET": true,
	"SENDGRID_WEBHOOK_PUBLIC_KEY": true, "TEMPORAL_TLS_CLIENT_KEY_DATA": true,
	"TEMPORAL_TLS_CLIENT_CERT_DATA": true,
}

// secretLooking matches names that suggest a secret; such a variable may have a plain
// value only when it names a file or a flag (allowed below).
var secretLooking = regexp.MustCompile(`KEY|SECRET|TOKEN|PASSWORD|DATABASE_URL|CREDENTIAL`)

var plainAllowed = map[string]bool{
	"TEMPORAL_TLS_CLIENT_KEY_PATH":     true, // a path to the mounted Secret
	"TEMPORAL_TLS_KEY":                 true, // the UI's path to the mounted Secret
	"GOOGLE_APPLICATION_CREDENTIALS":   true, // a path to the mounted Secret
	"TEMPORAL_CODEC_PASS_ACCESS_TOKEN": true, // a flag
	"STARTER_TOKEN_CACHE_TTL":          true, // a duration
}

// checkNoInlineSecrets: secrets are referenced, never inlined; the chart renders no
// Secret object at all.
func checkNoInlineSecrets(t *testing.T, m *manifests) {
	t.Helper()
	for name, pod := range podTemplates(m) {
		for _, c := range pod.Spec.Containers {
			for _, e := range c.Env {
				where := fmt.Sprintf("%s container %s env %s", name, c.Name, e.Name)
				if secretEnv[e.Name] && (e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
					t.Errorf("%s: must come from a Secret (secretKeyRef), got value %q", where, e.Value)
				}
				if e.Value != "" && secretLooking.MatchString(e.Name) && !plainAllowed[e.Name] {
					t.Errorf("%s: looks like a secret but has a plain value", where)
				}
				if r := e.ValueFrom; r != nil && r.SecretKeyRef != nil && (r.SecretKeyRef.Name == "" || r.SecretKeyRef.Key == "") {
					t.Errorf("%s: secretKeyRef without name or key", where)
				}
			}
			for _, f := range c.EnvFrom {
				if f.ConfigMapRef != nil {
					t.Errorf("%s container %s: envFrom a ConfigMap (secrets belong in Secrets)", name, c.Name)
				}
			}
		}
		for _, v := range pod.Spec.Volumes {
			if v.Secret != nil && v.Secret.SecretName == "" {
				t.Errorf("%s volume %s: Secret without a name", name, v.Name)
			}
		}
	}
}

// checkProbes: the starter is probed on its HTTP port, the worker on its admin port
// (6060), both /healthz (liveness) and /readyz (readiness).
func checkProbes(t *testing.T, m *manifests) {
	t.Helper()
	for _, want := range []struct {
		component, port string
		number          int32
	}{{"starter", "http", 8080}, {"worker", "admin", 6060}} {
		d := m.deployment(t, want.component)
		c := container(t, d, want.component)
		if got := containerPort(c, want.port); got != want.number {
			t.Errorf("%s: port %q is %d, want %d", want.component, want.port, got, want.number)
		}
		for _, p := range []struct {
			kind  string
			probe *corev1.Probe
			path  string
		}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}, {"startup", c.StartupProbe, "/healthz"}} {
			probe, path := p.probe, p.path
			if probe == nil || probe.HTTPGet == nil {
				t.Errorf("%s: %s probe is missing", want.component, p.kind)
				continue
			}
			if probe.HTTPGet.Path != path || probe.HTTPGet.Port.String() != want.port {
				t.Errorf("%s: probe GET %s on %s, want %s on %s", want.component, probe.HTTPGet.Path, probe.HTTPGet.Port.String(), path, want.port)
			}
		}
	}
	if m.hasDeployment("ui") {
		c := container(t, m.deployment(t, "ui"), "ui")
		if c.LivenessProbe == nil || c.ReadinessProbe == nil {
			t.Errorf("ui: liveness or readiness probe missing")
		}
	}
}

// checkWorkerGrace: the pod's grace period exceeds the worker's stop timeout, so
// Kubernetes does not kill it while running activities finish.
func checkWorkerGrace(t *testing.T, m *manifests) {
	t.Helper()
	d := m.deployment(t, "worker")
	c := container(t, d, "worker")
	stop, err := time.ParseDuration(envValue(t, c, "FULFILMENT_WORKER_STOP_TIMEOUT"))
	if err != nil {
		t.Fatalf("FULFILMENT_WORKER_STOP_TIMEOUT: %v", err)
	}
	grace := d.Spec.Template.Spec.TerminationGracePeriodSeconds
	if grace == nil || *grace != 45 || time.Duration(*grace)*time.Second <= stop {
		t.Errorf("worker terminationGracePeriodSeconds = %v, want 45 (> stop timeout %s)", grace, stop)
	}
	if got := envValue(t, c, "FULFILMENT_ADMIN_ADDR"); got != "0.0.0.0:6060" {
		t.Errorf("FULFILMENT_ADMIN_ADDR = %q, want 0.0.0.0:6060", got)
	}
}

// checkStarterGrace: on SIGTERM the starter first waits out its preStop sleep (so the
// Service stops sending it requests), then drains requests in flight within
// STARTER_STOP_TIMEOUT; the pod's grace period covers both.
func checkStarterGrace(t *testing.T, m *manifests) {
	t.Helper()
	d := m.deployment(t, "starter")
	c := container(t, d, "starter")
	stop, err := time.ParseDuration(envValue(t, c, "STARTER_STOP_TIMEOUT"))
	if err != nil {
		t.Fatalf("STARTER_STOP_TIMEOUT: %v", err)
	}
	var sleep time.Duration
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil {
		t.Errorf("starter has no preStop sleep: a stopping pod would still get new requests")
	} else {
		sleep = time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	}
	grace := d.Spec.Template.Spec.TerminationGracePeriodSeconds
	if grace == nil || time.Duration(*grace)*time.Second <= sleep+stop {
		t.Errorf("starter terminationGracePeriodSeconds = %v, want more than preStop sleep %s + stop timeout %s", grace, sleep, stop)
	}
}

// checkMigrationsHook: migrations are a pre-install/pre-upgrade hook Job running the
// worker image with the argument migrate.
func checkMigrationsHook(t *testing.T, m *manifests) {
	t.Helper()
	if len(m.Jobs) != 1 {
		t.Fatalf("%d Jobs rendered, want the migrations Job", len(m.Jobs))
	}
	j := m.Jobs[0]
	if got := j.Annotations["helm.sh/hook"]; got != "pre-install,pre-upgrade" {
		t.Errorf("migrations Job helm.sh/hook = %q, want pre-install,pre-upgrade", got)
	}
	if got := j.Annotations["helm.sh/hook-delete-policy"]; !strings.Contains(got, "before-hook-creation") {
		t.Errorf("migrations Job hook-delete-policy = %q, want before-hook-creation (reruns on upgrade)", got)
	}
	if j.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("migrations Job restartPolicy = %q", j.Spec.Template.Spec.RestartPolicy)
	}
	c := j.Spec.Template.Spec.Containers[0]
	worker := container(t, m.deployment(t, "worker"), "worker")
	if c.Image != worker.Image || !strings.Contains(c.Image, "everywhere-fulfilment/worker:") {
		t.Errorf("migrations image %q, want the worker's %q", c.Image, worker.Image)
	}
	if strings.Join(c.Command, " ") != "/worker" || strings.Join(c.Args, " ") != "migrate" {
		t.Errorf("migrations runs %v %v, want /worker migrate", c.Command, c.Args)
	}
	if _, ok := envRef(c, "DATABASE_URL"); !ok {
		t.Errorf("migrations Job has no DATABASE_URL from a Secret")
	}
}

// checkWiring: selectors and references between objects point at what exists.
func checkWiring(t *testing.T, m *manifests) {
	t.Helper()
	podLabels := map[string]labels.Set{}
	for _, d := range m.Deployments {
		sel := labels.SelectorFromSet(d.Spec.Selector.MatchLabels)
		if !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("Deployment %s: selector does not match its pods", d.Name)
		}
		podLabels[d.Name] = d.Spec.Template.Labels
	}
	matchesOne := func(what string, set map[string]string) {
		sel := labels.SelectorFromSet(set)
		for _, l := range podLabels {
			if sel.Matches(l) {
				return
			}
		}
		t.Errorf("%s: selector %v matches no Deployment's pods", what, set)
	}
	for _, p := range m.PDBs {
		matchesOne("PodDisruptionBudget "+p.Name, p.Spec.Selector.MatchLabels)
	}
	for _, s := range m.Services {
		matchesOne("Service "+s.Name, s.Spec.Selector)
		for _, p := range s.Spec.Ports {
			if !namedPortSelected(m, s.Spec.Selector, p.TargetPort.String()) {
				t.Errorf("Service %s: targetPort %s is no container port of the pods it selects", s.Name, p.TargetPort.String())
			}
		}
	}
	for _, n := range m.NetworkPolicies {
		matchesOne("NetworkPolicy "+n.Name, n.Spec.PodSelector.MatchLabels)
		for _, rule := range n.Spec.Ingress {
			for _, p := range rule.Ports {
				if p.Port != nil && !namedPortSelected(m, n.Spec.PodSelector.MatchLabels, p.Port.String()) {
					t.Errorf("NetworkPolicy %s: port %s is no container port of the pods it selects", n.Name, p.Port.String())
				}
			}
		}
	}
	for _, h := range m.HPAs {
		if _, ok := podLabels[h.Spec.ScaleTargetRef.Name]; !ok || h.Spec.ScaleTargetRef.Kind != "Deployment" {
			t.Errorf("HPA %s targets %s %q, not a rendered Deployment", h.Name, h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name)
		}
		if len(h.Spec.Metrics) != 1 || h.Spec.Metrics[0].Resource == nil || h.Spec.Metrics[0].Resource.Name != corev1.ResourceCPU {
			t.Errorf("HPA %s does not scale on CPU", h.Name)
		}
	}
	services := map[string]corev1.Service{}
	for _, s := range m.Services {
		services[s.Name] = s
	}
	for _, i := range m.Ingresses {
		for _, r := range i.Spec.Rules {
			for _, p := range r.HTTP.Paths {
				if _, ok := services[p.Backend.Service.Name]; !ok {
					t.Errorf("Ingress %s: backend Service %q is not rendered", i.Name, p.Backend.Service.Name)
				}
			}
		}
	}
	for _, sm := range m.ServiceMonitors {
		found := false
		for _, s := range m.Services {
			if labels.SelectorFromSet(sm.Spec.Selector.MatchLabels).Matches(labels.Set(s.Labels)) {
				found = true
				for _, e := range sm.Spec.Endpoints {
					if !servicePortNamed(s, e.Port) || e.Path != "/metrics" {
						t.Errorf("ServiceMonitor %s: endpoint %s %s not served by Service %s", sm.Name, e.Port, e.Path, s.Name)
					}
				}
			}
		}
		if !found {
			t.Errorf("ServiceMonitor %s selects no Service", sm.Name)
		}
	}
	worker := m.deployment(t, "worker")
	for _, pm := range m.PodMonitors {
		if !labels.SelectorFromSet(pm.Spec.Selector.MatchLabels).Matches(labels.Set(worker.Spec.Template.Labels)) {
			t.Errorf("PodMonitor %s does not select the worker's pods", pm.Name)
		}
		for _, e := range pm.Spec.PodMetricsEndpoints {
			named := false
			for _, c := range worker.Spec.Template.Spec.Containers {
				for _, p := range c.Ports {
					named = named || p.Name == e.Port
				}
			}
			if !named || e.Path != "/metrics" {
				t.Errorf("PodMonitor %s: endpoint %s %s not served by the worker (its admin port serves /metrics)", pm.Name, e.Port, e.Path)
			}
		}
	}
	if len(m.PodMonitors) != len(m.ServiceMonitors) {
		t.Errorf("rendered %d PodMonitors and %d ServiceMonitors: the worker's and the starter's metrics go together", len(m.PodMonitors), len(m.ServiceMonitors))
	}
	for _, so := range m.ScaledObjects {
		if so.Spec.ScaleTargetRef.Name != worker.Name {
			t.Errorf("ScaledObject %s targets %q, want the worker %q", so.Name, so.Spec.ScaleTargetRef.Name, worker.Name)
		}
		if worker.Spec.Replicas != nil {
			t.Errorf("worker Deployment sets replicas while KEDA scales it (each upgrade would reset it)")
		}
	}
}
