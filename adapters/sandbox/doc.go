// Package sandbox holds deterministic in-process fakes of every external provider
// (payments, carrier, email) and of the PostgreSQL store, for `make run` and for
// workflow tests. They answer the same contract tests as the real adapters.
//
// Magic values (documented in the README) trigger the failures a real provider can
// produce: a PaymentIntent ID containing "decline" is declined, "expired" has an
// expired authorization, "captured" was captured elsewhere.
package sandbox
