package api

import (
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// TestParseConsistent: only "true" asks the workflow; anything but a boolean is a
// 400 naming the parameter.
func TestParseConsistent(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]bool{"": false, "consistent=": false, "consistent=false": false, "consistent=true": true, "other=1": false} {
		if got, err := parseConsistent(raw); err != nil || got != want {
			t.Errorf("parseConsistent(%q) = %v, %v; want %v", raw, got, err, want)
		}
	}
	for _, raw := range []string{"consistent=yes", "consistent=1", "consistent=true&consistent=true", "consistent=%zz"} {
		var p *Problem
		if _, err := parseConsistent(raw); !errors.As(err, &p) || p.Status != http.StatusBadRequest {
			t.Errorf("parseConsistent(%q) = %v, want a 400", raw, err)
		}
	}
}

// TestJourneyItemsFromTheProjection: the journey in PostgreSQL reads as the
// workflow journals it: stages and actions with their stage, messages by
// touchpoint and channel, a skipped channel as the workflow words it; a skipped
// cross-sell and a carrier's problem notice are not shown.
func TestJourneyItemsFromTheProjection(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	entries := []activities.JourneyEntry{
		{Kind: activities.EntryStage, Key: "stage:ready_for_pickup", Stage: "ready_for_pickup", At: at(0)},
		{Kind: activities.EntryNotification, Key: "A-1:notify:ready-for-pickup:email", Detail: "ready-for-pickup via email", At: at(1)},
		{Kind: activities.EntryNotification, Key: "A-1:notify:ready-for-pickup:sms:skipped", Detail: "ready-for-pickup via sms skipped: no phone number", At: at(1)},
		{Kind: activities.EntryNotification, Key: "A-1:notify:ready-for-pickup:cross-sell:skipped", Detail: "cross-sell in ready-for-pickup skipped: quiet hours", At: at(1)},
		{Kind: activities.EntryNotification, Key: "delivery-problem:ev1", Detail: "carrier reports failure: customer told", At: at(2)},
		{Kind: activities.EntryStaffAction, Key: "staff:7", Stage: "ready_for_pickup", Detail: "wrong pickup code (1 of 5)", Actor: "anna", At: at(3)},
		{Kind: activities.EntryAttention, Key: "attention:ready_for_pickup:8", Stage: "ready_for_pickup", Detail: "handover locked", At: at(4)},
	}
	want := []workflows.JourneyItem{
		{Kind: activities.EntryStage, Stage: "ready_for_pickup", At: at(0)},
		{Kind: activities.EntryNotification, Note: "ready-for-pickup via email: sent", At: at(1)},
		{Kind: activities.EntryNotification, Note: "A-1:notify:ready-for-pickup:sms skipped: no phone number", At: at(1)},
		{Kind: activities.EntryStaffAction, Stage: "ready_for_pickup", Note: "wrong pickup code (1 of 5)", Actor: "anna", At: at(3)},
		{Kind: activities.EntryAttention, Stage: "ready_for_pickup", Note: "handover locked", At: at(4)},
	}
	if got := journeyItems("A-1", entries); !reflect.DeepEqual(got, want) {
		t.Errorf("journeyItems =\n%+v\nwant\n%+v", got, want)
	}
}
