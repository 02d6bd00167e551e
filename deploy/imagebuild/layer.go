package main

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// layerer makes the layers of one image in order, remembering the
// directories earlier layers made: a COPY creates the parent directories
// it needs (root-owned, 0755) in its own layer, once.
type layerer struct {
	tmp     string    // where layer files are written
	created time.Time // every entry's modification time, so that builds repeat
	dirs    map[string]bool
}

func newLayerer(tmp string, created time.Time) *layerer {
	return &layerer{tmp: tmp, created: created, dirs: map[string]bool{"/": true}}
}

// entry is one file of a layer: its header and, for a regular file, where
// its bytes are.
type entry struct {
	hdr tar.Header
	src string
}

// layer writes the layer of one COPY, reading the copied stage's files
// under root, as a gzipped tar in the temporary dir.
func (l *layerer) layer(cp *copySpec, root string) (v1.Layer, error) {
	var entries []entry
	for _, src := range cp.srcs {
		es, err := l.copyEntries(cp, root, src)
		if err != nil {
			return nil, fmt.Errorf("COPY --from=%s %s: %w", cp.from, src, err)
		}
		entries = append(entries, es...)
	}
	file, err := writeTarGz(l.tmp, entries)
	if err != nil {
		return nil, err
	}
	return tarball.LayerFromFile(file, tarball.WithMediaType(types.OCILayer))
}

// copyEntries lists what copying src makes, as COPY does: a file goes to
// the destination, or into it when it is a directory; a directory's
// contents go into the destination directory.
func (l *layerer) copyEntries(cp *copySpec, root, src string) ([]entry, error) {
	local := filepath.Join(root, filepath.FromSlash(src))
	info, err := os.Lstat(local)
	if err != nil {
		return nil, err
	}
	target := strings.TrimSuffix(cp.dst, "/")
	if target == "" {
		target = "/"
	}
	if !info.IsDir() && (strings.HasSuffix(cp.dst, "/") || l.dirs[target]) {
		target = path.Join(target, path.Base(src))
	}
	entries := l.parents(target)
	err = filepath.WalkDir(local, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(local, p)
		if err != nil {
			return err
		}
		name := path.Join(target, filepath.ToSlash(rel))
		if d.IsDir() && l.dirs[name] {
			return nil // an existing directory keeps its owner and mode
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		e, err := l.entry(cp, name, p, info)
		if err != nil {
			return err
		}
		entries = append(entries, e)
		return nil
	})
	return entries, err
}

// parents lists the directories above name that no layer has made yet.
func (l *layerer) parents(name string) []entry {
	var missing []string
	for dir := path.Dir(name); !l.dirs[dir]; dir = path.Dir(dir) {
		missing = append(missing, dir)
	}
	var entries []entry
	for i := len(missing) - 1; i >= 0; i-- {
		l.dirs[missing[i]] = true
		entries = append(entries, entry{hdr: tar.Header{
			Typeflag: tar.TypeDir, Name: strings.TrimPrefix(missing[i], "/") + "/", Mode: 0o755, ModTime: l.created,
		}})
	}
	return entries
}

func (l *layerer) entry(cp *copySpec, name, local string, info fs.FileInfo) (entry, error) {
	mode := info.Mode().Perm()
	if cp.hasMode {
		mode = cp.mode
	}
	e := entry{hdr: tar.Header{
		Name: strings.TrimPrefix(name, "/"), Mode: int64(mode), Uid: cp.uid, Gid: cp.gid, ModTime: l.created,
	}}
	switch {
	case info.IsDir():
		l.dirs[name] = true
		e.hdr.Typeflag, e.hdr.Name = tar.TypeDir, e.hdr.Name+"/"
	case info.Mode().IsRegular():
		e.hdr.Typeflag, e.hdr.Size, e.src = tar.TypeReg, info.Size(), local
	case info.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(local)
		if err != nil {
			return e, err
		}
		e.hdr.Typeflag, e.hdr.Linkname, e.hdr.Mode = tar.TypeSymlink, target, 0o777
	default:
		return e, fmt.Errorf("%s: only files, directories and symbolic links can be copied", local)
	}
	return e, nil
}

// writeTarGz writes entries as a gzipped tar, to a new file in dir. The
// same entries always make the same bytes: no names of owners, fixed times,
// gzip's default header.
func writeTarGz(dir string, entries []entry) (file string, err error) {
	f, err := os.CreateTemp(dir, "layer-*.tar.gz")
	if err != nil {
		return "", err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		if err := tw.WriteHeader(&e.hdr); err != nil {
			return "", fmt.Errorf("%s: %w", e.hdr.Name, err)
		}
		if e.src == "" {
			continue
		}
		if err := copyFile(tw, e.src, e.hdr.Size); err != nil {
			return "", err
		}
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	return f.Name(), gz.Close()
}

// copyFile copies exactly size bytes of the file into w: a file that
// changed size since it was listed fails the build.
func copyFile(w io.Writer, file string, size int64) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.Copy(w, f)
	if err == nil && n != size {
		err = fmt.Errorf("%s changed while it was copied", file)
	}
	return err
}
