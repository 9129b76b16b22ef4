package helm_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	corev1 "k8s.io/api/core/v1"
)

// envLookup is the environment a container would see, for envconfig.
type envLookup map[string]string

func (e envLookup) Environ() []string {
	var out []string
	for k, v := range e {
		out = append(out, k+"="+v)
	}
	return out
}

func (e envLookup) LookupEnv(k string) (string, bool) {
	v, ok := e[k]
	return v, ok
}

// clientOptions feeds a container's rendered environment to Temporal's envconfig, the
// way the worker and the starter load it, and returns the client options it builds.
// Secret references get a stand-in value; files mounted from Secrets are looked up in
// files (mount path → content), written to a temporary directory and the paths rewritten.
func clientOptions(t *testing.T, pod corev1.PodSpec, c corev1.Container, files map[string][]byte) client.Options {
	t.Helper()
	dir := t.TempDir()
	env := envLookup{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			env[e.Name] = "secret-from-" + e.ValueFrom.SecretKeyRef.Name
		case strings.HasPrefix(e.Value, "/etc/"):
			if !mountedFromSecret(pod, c, e.Value) {
				t.Fatalf("%s=%s: no Secret volume provides that file", e.Name, e.Value)
			}
			content, ok := files[e.Value]
			if !ok {
				t.Fatalf("%s=%s: the test has no content for that file", e.Name, e.Value)
			}
			p := filepath.Join(dir, strings.ReplaceAll(strings.TrimPrefix(e.Value, "/"), "/", "_"))
			if err := os.WriteFile(p, content, 0o600); err != nil {
				t.Fatal(err)
			}
			env[e.Name] = p
		default:
			env[e.Name] = e.Value
		}
	}
	profile, err := envconfig.LoadClientConfigProfile(envconfig.LoadClientConfigProfileOptions{
		DisableFile: true,
		EnvLookup:   env,
	})
	if err != nil {
		t.Fatalf("envconfig: %v", err)
	}
	opts, err := profile.ToClientOptions(envconfig.ToClientOptionsRequest{})
	if err != nil {
		t.Fatalf("envconfig client options: %v", err)
	}
	return opts
}

// mountedFromSecret reports whether file is an item of a Secret volume mounted in c.
func mountedFromSecret(pod corev1.PodSpec, c corev1.Container, file string) bool {
	for _, m := range c.VolumeMounts {
		rel, ok := strings.CutPrefix(file, strings.TrimSuffix(m.MountPath, "/")+"/")
		if !ok {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name != m.Name || v.Secret == nil {
				continue
			}
			for _, item := range v.Secret.Items {
				if path.Clean(item.Path) == rel {
					return true
				}
			}
		}
	}
	return false
}

// TestChartSelfHosted: plaintext to the self-hosted frontend; the Web UI behind OIDC
// with the codec at the starter, which accepts the forwarded token.
func TestChartSelfHosted(t *testing.T) {
	m := render(t, "values-selfhosted.yaml")
	for _, component := range []string{"worker", "starter"} {
		d := m.deployment(t, component)
		c := container(t, d, component)
		if hasEnv(c, "TEMPORAL_TLS") || hasEnv(c, "TEMPORAL_API_KEY") {
			t.Errorf("%s: TLS or API key set for a plaintext self-hosted frontend", component)
		}
		opts := clientOptions(t, d.Spec.Template.Spec, c, nil)
		if opts.HostPort != "temporal-frontend.temporal.svc.cluster.local:7233" || opts.Namespace != "fulfilment" {
			t.Errorf("%s: client for %s/%s", component, opts.HostPort, opts.Namespace)
		}
		if opts.ConnectionOptions.TLS != nil || opts.Credentials != nil {
			t.Errorf("%s: TLS or credentials on a plaintext connection", component)
		}
	}
	ui := container(t, m.deployment(t, "ui"), "ui")
	for name, want := range map[string]string{
		"TEMPORAL_ADDRESS":                 "temporal-frontend.temporal.svc.cluster.local:7233",
		"TEMPORAL_AUTH_ENABLED":            "true",
		"TEMPORAL_AUTH_PROVIDER_URL":       "https://sso.example.com/realms/retail",
		"TEMPORAL_AUTH_CALLBACK_URL":       "https://temporal.example.com/auth/sso/callback",
		"TEMPORAL_CODEC_ENDPOINT":          "https://fulfilment.example.com/codec",
		"TEMPORAL_CODEC_PASS_ACCESS_TOKEN": "true",
	} {
		if got := envValue(t, ui, name); got != want {
			t.Errorf("ui %s = %q, want %q", name, got, want)
		}
	}
	if ref, ok := envRef(ui, "TEMPORAL_AUTH_CLIENT_SECRET"); !ok || ref.Name != "temporal-ui-oidc" {
		t.Errorf("ui TEMPORAL_AUTH_CLIENT_SECRET is not read from the Secret temporal-ui-oidc")
	}
	starter := container(t, m.deployment(t, "starter"), "starter")
	if got := envValue(t, starter, "FULFILMENT_UI_ORIGINS"); !strings.Contains(got, "https://temporal.example.com") {
		t.Errorf("starter FULFILMENT_UI_ORIGINS = %q, want the UI's origin in it", got)
	}
	for name, want := range map[string]string{
		"FULFILMENT_OIDC_ISSUER":         "https://sso.example.com/realms/retail",
		"FULFILMENT_OIDC_AUDIENCE":       "temporal-ui",
		"FULFILMENT_OIDC_SUPPORT_CLAIM":  "groups",
		"FULFILMENT_OIDC_SUPPORT_VALUES": "fulfilment-support",
	} {
		if got := envValue(t, starter, name); got != want {
			t.Errorf("starter %s = %q, want %q", name, got, want)
		}
	}
	if len(m.ServiceMonitors) != 1 || len(m.PodMonitors) != 1 || len(m.ScaledObjects) != 1 || len(m.Ingresses) != 2 {
		t.Errorf("rendered %d ServiceMonitors, %d PodMonitors, %d ScaledObjects, %d Ingresses; want 1, 1, 1, 2",
			len(m.ServiceMonitors), len(m.PodMonitors), len(m.ScaledObjects), len(m.Ingresses))
	}
	if len(m.TriggerAuths) != 0 || m.ScaledObjects[0].Spec.Triggers[0].AuthenticationRef != nil {
		t.Errorf("KEDA authentication rendered for a plaintext frontend")
	}
}

