package main

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// sdkTaskFailed is the message the Temporal SDK logs for every workflow task
// it could not process (go.temporal.io/sdk internal_task_pollers.go), with
// WorkflowType, WorkflowID, RunID, Attempt and Error.
const sdkTaskFailed = "Failed to process workflow task."

// taskFailures watches the Temporal client's log for failed workflow tasks and
// records them in PostgreSQL, so that support sees the orders whose workflow
// cannot run (GET /v1/workflow-problems): their own code, which would flag
// them, is what fails. Recording never blocks the SDK: a failure that finds the
// queue full is only logged.
type taskFailures struct {
	next  slog.Handler
	queue chan records.WorkflowTaskFailure
}

func newTaskFailures(next slog.Handler) *taskFailures {
	return &taskFailures{next: next, queue: make(chan records.WorkflowTaskFailure, 256)}
}

// Enabled is true for warnings whatever the next handler's level: the SDK
// logs a failed task as a warning, and it must be seen even when the log is
// set to errors only.
func (h *taskFailures) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.next.Enabled(ctx, l)
}

func (h *taskFailures) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == sdkTaskFailed {
		f := records.WorkflowTaskFailure{LastFailedAt: r.Time.UTC()}
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "WorkflowID":
				f.WorkflowID = a.Value.String()
			case "RunID":
				f.RunID = a.Value.String()
			case "WorkflowType":
				f.WorkflowType = a.Value.String()
			case "Attempt":
				f.Attempt = int(attrInt(a.Value))
			case "Error":
				f.Error = firstLine(a.Value.String())
			}
			return true
		})
		if f.WorkflowID != "" {
			select {
			case h.queue <- f:
			default:
			}
		}
	}
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h *taskFailures) WithAttrs(as []slog.Attr) slog.Handler {
	return &taskFailures{next: h.next.WithAttrs(as), queue: h.queue}
}

func (h *taskFailures) WithGroup(name string) slog.Handler {
	return &taskFailures{next: h.next.WithGroup(name), queue: h.queue}
}

// run writes the queued failures until ctx ends.
func (h *taskFailures) run(ctx context.Context, record func(context.Context, records.WorkflowTaskFailure) error, logger *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case f := <-h.queue:
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if err := record(wctx, f); err != nil {
				logger.Warn("record a failed workflow task", "workflow_id", f.WorkflowID, "error", err)
			}
			cancel()
		}
	}
}

func attrInt(v slog.Value) int64 {
	switch v.Kind() {
	case slog.KindInt64:
		return v.Int64()
	case slog.KindUint64:
		return int64(v.Uint64())
	default:
		var n int64
		for _, c := range v.String() {
			if c < '0' || c > '9' {
				break
			}
			n = n*10 + int64(c-'0')
		}
		return n
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 500 {
		s = s[:500]
	}
	return s
}
