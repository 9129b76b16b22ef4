// Package sandbox holds deterministic in-process fakes of every external provider
// (payments, carrier, email, SMS, app push) and of the PostgreSQL store, for
// `make run` and for workflow tests. They answer the same contract tests as the
// real adapters.
//
// Magic values (documented in docs/sandbox.md) trigger the failures a real provider can
// produce. A PaymentIntent ID containing "decline" is declined at capture,
// "expired" has an expired authorization, "captured" was captured elsewhere (so it
// cannot be voided either). Transient failures hit only the first attempt of each
// idempotency key, so the activity's retry succeeds: "ratelimit" answers a
// RetryAfterError (1s), "unavailable" a plain retryable error, "timeout" no answer
// until the context ends. Payments.FaultRate and Payments.Latency (zero by
// default) add random retryable failures and delay for load and chaos tests;
// WithPaymentsSeed makes the failures repeatable. stripetest, the fake Stripe API
// of the Stripe adapter's tests, reads the same magic values.
// Messages: an email address at bounce.invalid and a phone number ending in 0000
// are refused for good (ErrUndeliverable), a push token containing "unregistered"
// is gone (ErrUnregistered), and a recipient (address, number or token) containing
// "ratelimit" answers the first attempt of each notification key with a
// RetryAfterError (1s); the SendGrid, Twilio and FCM contract fakes answer the same.
// Carrier: postal code 00000 is undeliverable (invalid request), 42900 answers the
// first attempt per idempotency key with a RetryAfterError, 50300 with a retryable
// error.
//
// What persists where. The payment provider's captures, refunds and voids and the
// carrier's bought and voided labels are kept in a PaymentLedger and a LabelLedger.
// By default (NewPayments(), NewCarrier(url), as in the workflow tests) that is the
// process's memory, gone when it ends. Under `make run` and in the end-to-end tests
// registry.Sandbox passes postgres.SandboxLedger (WithPaymentLedger,
// WithLabelLedger), which keeps them in PostgreSQL (sandbox_payments,
// sandbox_captures, sandbox_refunds, sandbox_labels, sandbox_label_voids): like
// Stripe and EasyPost the fakes then remember across worker restarts and between
// worker processes, and each payment change is one transaction. In memory only,
// always: the attempt counts behind the first-attempt magic values (after a restart
// a key's next attempt is its first again), FaultRate and Faults, and Store. Email,
// SMS and push hand each message to their Deliver function (under `make run`, the
// sandbox_outbox table).
package sandbox
