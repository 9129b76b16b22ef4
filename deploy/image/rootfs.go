package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"path"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// file is one entry of a layer: a regular file, or a directory when dir is set.
// Paths are relative to the root ("etc/passwd").
type file struct {
	path string
	mode int64 // permission bits, with the sticky bit for /tmp
	dir  bool
	uid  int // owner and group; 0 = root
	data []byte
}

// The account files: root (for files owned by root) and the image's user
// (userID, homeDir), without a password or a login shell.
const (
	passwd = "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
	group  = "root:x:0:\nnonroot:x:65532:\n"
)

// nsswitch makes Go's resolver look at /etc/hosts before DNS, as glibc does
// (container runtimes write both /etc/hosts and /etc/resolv.conf).
const nsswitch = "hosts: files dns\n"

// baseLayer holds what every image shares: the account files, the CA
// certificates, the time-zone database (unpacked from the Go toolchain's
// zoneinfo.zip into /usr/share/zoneinfo, where Go and everything else looks),
// /tmp, the user's home directory (the working directory) and /probe.
func baseLayer(o options, probe []byte) (v1.Layer, error) {
	files := []file{
		{path: "etc/passwd", mode: 0o644, data: []byte(passwd)},
		{path: "etc/group", mode: 0o644, data: []byte(group)},
		{path: "etc/nsswitch.conf", mode: 0o644, data: []byte(nsswitch)},
		{path: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: o.caCerts},
		{path: "tmp", mode: 0o1777, dir: true},
		{path: homeDir[1:], mode: 0o755, dir: true, uid: userID},
		{path: probeBinary, mode: 0o555, data: probe},
	}
	zones, err := zoneinfoFiles(o.zoneinfoZip)
	if err != nil {
		return nil, err
	}
	return layerFromFiles(append(files, zones...), o.created)
}

// zoneinfoFiles unpacks Go's zoneinfo.zip (the IANA database of the toolchain
// that built the binaries) into usr/share/zoneinfo.
func zoneinfoFiles(zipPath string) ([]file, error) {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return nil, fmt.Errorf("time-zone data: %w", err)
	}
	defer zr.Close()
	var files []file
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("time-zone data %s: %w", f.Name, err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("time-zone data %s: %w", f.Name, err)
		}
		files = append(files, file{path: path.Join("usr/share/zoneinfo", f.Name), mode: 0o644, data: data})
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("time-zone data: %s holds no zones", zipPath)
	}
	return files, nil
}

// layerFromFiles writes files as an uncompressed layer tar: sorted, every parent
// directory present (root-owned, 0755 unless listed), every time stamp set to
// created, so that the same files give the same layer digest.
func layerFromFiles(files []file, created time.Time) (v1.Layer, error) {
	byPath := map[string]file{}
	for _, f := range files {
		byPath[f.path] = f
		for dir := path.Dir(f.path); dir != "."; dir = path.Dir(dir) {
			if _, ok := byPath[dir]; !ok {
				byPath[dir] = file{path: dir, mode: 0o755, dir: true}
			}
		}
	}
	// A directory listed explicitly wins over one added as a parent.
	for _, f := range files {
		byPath[f.path] = f
	}
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		paths = append(paths, p)
	}
	sort.Strings(paths)

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range paths {
		f := byPath[p]
		h := &tar.Header{
			Name: f.path, Mode: f.mode, Uid: f.uid, Gid: f.uid, ModTime: created,
			Typeflag: tar.TypeReg, Size: int64(len(f.data)), Format: tar.FormatPAX,
		}
		if f.dir {
			h.Name, h.Typeflag, h.Size = f.path+"/", tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("layer entry %s: %w", f.path, err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, fmt.Errorf("layer entry %s: %w", f.path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	data := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	return layer, nil
}
