package scan

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// The files a scan reads from an image's layers; nothing else is kept.
const (
	osReleaseEtc = "etc/os-release"
	osReleaseLib = "usr/lib/os-release"
	dpkgStatus   = "var/lib/dpkg/status"
	dpkgStatusD  = "var/lib/dpkg/status.d/" // distroless: one file per package
	apkInstalled = "lib/apk/db/installed"
	rpmDB        = "var/lib/rpm/rpmdb.sqlite"
	rpmDBSysimg  = "usr/lib/sysimage/rpm/rpmdb.sqlite" // Fedora's newer place
)

// maxFile bounds one package database read into memory.
const maxFile = 64 << 20

func wanted(name string) bool {
	switch name {
	case osReleaseEtc, osReleaseLib, dpkgStatus, apkInstalled, rpmDB, rpmDBSysimg:
		return true
	}
	return strings.HasPrefix(name, dpkgStatusD) && !strings.HasSuffix(name, ".md5sums")
}

// wantedDirs are the directories wanted files are in: replacing or
// removing one of them removes what the scan has of them.
var wantedDirs = []string{"etc", "usr", "usr/lib", "var", "var/lib", "var/lib/dpkg", "var/lib/dpkg/status.d", "lib", "lib/apk", "lib/apk/db",
	"var/lib/rpm", "usr/lib/sysimage", "usr/lib/sysimage/rpm"}

// relevant tells whether a layer's entry at name can change a wanted file.
func relevant(name string) bool {
	for _, d := range wantedDirs {
		if name == d {
			return true
		}
	}
	return wanted(name)
}

// files are the wanted files of an image's filesystem as its layers
// leave it: each layer, in order, adds, replaces or (by whiteouts)
// removes them.
type files map[string][]byte

// addLayer applies one layer, read as a stream: a tar, gzipped or not.
func (fs files) addLayer(r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(4)
	var tr *tar.Reader
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("a gzip layer: %w", err)
		}
		defer zr.Close()
		tr = tar.NewReader(zr)
	case bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return errZstd
	default:
		tr = tar.NewReader(br)
	}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("a layer's tar stream: %w", err)
		}
		name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		dir, base := path.Split(name)
		switch {
		case base == ".wh..wh..opq":
			fs.removeUnder(dir)
			continue
		case strings.HasPrefix(base, ".wh."):
			if relevant(dir + strings.TrimPrefix(base, ".wh.")) {
				fs.remove(dir + strings.TrimPrefix(base, ".wh."))
			}
			continue
		}
		if h.Typeflag == tar.TypeDir || !relevant(name) {
			continue
		}
		fs.remove(name) // replaced, by a file or by anything else
		if !wanted(name) || (h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeSymlink) {
			continue
		}
		if h.Typeflag == tar.TypeSymlink {
			// etc/os-release is usually ../usr/lib/os-release: resolved at the end.
			fs[name] = nil
			continue
		}
		if h.Size > maxFile {
			return fmt.Errorf("%s is %d bytes, more than a scan reads (%d)", name, h.Size, maxFile)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return fmt.Errorf("reading %s from a layer: %w", name, err)
		}
		fs[name] = data
	}
}

var errZstd = errors.New("a zstd-compressed layer, which the scanner does not read")

func (fs files) remove(name string) {
	delete(fs, name)
	fs.removeUnder(name + "/")
}

func (fs files) removeUnder(dir string) {
	for k := range fs {
		if strings.HasPrefix(k, dir) {
			delete(fs, k)
		}
	}
}

// osRelease is the image's os-release: etc's, or usr/lib's it links to.
func (fs files) osRelease() map[string]string {
	data := fs[osReleaseEtc]
	if data == nil {
		data = fs[osReleaseLib]
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		out[k] = strings.Trim(v, `"'`)
	}
	return out
}

