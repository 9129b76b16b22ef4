package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/jackc/pgx/v5"

	"github.com/everywherecommerce/fulfilment/adapters/postgres"
)

// TestImageArchives builds the archives the way make image does (static
// binaries, the build machine's CA bundle, Go's time-zone data), opens them as
// docker load would (manifest.json, by tag), checks what a container gets, and
// runs the binaries taken out of the images: with no configuration they must
// name every missing setting and fail; starter renders the notifications with
// the image's time zones; worker migrate migrates an empty PostgreSQL database
// (DATABASE_URL, as make test provides); the probe tells a ready endpoint
// from a failing one.
func TestImageArchives(t *testing.T) {
	ctx := t.Context()
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	certs, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		t.Fatalf("the images take the build machine's CA bundle: %v (on Debian: apt-get install ca-certificates; make test installs it as root)", err)
	}
	goroot, err := goOutput(ctx, repo, "env", "GOROOT")
	if err != nil {
		t.Fatal(err)
	}
	bins, err := buildBinaries(ctx, repo, t.TempDir(), runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	o := options{
		version: "v1.2.3-4-gabcdef0", revision: "abcdef0123456789", source: defaultSource,
		created: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), arch: runtime.GOARCH,
		caCerts: certs, zoneinfoZip: filepath.Join(goroot, "lib", "time", "zoneinfo.zip"),
	}
	out := t.TempDir()
	written, err := writeArchives(bins, out, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != 2 {
		t.Fatalf("wrote %d archives, want worker and starter", len(written))
	}

	// The same inputs give the same bytes: the archive is a function of the commit.
	again, err := writeArchives(bins, t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	for i := range written {
		a, errA := os.ReadFile(written[i].path)
		b, errB := os.ReadFile(again[i].path)
		if err := errors.Join(errA, errB); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s: a second build gave different bytes; the archive is not reproducible", filepath.Base(written[i].path))
		}
	}

	roots := map[string]string{}
	rootsDir := t.TempDir() // outlives the subtests that fill it
	for _, s := range imageSpecs() {
		t.Run(s.binary+"/contents", func(t *testing.T) {
			path := filepath.Join(out, s.binary+".tar")
			var img v1.Image
			for _, tagName := range []string{o.version, "latest"} {
				tag, err := name.NewTag(imageName(s.binary, tagName))
				if err != nil {
					t.Fatal(err)
				}
				img, err = tarball.ImageFromPath(path, &tag)
				if err != nil {
					t.Fatalf("open %s as %s: %v", path, tag, err)
				}
			}
			checkConfig(t, img, s, o)
			fsys := extract(t, img)
			checkFiles(t, fsys, s, certs)
			roots[s.binary] = writeRoot(t, fsys, rootsDir)
		})
	}
	if t.Failed() {
		return
	}

	t.Run("worker without configuration", func(t *testing.T) {
		root := roots["worker"]
		stderr := runFailing(t, root, "/worker", nil)
		wantAll(t, stderr, "DATABASE_URL is not set", "FULFILMENT_PAYLOAD_KEYS is not set")
		stderr = runFailing(t, root, "/worker", nil, "migrate")
		wantAll(t, stderr, "DATABASE_URL is not set")
	})
	t.Run("starter without configuration", func(t *testing.T) {
		stderr := runFailing(t, roots["starter"], "/starter", nil)
		wantAll(t, stderr, "DATABASE_URL is not set", "FULFILMENT_PAYLOAD_KEYS is not set")
	})
	t.Run("starter renders the notifications with the image's time zones", func(t *testing.T) {
		root := roots["starter"]
		dir := t.TempDir()
		outDir := filepath.Join(dir, "preview")
		runOK(t, root, "/starter", nil, "preview-notifications", "--locale", "de", "--out", outDir)
		if _, err := os.Stat(filepath.Join(outDir, "index.html")); err != nil {
			t.Errorf("preview wrote no index.html: %v", err)
		}
	})
	t.Run("worker migrate on an empty database", func(t *testing.T) {
		migrateEmptyDatabase(t, roots["worker"])
	})
	t.Run("probe", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/readyz" {
				fmt.Fprintln(w, "ok")
				return
			}
			http.Error(w, "temporal: unreachable", http.StatusServiceUnavailable)
		}))
		defer srv.Close()
		root := roots["worker"]
		runOK(t, root, "/probe", nil, srv.URL+"/readyz")
		wantAll(t, runFailing(t, root, "/probe", nil, srv.URL+"/notready"), "503", "temporal: unreachable")
		closed := httptest.NewServer(http.NotFoundHandler())
		closed.Close()
		wantAll(t, runFailing(t, root, "/probe", nil, "-timeout", "2s", closed.URL+"/readyz"), "connection refused")
	})

	t.Run("podman load", func(t *testing.T) {
		podmanLoads(t, out, o)
	})
}

