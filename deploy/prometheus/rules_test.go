package prometheus

import (
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

const (
	rulesFile  = "alerts.yml"
	runbook    = "../../docs/runbook.md"
	mainModule = "../.."
	runbookURL = "https://github.com/everywherecommerce/fulfilment/blob/main/docs/runbook.md#"
)

func loadRules(t *testing.T) *rulefmt.RuleGroups {
	t.Helper()
	p := parser.NewParser(parser.Options{})
	groups, errs := rulefmt.ParseFile(rulesFile, false, model.UTF8Validation, p, slog.Default())
	for _, err := range errs {
		t.Errorf("parse: %v", err)
	}
	if groups == nil || len(errs) > 0 {
		t.FailNow()
	}
	return groups
}

// TestRulesParse: the file is valid for Prometheus (rulefmt: YAML, unknown fields,
// durations, templates, and every expression through the PromQL parser), and every
// rule is an alert with a severity, a summary, a description and a runbook link to a
// heading that exists in docs/runbook.md.
func TestRulesParse(t *testing.T) {
	groups := loadRules(t)
	anchors := runbookAnchors(t)
	seen := map[string]bool{}
	count := 0
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			count++
			name := r.Alert
			if name == "" {
				t.Errorf("group %s: rule %q is not an alert (recording rules belong elsewhere)", g.Name, r.Record)
				continue
			}
			if seen[name] {
				t.Errorf("alert %s: defined twice", name)
			}
			seen[name] = true
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("alert %s: severity %q, want critical or warning", name, s)
			}
			for _, a := range []string{"summary", "description", "runbook_url"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					t.Errorf("alert %s: annotation %s missing", name, a)
				}
			}
			if r.For == 0 {
				t.Errorf("alert %s: no `for`: one bad scrape would page", name)
			}
			url := r.Annotations["runbook_url"]
			anchor, ok := strings.CutPrefix(url, runbookURL)
			if !ok {
				t.Errorf("alert %s: runbook_url %q does not start with %s", name, url, runbookURL)
			} else if !anchors[anchor] {
				t.Errorf("alert %s: runbook_url anchor #%s is no heading of docs/runbook.md", name, anchor)
			}
		}
	}
	if count < 10 {
		t.Errorf("%d rules, want at least 10 (a group lost?)", count)
	}
}

// TestRuleMetricsExist: every series a rule selects is one our worker (Temporal SDK),
// our starter or the Temporal server exports. A `__name__` regex must have a finite
// set of matches (literals, alternatives, optional parts), each of them known.
func TestRuleMetricsExist(t *testing.T) {
	groups := loadRules(t)
	known := ExportedNames()
	p := parser.NewParser(parser.Options{})
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			expr, err := p.ParseExpr(r.Expr)
			if err != nil {
				t.Errorf("alert %s: %v", r.Alert, err)
				continue
			}
			for _, matchers := range parser.ExtractSelectors(expr) {
				names, err := SelectedNames(matchers)
				if err != nil {
					t.Errorf("alert %s: %v", r.Alert, err)
					continue
				}
				for _, n := range names {
					if !known[n] {
						t.Errorf("alert %s: metric %s is exported by none of our processes nor the Temporal server", r.Alert, n)
					}
				}
			}
		}
	}
}

// TestOwnMetricsRegistered: every name of ownMetrics (a histogram by its base name)
// is still a string literal in the main module's non-test Go code, where
// prometheus/client_golang registers it (starter/api/metrics.go,
// adapters/metrics/business.go, the alarms' gauge).
func TestOwnMetricsRegistered(t *testing.T) {
	src := mainModuleSource(t)
	for name := range ownMetrics {
		base := name
		for _, s := range []string{"_bucket", "_sum", "_count"} {
			if b, ok := strings.CutSuffix(name, s); ok && strings.HasSuffix(b, "_seconds") {
				base = b
			}
		}
		if !strings.Contains(src, strconv.Quote(base)) {
			t.Errorf("no Go file of the main module registers %s any more: update names.go, alerts.yml and the dashboard", base)
		}
	}
}

// mainModuleSource is the main module's non-test Go code, concatenated.
func mainModuleSource(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(mainModule, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", ".dev", "bin", "deploy", "testdata", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		b.Write(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() == 0 {
		t.Fatalf("no Go code found under %s", mainModule)
	}
	return b.String()
}

// TestRuntimeMetrics: the runtime names of names.go are series a registry with
// client_golang's Go and process collectors (both processes' registries:
// adapters/metrics.NewRegistry, starter/api/metrics.go) gathers.
func TestRuntimeMetrics(t *testing.T) {
	reg := prom.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, f := range families {
		have[f.GetName()] = true
		switch f.GetType() {
		case dto.MetricType_SUMMARY, dto.MetricType_HISTOGRAM:
			have[f.GetName()+"_sum"], have[f.GetName()+"_count"] = true, true
		}
	}
	for _, n := range runtimeMetrics {
		if !have[n] {
			t.Errorf("%s: not gathered from client_golang's Go and process collectors", n)
		}
	}
}

func TestExpand(t *testing.T) {
	for re, want := range map[string][]string{
		"temporal_(local_)?activity_execution_failed(_total)?": {
			"temporal_activity_execution_failed", "temporal_activity_execution_failed_total",
			"temporal_local_activity_execution_failed", "temporal_local_activity_execution_failed_total",
		},
		"a_(seconds_)?bucket": {"a_bucket", "a_seconds_bucket"},
	} {
		got, err := SelectedNames([]*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, model.MetricNameLabel, re)})
		if err != nil {
			t.Fatalf("%s: %v", re, err)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", re, got, want)
		}
	}
	if _, err := SelectedNames([]*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, model.MetricNameLabel, "temporal_.*")}); err == nil {
		t.Error("temporal_.* accepted; it matches any name")
	}
	if got := ExportedNames(); got["temporal_made_up"] || !got["temporal_num_pollers"] {
		t.Error("exportedNames is wrong")
	}
}

var headingRe = regexp.MustCompile(`(?m)^#{1,6} +(.+?) *$`)

// runbookAnchors are the GitHub anchors of docs/runbook.md's headings.
func runbookAnchors(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.FromSlash(runbook))
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, m := range headingRe.FindAllStringSubmatch(string(b), -1) {
		anchors[anchor(m[1])] = true
	}
	return anchors
}

// anchor is GitHub's: lower case, punctuation other than - and _ dropped, spaces to -.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}
