// Package temporaltest gives tests the Temporal server that `make test` starts
// (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE), as pgtest gives them PostgreSQL.
package temporaltest

import (
	"cmp"
	"os"
	"testing"

	"go.temporal.io/sdk/client"
)

// Address is the server's host:port; a test run without it fails, naming the way
// to run it.
func Address(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("TEMPORAL_ADDRESS")
	if addr == "" {
		t.Fatal("TEMPORAL_ADDRESS is not set: run the tests with `make test`")
	}
	return addr
}

// Dial connects a client to the server, in TEMPORAL_NAMESPACE unless opts names a
// namespace, with opts' other settings; it is closed when the test ends.
func Dial(t testing.TB, opts client.Options) client.Client {
	t.Helper()
	opts.HostPort = Address(t)
	opts.Namespace = cmp.Or(opts.Namespace, os.Getenv("TEMPORAL_NAMESPACE"))
	c, err := client.Dial(opts)
	if err != nil {
		t.Fatalf("connect to Temporal at %s: %v", opts.HostPort, err)
	}
	t.Cleanup(c.Close)
	return c
}
