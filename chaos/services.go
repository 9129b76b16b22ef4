package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// serviceEnv is the environment of the worker and the starter: sandbox providers
// failing cfg.faultRate of their calls and the shortened policy.
func (st *stack) serviceEnv() []string {
	c := st.cfg
	return append(baseEnv(),
		"DATABASE_URL="+st.databaseURL,
		fmt.Sprintf("TEMPORAL_ADDRESS=127.0.0.1:%d", st.temporalPort),
		"TEMPORAL_NAMESPACE=default",
		"FULFILMENT_PAYLOAD_KEYS="+st.payloadKeys,
		"FULFILMENT_PROVIDERS=sandbox",
		fmt.Sprintf("FULFILMENT_SANDBOX_FAULT_RATE=%g", c.faultRate),
		"FULFILMENT_SANDBOX_CARRIER_STEP="+c.carrierStep.String(),
		"FULFILMENT_SANDBOX_TRACKING_URL="+st.starterURL+"/dev/tracking/",
		"STARTER_PUBLIC_URL="+st.starterURL,
		fmt.Sprintf("STARTER_ADDR=127.0.0.1:%d", st.starterPort),
		"FULFILMENT_PICKUP_WINDOW="+c.pickupWindow.String(),
		"FULFILMENT_REVIEW_DELAY="+c.reviewDelay.String(),
		"FULFILMENT_PICKING_SLA="+c.pickingSLA.String(),
		"FULFILMENT_TRANSFER_TIMEOUT="+c.transferTimeout.String(),
		"FULFILMENT_DELIVERY_TIMEOUT="+c.deliveryTimeout.String(),
	)
}

// baseEnv is the suite's environment without anything that would point a child at
// another system: Temporal (envconfig), databases, providers, tokens.
func baseEnv() []string {
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

// migrateAndSeed applies the schema and seeds stores, stock and API tokens the way
// make run does (`worker migrate`, `starter demo seed --tokens-file`).
func (st *stack) migrateAndSeed(ctx context.Context) error {
	env := st.serviceEnv()
	for _, step := range [][]string{
		{"worker", "migrate"},
		{"starter", "demo", "seed", "--tokens-file", filepath.Join(st.dir, "tokens.env")},
	} {
		cmd := exec.CommandContext(ctx, filepath.Join(st.dir, "bin", step[0]), step[1:]...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w: %s", strings.Join(step, " "), err, out)
		}
	}
	tokens, err := readTokens(filepath.Join(st.dir, "tokens.env"))
	if err != nil {
		return err
	}
	st.tokens = tokens
	return nil
}

// startServices starts the worker and the starter, each supervised, and waits
// until the starter is ready.
func (st *stack) startServices(ctx context.Context) error {
	env := st.serviceEnv()
	st.worker = &process{name: "worker", path: filepath.Join(st.dir, "bin", "worker"), env: env,
		logPath: filepath.Join(st.dir, "worker.log"), logger: st.logger}
	st.starter = &process{name: "starter", path: filepath.Join(st.dir, "bin", "starter"), env: env,
		logPath: filepath.Join(st.dir, "starter.log"), logger: st.logger}
	for _, p := range []*process{st.worker, st.starter} {
		if err := p.start(); err != nil {
			return err
		}
	}
	if err := st.waitStarter(ctx, 90*time.Second); err != nil {
		return err
	}
	return st.waitWorker(ctx, 0, 60*time.Second)
}

// waitStarter waits until the starter answers 200 on /readyz.
func (st *stack) waitStarter(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for i := 0; i < maxChecks && time.Now().Before(deadline); i++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, st.starterURL+"/readyz", nil)
		if err != nil {
			return fmt.Errorf("readiness request: %w", err)
		}
		if resp, err := st.http.Do(req); err == nil {
			_ = resp.Body.Close() // only the status matters
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if err := sleep(ctx, 300*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("the starter was not ready after %s:%s", timeout, tailFile(st.starter.logPath, 30))
}

// waitWorker waits until a run of the worker after its first `after` runs logged
// that it polls its task queue (the worker has no health endpoint).
func (st *stack) waitWorker(ctx context.Context, after int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for i := 0; i < maxChecks && time.Now().Before(deadline); i++ {
		if st.worker.startCount() > after && runStarted(st.worker.logPath, "worker started") {
			return nil
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("the worker did not start polling within %s:%s", timeout, tailFile(st.worker.logPath, 30))
}

// readTokens reads the KEY=value lines written by `starter demo seed`.
func readTokens(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read tokens: %w", err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			out[k] = v
		}
	}
	for _, k := range []string{"CHECKOUT_TOKEN", "SUPPORT_TOKEN", "STAFF_TOKEN_BERLIN_MITTE", "STAFF_TOKEN_HAMBURG_ALTONA", "STAFF_TOKEN_DC_ERFURT"} {
		if out[k] == "" {
			return nil, fmt.Errorf("%s missing in %s", k, path)
		}
	}
	return out, nil
}

// runStarted reports whether the last run in a supervised log (after its last
// "=== chaos: start" marker) logged marker.
func runStarted(path, marker string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	s := string(data)
	if i := strings.LastIndex(s, "=== chaos: start"); i >= 0 {
		s = s[i:]
	}
	return strings.Contains(s, marker)
}
