package testbed

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/everywherecommerce/fulfilment/workflows"
)

// Services is one worker and one starter, each supervised, serving one namespace.
type Services struct {
	Worker, Starter *Process
	// URL is the starter's base URL, http://127.0.0.1:Port.
	URL  string
	Port int
	http *http.Client
}

// ServiceEnv is the environment every worker and starter of the testbed needs:
// PostgreSQL, the dev server's namespace, the payload keys, sandbox providers, and
// the starter's address. Callers append their policy (FULFILMENT_PICKUP_WINDOW...).
func (tb *Testbed) ServiceEnv(namespace string, starterPort int) []string {
	url := fmt.Sprintf("http://127.0.0.1:%d", starterPort)
	return append(BaseEnv(),
		"DATABASE_URL="+tb.DatabaseURL,
		"TEMPORAL_ADDRESS="+tb.TemporalAddr,
		"TEMPORAL_NAMESPACE="+namespace,
		"FULFILMENT_PAYLOAD_KEYS="+tb.PayloadKeys,
		"FULFILMENT_PROVIDERS=sandbox",
		"FULFILMENT_SANDBOX_TRACKING_URL="+url+"/dev/tracking/",
		"STARTER_PUBLIC_URL="+url,
		fmt.Sprintf("STARTER_ADDR=127.0.0.1:%d", starterPort),
	)
}

// BaseEnv is this process's environment without anything that would point a child
// at another system: Temporal (envconfig), databases, providers, tokens.
func BaseEnv() []string {
	drop := []string{"TEMPORAL_", "DATABASE_URL", "FULFILMENT_", "STARTER_", "STRIPE_", "EASYPOST_", "SENDGRID_",
		"TWILIO_", "FCM_", "GOOGLE_APPLICATION_CREDENTIALS", "CHECKOUT_TOKEN", "SUPPORT_TOKEN", "STAFF_TOKEN_"}
	var env []string
	for _, kv := range os.Environ() {
		keep := true
		for _, d := range drop {
			if strings.HasPrefix(kv, d) {
				keep = false
				break
			}
		}
		if keep {
			env = append(env, kv)
		}
	}
	return env
}

// MigrateAndSeed applies the schema and seeds stores, stock and API tokens the way
// make run does (`worker migrate`, `starter demo seed --tokens-file`), with env
// (ServiceEnv and more), and returns the tokens by name (CHECKOUT_TOKEN...).
func (tb *Testbed) MigrateAndSeed(ctx context.Context, env []string) (map[string]string, error) {
	tokensFile := filepath.Join(tb.Dir, "tokens.env")
	for _, step := range [][]string{
		{"worker", "migrate"},
		{"starter", "demo", "seed", "--tokens-file", tokensFile},
	} {
		cmd := exec.CommandContext(ctx, tb.Bin(step[0]), step[1:]...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%s: %w: %s", strings.Join(step, " "), err, out)
		}
	}
	return ReadTokens(tokensFile)
}

// StartServices starts a worker and a starter with env (ServiceEnv of the same
// starterPort, and more), waits until the starter is ready and the worker polls,
// and stops them with the testbed. name prefixes their logs ("" for worker.log).
func (tb *Testbed) StartServices(ctx context.Context, name string, starterPort int, env []string) (*Services, error) {
	prefix := ""
	if name != "" {
		prefix = name + "-"
	}
	s := &Services{URL: fmt.Sprintf("http://127.0.0.1:%d", starterPort), Port: starterPort, http: &http.Client{Timeout: 5 * time.Second}}
	s.Worker = &Process{Name: prefix + "worker", Path: tb.Bin("worker"), Env: env,
		LogPath: filepath.Join(tb.Dir, prefix+"worker.log"), Logger: tb.Logger}
	s.Starter = &Process{Name: prefix + "starter", Path: tb.Bin("starter"), Env: env,
		LogPath: filepath.Join(tb.Dir, prefix+"starter.log"), Logger: tb.Logger}
	tb.services = append(tb.services, s)
	for _, p := range []*Process{s.Worker, s.Starter} {
		if err := p.Start(); err != nil {
			return s, err
		}
	}
	if err := s.WaitStarter(ctx, 90*time.Second); err != nil {
		return s, err
	}
	return s, s.WaitWorker(ctx, 0, 60*time.Second)
}

// Stop stops the starter, then the worker.
func (s *Services) Stop() error {
	return errors.Join(s.Starter.Stop(), s.Worker.Stop())
}

