// Command searchattrs prints the custom search attributes of the order's workflow
// from workflows.SearchAttributes, one NAME=TYPE a line: the form `temporal server
// start-dev --search-attribute` takes. deploy/local/temporal.sh starts the dev
// server of `make run` and `make test` with them and registers the missing ones on
// an existing SQLite file, so the list in Go is the only one to edit.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/everywherecommerce/fulfilment/workflows"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "searchattrs:", err)
		os.Exit(1)
	}
}

func run(args []string, w io.Writer) error {
	if len(args) > 0 {
		return errors.New("takes no arguments; prints NAME=TYPE lines")
	}
	for _, sa := range workflows.SearchAttributes() {
		if _, err := fmt.Fprintf(w, "%s=%s\n", sa.Name, sa.Type); err != nil {
			return fmt.Errorf("print %s: %w", sa.Name, err)
		}
	}
	return nil
}
