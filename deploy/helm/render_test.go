package helm_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// chartDir is the chart under test, relative to this package.
const chartDir = "fulfilment"

// valuesFiles are the values files shipped with the chart; each must lint and render.
var valuesFiles = []string{
	"values.yaml",
	"values-selfhosted.yaml",
	"values-cloud-apikey.yaml",
	"values-cloud-mtls.yaml",
}

// helmBin returns the pinned helm that deploy/local/helm.sh builds: HELM_BIN (set by
// deploy/local/test.sh) or bin/helm of the repository.
func helmBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("HELM_BIN")
	if bin == "" {
		abs, err := filepath.Abs(filepath.Join("..", "..", "bin", "helm"))
		if err != nil {
			t.Fatalf("locating bin/helm: %v", err)
		}
		bin = abs
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("helm not found at %s (%v): run `make test` or deploy/local/helm.sh ensure, or set HELM_BIN", bin, err)
	}
	return bin
}

// runHelm runs helm with args and returns stdout, stderr and the error of the run.
func runHelm(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(helmBin(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// No repositories, plugins or caches of the user's: an offline, local render.
	dir := t.TempDir()
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(dir, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(dir, "config"),
		"HELM_DATA_HOME="+filepath.Join(dir, "data"),
	)
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// valuesArgs gives helm the values file (values.yaml is the chart's own, always applied).
func valuesArgs(file string, sets ...string) []string {
	var args []string
	if file != "values.yaml" {
		args = append(args, "-f", filepath.Join(chartDir, file))
	}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	return args
}

// render runs helm template for a values file and strictly decodes every document.
func render(t *testing.T, file string, sets ...string) *manifests {
	t.Helper()
	args := append([]string{"template", "rel", chartDir, "--namespace", "shop"}, valuesArgs(file, sets...)...)
	out, stderr, err := runHelm(t, args...)
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	m, err := decodeAll(out)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return m
}

// manifests holds the rendered objects by kind, decoded into their API types.
type manifests struct {
	Deployments     []appsv1.Deployment
	Jobs            []batchv1.Job
	Services        []corev1.Service
	ServiceAccounts []corev1.ServiceAccount
	PDBs            []policyv1.PodDisruptionBudget
	HPAs            []autoscalingv2.HorizontalPodAutoscaler
	NetworkPolicies []networkingv1.NetworkPolicy
	Ingresses       []networkingv1.Ingress
	ServiceMonitors []serviceMonitor
	PodMonitors     []podMonitor
	ScaledObjects   []scaledObject
	TriggerAuths    []triggerAuthentication
	// Docs counts every document, to check that nothing was skipped.
	Docs int
}

var docSeparator = regexp.MustCompile(`(?m)^---\s*$`)

// decodeAll splits helm's output into documents and decodes each strictly: a field the
// API type does not have (a typo, a wrong indentation) fails, and so does a kind that is
// neither a Kubernetes type known here nor one of the mirrored CRDs.
func decodeAll(out string) (*manifests, error) {
	m := &manifests{}
	for i, doc := range docSeparator.Split(out, -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			return nil, fmt.Errorf("document %d: reading apiVersion/kind: %w\n%s", i, err, doc)
		}
		if err := m.add(tm, []byte(doc)); err != nil {
			return nil, fmt.Errorf("document %d (%s %s): %w\n%s", i, tm.APIVersion, tm.Kind, err, doc)
		}
		m.Docs++
	}
	return m, nil
}

func stripComments(doc string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// strict decodes into v with unknown fields and duplicate keys as errors
// (sigs.k8s.io/yaml converts to JSON and decodes with DisallowUnknownFields).
func strict[T any](doc []byte, list *[]T) error {
	var v T
	if err := yaml.UnmarshalStrict(doc, &v); err != nil {
		return err
	}
	*list = append(*list, v)
	return nil
}

func (m *manifests) add(tm metav1.TypeMeta, doc []byte) error {
	switch tm.APIVersion + " " + tm.Kind {
	case "apps/v1 Deployment":
		return strict(doc, &m.Deployments)
	case "batch/v1 Job":
		return strict(doc, &m.Jobs)
	case "v1 Service":
		return strict(doc, &m.Services)
	case "v1 ServiceAccount":
		return strict(doc, &m.ServiceAccounts)
	case "policy/v1 PodDisruptionBudget":
		return strict(doc, &m.PDBs)
	case "autoscaling/v2 HorizontalPodAutoscaler":
		return strict(doc, &m.HPAs)
	case "networking.k8s.io/v1 NetworkPolicy":
		return strict(doc, &m.NetworkPolicies)
	case "networking.k8s.io/v1 Ingress":
		return strict(doc, &m.Ingresses)
	case "monitoring.coreos.com/v1 ServiceMonitor":
		return strict(doc, &m.ServiceMonitors)
	case "monitoring.coreos.com/v1 PodMonitor":
		return strict(doc, &m.PodMonitors)
	case "keda.sh/v1alpha1 ScaledObject":
		return strict(doc, &m.ScaledObjects)
	case "keda.sh/v1alpha1 TriggerAuthentication":
		return strict(doc, &m.TriggerAuths)
	}
	return fmt.Errorf("unexpected kind %q %q: add its API type to the test (or mirror the CRD)", tm.APIVersion, tm.Kind)
}

// deployment returns the Deployment of a component (worker, starter, ui) or fails.
func (m *manifests) deployment(t *testing.T, component string) appsv1.Deployment {
	t.Helper()
	for _, d := range m.Deployments {
		if d.Labels["app.kubernetes.io/component"] == component {
			return d
		}
	}
	t.Fatalf("no Deployment for component %q", component)
	return appsv1.Deployment{}
}

// hasDeployment reports whether a component's Deployment was rendered.
func (m *manifests) hasDeployment(component string) bool {
	for _, d := range m.Deployments {
		if d.Labels["app.kubernetes.io/component"] == component {
			return true
		}
	}
	return false
}

// The CRDs the chart renders, mirrored with only the fields it uses (the strict decode
// then fails on any other field, as the API server's structural schema would prune or
// reject it).

// serviceMonitor mirrors monitoring.coreos.com/v1 ServiceMonitor (Prometheus Operator).
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector          metav1.LabelSelector `json:"selector"`
		NamespaceSelector *struct {
			MatchNames []string `json:"matchNames,omitempty"`
		} `json:"namespaceSelector,omitempty"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Scheme        string `json:"scheme"`
			Interval      string `json:"interval"`
			ScrapeTimeout string `json:"scrapeTimeout"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// podMonitor mirrors monitoring.coreos.com/v1 PodMonitor (Prometheus Operator).
type podMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector            metav1.LabelSelector `json:"selector"`
		PodMetricsEndpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Scheme        string `json:"scheme"`
			Interval      string `json:"interval"`
			ScrapeTimeout string `json:"scrapeTimeout"`
		} `json:"podMetricsEndpoints"`
	} `json:"spec"`
}