// pkg is an installed package.
type pkg struct {
	name, version string
	// source and sourceVersion are what advisories name: the source
	// package (Debian's Source:, Alpine's origin).
	source, sourceVersion string
	manager               string
}

// packages reads the installed packages the image's databases list.
func (fs files) packages() ([]pkg, error) {
	var out []pkg
	for _, db := range []string{rpmDB, rpmDBSysimg} {
		if data := fs[db]; data != nil {
			pkgs, err := rpmPackages(data)
			if err != nil {
				return nil, err
			}
			out = append(out, pkgs...)
		}
	}
	if data, ok := fs[dpkgStatus]; ok {
		out = append(out, dpkgPackages(data, true)...)
	}
	for name, data := range fs {
		if strings.HasPrefix(name, dpkgStatusD) {
			out = append(out, dpkgPackages(data, false)...)
		}
	}
	if data, ok := fs[apkInstalled]; ok {
		out = append(out, apkPackages(data)...)
	}
	return out, nil
}

// hasDatabase tells whether the image has a package database ecrd reads.
func (fs files) hasDatabase() bool {
	for name, data := range fs {
		if name != osReleaseEtc && name != osReleaseLib && data != nil {
			return true
		}
	}
	return false
}

// dpkgPackages reads dpkg's status paragraphs; with installedOnly those
// whose Status is not "... installed" (removed, config-files) are not
// installed.
func dpkgPackages(data []byte, installedOnly bool) []pkg {
	var out []pkg
	for _, para := range strings.Split(string(data), "\n\n") {
		f := map[string]string{}
		for _, line := range strings.Split(para, "\n") {
			if line == "" || line[0] == ' ' || line[0] == '\t' {
				continue
			}
			k, v, ok := strings.Cut(line, ":")
			if ok {
				f[k] = strings.TrimSpace(v)
			}
		}
		if f["Package"] == "" || f["Version"] == "" || (installedOnly && !strings.HasSuffix(f["Status"], " installed")) {
			continue
		}
		p := pkg{name: f["Package"], version: f["Version"], source: f["Package"], sourceVersion: f["Version"], manager: "dpkg"}
		if src := f["Source"]; src != "" {
			name, ver, ok := strings.Cut(src, " ")
			p.source = name
			if ok {
				p.sourceVersion = strings.Trim(strings.TrimSpace(ver), "()")
			}
		}
		out = append(out, p)
	}
	return out
}

// apkPackages reads apk's installed database: records of "X:value" lines.
func apkPackages(data []byte) []pkg {
	var out []pkg
	for _, rec := range strings.Split(string(data), "\n\n") {
		var p pkg
		for _, line := range strings.Split(rec, "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			switch k {
			case "P":
				p.name = v
			case "V":
				p.version = v
			case "o":
				p.source = v
			}
		}
		if p.name == "" || p.version == "" {
			continue
		}
		if p.source == "" {
			p.source = p.name
		}
		p.sourceVersion, p.manager = p.version, "apk"
		out = append(out, p)
	}
	return out
}

// distro is the OS an image runs, as the index keys advisories
// ("debian:12"), and how its package versions compare; "" when ecrd does
// not know it.
func distro(osr map[string]string) (string, compareFunc) {
	id, ver := strings.ToLower(osr["ID"]), osr["VERSION_ID"]
	key := ""
	switch id {
	case "debian", "ubuntu":
		if ver != "" {
			key = id + ":" + ver
		}
	case "alpine":
		if parts := strings.SplitN(ver, ".", 3); len(parts) >= 2 {
			key = "alpine:" + parts[0] + "." + parts[1]
		}
	case "rocky", "almalinux":
		// OSV names their releases by major version, Rocky as "Rocky Linux".
		if major, _, _ := strings.Cut(ver, "."); major != "" {
			key = map[string]string{"rocky": "rocky linux", "almalinux": "almalinux"}[id] + ":" + major
		}
	}
	if key == "" {
		return "", nil
	}
	return key, compareFor(key)
}
