//lint:file-ignore SA1019 the classic dashboard model (dashboard.Dashboard, schemaVersion 42) is what every Grafana imports; the SDK prefers dashboardv2, the schema of the v2 dashboard API of Grafana 12 onwards, which older Grafanas do not read.

package grafana

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	sdkprom "github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/everywherecommerce/fulfilment/deploy/prometheus"
)

const committed = "fulfilment.json"

// TestCommittedDashboardIsGenerated: fulfilment.json is what Fulfilment builds,
// byte for byte, so the Go code and the file never drift.
func TestCommittedDashboardIsGenerated(t *testing.T) {
	want, err := JSON()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what the generator builds: run `make grafana` and commit the file", committed)
	}
}

// loadCommitted parses fulfilment.json with the Foundation SDK's strict decoder:
// an unknown field, a wrong type or a missing required field anywhere (panels,
// their options, queries, variables) is an error.
func loadCommitted(t *testing.T) dashboard.Dashboard {
	t.Helper()
	plugins.RegisterDefaultPlugins()
	raw, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	d, err := decodeStrict(raw)
	if err != nil {
		t.Fatalf("%s: the SDK's strict decoder: %v", committed, err)
	}
	return d
}

// decodeStrict validates raw with the SDK's strict decoding (plugins
// registered), then decodes it with the SDK's ordinary decoding. In v0.0.22 a
// strict success is an empty cog.BuildErrors, a non-nil error value: the
// strict decoder of a panel list, seeing it, drops every panel (while real
// errors do come through), so the strict pass only validates.
func decodeStrict(raw []byte) (dashboard.Dashboard, error) {
	var strict dashboard.Dashboard
	err := strict.UnmarshalJSONStrict(raw)
	if errs, ok := err.(cog.BuildErrors); ok && len(errs) == 0 {
		err = nil
	}
	if err != nil {
		return dashboard.Dashboard{}, err
	}
	var d dashboard.Dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		return dashboard.Dashboard{}, err
	}
	return d, nil
}

// TestStrictDecoderRefuses: the strict decoding above fails on a field the
// dashboard schema does not have, in a panel's options or at the top.
func TestStrictDecoderRefuses(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	raw, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(map[string]any){
		"top-level field": func(m map[string]any) { m["panelz"] = []any{} },
		"panel option": func(m map[string]any) {
			m["panels"].([]any)[1].(map[string]any)["options"].(map[string]any)["legendd"] = true
		},
		"query field": func(m map[string]any) {
			m["panels"].([]any)[1].(map[string]any)["targets"].([]any)[0].(map[string]any)["exprr"] = "up"
		},
	} {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		bad, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		_, err = decodeStrict(bad)
		t.Logf("%s: %v", name, err)
		if err == nil {
			t.Errorf("%s: an unknown field was accepted", name)
		}
	}
}

// panels are the dashboard's panels, those inside rows included.
func panels(d dashboard.Dashboard) []dashboard.Panel {
	var out []dashboard.Panel
	for _, p := range d.Panels {
		if p.Panel != nil {
			out = append(out, *p.Panel)
		}
		if p.RowPanel != nil {
			out = append(out, p.RowPanel.Panels...)
		}
	}
	return out
}

