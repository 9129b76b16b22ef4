package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReadStop reads a graceful stop from a log written the way the worker
// writes it (slog's text handler, the keys of worker/main.go's stopWorker); an
// earlier stop of the same log is overridden by the last one.
func TestReadStop(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, nil))
	stop := func(running, finished, cancelled, still int) {
		l.Info("worker stopping: no new tasks; waiting for running activities", "running_activities", running, "grace", 10*time.Second)
		l.Info("worker stopped", "took", 1200*time.Millisecond, "activities_finished", finished,
			"activities_cancelled", cancelled, "activities_still_running", still)
	}
	stop(1, 0, 1, 0)
	l.Info("worker started", "task_queue", "fulfilment")
	stop(3, 3, 0, 0)
	path := filepath.Join(t.TempDir(), "worker.log")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := readStop(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := (stopCounts{running: 3, finished: 3}); got != want {
		t.Errorf("readStop = %+v, want %+v", got, want)
	}

	// A worker that was killed instead has no "worker stopped" line.
	if err := os.WriteFile(path, []byte(strings.SplitAfter(buf.String(), "\n")[0]), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readStop(path); err == nil || !strings.Contains(err.Error(), "no graceful stop") {
		t.Errorf("readStop of a log without a stop: %v, want \"no graceful stop\"", err)
	}
}
