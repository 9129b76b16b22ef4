package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The user every image runs as: not root, and the UID/GID distroless images use
// for "nonroot", so that volume permissions set up for those fit ours.
const (
	userID  = 65532
	homeDir = "/home/nonroot"
)

// repository is the image name prefix: images are tagged
// everywhere-fulfilment/<binary>:<version> and :latest.
const repository = "everywhere-fulfilment/"

// spec describes one image: the binary it runs and how.
type spec struct {
	binary      string   // worker or starter: the package, the file /<binary>, the entrypoint
	description string   // org.opencontainers.image.description
	env         []string // beyond the common environment
	ports       []string // ExposedPorts, "8080/tcp"
}

// imageSpecs are the images make image builds. The listen addresses are set
// for a container (all interfaces) where the binaries' defaults are loopback;
// the admin addresses carry the worker's /healthz and /readyz for probes and
// Go profiles, so publish them on a private network only.
func imageSpecs() []spec {
	return []spec{
		{
			binary:      "worker",
			description: "Everywhere Fulfilment Temporal worker (worker; worker migrate applies the PostgreSQL schema)",
			env:         []string{"FULFILMENT_ADMIN_ADDR=0.0.0.0:6060"},
			ports:       []string{"6060/tcp"},
		},
		{
			binary:      "starter",
			description: "Everywhere Fulfilment HTTP API (checkout, store staff, support, codec endpoint)",
			env:         []string{"STARTER_ADDR=0.0.0.0:8080", "STARTER_ADMIN_ADDR=0.0.0.0:6061"},
			ports:       []string{"8080/tcp", "6061/tcp"},
		},
	}
}

// probeBinary is the health-check binary in every image (deploy/image/probe).
const probeBinary = "probe"

// options are what every image of one build shares.
type options struct {
	version, revision, source string
	created                   time.Time
	arch                      string
	caCerts                   []byte // PEM bundle
	zoneinfoZip               string // Go's lib/time/zoneinfo.zip
}

// binaries maps a binary's name (worker, starter, probe) to its built file.
type binaries map[string]string

// buildBinaries builds the static binaries of the images into dir:
// CGO_ENABLED=0 (no libc needed, nothing else in the image), -trimpath (no
// build-machine paths, reproducible), -s -w (no symbol table or DWARF: smaller;
// stack traces and profiles still work from the runtime's own tables).
func buildBinaries(ctx context.Context, repo, dir, arch string) (binaries, error) {
	pkgs := map[string]string{
		"worker": "./worker", "starter": "./starter", probeBinary: "./deploy/image/probe",
	}
	bins := binaries{}
	for bin, pkg := range pkgs {
		out := filepath.Join(dir, bin)
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
		if msg, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %w\n%s", pkg, err, msg)
		}
		bins[bin] = out
	}
	return bins, nil
}

// archive is one written image archive.
type archive struct {
	path string
	tags []string
}