// TestDashboardDecodes: the committed JSON is a dashboard for the SDK, with
// panel types Grafana ships (each has the SDK's options schema), every query a
// Prometheus query on the ${datasource} variable, unique panel ids and a grid
// where nothing overlaps.
func TestDashboardDecodes(t *testing.T) {
	d := loadCommitted(t)
	if d.Uid == nil || *d.Uid != UID || d.Title == nil || *d.Title == "" {
		t.Errorf("uid %v, title %v: want uid %s and a title", d.Uid, d.Title, UID)
	}
	vars := map[string]dashboard.VariableModel{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v
	}
	if v, ok := vars[varDatasource]; !ok || v.Type != "datasource" || v.Query == nil || v.Query.String == nil || *v.Query.String != "prometheus" {
		t.Errorf("no datasource variable %q of type prometheus: %+v", varDatasource, v)
	}
	ps := panels(d)
	if len(ps) < 25 {
		t.Errorf("%d panels, want at least 25 (a row lost?)", len(ps))
	}
	ids := map[uint32]string{}
	var boxes []dashboard.GridPos
	for _, p := range ps {
		title := deref(p.Title)
		if _, ok := cog.ConfigForPanelcfgVariant(p.Type); !ok {
			t.Errorf("panel %q: type %q is no panel type the SDK knows", title, p.Type)
		}
		if p.Id == nil {
			t.Errorf("panel %q: no id", title)
		} else if other, dup := ids[*p.Id]; dup {
			t.Errorf("panel %q: id %d is also %q's", title, *p.Id, other)
		} else {
			ids[*p.Id] = title
		}
		if deref(p.Description) == "" {
			t.Errorf("panel %q: no description", title)
		}
		checkDatasource(t, title, p.Datasource)
		if len(p.Targets) == 0 {
			t.Errorf("panel %q: no query", title)
		}
		for _, target := range p.Targets {
			q, ok := target.(*sdkprom.Dataquery)
			if !ok {
				t.Errorf("panel %q: a %T query, want a Prometheus one", title, target)
				continue
			}
			checkDatasource(t, title, q.Datasource)
			if q.RefId == nil || *q.RefId == "" {
				t.Errorf("panel %q: a query without refId", title)
			}
		}
		if g := p.GridPos; g == nil || g.W == 0 || g.H == 0 || g.X+g.W > 24 {
			t.Errorf("panel %q: grid position %+v outside the 24-column grid", title, g)
		} else {
			for _, b := range boxes {
				if g.X < b.X+b.W && b.X < g.X+g.W && g.Y < b.Y+b.H && b.Y < g.Y+g.H {
					t.Errorf("panel %q at %+v overlaps a panel at %+v", title, *g, b)
				}
			}
			boxes = append(boxes, *g)
		}
	}
}

func checkDatasource(t *testing.T, title string, ds *common.DataSourceRef) {
	t.Helper()
	if ds == nil || deref(ds.Type) != "prometheus" || deref(ds.Uid) != "${"+varDatasource+"}" {
		t.Errorf("panel %q: data source %+v, want the Prometheus variable ${%s}", title, ds, varDatasource)
	}
}

// grafanaVars stand in for Grafana's own variables when a query goes to the
// PromQL parser; the dashboard's variables (all used as `=~` regexes) become `.*`.
var grafanaVars = map[string]string{"$__rate_interval": "5m", "$__interval": "1m", "$__range": "6h"}

var varRe = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

// checkExpr parses a panel's PromQL with Prometheus' parser, after putting
// values in for the variables (each must be Grafana's or one of the
// dashboard's), and returns the metric names it selects, each of which must be
// in known.
func checkExpr(expr string, dashVars, known map[string]bool) ([]string, error) {
	var errs []string
	for from, to := range grafanaVars {
		expr = strings.ReplaceAll(expr, from, to)
	}
	expr = varRe.ReplaceAllStringFunc(expr, func(v string) string {
		name := varRe.FindStringSubmatch(v)[1]
		if !dashVars[name] {
			errs = append(errs, fmt.Sprintf("variable %s is not defined", v))
		}
		return ".*"
	})
	parsed, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return nil, fmt.Errorf("PromQL %q: %w", expr, err)
	}
	var names []string
	for _, matchers := range parser.ExtractSelectors(parsed) {
		sel, err := prometheus.SelectedNames(matchers)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		for _, n := range sel {
			if !known[n] {
				errs = append(errs, fmt.Sprintf("metric %s is exported by none of our processes (deploy/prometheus/names.go)", n))
			}
		}
		names = append(names, sel...)
	}
	if len(errs) > 0 {
		return names, fmt.Errorf("PromQL %q: %s", expr, strings.Join(errs, "; "))
	}
	return names, nil
}

