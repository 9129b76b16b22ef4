package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/internal/testbed"
)

// bench is one run: the testbed, the tokens `starter demo seed` made, and a
// client of its own for the dev server's metrics.
type bench struct {
	cfg      config
	tb       *testbed.Testbed
	tokens   map[string]string
	timeZone string
	metrics  *http.Client
	logger   *slog.Logger
}

// stagedServices are a worker and a starter on one namespace, with a shop that
// talks to the starter and a client of the namespace.
type stagedServices struct {
	*testbed.Services
	ns     string
	shop   *shop
	client client.Client
}

// benchEnv is the policy of every service of the run: the review request a
// second after the handover or delivery (so that orders complete within the
// run), a sandbox carrier that moves a parcel every half second, and no KPI
// schedule (its runs would add Actions to the paths' counts).
func benchEnv() []string {
	return []string{"FULFILMENT_REVIEW_DELAY=1s", "FULFILMENT_SANDBOX_CARRIER_STEP=500ms", "FULFILMENT_KPI_INTERVAL=off"}
}

// services registers namespace ns and starts a worker and a starter on it with
// benchEnv, extra and cfg.serviceEnv (the run's own settings win). Stages run one after another and stop their services
// before the next starts, so that each measures its own processes alone.
func (b *bench) services(ctx context.Context, ns string, extra ...string) (*stagedServices, error) {
	if err := b.tb.RegisterNamespace(ctx, ns); err != nil {
		return nil, err
	}
	ports, err := testbed.FreePorts(1)
	if err != nil {
		return nil, err
	}
	env := append(append(append(b.tb.ServiceEnv(ns, ports[0]), benchEnv()...), extra...), b.cfg.serviceEnv...)
	svc, err := b.tb.StartServices(ctx, ns, ports[0], env)
	if err != nil {
		return nil, fmt.Errorf("services of %s: %w", ns, err)
	}
	if err := b.pinServices(svc); err != nil {
		_ = svc.Stop()
		return nil, err
	}
	c, err := b.tb.Dial(ns)
	if err != nil {
		_ = svc.Stop()
		return nil, err
	}
	sh := &shop{url: svc.URL, tokens: b.tokens, store: b.tb.Store, timeZone: b.timeZone, patience: b.cfg.patience,
		http: &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	return &stagedServices{Services: svc, ns: ns, shop: sh, client: c}, nil
}

// stop stops the services and closes the client.
func (s *stagedServices) stop(logger *slog.Logger) {
	s.client.Close()
	if err := s.Stop(); err != nil {
		logger.Warn("stop services", "namespace", s.ns, "error", err)
	}
}

// stockUp gives every demo article ample stock at the Berlin store and the
// distribution centre, so that no order of the run is short by accident.
func (b *bench) stockUp(ctx context.Context) error {
	for _, d := range postgres.DemoSKUs() {
		for _, loc := range []string{"berlin-mitte", "dc-erfurt"} {
			if err := b.tb.Store.SetStock(ctx, loc, d.SKU, 10_000_000); err != nil {
				return fmt.Errorf("stock up %s at %s: %w", d.SKU, loc, err)
			}
		}
	}
	return nil
}
