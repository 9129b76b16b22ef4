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

// alarmsRow shows the journey alarms: fulfilment_alarm_open{signal,store_id} is
// 1 while an alarm episode is open (docs/alarms.md). More than one worker may
// export it, so the panels take the max per signal and store.
func alarmsRow(b *dashboard.DashboardBuilder) {
	open := `max by (signal, store_id) (fulfilment_alarm_open{store_id=~"$store"} and on (job, instance) ` + workers + `)`
	b.WithRow(dashboard.NewRowBuilder("Journey alarms")).
		WithPanel(singleStat("Alarms open",
			"Alarm episodes open now, over the chosen stores (docs/alarms.md).",
			"none", 1,
			query(`count(`+open+` == 1)`, "open")).
			NoValue("0")).
		WithPanel(statetimeline.NewPanelBuilder().
			Title("Alarms by signal and store").
			Description("When each alarm was open (red) or closed (green), per signal and store.").
			Datasource(datasource()).
			Span(20).
			Height(8).
			MergeValues(true).
			ShowValue(common.VisibilityModeNever).
			Mappings([]dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{
				Type: dashboard.MappingTypeValueToText,
				Options: map[string]dashboard.ValueMappingResult{
					"0": {Text: cog.ToPtr("closed"), Color: cog.ToPtr("green")},
					"1": {Text: cog.ToPtr("open"), Color: cog.ToPtr("red")},
				},
			}}}).
			Tooltip(common.NewVizTooltipOptionsBuilder().
				Mode(common.TooltipDisplayModeSingle).
				Sort(common.SortOrderNone)).
			WithTarget(query(open, "{{signal}} {{store_id}}").RefId(refID(0))))
}
