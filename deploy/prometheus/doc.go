// Package prometheus holds the Prometheus alerting rules of Everywhere Fulfilment
// (alerts.yml) and their test, and the metric names our processes and the Temporal
// server export (names.go: ExportedNames, SelectedNames), which the rules' test and
// deploy/grafana's dashboard test check every PromQL selector against. It is a
// module of its own so that Prometheus' rule parser, with its large dependency
// graph, stays out of the main module's go.mod.
package prometheus