var labelValuesRe = regexp.MustCompile(`^label_values\((.+), *([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

// TestQueriesUseExportedMetrics: every panel query and every variable's
// label_values series parses as PromQL and selects only names our processes
// export (the list deploy/prometheus' rules test uses); and the dashboard shows
// each metric it is meant to.
func TestQueriesUseExportedMetrics(t *testing.T) {
	d := loadCommitted(t)
	known := prometheus.ExportedNames()
	dashVars := map[string]bool{}
	for _, v := range d.Templating.List {
		dashVars[v.Name] = true
	}
	used := map[string]bool{}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q := ""
		if v.Query != nil && v.Query.String != nil {
			q = *v.Query.String
		}
		m := labelValuesRe.FindStringSubmatch(q)
		if m == nil {
			t.Errorf("variable %s: query %q is not label_values(series, label)", v.Name, q)
			continue
		}
		names, err := checkExpr(m[1], dashVars, known)
		if err != nil {
			t.Errorf("variable %s: %v", v.Name, err)
		}
		for _, n := range names {
			used[n] = true
		}
	}
	for _, p := range panels(d) {
		for _, target := range p.Targets {
			q, ok := target.(*sdkprom.Dataquery)
			if !ok {
				continue // TestDashboardDecodes reports it
			}
			names, err := checkExpr(q.Expr, dashVars, known)
			if err != nil {
				t.Errorf("panel %q, query %s: %v", deref(p.Title), deref(q.RefId), err)
			}
			for _, n := range names {
				used[n] = true
			}
		}
	}
	for _, n := range mustShow {
		if !used[n] {
			t.Errorf("no query shows %s", n)
		}
	}
}

// mustShow are the metrics the dashboard exists to show (issue 14): business
// counters, the alarms' gauge, the starter's HTTP metrics, the Temporal SDK's
// latencies, failures, cache and pollers, and the runtime (SDK names in the
// worker's spelling, without suffixes).
var mustShow = []string{
	"fulfilment_order_stages_total", "fulfilment_payments_captured_total", "fulfilment_payments_refunded_total",
	"fulfilment_messages_total", "fulfilment_pickups_total", "fulfilment_orders_flagged_total",
	"fulfilment_labels_bought_total", "fulfilment_alarm_open", "fulfilment_alarm_ratio", "fulfilment_alarm_read_errors",
	"fulfilment_http_requests_total", "fulfilment_http_request_duration_seconds_bucket",
	"temporal_workflow_task_schedule_to_start_latency_bucket", "temporal_workflow_task_execution_latency_bucket",
	"temporal_activity_schedule_to_start_latency_bucket", "temporal_workflow_task_execution_failed",
	"temporal_activity_execution_failed", "temporal_sticky_cache_size", "temporal_sticky_cache_hit",
	"temporal_sticky_cache_miss", "temporal_num_pollers", "temporal_request_failure",
	"process_resident_memory_bytes", "go_goroutines",
}

// TestCheckExprRefuses: the check above can fail: an unknown metric, an
// unknown variable, a name regex that is not a finite set, and bad PromQL are
// each reported.
func TestCheckExprRefuses(t *testing.T) {
	known := prometheus.ExportedNames()
	vars := map[string]bool{varNamespace: true}
	for _, expr := range []string{
		`rate(fulfilment_made_up_total[$__rate_interval])`,
		`temporal_num_pollers{namespace=~"$nowhere"}`,
		`rate({__name__=~"temporal_.*"}[5m])`,
		`sum by (stage) (rate(fulfilment_order_stages_total[5m])`,
	} {
		if _, err := checkExpr(expr, vars, known); err == nil {
			t.Errorf("%s: accepted", expr)
		}
	}
	names, err := checkExpr(`sum(rate({__name__=~"temporal_sticky_cache_hit(_total)?", namespace=~"$namespace"}[$__rate_interval]))`, vars, known)
	slices.Sort(names)
	if err != nil || !slices.Equal(names, []string{"temporal_sticky_cache_hit", "temporal_sticky_cache_hit_total"}) {
		t.Errorf("a good query: names %v, error %v", names, err)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
