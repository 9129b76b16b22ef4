SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Linters run with `go run pkg@version` (pinned: the module proxy refuses some versions,
# and @latest). staticcheck v0.8.2 = release 2026.2.2 (Go 1.26 support since v0.7.0 = 2026.1).
STATICCHECK_VERSION ?= v0.8.2
WORKFLOWCHECK_VERSION ?= v0.6.0
STATICCHECK := go run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
WORKFLOWCHECK := go run go.temporal.io/sdk/contrib/tools/workflowcheck@$(WORKFLOWCHECK_VERSION)

.PHONY: help run cluster cluster-test cluster-build test bench chaos lint fmt-check vet staticcheck workflowcheck build image temporal stripe-mock helm helm-check grafana clean

help: ## list the targets
	@echo 'Targets:'
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  make %-13s %s\n", $$1, $$2}'

run: ## run everything locally (Temporal dev server + UI, PostgreSQL, worker, starter); Ctrl-C stops
	@deploy/local/run.sh

cluster: ## the system on a real Temporal server (4 services), PostgreSQL, Web UI, 2 workers, 2 starters; Ctrl-C stops (docs/cluster.md)
	@deploy/cluster/run.sh

cluster-test: ## scale-out test on that cluster: workers and a starter killed, a worker joins, one stops gracefully (CHAOS_ORDERS)
	@deploy/cluster/test.sh

cluster-build: ## build bin/temporal-server, bin/temporal-sql-tool, bin/temporal-ui-server (pinned; ~10 min the first time)
	@deploy/cluster/build.sh ensure

test: ## go test ./... against a real dev server, PostgreSQL and stripe-mock (TEST_PKGS, GOTESTFLAGS)
	@deploy/local/test.sh test

bench: ## own stack; Actions, latency, memory, throughput, CPU per order as one table (BENCH_*; docs/performance.md)
	@deploy/local/bench.sh

chaos: ## own stack, a few hundred orders while parts are killed, invariants checked (CHAOS_ORDERS, CHAOS_SEED)
	@deploy/local/chaos.sh

lint: fmt-check vet staticcheck workflowcheck ## gofmt, go vet, staticcheck, workflowcheck

fmt-check: ## fail if gofmt would change any file
	@files="$$(find . -name '*.go' -not -path './.dev/*' -not -path './bin/*' \
		-not -path '*/testdata/*' -not -path './vendor/*' -print0 | xargs -0 -r gofmt -l)"; \
	if [[ -n "$$files" ]]; then \
		echo 'gofmt needed (run gofmt -w on these):'; echo "$$files"; exit 1; \
	fi

# Go modules nested in the repository (kept out of the main go.mod for their
# dependencies), which ./... does not reach: the alerting rules and the dashboard.
NESTED_MODULES := deploy/prometheus deploy/grafana

vet: ## go vet ./... (and in the nested modules deploy/prometheus, deploy/grafana)
	go vet ./...
	for m in $(NESTED_MODULES); do (cd "$$m" && go vet ./...); done

staticcheck: ## staticcheck ./... (and in the nested modules deploy/prometheus, deploy/grafana)
	$(STATICCHECK) ./...
	for m in $(NESTED_MODULES); do (cd "$$m" && $(STATICCHECK) ./...); done

workflowcheck: ## workflowcheck ./... (workflow determinism)
	$(WORKFLOWCHECK) ./...

build: ## build bin/worker and bin/starter
	go build -o bin/worker ./worker
	go build -o bin/starter ./starter

image: ## build bin/images/worker.tar and starter.tar: container images without Docker (docs/deploy.md)
	@deploy/image/image.sh

temporal: ## build bin/temporal (Temporal CLI, pinned; ~5 min the first time)
	@deploy/local/temporal.sh ensure

stripe-mock: ## build bin/stripe-mock (Stripe's API mock, pinned; make test starts it)
	@deploy/local/stripe-mock.sh ensure

helm: ## build bin/helm (Helm, pinned; ~3-4 min the first time)
	@deploy/local/helm.sh ensure

grafana: ## regenerate deploy/grafana/fulfilment.json, the Grafana dashboard, from its Go code (docs/observability.md#dashboard)
	cd deploy/grafana && go run ./generate fulfilment.json

helm-check: ## helm lint --strict + helm template of deploy/helm/fulfilment per values file, and its test (no services)
	@deploy/local/helm.sh check

clean: ## remove .dev/ (local PostgreSQL data, Temporal SQLite, payload key, tokens, logs)
	@if [[ -f .dev/run.pid ]] && kill -0 "$$(cat .dev/run.pid)" 2>/dev/null; then \
		echo "make run is still running (pid $$(cat .dev/run.pid)); stop it with Ctrl-C first"; exit 1; \
	fi
	@if [[ -f .dev/cluster/run.pid ]] && kill -0 "$$(cat .dev/cluster/run.pid)" 2>/dev/null; then \
		echo "make cluster is still running (pid $$(cat .dev/cluster/run.pid)); stop it with Ctrl-C first"; exit 1; \
	fi
	@for d in .dev/pg .dev/cluster/pg; do \
		if deploy/local/postgres.sh status "$$d"; then \
			echo "PostgreSQL is still running on $$d; stop it first: deploy/local/postgres.sh stop $$d"; exit 1; \
		fi; \
	done
	rm -rf .dev
