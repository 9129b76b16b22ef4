package testbed

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// FreePorts returns n distinct TCP ports of 127.0.0.1 that were free a moment ago.
func FreePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			_ = ln.Close() // only held to keep the ports distinct
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Sleep waits d or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// TailFile returns the last n lines of a file, each on a line of its own, or ""
// when it cannot be read.
func TailFile(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "\n" + strings.Join(lines, "\n")
}

// ReadTokens reads the KEY=value lines written by `starter demo seed` and checks
// that the checkout, support and staff tokens are there.
func ReadTokens(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read tokens: %w", err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			out[k] = v
		}
	}
	for _, k := range []string{"CHECKOUT_TOKEN", "SUPPORT_TOKEN", "STAFF_TOKEN_BERLIN_MITTE", "STAFF_TOKEN_HAMBURG_ALTONA", "STAFF_TOKEN_DC_ERFURT"} {
		if out[k] == "" {
			return nil, fmt.Errorf("%s missing in %s", k, path)
		}
	}
	return out, nil
}

// FindRepo walks up from the working directory to the directory with go.mod.
func FindRepo() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for range 20 {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", errors.New("no go.mod above the working directory: run from the repository")
}

// Locate finds the repository (FindRepo) and the Temporal CLI: TEMPORAL_CLI, else
// the repository's bin/temporal, which must exist.
func Locate(getenv func(string) string) (repo, temporalCLI string, err error) {
	var problems []error
	repo, err = FindRepo()
	if err != nil {
		problems = append(problems, err)
	}
	temporalCLI = getenv("TEMPORAL_CLI")
	if temporalCLI == "" && repo != "" {
		temporalCLI = filepath.Join(repo, "bin", "temporal")
	}
	if _, err := os.Stat(temporalCLI); err != nil {
		problems = append(problems, fmt.Errorf("the Temporal CLI %s is missing (build it with `make temporal`): %w", temporalCLI, err))
	}
	return repo, temporalCLI, errors.Join(problems...)
}
