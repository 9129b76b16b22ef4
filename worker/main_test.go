package main

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

func TestLoadConfigNamesEveryProblem(t *testing.T) {
	key := "dev:" + base64.StdEncoding.EncodeToString(make([]byte, 32))
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string
	}{
		{"sandbox needs only the basics", map[string]string{"DATABASE_URL": "postgres://x", "FULFILMENT_PAYLOAD_KEYS": key}, nil},
		{"nothing set", map[string]string{}, []string{"DATABASE_URL is not set", "FULFILMENT_PAYLOAD_KEYS is not set"}},
		{"live names every missing credential", map[string]string{
			"DATABASE_URL": "postgres://x", "FULFILMENT_PAYLOAD_KEYS": key, "FULFILMENT_PROVIDERS": "live", "STRIPE_SECRET_KEY": "sk_live_secret",
		}, []string{"needs EASYPOST_API_KEY, SENDGRID_API_KEY, SENDGRID_FROM_EMAIL"}},
		{"live with every channel names the SMS and push credentials too", map[string]string{
			"DATABASE_URL": "postgres://x", "FULFILMENT_PAYLOAD_KEYS": key, "FULFILMENT_PROVIDERS": "live", "STRIPE_SECRET_KEY": "sk_live_secret",
			"EASYPOST_API_KEY": "ep", "SENDGRID_API_KEY": "sg", "SENDGRID_FROM_EMAIL": "shop@example.com", "TWILIO_AUTH_TOKEN": "tw_secret",
		}, []string{"needs TWILIO_ACCOUNT_SID, TWILIO_FROM (or TWILIO_MESSAGING_SERVICE_SID), FCM_PROJECT_ID, GOOGLE_APPLICATION_CREDENTIALS"}},
		{"live with email only needs no SMS or push credentials", map[string]string{
			"DATABASE_URL": "postgres://x", "FULFILMENT_PAYLOAD_KEYS": key, "FULFILMENT_PROVIDERS": "live", "STRIPE_SECRET_KEY": "sk_live_secret",
			"EASYPOST_API_KEY": "ep", "SENDGRID_API_KEY": "sg", "SENDGRID_FROM_EMAIL": "shop@example.com", "FULFILMENT_CHANNELS": "email",
		}, nil},
		{"unknown channel", map[string]string{
			"DATABASE_URL": "postgres://x", "FULFILMENT_PAYLOAD_KEYS": key, "FULFILMENT_PROVIDERS": "live", "STRIPE_SECRET_KEY": "sk_live_secret",
			"EASYPOST_API_KEY": "ep", "SENDGRID_API_KEY": "sg", "SENDGRID_FROM_EMAIL": "shop@example.com", "FULFILMENT_CHANNELS": "email,fax",
		}, []string{`FULFILMENT_CHANNELS: unknown channel "fax"`}},
		{"bad fault rate", map[string]string{"DATABASE_URL": "postgres://x", "FULFILMENT_PAYLOAD_KEYS": key, "FULFILMENT_SANDBOX_FAULT_RATE": "2"}, []string{"FULFILMENT_SANDBOX_FAULT_RATE"}},
		{"unknown providers", map[string]string{"DATABASE_URL": "postgres://x", "FULFILMENT_PAYLOAD_KEYS": key, "FULFILMENT_PROVIDERS": "fake"}, []string{`FULFILMENT_PROVIDERS="fake"`}},
		{"bad workflow cache", map[string]string{"DATABASE_URL": "postgres://x", "FULFILMENT_PAYLOAD_KEYS": key, "FULFILMENT_WORKFLOW_CACHE": "0"}, []string{"FULFILMENT_WORKFLOW_CACHE"}},
		{"bad memory limit", map[string]string{"DATABASE_URL": "postgres://x", "FULFILMENT_PAYLOAD_KEYS": key, "FULFILMENT_MEMORY_LIMIT": "100MB"}, []string{"FULFILMENT_MEMORY_LIMIT"}},
		{"memory limit too small", map[string]string{"DATABASE_URL": "postgres://x", "FULFILMENT_PAYLOAD_KEYS": key, "FULFILMENT_MEMORY_LIMIT": "1MiB"}, []string{"FULFILMENT_MEMORY_LIMIT"}},
		{"bad stop timeout", map[string]string{"DATABASE_URL": "postgres://x", "FULFILMENT_PAYLOAD_KEYS": key, "FULFILMENT_WORKER_STOP_TIMEOUT": "30"}, []string{`FULFILMENT_WORKER_STOP_TIMEOUT="30"`}},
		{"bad alarm webhook and email", map[string]string{"DATABASE_URL": "postgres://x", "FULFILMENT_PAYLOAD_KEYS": key,
			"FULFILMENT_ALARM_WEBHOOK_URL": "hooks.slack.com/services/x", "FULFILMENT_ALARM_EMAIL": "ops at example.com"},
			[]string{"FULFILMENT_ALARM_WEBHOOK_URL", `FULFILMENT_ALARM_EMAIL="ops at example.com"`}},
		{"alarm webhook and email", map[string]string{"DATABASE_URL": "postgres://x", "FULFILMENT_PAYLOAD_KEYS": key,
			"FULFILMENT_ALARM_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/x", "FULFILMENT_ALARM_EMAIL": "ops@example.com"}, nil},
		{"bad message delay", map[string]string{"DATABASE_URL": "postgres://x", "FULFILMENT_PAYLOAD_KEYS": key, "FULFILMENT_SANDBOX_MESSAGE_DELAY": "2h"}, []string{"FULFILMENT_SANDBOX_MESSAGE_DELAY"}},
		{"Temporal Cloud API key without namespace", map[string]string{"DATABASE_URL": "postgres://x", "FULFILMENT_PAYLOAD_KEYS": key,
			"TEMPORAL_ADDRESS": "eu-central-1.aws.api.temporal.io:7233", "TEMPORAL_API_KEY": "tw_secret"}, []string{"TEMPORAL_NAMESPACE is not set"}},
		{"bad KPI interval", map[string]string{"DATABASE_URL": "postgres://x", "FULFILMENT_PAYLOAD_KEYS": key, "FULFILMENT_KPI_INTERVAL": "10s"}, []string{`FULFILMENT_KPI_INTERVAL="10s"`}},
		{"KPI interval not a duration", map[string]string{"DATABASE_URL": "postgres://x", "FULFILMENT_PAYLOAD_KEYS": key, "FULFILMENT_KPI_INTERVAL": "15"}, []string{`FULFILMENT_KPI_INTERVAL="15"`}},
		{"KPI schedule off", map[string]string{"DATABASE_URL": "postgres://x", "FULFILMENT_PAYLOAD_KEYS": key, "FULFILMENT_KPI_INTERVAL": "off"}, nil},
		{"bad carrier step", map[string]string{"DATABASE_URL": "postgres://x", "FULFILMENT_PAYLOAD_KEYS": key, "FULFILMENT_SANDBOX_CARRIER_STEP": "soon"}, []string{"FULFILMENT_SANDBOX_CARRIER_STEP"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(func(k string) string { return tt.env[k] }, true)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %v", tt.wantErr)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %v, want it to contain %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "sk_live_secret") || strings.Contains(err.Error(), "tw_secret") {
				t.Error("the error shows a secret")
			}
		})
	}
}

