// Command generate writes the Everywhere Fulfilment Grafana dashboard
// (deploy/grafana.JSON) to the file given, fulfilment.json for `make grafana`.
package main

import (
	"fmt"
	"os"

	"github.com/everywherecommerce/fulfilment/deploy/grafana"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: generate FILE (e.g. fulfilment.json)")
	}
	out, err := grafana.JSON()
	if err != nil {
		return err
	}
	if err := os.WriteFile(args[0], out, 0o644); err != nil {
		return fmt.Errorf("write the dashboard: %w", err)
	}
	return nil
}
