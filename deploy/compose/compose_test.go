// Package compose holds the Docker Compose deployment (compose.yaml and its
// scripts); its test loads the file with the Compose Specification's own Go
// loader, as docker compose does, and checks what a user relies on.
package compose

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/everywherecommerce/fulfilment/workflows"
)

// loadProject loads compose.yaml strictly (schema validation and consistency
// checks on, as docker compose does) with envFile as the only environment.
func loadProject(ctx context.Context, envFile string) (*types.Project, error) {
	opts, err := cli.NewProjectOptions([]string{"compose.yaml"},
		cli.WithWorkingDirectory("."),
		cli.WithEnvFiles(envFile),
		cli.WithDotEnv,
		cli.WithConsistency(true),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		return nil, err
	}
	return opts.LoadProject(ctx)
}

func TestCompose(t *testing.T) {
	// The one-shots run to completion; the services after them wait for success.
	oneShots := []string{"temporal-schema", "temporal-namespace", "migrate"}
	p, err := loadProject(t.Context(), ".env.example")
	if err != nil {
		t.Fatalf("load compose.yaml with .env.example: %v", err)
	}

	t.Run("services and images", func(t *testing.T) {
		want := map[string]string{
			"postgres":           "postgres:17",
			"temporal-schema":    "temporalio/admin-tools:1.32.2",
			"temporal":           "temporalio/server:1.32.2",
			"temporal-namespace": "temporalio/admin-tools:1.32.2",
			"temporal-ui":        "temporalio/ui:2.58.1",
			"migrate":            "everywhere-fulfilment/worker:latest",
			"worker":             "everywhere-fulfilment/worker:latest",
			"starter":            "everywhere-fulfilment/starter:latest",
		}
		if got, w := slices.Sorted(maps.Keys(p.Services)), slices.Sorted(maps.Keys(want)); !slices.Equal(got, w) {
			t.Fatalf("services = %v, want %v", got, w)
		}
		for name, image := range want {
			s := p.Services[name]
			if s.Image != image {
				t.Errorf("%s: image %q, want %q", name, s.Image, image)
			}
			if strings.HasPrefix(image, "everywhere-fulfilment/") && s.PullPolicy != types.PullPolicyNever {
				t.Errorf("%s: pull_policy %q, want never (our images come from docker load, not a registry)", name, s.PullPolicy)
			}
		}
		if cmd := p.Services["migrate"].Command; !slices.Equal(cmd, types.ShellCommand{"migrate"}) {
			t.Errorf("migrate: command %q, want the worker image's migrate", cmd)
		}
	})

	t.Run("health checks and restarts", func(t *testing.T) {
		for name, s := range p.Services {
			if slices.Contains(oneShots, name) {
				if s.Restart != types.RestartPolicyNo {
					t.Errorf("%s: restart %q, want no (a one-shot)", name, s.Restart)
				}
				continue
			}
			if s.Restart != types.RestartPolicyUnlessStopped {
				t.Errorf("%s: restart %q, want unless-stopped", name, s.Restart)
			}
			if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) < 2 || s.HealthCheck.Test[0] != "CMD" {
				t.Errorf("%s: no health check run as a command: %+v", name, s.HealthCheck)
			}
		}
		// Our images have no shell: /probe GETs the readiness endpoint the
		// binary serves on the address the service sets.
		for name, addrVar := range map[string]string{"worker": "FULFILMENT_ADMIN_ADDR", "starter": "STARTER_ADDR"} {
			s := p.Services[name]
			addr := env(t, s, addrVar)
			port := addr[strings.LastIndex(addr, ":")+1:]
			want := types.HealthCheckTest{"CMD", "/probe", "http://127.0.0.1:" + port + "/readyz"}
			if s.HealthCheck == nil || !slices.Equal(s.HealthCheck.Test, want) {
				t.Errorf("%s: health check %v, want %v", name, s.HealthCheck, want)
			}
		}
	})

	t.Run("start order", func(t *testing.T) {
		want := map[string]map[string]string{
			"temporal-schema":    {"postgres": types.ServiceConditionHealthy},
			"temporal":           {"postgres": types.ServiceConditionHealthy, "temporal-schema": types.ServiceConditionCompletedSuccessfully},
			"temporal-namespace": {"temporal": types.ServiceConditionHealthy},
			"temporal-ui":        {"temporal": types.ServiceConditionHealthy},
			"migrate":            {"postgres": types.ServiceConditionHealthy},
			"worker": {"migrate": types.ServiceConditionCompletedSuccessfully,
				"temporal-namespace": types.ServiceConditionCompletedSuccessfully, "temporal": types.ServiceConditionHealthy},
			"starter": {"migrate": types.ServiceConditionCompletedSuccessfully,
				"temporal-namespace": types.ServiceConditionCompletedSuccessfully, "temporal": types.ServiceConditionHealthy},
		}
		for name, s := range p.Services {
			got := map[string]string{}
			for dep, cfg := range s.DependsOn {
				got[dep] = cfg.Condition
			}
			if fmt.Sprint(got) != fmt.Sprint(want[name]) {
				t.Errorf("%s: depends_on %v, want %v", name, got, want[name])
			}
		}
	})

	t.Run("graceful stop", func(t *testing.T) {
		s := p.Services["worker"]
		stop, err := time.ParseDuration(env(t, s, "FULFILMENT_WORKER_STOP_TIMEOUT"))
		if err != nil {
			t.Fatal(err)
		}
		if s.StopGracePeriod == nil || time.Duration(*s.StopGracePeriod) != 45*time.Second {
			t.Fatalf("worker: stop_grace_period %v, want 45s", s.StopGracePeriod)
		}
		if time.Duration(*s.StopGracePeriod) <= stop {
			t.Errorf("worker: stop_grace_period %v does not exceed FULFILMENT_WORKER_STOP_TIMEOUT %v", *s.StopGracePeriod, stop)
		}
	})

	t.Run("published ports", func(t *testing.T) {
		want := map[string]string{
			"starter":     "127.0.0.1:8080->8080",
			"temporal-ui": "127.0.0.1:8233->8080",
			"temporal":    "127.0.0.1:7233->7233",
		}
		for name, s := range p.Services {
			var got []string
			for _, port := range s.Ports {
				got = append(got, fmt.Sprintf("%s:%s->%d", port.HostIP, port.Published, port.Target))
			}
			if strings.Join(got, ",") != want[name] {
				t.Errorf("%s: ports %v, want %q", name, got, want[name])
			}
		}
	})

	t.Run("PostgreSQL keeps its data in a volume", func(t *testing.T) {
		var ok bool
		for _, v := range p.Services["postgres"].Volumes {
			ok = ok || (v.Type == types.VolumeTypeVolume && v.Source == "pgdata" && v.Target == "/var/lib/postgresql/data")
		}
		if _, declared := p.Volumes["pgdata"]; !ok || !declared {
			t.Errorf("postgres: no named volume pgdata at /var/lib/postgresql/data")
		}
	})

	t.Run("mounted files exist", func(t *testing.T) {
		for name, s := range p.Services {
			for _, v := range s.Volumes {
				if v.Type != types.VolumeTypeBind {
					continue
				}
				if _, err := os.Stat(v.Source); err != nil {
					t.Errorf("%s mounts %s: %v", name, v.Source, err)
				}
				if !v.ReadOnly {
					t.Errorf("%s mounts %s writable; want read-only", name, v.Source)
				}
			}
		}
	})

	t.Run("our services set only settings our binaries read", func(t *testing.T) {
		known := knownSettings(t)
		for _, name := range []string{"worker", "starter", "migrate"} {
			for key := range p.Services[name].Environment {
				if !known[key] {
					t.Errorf("%s: %s is read neither by worker/starter (or Temporal's envconfig) nor documented in docs/configuration.md", name, key)
				}
			}
		}
	})

	t.Run("search attributes", func(t *testing.T) {
		script, err := os.ReadFile("temporal-namespace.sh")
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^SEARCH_ATTRIBUTES="([^"]*)"`).FindSubmatch(script)
		if m == nil {
			t.Fatal("temporal-namespace.sh has no SEARCH_ATTRIBUTES line")
		}
		var want []string
		for _, sa := range workflows.SearchAttributes() {
			want = append(want, fmt.Sprintf("%s=%s", sa.Name, sa.Type))
		}
		if got := strings.Fields(string(m[1])); !slices.Equal(got, want) {
			t.Errorf("temporal-namespace.sh registers %v, want workflows.SearchAttributes %v", got, want)
		}
	})
}

