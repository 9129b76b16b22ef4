package postgres_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/adapters/postgres/pgtest"
	"github.com/everywherecommerce/fulfilment/adapters/sandbox"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The sandbox's behaviour on the ledger (idempotency, limits, restarts) is the
// payments and carrier contract in adapters/contract; these tests race two worker
// processes on one database, which only a shared ledger can get right.

// twoSandboxWorkers returns the sandbox payment providers of two worker processes
// sharing one database, each with a pool of its own.
func twoSandboxWorkers(t *testing.T) (*pgxpool.Pool, [2]*sandbox.Payments) {
	t.Helper()
	pool := pgtest.New(t)
	other, err := pgxpool.NewWithConfig(t.Context(), pool.Config()) // a copy, on the same database
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(other.Close)
	return pool, [2]*sandbox.Payments{
		sandbox.NewPayments(sandbox.WithPaymentLedger(postgres.NewStore(pool).SandboxLedger())),
		sandbox.NewPayments(sandbox.WithPaymentLedger(postgres.NewStore(other).SandboxLedger())),
	}
}

// raceRefunds runs the refunds at once, alternating between the workers, and
// returns each one's result and error.
func raceRefunds(t *testing.T, workers [2]*sandbox.Payments, reqs []activities.RefundRequest) ([]activities.Refund, []error) {
	t.Helper()
	refunds, errs := make([]activities.Refund, len(reqs)), make([]error, len(reqs))
	var wg sync.WaitGroup
	for i, req := range reqs {
		wg.Go(func() { refunds[i], errs[i] = workers[i%2].Refund(t.Context(), req) })
	}
	wg.Wait()
	return refunds, errs
}

func TestSandboxLedgerTwoWorkersNeverRefundMoreThanCaptured(t *testing.T) {
	t.Parallel()
	_, workers := twoSandboxWorkers(t)
	capture := activities.CaptureRequest{PaymentID: "pi_race", Amount: 1000, Currency: "EUR", IdempotencyKey: "R-1:capture"}
	if _, err := workers[0].Capture(t.Context(), capture); err != nil {
		t.Fatal(err)
	}
	reqs := make([]activities.RefundRequest, 10)
	for i := range reqs {
		reason := fmt.Sprintf("line-%d", i)
		reqs[i] = activities.RefundRequest{PaymentID: "pi_race", Amount: 300, Currency: "EUR", Reason: reason, IdempotencyKey: "R-1:refund:" + reason}
	}
	_, errs := raceRefunds(t, workers, reqs)
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, activities.ErrInvalidRequest):
			t.Errorf("refund %d: err = %v, want success or ErrInvalidRequest", i, err)
		}
	}
	if ok != 3 {
		t.Errorf("%d refunds of 300 out of 1000 succeeded, want 3", ok)
	}
	for i, w := range workers {
		if got := w.Refunded("pi_race"); got != 900 {
			t.Errorf("worker %d sees %d refunded, want 900", i, got)
		}
	}
}

func TestSandboxLedgerTwoWorkersOneRefundPerKey(t *testing.T) {
	t.Parallel()
	_, workers := twoSandboxWorkers(t)
	capture := activities.CaptureRequest{PaymentID: "pi_race_key", Amount: 1000, Currency: "EUR", IdempotencyKey: "R-2:capture"}
	if _, err := workers[1].Capture(t.Context(), capture); err != nil {
		t.Fatal(err)
	}
	reqs := make([]activities.RefundRequest, 8)
	for i := range reqs {
		reqs[i] = activities.RefundRequest{PaymentID: "pi_race_key", Amount: 400, Currency: "EUR", Reason: "cancel", IdempotencyKey: "R-2:refund:cancel"}
	}
	refunds, errs := raceRefunds(t, workers, reqs)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("refund attempt %d: %v", i, err)
		}
		if refunds[i] != refunds[0] {
			t.Errorf("attempt %d got refund %+v, attempt 0 %+v", i, refunds[i], refunds[0])
		}
	}
	if got := workers[0].Refunded("pi_race_key"); got != 400 {
		t.Errorf("refunded %d after 8 attempts with one key, want 400", got)
	}
}

func TestSandboxLedgerTwoWorkersCaptureOnce(t *testing.T) {
	t.Parallel()
	_, workers := twoSandboxWorkers(t)
	errs := make([]error, 6)
	var wg sync.WaitGroup
	for i := range errs {
		req := activities.CaptureRequest{PaymentID: "pi_race_capture", Amount: 700, Currency: "EUR", IdempotencyKey: fmt.Sprintf("attempt-%d:capture", i)}
		wg.Go(func() { _, errs[i] = workers[i%2].Capture(t.Context(), req) })
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, activities.ErrAlreadyCaptured):
			t.Errorf("capture %d: err = %v, want success or ErrAlreadyCaptured", i, err)
		}
	}
	if ok != 1 || workers[0].Captured("pi_race_capture") != 700 {
		t.Errorf("%d captures succeeded, %d captured; want 1 and 700", ok, workers[0].Captured("pi_race_capture"))
	}
}

// A refused call and an injected fault leave nothing behind, not even the
// payment's row.
func TestSandboxLedgerRefusedCallsRecordNothing(t *testing.T) {
	t.Parallel()
	pool, workers := twoSandboxWorkers(t)
	ctx := t.Context()
	_, err := workers[0].Refund(ctx, activities.RefundRequest{PaymentID: "pi_never_captured", Amount: 100, Currency: "EUR", Reason: "cancel", IdempotencyKey: "R-4:refund:cancel"})
	if !errors.Is(err, activities.ErrInvalidRequest) {
		t.Errorf("refund before capture: err = %v, want ErrInvalidRequest", err)
	}
	faulty := sandbox.NewPayments(sandbox.WithPaymentLedger(postgres.NewStore(pool).SandboxLedger()), sandbox.WithPaymentsSeed(1))
	faulty.FaultRate = 1
	if _, err := faulty.Capture(ctx, activities.CaptureRequest{PaymentID: "pi_fault", Amount: 100, Currency: "EUR", IdempotencyKey: "R-5:capture"}); err == nil {
		t.Error("capture succeeded at FaultRate 1")
	}
	var rows int
	if err := pool.QueryRow(ctx, `select (select count(*) from sandbox_payments) + (select count(*) from sandbox_captures) + (select count(*) from sandbox_refunds)`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 0 {
		t.Errorf("%d ledger rows after refused calls, want 0", rows)
	}
}
