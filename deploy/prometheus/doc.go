// Package prometheus holds the Prometheus alerting rules of Everywhere Fulfilment
// (alerts.yml) and their test. It is a module of its own so that Prometheus' rule
// parser, with its large dependency graph, stays out of the main module's go.mod.
package prometheus