// TestComposeSecrets: compose.yaml holds no secret, every secret comes from the
// env file, and a missing one stops docker compose with its name.
func TestComposeSecrets(t *testing.T) {
	raw, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile(".env.example")
	if err != nil {
		t.Fatal(err)
	}
	secretName := regexp.MustCompile(`PASSWORD|SECRET|_KEYS?$|TOKEN|_PWD$`)
	secrets := map[string]string{}
	for _, line := range strings.Split(string(example), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if ok && !strings.HasPrefix(line, "#") && secretName.MatchString(k) {
			secrets[k] = v
		}
	}
	for _, k := range []string{"POSTGRES_PASSWORD", "TEMPORAL_DB_PASSWORD", "FULFILMENT_DB_PASSWORD", "FULFILMENT_PAYLOAD_KEYS"} {
		if secrets[k] == "" {
			t.Errorf(".env.example has no placeholder for %s", k)
		}
	}
	// A default after :- would put a secret into compose.yaml itself.
	for _, m := range regexp.MustCompile(`\$\{([A-Z0-9_]+):-([^}]*)\}`).FindAllStringSubmatch(string(raw), -1) {
		if secretName.MatchString(m[1]) && m[2] != "" {
			t.Errorf("compose.yaml gives secret %s the default %q", m[1], m[2])
		}
	}
	for k, v := range secrets {
		if v != "" && strings.Contains(string(raw), v) {
			t.Errorf("compose.yaml contains the value of %s", k)
		}
	}

	p, err := loadProject(t.Context(), ".env.example")
	if err != nil {
		t.Fatal(err)
	}
	worker := p.Services["worker"]
	if got := env(t, worker, "FULFILMENT_PAYLOAD_KEYS"); got != secrets["FULFILMENT_PAYLOAD_KEYS"] {
		t.Errorf("worker: FULFILMENT_PAYLOAD_KEYS = %q, want the env file's", got)
	}
	if got := env(t, worker, "DATABASE_URL"); !strings.Contains(got, ":"+secrets["FULFILMENT_DB_PASSWORD"]+"@postgres:5432/fulfilment") {
		t.Errorf("worker: DATABASE_URL %q does not carry the env file's FULFILMENT_DB_PASSWORD", got)
	}

	for _, missing := range []string{"FULFILMENT_PAYLOAD_KEYS", "FULFILMENT_DB_PASSWORD", "POSTGRES_PASSWORD", "TEMPORAL_DB_PASSWORD"} {
		var kept []string
		for _, line := range strings.Split(string(example), "\n") {
			if !strings.HasPrefix(line, missing+"=") {
				kept = append(kept, line)
			}
		}
		envFile := filepath.Join(t.TempDir(), "env")
		if err := os.WriteFile(envFile, []byte(strings.Join(kept, "\n")), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := loadProject(t.Context(), envFile)
		if err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("without %s in the env file: %v, want an error naming it", missing, err)
		}
	}
}

