package testbed

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"
)

// shProcess is a supervised /bin/sh running script, logging into the test's directory.
func shProcess(t *testing.T, name, script string) *Process {
	t.Helper()
	p := &Process{Name: name, Path: "/bin/sh", Args: []string{"-c", script},
		LogPath: filepath.Join(t.TempDir(), name+".log"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Error(err)
		}
	})
	return p
}

// TestKillRestartsButKillForGoodDoesNot: the supervisor starts a killed program again
// (chaos), but not one killed for good (a scale-out run's lost worker or starter).
func TestKillRestartsButKillForGoodDoesNot(t *testing.T) {
	p := shProcess(t, "sleeper", "exec sleep 60")
	if _, err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); p.StartCount() < 2 || !p.Running(); {
		if time.Now().After(deadline) {
			t.Fatalf("not restarted after Kill: starts %d, running %v", p.StartCount(), p.Running())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := p.KillForGood(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * restartDelay)
	if p.Running() || p.StartCount() != 2 {
		t.Errorf("after KillForGood: running %v, starts %d; want stopped after 2 starts", p.Running(), p.StartCount())
	}
	if c := p.Crashes(); len(c) != 0 {
		t.Errorf("injected kills counted as crashes: %+v", c)
	}
}

// TestTerminateReportsTheExit: Terminate sends SIGTERM and returns the exit: status 0
// for a program that stops on SIGTERM, the status otherwise; no restart either way.
func TestTerminateReportsTheExit(t *testing.T) {
	for _, tt := range []struct {
		name, script string
		wantErr      bool
	}{
		{"graceful", `trap 'exit 0' TERM; while :; do sleep 0.1; done`, false},
		{"failing", `trap 'exit 3' TERM; while :; do sleep 0.1; done`, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := shProcess(t, tt.name, tt.script)
			time.Sleep(200 * time.Millisecond) // let sh install its trap
			pid, exit, err := p.Terminate(10 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if pid == 0 || (exit.Err != "") != tt.wantErr {
				t.Errorf("pid %d, exit %q; want an error: %v", pid, exit.Err, tt.wantErr)
			}
			time.Sleep(3 * restartDelay)
			if p.Running() || p.StartCount() != 1 {
				t.Errorf("restarted after Terminate: running %v, starts %d", p.Running(), p.StartCount())
			}
			if _, _, err := p.Terminate(time.Second); err == nil {
				t.Error("a second Terminate of a stopped program succeeded")
			}
		})
	}
}

// TestTerminateGivesUpOnAProgramThatIgnoresSIGTERM: a program still running after the
// wait is an error, not a hang.
func TestTerminateGivesUpOnAProgramThatIgnoresSIGTERM(t *testing.T) {
	p := shProcess(t, "stubborn", `trap '' TERM; while :; do sleep 0.1; done`)
	time.Sleep(200 * time.Millisecond)
	if _, _, err := p.Terminate(500 * time.Millisecond); err == nil {
		t.Fatal("Terminate of a program that ignores SIGTERM succeeded")
	}
	if _, err := p.Kill(); err != nil {
		t.Fatal(err)
	}
}
