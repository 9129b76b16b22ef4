package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Supervision bounds: a process that keeps dying is restarted at most
// maxRestarts times, restartDelay apart (a crash loop must end the run, not hang it).
const (
	maxRestarts  = 40
	restartDelay = 500 * time.Millisecond
	stopGrace    = 20 * time.Second
)

// exitRecord is one exit of a supervised process.
type exitRecord struct {
	at       time.Time
	err      string
	injected bool // the chaos suite killed it
	stopped  bool // stop ended it
}

// process is one program of the stack (worker, starter, dev server) run from its
// binary with its own environment and log file. Like systemd or Kubernetes, a
// supervisor starts it again whenever it exits, unless it is being stopped; every
// exit is recorded so that the report tells injected kills from crashes.
type process struct {
	name    string
	path    string
	args    []string
	env     []string
	logPath string
	logger  *slog.Logger

	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{} // closed when the current run exited
	stopping bool
	injected bool // the next exit is the chaos suite's kill
	exits    []exitRecord
	starts   int
}

// start runs the program for the first time and supervises it.
func (p *process) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.launchLocked()
}

// launchLocked starts one run; p.mu is held.
func (p *process) launchLocked() error {
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open log of %s: %w", p.name, err)
	}
	p.starts++
	fmt.Fprintf(logf, "=== chaos: start %d of %s at %s ===\n", p.starts, p.name, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(p.path, p.args...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = logf, logf
	// A process group of its own: a Ctrl-C in the terminal reaches the suite, which
	// then stops everything in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logf.Close() // the start failed; nothing was written through it
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	exited := make(chan struct{})
	p.cmd, p.exited = cmd, exited
	go p.supervise(cmd, logf, exited)
	return nil
}

// supervise waits for one run to end, records the exit and starts the next run
// unless the process is being stopped.
func (p *process) supervise(cmd *exec.Cmd, logf *os.File, exited chan struct{}) {
	err := cmd.Wait()
	if cerr := logf.Close(); cerr != nil {
		p.logger.Warn("close process log", "process", p.name, "error", cerr)
	}
	p.mu.Lock()
	rec := exitRecord{at: time.Now(), injected: p.injected, stopped: p.stopping}
	if err != nil {
		rec.err = err.Error()
	}
	p.exits = append(p.exits, rec)
	p.injected = false
	close(exited)
	starts := p.starts
	p.mu.Unlock()
	if rec.stopped {
		return
	}
	if !rec.injected {
		p.logger.Warn("process exited by itself; restarting it", "process", p.name, "error", rec.err)
	}
	if starts > maxRestarts {
		p.logger.Error("process keeps exiting; not restarting it", "process", p.name, "starts", starts)
		return
	}
	time.Sleep(restartDelay)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopping {
		return
	}
	if err := p.launchLocked(); err != nil {
		p.logger.Error("restart process", "process", p.name, "error", err)
	}
}

// kill sends SIGKILL to the running program and waits until it has exited; the
// supervisor then starts it again.
func (p *process) kill() (int, error) {
	for range 100 { // between a run's exit and the next start there is nothing to kill
		if p.running() {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	if cmd == nil || cmd.Process == nil {
		p.mu.Unlock()
		return 0, fmt.Errorf("kill %s: not running", p.name)
	}
	p.injected = true
	pid := cmd.Process.Pid
	err := cmd.Process.Signal(syscall.SIGKILL)
	p.mu.Unlock()
	if err != nil && !errors.Is(err, os.ErrProcessDone) {
		return pid, fmt.Errorf("kill %s (pid %d): %w", p.name, pid, err)
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		return pid, fmt.Errorf("kill %s (pid %d): still running after 10s", p.name, pid)
	}
	return pid, nil
}

// stop ends supervision and the program: SIGTERM, then SIGKILL after stopGrace.
func (p *process) stop() error {
	p.mu.Lock()
	p.stopping = true
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return nil
	}
	select {
	case <-exited:
		return nil
	default:
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop %s: %w", p.name, err)
	}
	select {
	case <-exited:
		return nil
	case <-time.After(stopGrace):
	}
	p.logger.Warn("process did not stop in time; killing it", "process", p.name, "grace", stopGrace)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %s: %w", p.name, err)
	}
	<-exited
	return nil
}

// running reports whether the program runs now.
func (p *process) running() bool {
	p.mu.Lock()
	exited := p.exited
	p.mu.Unlock()
	if exited == nil {
		return false
	}
	select {
	case <-exited:
		return false
	default:
		return true
	}
}

// startCount is how many times the program was started.
func (p *process) startCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.starts
}

// crashes returns the exits that neither the suite's kills nor stop caused.
func (p *process) crashes() []exitRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []exitRecord
	for _, e := range p.exits {
		if !e.injected && !e.stopped {
			out = append(out, e)
		}
	}
	return out
}