func TestMemoryLimit(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		want     int64
		wantFrom string
	}{
		{"default follows the cache", map[string]string{}, memoryLimitBase + defaultWorkflowCache*memoryLimitPerWorkflow, "default for the workflow cache"},
		{"a bigger cache raises the default", map[string]string{"FULFILMENT_WORKFLOW_CACHE": "2000"}, 64<<20 + 2000*64<<10, "default for the workflow cache"},
		{"GOMEMLIMIT is left to the runtime", map[string]string{"GOMEMLIMIT": "300MiB"}, 0, "GOMEMLIMIT"},
		{"FULFILMENT_MEMORY_LIMIT wins", map[string]string{"GOMEMLIMIT": "300MiB", "FULFILMENT_MEMORY_LIMIT": "1GiB"}, 1 << 30, "FULFILMENT_MEMORY_LIMIT"},
		{"in bytes", map[string]string{"FULFILMENT_MEMORY_LIMIT": "104857600"}, 100 << 20, "FULFILMENT_MEMORY_LIMIT"},
		{"off", map[string]string{"FULFILMENT_MEMORY_LIMIT": "off"}, 0, "FULFILMENT_MEMORY_LIMIT=off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.env["DATABASE_URL"] = "postgres://x"
			c, err := loadConfig(func(k string) string { return tt.env[k] }, false)
			if err != nil {
				t.Fatal(err)
			}
			if c.memoryLimit != tt.want || c.memoryLimitFrom != tt.wantFrom {
				t.Errorf("memory limit %d from %q, want %d from %q", c.memoryLimit, c.memoryLimitFrom, tt.want, tt.wantFrom)
			}
		})
	}
}

func TestStopTimeout(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres://x"}
	c, err := loadConfig(func(k string) string { return base[k] }, false)
	if err != nil || c.stopTimeout != 30*time.Second {
		t.Errorf("default stop timeout %v (%v), want 30s", c.stopTimeout, err)
	}
	base["FULFILMENT_WORKER_STOP_TIMEOUT"] = "2m"
	if c, err := loadConfig(func(k string) string { return base[k] }, false); err != nil || c.stopTimeout != 2*time.Minute {
		t.Errorf("stop timeout %v (%v), want 2m", c.stopTimeout, err)
	}
}

func TestTracingOnlyWhenAnEndpointIsSet(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, endpoint := range []string{"", "http://127.0.0.1:1"} {
		env := map[string]string{"DATABASE_URL": "postgres://x", "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}
		getenv := func(k string) string { return env[k] }
		c, err := loadConfig(getenv, false)
		if err != nil {
			t.Fatal(err)
		}
		if c.pool, err = pgxpool.ParseConfig(env["DATABASE_URL"]); err != nil { // loadConfig's run mode parses it
			t.Fatal(err)
		}
		tr, err := traced(context.Background(), getenv, &c, logger)
		if err != nil {
			t.Fatal(err)
		}
		on := endpoint != ""
		if tr.Enabled() != on || (len(c.temporal.Interceptors) == 1) != on ||
			(c.pool.ConnConfig.Tracer != nil) != on || (c.live.HTTPTransport != nil) != on {
			t.Errorf("endpoint %q: tracing %v, %d interceptors, pool tracer %T, transport %T; want all %v",
				endpoint, tr.Enabled(), len(c.temporal.Interceptors), c.pool.ConnConfig.Tracer, c.live.HTTPTransport, on)
		}
		flushTraces(tr, logger)
	}
}
