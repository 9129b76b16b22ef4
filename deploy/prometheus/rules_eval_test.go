package prometheus

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/promqltest"
)

// series is a counter that grows by perMin a minute for minutes minutes, then
// by jumpPerMin for jumpMinutes more, in promqltest's expanding notation.
func series(labels string, perMin float64, minutes int, jumpPerMin float64, jumpMinutes int) string {
	end := perMin * float64(minutes)
	s := fmt.Sprintf("  %s 0+%gx%d", labels, perMin, minutes)
	if jumpMinutes > 0 {
		s += fmt.Sprintf(" %g+%gx%d", end+jumpPerMin, jumpPerMin, jumpMinutes-1)
	}
	return s + "\n"
}

// fires evaluates alert's expression at the end of the loaded data and
// returns its result's series (empty: the alert would not fire).
func fires(t *testing.T, alert, load string, at time.Duration) promql.Vector {
	t.Helper()
	var expr string
	for _, g := range loadRules(t).Groups {
		for _, r := range g.Rules {
			if r.Alert == alert {
				expr = r.Expr
			}
		}
	}
	if expr == "" {
		t.Fatalf("no alert %s in %s", alert, rulesFile)
	}
	storage := promqltest.LoadedStorage(t, "load 1m\n"+load)
	engine := promqltest.NewTestEngine(t, false, 5*time.Minute, 50_000_000)
	q, err := engine.NewInstantQuery(t.Context(), storage, nil, expr, time.Unix(0, 0).UTC().Add(at))
	if err != nil {
		t.Fatalf("%s: %v", alert, err)
	}
	res := q.Exec(t.Context())
	if res.Err != nil {
		t.Fatalf("%s: %v", alert, res.Err)
	}
	v, err := res.Vector()
	if err != nil {
		t.Fatalf("%s: %v", alert, err)
	}
	return v
}

// TestJourneyRulesFire evaluates the journey rules (and the non-determinism
// rule) on data: each fires on its shift and stays silent on an ordinary week
// (rulefmt only checks syntax). The expression is what Prometheus evaluates;
// `for` is left to Prometheus.
func TestJourneyRulesFire(t *testing.T) {
	const week = 7 * 24 * 60
	end := time.Duration(week+24*60) * time.Minute // a week, then the last day
	t.Run("FulfilmentJourneyAlarm", func(t *testing.T) {
		load := `  fulfilment_alarm_open{signal="pickup_expiries",store_id="s2",direction="up",instance="w1"} 1x30
  fulfilment_alarm_open{signal="pickup_expiries",store_id="s2",direction="up",instance="w2"} 1x30
`
		v := fires(t, "FulfilmentJourneyAlarm", load, 30*time.Minute)
		if len(v) != 1 || v[0].Metric.Get("store_id") != "s2" || v[0].Metric.Get("signal") != "pickup_expiries" {
			t.Fatalf("got %v, want one alert for s2's pickup_expiries (two workers export it)", v)
		}
		if v := fires(t, "FulfilmentJourneyAlarm", `  fulfilment_alarm_read_errors 0x30`+"\n", 30*time.Minute); len(v) != 0 {
			t.Fatalf("no alarm open, yet %v", v)
		}
	})
	cases := []struct {
		alert          string
		ordinary, jump string
	}{
		{
			alert: "FulfilmentPaymentDeclinesJump",
			ordinary: series(`fulfilment_order_stages_total{method="ship_to_store",stage="payment_captured"}`, 10, week+24*60, 10, 0) +
				series(`fulfilment_order_stages_total{method="ship_to_store",stage="payment_failed"}`, 0.3, week+24*60, 0.3, 0),
			jump: series(`fulfilment_order_stages_total{method="ship_to_store",stage="payment_captured"}`, 10, week+24*60, 10, 0) +
				series(`fulfilment_order_stages_total{method="ship_to_store",stage="payment_failed"}`, 0.3, week+23*60, 1.5, 60),
		},
		{
			alert: "FulfilmentPickupExpiriesJump",
			ordinary: series(`fulfilment_pickups_total{outcome="handed_over"}`, 5, week+24*60, 5, 0) +
				series(`fulfilment_pickups_total{outcome="expired"}`, 0.25, week+24*60, 0.25, 0),
			jump: series(`fulfilment_pickups_total{outcome="handed_over"}`, 5, week+24*60, 5, 0) +
				series(`fulfilment_pickups_total{outcome="expired"}`, 0.25, week, 0.75, 24*60),
		},
		{
			alert: "FulfilmentMessageFailuresJump",
			ordinary: series(`fulfilment_messages_total{channel="sms",outcome="sent"}`, 20, week+24*60, 20, 0) +
				series(`fulfilment_messages_total{channel="sms",outcome="failed"}`, 0.2, week+24*60, 0.2, 0),
			jump: series(`fulfilment_messages_total{channel="sms",outcome="sent"}`, 20, week+24*60, 20, 0) +
				series(`fulfilment_messages_total{channel="sms",outcome="failed"}`, 0.2, week+23*60, 2, 60),
		},
		{
			alert:    "FulfilmentWorkflowNonDeterminism",
			ordinary: series(`temporal_workflow_task_execution_failed_total{failure_reason="NonDeterminismError",namespace="default",task_queue="fulfilment",workflow_type="OrderFulfilmentV2"}`, 0, week+24*60, 0, 0),
			jump:     series(`temporal_workflow_task_execution_failed_total{failure_reason="NonDeterminismError",namespace="default",task_queue="fulfilment",workflow_type="OrderFulfilmentV2"}`, 0, week+24*60-10, 0.5, 10),
		},
	}
	for _, c := range cases {
		t.Run(c.alert, func(t *testing.T) {
			if v := fires(t, c.alert, c.ordinary, end); len(v) != 0 {
				t.Errorf("an ordinary week fires: %v", v)
			}
			v := fires(t, c.alert, c.jump, end)
			if len(v) == 0 {
				t.Fatalf("the jump does not fire")
			}
			t.Logf("fires with %s", strings.TrimSpace(v.String()))
		})
	}
}