// writeArchives writes <out>/<binary>.tar for every spec: the shared base layer
// (certificates, time zones, users, probe) and a layer with the binary, tagged
// with the version and latest.
func writeArchives(bins binaries, out string, o options) ([]archive, error) {
	probe, err := os.ReadFile(bins[probeBinary])
	if err != nil {
		return nil, fmt.Errorf("probe binary: %w", err)
	}
	base, err := baseLayer(o, probe)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	var written []archive
	for _, s := range imageSpecs() {
		img, err := buildImage(s, bins[s.binary], base, o)
		if err != nil {
			return nil, fmt.Errorf("%s image: %w", s.binary, err)
		}
		refs := map[name.Reference]v1.Image{}
		var tags []string
		for _, t := range []string{o.version, "latest"} {
			tag, err := name.NewTag(imageName(s.binary, t))
			if err != nil {
				return nil, fmt.Errorf("%s image tag %q: %w", s.binary, t, err)
			}
			refs[tag] = img
			tags = append(tags, tag.String())
		}
		path := filepath.Join(out, s.binary+".tar")
		if err := writeArchive(path, refs); err != nil {
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
		written = append(written, archive{path: path, tags: tags})
	}
	return written, nil
}

// buildImage puts the base layer and the binary's layer on an empty OCI image
// and sets its config.
func buildImage(s spec, binaryPath string, base v1.Layer, o options) (v1.Image, error) {
	bin, err := os.ReadFile(binaryPath)
	if err != nil {
		return nil, fmt.Errorf("binary: %w", err)
	}
	app, err := layerFromFiles([]file{{path: s.binary, mode: 0o555, data: bin}}, o.created)
	if err != nil {
		return nil, err
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: base, MediaType: types.OCILayer, History: v1.History{
			Created: v1.Time{Time: o.created}, CreatedBy: "deploy/image: CA certificates, time zones, users, /probe",
		}},
		mutate.Addendum{Layer: app, MediaType: types.OCILayer, History: v1.History{
			Created: v1.Time{Time: o.created}, CreatedBy: "deploy/image: /" + s.binary,
		}},
	)
	if err != nil {
		return nil, fmt.Errorf("layers: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", o.arch
	cf.Created = v1.Time{Time: o.created}
	cf.Config = v1.Config{
		User:       fmt.Sprintf("%d:%d", userID, userID),
		Entrypoint: []string{"/" + s.binary},
		WorkingDir: homeDir,
		Env: append([]string{
			// PATH: the binaries live in /, so `docker exec C probe URL` works too.
			"PATH=/",
			// Go reads this file first anyway; set for any other TLS code.
			"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
			// Logs and timestamps in UTC; stores' own zones come from their records.
			"TZ=UTC",
		}, s.env...),
		ExposedPorts: map[string]struct{}{},
		Labels: map[string]string{
			"org.opencontainers.image.title":       "everywhere-fulfilment-" + s.binary,
			"org.opencontainers.image.description": s.description,
			"org.opencontainers.image.source":      o.source,
			"org.opencontainers.image.revision":    o.revision,
			"org.opencontainers.image.version":     o.version,
			"org.opencontainers.image.created":     o.created.Format(time.RFC3339),
		},
	}
	for _, p := range s.ports {
		cf.Config.ExposedPorts[p] = struct{}{}
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("set config: %w", err)
	}
	return img, nil
}

// imageName is the reference of an image built here: everywhere-fulfilment/worker:latest.
func imageName(binary, tag string) string {
	return repository + binary + ":" + tag
}

// writeArchive writes the images in the format of `docker save` (manifest.json,
// the config and the gzipped layers), which docker load and podman load read.
// go-containerregistry lists an image's tags in map order, so the archive is
// rewritten with the tags sorted: the same images give the same bytes.
func writeArchive(path string, refs map[name.Reference]v1.Image) error {
	var buf bytes.Buffer
	if err := tarball.MultiRefWrite(refs, &buf); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	tr, tw := tar.NewReader(&buf), tar.NewWriter(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			f.Close()
			return fmt.Errorf("read the archive back: %w", err)
		}
		var body io.Reader = tr
		if h.Name == "manifest.json" {
			if body, h.Size, err = sortedManifest(tr); err != nil {
				f.Close()
				return err
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			f.Close()
			return err
		}
		if _, err := io.Copy(tw, body); err != nil {
			f.Close()
			return err
		}
	}
	if err := tw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// sortedManifest reads manifest.json and returns it with every image's tags sorted.
func sortedManifest(r io.Reader) (io.Reader, int64, error) {
	var m tarball.Manifest
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		return nil, 0, fmt.Errorf("manifest.json: %w", err)
	}
	for i := range m {
		sort.Strings(m[i].RepoTags)
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, 0, fmt.Errorf("manifest.json: %w", err)
	}
	return bytes.NewReader(data), int64(len(data)), nil
}