// TestChartCloudAPIKey: TLS on, the key from its Secret, and KEDA authenticates with it.
func TestChartCloudAPIKey(t *testing.T) {
	m := render(t, "values-cloud-apikey.yaml")
	for _, component := range []string{"worker", "starter"} {
		d := m.deployment(t, component)
		c := container(t, d, component)
		if got := envValue(t, c, "TEMPORAL_TLS"); got != "true" {
			t.Errorf("%s: TEMPORAL_TLS = %q, want true", component, got)
		}
		if ref, ok := envRef(c, "TEMPORAL_API_KEY"); !ok || ref.Name != "temporal-cloud-api-key" || ref.Key != "api-key" {
			t.Errorf("%s: TEMPORAL_API_KEY is not read from Secret temporal-cloud-api-key key api-key", component)
		}
		opts := clientOptions(t, d.Spec.Template.Spec, c, nil)
		if opts.Credentials == nil || opts.ConnectionOptions.TLS == nil {
			t.Errorf("%s: envconfig built no API key credentials or no TLS", component)
		}
		if opts.Namespace != "fulfilment.a1b2c" || opts.HostPort != "us-east-1.aws.api.temporal.io:7233" {
			t.Errorf("%s: client for %s/%s", component, opts.HostPort, opts.Namespace)
		}
	}
	if len(m.ScaledObjects) != 1 || len(m.TriggerAuths) != 1 {
		t.Fatalf("rendered %d ScaledObjects and %d TriggerAuthentications, want 1 and 1", len(m.ScaledObjects), len(m.TriggerAuths))
	}
	trig := m.ScaledObjects[0].Spec.Triggers[0]
	if trig.Type != "temporal" || trig.Metadata["namespace"] != "fulfilment.a1b2c" || trig.Metadata["taskQueue"] != "fulfilment" ||
		trig.Metadata["enableTLS"] != "true" || trig.AuthenticationRef == nil || trig.AuthenticationRef.Name != m.TriggerAuths[0].Name {
		t.Errorf("KEDA trigger %+v does not scale on the Cloud task queue with the API key", trig)
	}
	refs := m.TriggerAuths[0].Spec.SecretTargetRef
	if len(refs) != 1 || refs[0].Parameter != "apiKey" || refs[0].Name != "temporal-cloud-api-key" {
		t.Errorf("TriggerAuthentication refs %+v, want apiKey from temporal-cloud-api-key", refs)
	}
	if m.hasDeployment("ui") {
		t.Errorf("a Web UI is rendered for Cloud with an API key (use Temporal Cloud's UI)")
	}
}