// env returns the service's value of key, failing the test when it is unset.
func env(t *testing.T, s types.ServiceConfig, key string) string {
	t.Helper()
	v, ok := s.Environment[key]
	if !ok || v == nil {
		t.Fatalf("%s: %s is not set", s.Name, key)
	}
	return *v
}

// knownSettings are the environment variables the worker and the starter
// read: string literals in their main packages and in envvar (which reads the
// pool and key settings), Temporal's envconfig's variables (from its source in
// the module cache), and the variables docs/configuration.md documents.
func knownSettings(t *testing.T) map[string]bool {
	t.Helper()
	literal := regexp.MustCompile(`"([A-Z][A-Z0-9_]{2,})"`)
	known := map[string]bool{}
	scan := func(dir string) {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no Go files in %s: %v", dir, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range literal.FindAllStringSubmatch(string(src), -1) {
				known[m[1]] = true
			}
		}
	}
	for _, dir := range []string{"../../worker", "../../starter", "../../envvar"} {
		scan(dir)
	}
	out, err := exec.CommandContext(t.Context(), "go", "list", "-m", "-f", "{{.Dir}}", "go.temporal.io/sdk/contrib/envconfig").Output()
	if err != nil {
		t.Fatalf("locate Temporal's envconfig: %v", err)
	}
	scan(strings.TrimSpace(string(out)))

	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile("`([A-Z][A-Z0-9_]{2,})`").FindAllStringSubmatch(string(doc), -1) {
		known[m[1]] = true
	}
	if !known["DATABASE_URL"] || !known["TEMPORAL_ADDRESS"] || !known["FULFILMENT_ADMIN_ADDR"] {
		t.Fatalf("the scan found too little (%d names); has the code moved?", len(known))
	}
	return known
}