// podmanLoads loads each archive with podman (a real container engine's loader,
// the one here that needs no daemon; docker load reads the same docker-save
// format) into a throw-away store, and checks the tags and the config podman
// sees. make test exports PODMAN_PATH (installing podman as root when missing).
func podmanLoads(t *testing.T, dir string, o options) {
	podman := os.Getenv("PODMAN_PATH")
	if podman == "" {
		var err error
		if podman, err = exec.LookPath("podman"); err != nil {
			t.Fatal("podman not found: the archives are checked with podman load (Debian: apt-get install podman; make test installs it as root), or set PODMAN_PATH")
		}
	}
	// podman wants a run root of at most 50 characters: t.TempDir's are longer.
	store, err := os.MkdirTemp("", "podman")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(store) })
	run := func(args ...string) string {
		t.Helper()
		base := []string{"--root", filepath.Join(store, "root"), "--runroot", filepath.Join(store, "run"),
			"--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "none"}
		cmd := exec.CommandContext(t.Context(), podman, append(base, args...)...)
		cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+filepath.Join(store, "xdg"), "CONTAINERS_CONF=/dev/null")
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		return string(b)
	}
	for _, s := range imageSpecs() {
		out := run("load", "-i", filepath.Join(dir, s.binary+".tar"))
		for _, tag := range []string{o.version, "latest"} {
			ref := imageName(s.binary, tag)
			if !strings.Contains(out, ref) {
				t.Errorf("podman load of %s.tar did not load %s:\n%s", s.binary, ref, out)
				continue
			}
			got := strings.TrimSpace(run("image", "inspect", "--format", "{{.Config.User}} {{join .Config.Entrypoint \" \"}}", "localhost/"+ref))
			if want := "65532:65532 /" + s.binary; got != want {
				t.Errorf("podman sees %s as user and entrypoint %q, want %q", ref, got, want)
			}
		}
	}
}

func checkConfig(t *testing.T, img v1.Image, s spec, o options) {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if c.User != "65532:65532" {
		t.Errorf("User = %q, want 65532:65532 (not root)", c.User)
	}
	if want := []string{"/" + s.binary}; !slices.Equal(c.Entrypoint, want) {
		t.Errorf("Entrypoint = %q, want %q", c.Entrypoint, want)
	}
	if c.WorkingDir != homeDir {
		t.Errorf("WorkingDir = %q, want %q", c.WorkingDir, homeDir)
	}
	if cf.OS != "linux" || cf.Architecture != o.arch {
		t.Errorf("platform = %s/%s, want linux/%s", cf.OS, cf.Architecture, o.arch)
	}
	if !cf.Created.Equal(o.created) {
		t.Errorf("Created = %v, want the source date %v", cf.Created.Time, o.created)
	}
	for _, e := range append([]string{"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"}, s.env...) {
		if !slices.Contains(c.Env, e) {
			t.Errorf("Env %q lacks %s", c.Env, e)
		}
	}
	for _, p := range s.ports {
		if _, ok := c.ExposedPorts[p]; !ok {
			t.Errorf("ExposedPorts %v lacks %s", c.ExposedPorts, p)
		}
	}
	for k, v := range map[string]string{
		"org.opencontainers.image.source":   o.source,
		"org.opencontainers.image.revision": o.revision,
		"org.opencontainers.image.version":  o.version,
	} {
		if c.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, c.Labels[k], v)
		}
	}
}

// entry is one file of an image's flattened file system.
type entry struct {
	hdr  *tar.Header
	data []byte
}

// extract flattens the image's layers, as a container runtime does.
func extract(t *testing.T, img v1.Image) map[string]entry {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	fsys := map[string]entry{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return fsys
		}
		if err != nil {
			t.Fatalf("read the image's file system: %v", err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("read %s: %v", h.Name, err)
		}
		fsys["/"+strings.TrimSuffix(h.Name, "/")] = entry{hdr: h, data: data}
	}
}

func checkFiles(t *testing.T, fsys map[string]entry, s spec, certs []byte) {
	t.Helper()
	for _, p := range []string{"/" + s.binary, "/probe"} {
		e, ok := fsys[p]
		if !ok {
			t.Fatalf("%s is missing", p)
		}
		if e.hdr.Mode&0o111 == 0 || e.hdr.Mode&0o222 != 0 || e.hdr.Uid != 0 {
			t.Errorf("%s: mode %o owner %d, want executable, read-only, owned by root", p, e.hdr.Mode, e.hdr.Uid)
		}
		checkStatic(t, p, e.data)
	}
	ca, ok := fsys["/etc/ssl/certs/ca-certificates.crt"]
	pool := x509.NewCertPool()
	if !ok || !pool.AppendCertsFromPEM(ca.data) || !bytes.Equal(ca.data, certs) {
		t.Errorf("/etc/ssl/certs/ca-certificates.crt is missing, empty or not the build machine's bundle")
	}
	berlin, ok := fsys["/usr/share/zoneinfo/Europe/Berlin"]
	if !ok {
		t.Fatal("/usr/share/zoneinfo/Europe/Berlin is missing")
	}
	loc, err := time.LoadLocationFromTZData("Europe/Berlin", berlin.data)
	if err != nil {
		t.Fatalf("Europe/Berlin: %v", err)
	}
	if _, off := time.Date(2026, 7, 1, 12, 0, 0, 0, loc).Zone(); off != 2*3600 {
		t.Errorf("Europe/Berlin in July is UTC%+d, want +2 (summer time)", off/3600)
	}
	if p := fsys["/etc/passwd"]; !strings.Contains(string(p.data), "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd has no user 65532:\n%s", p.data)
	}
	if g := fsys["/etc/group"]; !strings.Contains(string(g.data), "nonroot:x:65532:") {
		t.Errorf("/etc/group has no group 65532:\n%s", g.data)
	}
	if h, ok := fsys[homeDir]; !ok || h.hdr.Typeflag != tar.TypeDir || h.hdr.Uid != userID {
		t.Errorf("%s is missing or not a directory owned by %d", homeDir, userID)
	}
	if tmp, ok := fsys["/tmp"]; !ok || tmp.hdr.Mode&0o1777 != 0o1777 {
		t.Errorf("/tmp is missing or not world-writable with the sticky bit")
	}
}

