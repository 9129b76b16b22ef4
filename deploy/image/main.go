// Command image builds the container images of the worker and the starter as
// image archives (bin/images/worker.tar, bin/images/starter.tar) without Docker
// and without pulling a base image: static Go binaries (CGO_ENABLED=0), the CA
// certificates of the build machine, the time-zone data of the Go toolchain,
// /etc/passwd and /etc/group with the non-root user 65532, and a small probe
// binary for health checks (the images have no shell). `docker load -i` and
// `podman load -i` read the archives. `make image` runs it through
// deploy/image/image.sh; docs/deploy.md describes the images.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

// defaultSource is the repository the images' org.opencontainers.image.source
// label points at.
const defaultSource = "https://github.com/everywherecommerce/fulfilment"

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	fs.SetOutput(stderr)
	repo := fs.String("repo", ".", "repository root (where go.mod is)")
	out := fs.String("out", "bin/images", "directory for worker.tar and starter.tar")
	version := fs.String("version", "", "image tag and org.opencontainers.image.version (default: git describe --always --dirty)")
	revision := fs.String("revision", "", "org.opencontainers.image.revision (default: git rev-parse HEAD)")
	source := fs.String("source", defaultSource, "org.opencontainers.image.source")
	caCerts := fs.String("ca-certs", "/etc/ssl/certs/ca-certificates.crt", "PEM bundle of CA certificates to put into the images")
	arch := fs.String("arch", runtime.GOARCH, "GOARCH of the binaries and the images")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if *version == "" {
		if *version, err = gitOutput(ctx, *repo, "describe", "--always", "--dirty"); err != nil {
			return fmt.Errorf("image version (or set -version): %w", err)
		}
	}
	if *revision == "" {
		if *revision, err = gitOutput(ctx, *repo, "rev-parse", "HEAD"); err != nil {
			return fmt.Errorf("image revision (or set -revision): %w", err)
		}
	}
	created, err := sourceDate(ctx, *repo, getenv("SOURCE_DATE_EPOCH"))
	if err != nil {
		return err
	}
	certs, err := os.ReadFile(*caCerts)
	if err != nil {
		return fmt.Errorf("CA certificates: %w (on Debian: apt-get install ca-certificates, or set -ca-certs)", err)
	}
	goroot, err := goOutput(ctx, *repo, "env", "GOROOT")
	if err != nil {
		return err
	}
	binDir, err := os.MkdirTemp("", "fulfilment-image-")
	if err != nil {
		return fmt.Errorf("temporary directory for the binaries: %w", err)
	}
	defer os.RemoveAll(binDir)

	fmt.Fprintf(stderr, "building static binaries for linux/%s\n", *arch)
	bins, err := buildBinaries(ctx, *repo, binDir, *arch)
	if err != nil {
		return err
	}
	opts := options{
		version: *version, revision: *revision, source: *source, created: created, arch: *arch,
		caCerts: certs, zoneinfoZip: filepath.Join(goroot, "lib", "time", "zoneinfo.zip"),
	}
	written, err := writeArchives(bins, *out, opts)
	if err != nil {
		return err
	}
	for _, w := range written {
		fmt.Fprintf(stderr, "wrote %s (%s)\n", w.path, strings.Join(w.tags, ", "))
	}
	return nil
}

// sourceDate is the time stamped on every file and on the image config, so that
// the same commit gives the same archives: SOURCE_DATE_EPOCH when set (the
// reproducible-builds convention), else the commit time of HEAD.
func sourceDate(ctx context.Context, repo, epoch string) (time.Time, error) {
	if epoch == "" {
		var err error
		if epoch, err = gitOutput(ctx, repo, "log", "-1", "--format=%ct"); err != nil {
			return time.Time{}, fmt.Errorf("commit time (or set SOURCE_DATE_EPOCH): %w", err)
		}
	}
	sec, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want seconds since 1970", epoch)
	}
	return time.Unix(sec, 0).UTC(), nil
}

func gitOutput(ctx context.Context, dir string, args ...string) (string, error) {
	return commandOutput(ctx, dir, "git", args...)
}

func goOutput(ctx context.Context, dir string, args ...string) (string, error) {
	return commandOutput(ctx, dir, "go", args...)
}

func commandOutput(ctx context.Context, dir, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}
