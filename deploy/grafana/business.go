//lint:file-ignore SA1019 the classic dashboard model (dashboard.Dashboard, schemaVersion 42) is what every Grafana imports; the SDK prefers dashboardv2, the schema of the v2 dashboard API of Grafana 12 onwards, which older Grafanas do not read.

package grafana

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/statetimeline"
)

// perMinute is a business counter's rate per minute, summed by the given
// labels, over the chosen namespace's and task queue's workers.
func perMinute(selector, by string) string {
	return fmt.Sprintf(`sum by (%s) (rate(%s[$__rate_interval]) and on (job, instance) %s) * 60`, by, selector, workers)
}

func ordersRow(b *dashboard.DashboardBuilder) {
	b.WithRow(dashboard.NewRowBuilder("Orders")).
		WithPanel(graph("Orders placed per minute",
			"Checkouts accepted (stage accepted: stock reserved at the store), by fulfilment method.",
			"cpm",
			query(perMinute(`fulfilment_order_stages_total{stage="accepted"}`, "method"), "{{method}}"))).
		WithPanel(graph("Checkout outcomes per minute",
			"How checkouts ended: payment_captured, rejected (short of stock or unknown store), payment_failed.",
			"cpm",
			query(perMinute(`fulfilment_order_stages_total{stage=~"payment_captured|rejected|payment_failed"}`, "stage"), "{{stage}}")).
			OverrideByRegexp("payment_failed|rejected", red())).
		WithPanel(graph("Stages entered per minute",
			"Orders that entered each stage of the lifecycle (docs/lifecycle.md), counted once per new journey entry.",
			"cpm",
			query(perMinute("fulfilment_order_stages_total", "stage"), "{{stage}}"))).
		WithPanel(graph("Pickups by outcome per minute",
			"How pickups ended: handed_over, expired (the pickup deadline passed; the order is cancelled), locked (wrong codes).",
			"cpm",
			query(perMinute("fulfilment_pickups_total", "outcome"), "{{outcome}}")).
			Span(12).
			OverrideByRegexp("expired|locked", red())).
		WithPanel(graph("Orders flagged per minute",
			"Orders flagged for a person (needs attention), by reason: locked, picking_sla, transfer_overdue, delivery_overdue, carrier, payment, other.",
			"cpm",
			query(perMinute("fulfilment_orders_flagged_total", "reason"), "{{reason}}")).
			Span(12))
}

func paymentsRow(b *dashboard.DashboardBuilder) {
	b.WithRow(dashboard.NewRowBuilder("Payments, labels and messages")).
		WithPanel(graph("Payments captured and refunded per minute",
			"Captures at checkout; refunds the provider confirmed (at least once: docs/observability.md).",
			"cpm",
			query(perMinute("fulfilment_payments_captured_total", "currency"), "captured {{currency}}"),
			query(perMinute("fulfilment_payments_refunded_total", "currency"), "refunded {{currency}}"))).
		WithPanel(graph("Amounts captured and refunded per minute",
			"In the currency's minor unit (cents), by currency.",
			"short",
			query(perMinute("fulfilment_payments_captured_amount_total", "currency"), "captured {{currency}}"),
			query(perMinute("fulfilment_payments_refunded_amount_total", "currency"), "refunded {{currency}}"))).
		WithPanel(graph("Shipping labels bought per minute",
			"Labels bought and saved, by purpose (store-transfer, home-delivery).",
			"cpm",
			query(perMinute("fulfilment_labels_bought_total", "purpose"), "{{purpose}}"))).
		WithPanel(graph("Messages by channel and outcome per minute",
			"Customer messages: sent, failed (retried), undeliverable (refused for good), unconfirmed, skipped (on purpose: no consent, quiet hours…).",
			"cpm",
			query(perMinute("fulfilment_messages_total", "channel, outcome"), "{{channel}} {{outcome}}")).
			Span(12).
			OverrideByRegexp(".*(failed|undeliverable)", red())).
		WithPanel(graph("Messages not delivered per minute",
			"Failed attempts (each one retried), undeliverable and unconfirmed messages, by channel.",
			"cpm",
			query(perMinute(`fulfilment_messages_total{outcome=~"failed|undeliverable|unconfirmed"}`, "channel, outcome"), "{{channel}} {{outcome}}")).
			Span(12))
}

// alarmsRow shows the journey alarms (docs/alarms.md). The worker reads the
// open alarms from PostgreSQL at each scrape: fulfilment_alarm_open{signal,
// store_id,direction} is 1 for each open episode and absent otherwise,
// fulfilment_alarm_ratio its latest observed/expected, and
// fulfilment_alarm_read_errors 1 when that read failed. Every worker exports the
// same alarms, so the panels take the max per alarm, never the sum.
func alarmsRow(b *dashboard.DashboardBuilder) {
	const by = "signal, store_id, direction"
	ofWorkers := func(metric string) string {
		return fmt.Sprintf(`max by (%s) (%s{store_id=~"$store"} and on (job, instance) %s)`, by, metric, workers)
	}
	open := ofWorkers("fulfilment_alarm_open")
	b.WithRow(dashboard.NewRowBuilder("Journey alarms")).
		WithPanel(singleStat("Alarms open",
			"Alarm episodes open now, over the chosen stores (docs/alarms.md).",
			"none", 1,
			query(`count(`+open+`)`, "open")).
			NoValue("0")).
		WithPanel(singleStat("Alarm reads failing",
			"Workers that could not read the open alarms from PostgreSQL at their last scrape: then the panels beside show none.",
			"none", 1,
			query(`sum(fulfilment_alarm_read_errors and on (job, instance) `+workers+`)`, "failing"))).
		WithPanel(statetimeline.NewPanelBuilder().
			Title("Alarms by signal, store and direction").
			Description("Red while an alarm episode is open; empty while none is.").
			Datasource(datasource()).
			Span(16).
			Height(8).
			MergeValues(true).
			ShowValue(common.VisibilityModeNever).
			Mappings([]dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{
				Type: dashboard.MappingTypeValueToText,
				Options: map[string]dashboard.ValueMappingResult{
					"1": {Text: cog.ToPtr("open"), Color: cog.ToPtr("red")},
				},
			}}}).
			Tooltip(common.NewVizTooltipOptionsBuilder().
				Mode(common.TooltipDisplayModeSingle).
				Sort(common.SortOrderNone)).
			WithTarget(query(open, "{{signal}} {{direction}} {{store_id}}").RefId(refID(0)))).
		WithPanel(graph("Open alarms: observed / expected",
			"The latest observed/expected ratio of each open alarm (2 = twice the store's usual level).",
			"short",
			query(ofWorkers("fulfilment_alarm_ratio"), "{{signal}} {{direction}} {{store_id}}")).
			Span(24))
}