// scaledObject mirrors keda.sh/v1alpha1 ScaledObject (KEDA 2.17+).
type scaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		ScaleTargetRef struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Name       string `json:"name"`
		} `json:"scaleTargetRef"`
		PollingInterval *int32 `json:"pollingInterval"`
		CooldownPeriod  *int32 `json:"cooldownPeriod"`
		MinReplicaCount *int32 `json:"minReplicaCount"`
		MaxReplicaCount *int32 `json:"maxReplicaCount"`
		Advanced        *struct {
			HorizontalPodAutoscalerConfig *struct {
				Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior"`
			} `json:"horizontalPodAutoscalerConfig"`
		} `json:"advanced"`
		Triggers []struct {
			Type              string            `json:"type"`
			Metadata          map[string]string `json:"metadata"`
			AuthenticationRef *struct {
				Name string `json:"name"`
			} `json:"authenticationRef"`
		} `json:"triggers"`
	} `json:"spec"`
}

// triggerAuthentication mirrors keda.sh/v1alpha1 TriggerAuthentication (secret refs only).
type triggerAuthentication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		SecretTargetRef []struct {
			Parameter string `json:"parameter"`
			Name      string `json:"name"`
			Key       string `json:"key"`
		} `json:"secretTargetRef"`
	} `json:"spec"`
}
