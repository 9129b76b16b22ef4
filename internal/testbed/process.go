package testbed

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
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

// ExitRecord is one exit of a supervised process.
type ExitRecord struct {
	At       time.Time
	Err      string
	Injected bool // Kill ended it (a fault the caller injected)
	Stopped  bool // Stop ended it
}

// Process is one program of the stack (worker, starter, dev server) run from its
// binary with its own environment and log file. Like systemd or Kubernetes, a
// supervisor starts it again whenever it exits, unless it is being stopped; every
// exit is recorded so that a report tells injected kills from crashes.
type Process struct {
	Name    string
	Path    string
	Args    []string
	Env     []string
	LogPath string
	Logger  *slog.Logger

	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{} // closed when the current run exited
	stopping bool
	injected bool // the next exit is Kill's
	gone     bool // no restart after the next exit (KillForGood, Terminate)
	exits    []ExitRecord
	starts   int
}

// Start runs the program for the first time and supervises it.
func (p *Process) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.launchLocked()
}

// launchLocked starts one run; p.mu is held.
func (p *Process) launchLocked() error {
	logf, err := os.OpenFile(p.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open log of %s: %w", p.Name, err)
	}
	p.starts++
	fmt.Fprintf(logf, runMarker+"%d of %s at %s ===\n", p.starts, p.Name, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(p.Path, p.Args...)
	cmd.Env = p.Env
	cmd.Stdout, cmd.Stderr = logf, logf
	// A process group of its own: a Ctrl-C in the terminal reaches the suite, which
	// then stops everything in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logf.Close() // the start failed; nothing was written through it
		return fmt.Errorf("start %s: %w", p.Name, err)
	}
	exited := make(chan struct{})
	p.cmd, p.exited = cmd, exited
	go p.supervise(cmd, logf, exited)
	return nil
}

// supervise waits for one run to end, records the exit and starts the next run
// unless the process is being stopped.
func (p *Process) supervise(cmd *exec.Cmd, logf *os.File, exited chan struct{}) {
	err := cmd.Wait()
	if cerr := logf.Close(); cerr != nil {
		p.Logger.Warn("close process log", "process", p.Name, "error", cerr)
	}
	p.mu.Lock()
	rec := ExitRecord{At: time.Now(), Injected: p.injected, Stopped: p.stopping}
	if err != nil {
		rec.Err = err.Error()
	}
	p.exits = append(p.exits, rec)
	p.injected = false
	close(exited)
	starts := p.starts
	gone := p.gone
	p.mu.Unlock()
	if gone {
		return
	}
	if rec.Stopped {
		return
	}
	if !rec.Injected {
		p.Logger.Warn("process exited by itself; restarting it", "process", p.Name, "error", rec.Err)
	}
	if starts > maxRestarts {
		p.Logger.Error("process keeps exiting; not restarting it", "process", p.Name, "starts", starts)
		return
	}
	time.Sleep(restartDelay)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopping {
		return
	}
	if err := p.launchLocked(); err != nil {
		p.Logger.Error("restart process", "process", p.Name, "error", err)
	}
}

// Kill sends SIGKILL to the running program and waits until it has exited; the
// supervisor then starts it again. It returns the killed pid.
func (p *Process) Kill() (int, error) {
	for range 100 { // between a run's exit and the next start there is nothing to kill
		if p.Running() {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	if cmd == nil || cmd.Process == nil {
		p.mu.Unlock()
		return 0, fmt.Errorf("kill %s: not running", p.Name)
	}
	p.injected = true
	pid := cmd.Process.Pid
	err := cmd.Process.Signal(syscall.SIGKILL)
	p.mu.Unlock()
	if err != nil && !errors.Is(err, os.ErrProcessDone) {
		return pid, fmt.Errorf("kill %s (pid %d): %w", p.Name, pid, err)
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		return pid, fmt.Errorf("kill %s (pid %d): still running after 10s", p.Name, pid)
	}
	return pid, nil
}

// KillForGood is Kill without the restart: the program is gone for good, as when
// its machine is lost and the others carry the load.
func (p *Process) KillForGood() (int, error) {
	p.mu.Lock()
	p.gone = true
	p.mu.Unlock()
	return p.Kill()
}

// Terminate sends SIGTERM, as an orchestrator does before it takes a process away,
// and waits up to wait for the exit; the program is not restarted. It returns the
// pid and the exit as recorded (Err is "" for exit status 0).
func (p *Process) Terminate(wait time.Duration) (int, ExitRecord, error) {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	if cmd == nil || cmd.Process == nil || !p.runningLocked() {
		p.mu.Unlock()
		return 0, ExitRecord{}, fmt.Errorf("terminate %s: not running", p.Name)
	}
	p.gone, p.injected = true, true
	pid := cmd.Process.Pid
	err := cmd.Process.Signal(syscall.SIGTERM)
	p.mu.Unlock()
	if err != nil && !errors.Is(err, os.ErrProcessDone) {
		return pid, ExitRecord{}, fmt.Errorf("terminate %s (pid %d): %w", p.Name, pid, err)
	}
	select {
	case <-exited:
	case <-time.After(wait):
		return pid, ExitRecord{}, fmt.Errorf("terminate %s (pid %d): still running %s after SIGTERM", p.Name, pid, wait)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return pid, p.exits[len(p.exits)-1], nil
}

// Stop ends supervision and the program: SIGTERM, then SIGKILL after stopGrace.
func (p *Process) Stop() error {
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
		return fmt.Errorf("stop %s: %w", p.Name, err)
	}
	select {
	case <-exited:
		return nil
	case <-time.After(stopGrace):
	}
	p.Logger.Warn("process did not stop in time; killing it", "process", p.Name, "grace", stopGrace)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %s: %w", p.Name, err)
	}
	<-exited
	return nil
}

// Running reports whether the program runs now.
func (p *Process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.runningLocked()
}

// runningLocked is Running with p.mu held.
func (p *Process) runningLocked() bool {
	if p.exited == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// StartCount is how many times the program was started.
func (p *Process) StartCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.starts
}

// Crashes returns the exits that neither Kill nor Stop caused.
func (p *Process) Crashes() []ExitRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []ExitRecord
	for _, e := range p.exits {
		if !e.Injected && !e.Stopped {
			out = append(out, e)
		}
	}
	return out
}

// Pid is the process ID of the running program, 0 when it does not run.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	select {
	case <-p.exited:
		return 0
	default:
		return p.cmd.Process.Pid
	}
}

// runMarker starts the line a Process writes to its log before each run;
// RunStarted looks for the last one.
const runMarker = "=== testbed: start "

// RunStarted reports whether the last run in a supervised log (after its last
// start marker) logged marker.
func RunStarted(path, marker string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	s := string(data)
	if i := strings.LastIndex(s, runMarker); i >= 0 {
		s = s[i:]
	}
	return strings.Contains(s, marker)
}