// checkStatic fails unless the ELF binary has no interpreter and no shared
// libraries: it must run in an image without libc.
func checkStatic(t *testing.T, path string, data []byte) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s is not an ELF binary: %v", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s is dynamically linked (program header %v)", path, p.Type)
		}
	}
	if libs, err := f.ImportedLibraries(); err == nil && len(libs) > 0 {
		t.Errorf("%s needs shared libraries %v", path, libs)
	}
}

// writeRoot writes the image's binaries, CA bundle and time zones into a
// directory that stands in for the container's root.
func writeRoot(t *testing.T, fsys map[string]entry, dir string) string {
	t.Helper()
	root, err := os.MkdirTemp(dir, "root-")
	if err != nil {
		t.Fatal(err)
	}
	for p, e := range fsys {
		keep := e.hdr.Typeflag == tar.TypeReg &&
			(!strings.Contains(p[1:], "/") || strings.HasPrefix(p, "/etc/") || strings.HasPrefix(p, "/usr/share/zoneinfo/"))
		if !keep {
			continue
		}
		dst := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, e.data, os.FileMode(e.hdr.Mode).Perm()|0o200); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// command runs a binary of the image's root with the image's CA bundle and
// time zones and nothing else of the environment, plus env.
func command(ctx context.Context, root, bin string, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(root, bin), args...)
	cmd.Dir = root
	cmd.Env = append([]string{
		"SSL_CERT_FILE=" + filepath.Join(root, "etc/ssl/certs/ca-certificates.crt"),
		"ZONEINFO=" + filepath.Join(root, "usr/share/zoneinfo"),
		"TZ=UTC",
	}, env...)
	return cmd
}

func runOK(t *testing.T, root, bin string, env []string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if out, err := command(ctx, root, bin, env, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %q: %v\n%s", bin, args, err, out)
	}
}

// runFailing runs bin and returns its stderr; it fails the test unless bin
// exits with status 1.
func runFailing(t *testing.T, root, bin string, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := command(ctx, root, bin, env, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("%s %q: %v, want exit status 1; stderr:\n%s", bin, args, err, stderr.String())
	}
	return stderr.String()
}

func wantAll(t *testing.T, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("output lacks %q:\n%s", w, got)
		}
	}
}

// migrateEmptyDatabase creates an empty database on DATABASE_URL's server,
// runs the image's `worker migrate` on it, and checks that every migration
// was applied.
func migrateEmptyDatabase(t *testing.T, root string) {
	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		t.Fatal("DATABASE_URL is not set: run the tests with `make test`")
	}
	ctx := t.Context()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("DATABASE_URL: %v", err)
	}
	admin, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connect to DATABASE_URL: %v", err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) }) // after the drop below: cleanups run last-in, first-out
	suffix := make([]byte, 6)
	if _, err := rand.Read(suffix); err != nil {
		t.Fatal(err)
	}
	db := "fulfilment_image_" + hex.EncodeToString(suffix)
	if _, err := admin.Exec(ctx, "create database "+db); err != nil {
		t.Fatalf("create database %s: %v", db, err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(context.Background(), "drop database if exists "+db+" with (force)"); err != nil {
			t.Errorf("drop database %s: %v", db, err)
		}
	})
	cfg.Database = db
	dbURL, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("DATABASE_URL is not a URL: %v", err)
	}
	dbURL.Path = "/" + db
	runOK(t, root, "/worker", []string{"DATABASE_URL=" + dbURL.String()}, "migrate")

	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connect to %s: %v", db, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var applied int
	if err := conn.QueryRow(ctx, "select version from schema_version").Scan(&applied); err != nil {
		t.Fatalf("schema_version after worker migrate: %v", err)
	}
	version, err := postgres.SchemaVersion()
	if err != nil {
		t.Fatal(err)
	}
	want, err := strconv.Atoi(strings.SplitN(version, "-", 2)[0])
	if err != nil {
		t.Fatalf("schema version %q: %v", version, err)
	}
	if applied != want {
		t.Errorf("worker migrate applied %d migrations, want %d", applied, want)
	}
}