// TestChartCloudMTLS: the client certificate and key are files from the Secret, and
// envconfig loads them from the paths the chart sets.
func TestChartCloudMTLS(t *testing.T) {
	m := render(t, "values-cloud-mtls.yaml")
	certPEM, keyPEM := selfSignedPair(t)
	files := map[string][]byte{"/etc/temporal/tls/tls.crt": certPEM, "/etc/temporal/tls/tls.key": keyPEM}
	for _, component := range []string{"worker", "starter"} {
		d := m.deployment(t, component)
		c := container(t, d, component)
		for _, name := range []string{"TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_TLS_CLIENT_KEY_PATH"} {
			if !hasEnv(c, name) {
				t.Errorf("%s: %s is not set", component, name)
			}
		}
		opts := clientOptions(t, d.Spec.Template.Spec, c, files)
		tlsCfg := opts.ConnectionOptions.TLS
		if tlsCfg == nil || len(tlsCfg.Certificates) != 1 {
			t.Errorf("%s: envconfig built no TLS config with the client certificate", component)
		}
		if opts.Credentials != nil || opts.Namespace != "fulfilment.a1b2c" || opts.HostPort != "fulfilment.a1b2c.tmprl.cloud:7233" {
			t.Errorf("%s: client for %s/%s (credentials %v)", component, opts.HostPort, opts.Namespace, opts.Credentials)
		}
	}
	ui := container(t, m.deployment(t, "ui"), "ui")
	for name, want := range map[string]string{
		"TEMPORAL_TLS_CERT":                     "/etc/temporal/tls/tls.crt",
		"TEMPORAL_TLS_KEY":                      "/etc/temporal/tls/tls.key",
		"TEMPORAL_TLS_SERVER_NAME":              "fulfilment.a1b2c.tmprl.cloud",
		"TEMPORAL_TLS_ENABLE_HOST_VERIFICATION": "true",
	} {
		if got := envValue(t, ui, name); got != want {
			t.Errorf("ui %s = %q, want %q", name, got, want)
		}
	}
	if !mountedFromSecret(m.deployment(t, "ui").Spec.Template.Spec, ui, "/etc/temporal/tls/tls.key") {
		t.Errorf("ui: the client key is not mounted from the Secret")
	}
	params := map[string]string{}
	for _, r := range m.TriggerAuths[0].Spec.SecretTargetRef {
		params[r.Parameter] = r.Name
	}
	if params["cert"] != "temporal-cloud-mtls" || params["key"] != "temporal-cloud-mtls" {
		t.Errorf("TriggerAuthentication %v, want cert and key from temporal-cloud-mtls", params)
	}
}

// TestChartRequiredValues: a missing or bad value stops rendering with a message naming it.
func TestChartRequiredValues(t *testing.T) {
	cases := []struct {
		name, file string
		sets       []string
		want       []string
	}{
		{"cloud without namespace", "values-cloud-apikey.yaml", []string{"temporal.namespace="},
			[]string{"temporal.namespace is required", "Temporal Cloud needs the namespace with its account id"}},
		{"cloud with the default namespace", "values-cloud-mtls.yaml", []string{"temporal.namespace=default"},
			[]string{`temporal.namespace="default": Temporal Cloud needs the namespace`}},
		{"cloud without auth", "values-cloud-apikey.yaml", []string{"temporal.auth=none"},
			[]string{"Temporal Cloud needs temporal.auth apiKey or mtls"}},
		{"api key without its Secret", "values-cloud-apikey.yaml", []string{"temporal.apiKeySecret.name="},
			[]string{"temporal.apiKeySecret.name is required with temporal.auth=apiKey"}},
		{"mtls without its Secret", "values-cloud-mtls.yaml", []string{"temporal.mtlsSecret.name="},
			[]string{"temporal.mtlsSecret.name is required with temporal.auth=mtls"}},
		{"no address", "values.yaml", []string{"temporal.address="}, []string{"temporal.address is required"}},
		{"no database Secret", "values.yaml", []string{"secrets.database.name="}, []string{"secrets.database.name and .key are required"}},
		{"live without provider Secret and public URL", "values.yaml", []string{"providers.mode=live"},
			[]string{"providers.secretName is required with providers.mode=live", "publicURL is required with providers.mode=live"}},
		{"UI without SSO", "values-selfhosted.yaml", []string{"ui.oidc.providerURL=", "ui.oidc.clientSecret.name="},
			[]string{"ui.oidc.providerURL is required", "ui.oidc.clientSecret.name is required"}},
		{"UI with an API key", "values-cloud-apikey.yaml", []string{"ui.enabled=true"},
			[]string{"the Temporal UI server cannot authenticate with an API key"}},
		{"OIDC without support values", "values-selfhosted.yaml", []string{"starter.oidc.supportValues=null"},
			[]string{"starter.oidc.supportValues is required with starter.oidc.issuer"}},
		{"a misspelt value (values.schema.json)", "values.yaml", []string{"temporal.adress=x"},
			[]string{"additional properties 'adress' not allowed"}},
		{"an unknown auth (values.schema.json)", "values.yaml", []string{"temporal.auth=apikey"},
			[]string{"value must be one of 'none', 'apiKey', 'mtls'"}},
		{"grace period not above the stop timeout", "values.yaml", []string{"worker.terminationGracePeriodSeconds=30"},
			[]string{"worker.terminationGracePeriodSeconds=30: must exceed worker.stopTimeout"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"template", "rel", chartDir}, valuesArgs(tc.file, tc.sets...)...)
			out, stderr, err := runHelm(t, args...)
			if err == nil {
				t.Fatalf("helm %s rendered without error:\n%.400s", strings.Join(args, " "), out)
			}
			for _, want := range tc.want {
				if !strings.Contains(stderr, want) {
					t.Errorf("error does not say %q:\n%s", want, stderr)
				}
			}
		})
	}
}

// selfSignedPair returns a PEM certificate and key for envconfig to load.
func selfSignedPair(t *testing.T) ([]byte, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "fulfilment-client"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}
