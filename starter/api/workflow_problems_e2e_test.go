package api_test

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// TestWorkflowProblemsForSupport: the orders whose workflow task failed, as the
// worker records them, are listed for support (and only support) with whether
// they are failing now; bad input names every field.
func TestWorkflowProblemsForSupport(t *testing.T) {
	t.Parallel()
	s := newSystem(t, fastPolicy())
	now := time.Now().UTC()
	for _, f := range []struct {
		id          string
		first, last time.Time
	}{
		{"order:WP-1", now.Add(-2 * time.Hour), now.Add(-2 * time.Minute)}, // failing now
		{"order:WP-2", now.Add(-5 * time.Hour), now.Add(-3 * time.Hour)},   // recovered since
		{"order:WP-3", now.Add(-50 * time.Hour), now.Add(-49 * time.Hour)}, // before the default day
	} {
		if _, err := s.db.Exec(t.Context(), `insert into workflow_task_failures (workflow_id, run_id, workflow_type, attempt, error, first_failed_at, last_failed_at)
			values ($1, 'r1', 'OrderFulfilmentV2', 7, '[TMPRL1100] nondeterministic workflow', $2, $3)`, f.id, f.first, f.last); err != nil {
			t.Fatal(err)
		}
	}
	list := func(query string) []string {
		t.Helper()
		status, h, body := s.getRaw("/v1/workflow-problems"+query, s.tokens["support"])
		if status != http.StatusOK || h.Get("Content-Type") != "application/json" {
			t.Fatalf("%s: %d %s %v", query, status, h.Get("Content-Type"), body)
		}
		var out []string
		for _, p := range body["problems"].([]any) {
			m := p.(map[string]any)
			now := "recovered"
			if m["failing_now"] == true {
				now = "failing"
			}
			if m["attempt"] != 7.0 || m["workflow_type"] != "OrderFulfilmentV2" || m["error"] != "[TMPRL1100] nondeterministic workflow" {
				t.Errorf("problem %v", m)
			}
			out = append(out, m["order_id"].(string)+" "+now)
		}
		return out
	}
	if got, want := list(""), []string{"WP-1 failing", "WP-2 recovered"}; !slices.Equal(got, want) {
		t.Errorf("the last day: %q, want %q", got, want)
	}
	since := now.Add(-72 * time.Hour).Format(time.RFC3339)
	if got, want := list("?since="+since), []string{"WP-1 failing", "WP-2 recovered", "WP-3 recovered"}; !slices.Equal(got, want) {
		t.Errorf("since %s: %q, want %q", since, got, want)
	}
	for _, tc := range []struct {
		token  string
		status int
	}{{"berlin", http.StatusForbidden}, {"checkout", http.StatusForbidden}, {"", http.StatusUnauthorized}} {
		status, h, body := s.getRaw("/v1/workflow-problems", s.tokens[tc.token])
		if status != tc.status || h.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%q: %d %s %v, want %d problem+json", tc.token, status, h.Get("Content-Type"), body, tc.status)
		}
	}
	status, _, body := s.getRaw("/v1/workflow-problems?since=yesterday&colour=red", s.tokens["support"])
	fields := problemFields(body)
	if status != http.StatusBadRequest || !slices.Equal(fields, []string{"since", "colour"}) {
		t.Errorf("bad query: %d %q %v", status, fields, body)
	}
}