// WaitStarter waits until the starter answers 200 on /readyz.
func (s *Services) WaitStarter(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for i := 0; i < maxChecks && time.Now().Before(deadline); i++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/readyz", nil)
		if err != nil {
			return fmt.Errorf("readiness request: %w", err)
		}
		if resp, err := s.http.Do(req); err == nil {
			_ = resp.Body.Close() // only the status matters
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if err := Sleep(ctx, 300*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("the starter was not ready after %s:%s", timeout, TailFile(s.Starter.LogPath, 30))
}

// WaitWorker waits until a run of the worker after its first `after` runs logged
// that it polls its task queue (WaitPolling).
func (s *Services) WaitWorker(ctx context.Context, after int, timeout time.Duration) error {
	return WaitPolling(ctx, s.Worker, after, timeout)
}

// WaitPolling waits until a run of a worker process after its first `after` runs
// logged that it polls its task queue.
func WaitPolling(ctx context.Context, w *Process, after int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for i := 0; i < maxChecks && time.Now().Before(deadline); i++ {
		if w.StartCount() > after && RunStarted(w.LogPath, "worker started") {
			return nil
		}
		if err := Sleep(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("%s did not start polling within %s:%s", w.Name, timeout, TailFile(w.LogPath, 30))
}

// StartWorker starts one more worker (a supervised Process named name, with env,
// log NAME.log), waits until it polls, and stops it with the testbed: a worker
// that joins a running system.
func (tb *Testbed) StartWorker(ctx context.Context, name string, env []string) (*Process, error) {
	p := &Process{Name: name, Path: tb.Bin("worker"), Env: env, LogPath: filepath.Join(tb.Dir, name+".log"), Logger: tb.Logger}
	tb.workers = append(tb.workers, p)
	if err := p.Start(); err != nil {
		return p, err
	}
	return p, WaitPolling(ctx, p, 0, 60*time.Second)
}

// RegisterNamespace registers a namespace with the order search attributes
// (workflows.SearchAttributes) on the testbed's dev server (see RegisterNamespace).
func (tb *Testbed) RegisterNamespace(ctx context.Context, ns string) error {
	return RegisterNamespace(ctx, tb.TemporalAddr, ns)
}

// RegisterNamespace registers a namespace on the Temporal server at hostPort with
// the order search attributes (workflows.SearchAttributes) and waits until it
// serves requests. A name of letters and digits only keeps its label in the dev
// server's metrics intact.
func RegisterNamespace(ctx context.Context, hostPort, ns string) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	nc, err := client.NewNamespaceClient(client.Options{HostPort: hostPort})
	if err != nil {
		return fmt.Errorf("namespace client: %w", err)
	}
	defer nc.Close()
	err = nc.Register(ctx, &workflowservice.RegisterNamespaceRequest{Namespace: ns, WorkflowExecutionRetentionPeriod: durationpb.New(24 * time.Hour)})
	if err != nil {
		return fmt.Errorf("register namespace %s: %w", ns, err)
	}
	c, err := client.Dial(client.Options{HostPort: hostPort, Namespace: ns})
	if err != nil {
		return fmt.Errorf("dial namespace %s: %w", ns, err)
	}
	defer c.Close()
	attrs := map[string]enums.IndexedValueType{}
	for _, sa := range workflows.SearchAttributes() {
		attrs[sa.Name] = sa.Type
	}
	for i := 0; i < maxChecks; i++ {
		_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{SearchAttributes: attrs, Namespace: ns})
		if err == nil {
			return nil
		}
		if err := Sleep(ctx, 200*time.Millisecond); err != nil {
			return fmt.Errorf("namespace %s not ready: %w", ns, errors.Join(err, ctx.Err()))
		}
	}
	return fmt.Errorf("namespace %s not ready: %w", ns, err)
}

// SettledActions reads a namespace's Actions (CountActions) until the count stops
// changing for two readings a second apart: the dev server's metrics reporter
// flushes on an interval, so the last Actions show up late.
func SettledActions(ctx context.Context, hc *http.Client, metricsURL, ns string, patience time.Duration) (int, error) {
	last, stable := -1, 0
	for deadline := time.Now().Add(patience); time.Now().Before(deadline); {
		n, err := CountActions(ctx, hc, metricsURL, ns)
		if err != nil {
			return 0, err
		}
		if n == last && n > 0 {
			if stable++; stable == 2 {
				return n, nil
			}
		} else {
			last, stable = n, 0
		}
		if err := Sleep(ctx, time.Second); err != nil {
			return 0, fmt.Errorf("actions of %s: %w", ns, err)
		}
	}
	return 0, fmt.Errorf("the action count of namespace %s did not settle (last %d)", ns, last)
}
