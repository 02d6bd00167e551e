package scan

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchDB writes a 100,000-entry OSV database (a zip, as osv.dev ships
// one): 10 advisories for each of 10,000 Debian 12 packages, half of them
// fixed before version 1.5-1.
func benchDB(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	f, err := os.Create(filepath.Join(dir, "all.zip"))
	if err != nil {
		b.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for i := range 100_000 {
		pkg, fixed := i%10_000, "1.0-1"
		if i%2 == 1 {
			fixed = "2.0-1"
		}
		w, err := zw.Create(fmt.Sprintf("CVE-2024-%06d.json", i))
		if err != nil {
			b.Fatal(err)
		}
		fmt.Fprintf(w, `{"id":"CVE-2024-%06d","modified":"2024-06-01T00:00:00Z","details":"flaw %d",
			"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
			"affected":[{"package":{"ecosystem":"Debian:12","name":"pkg%d"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":%q}]}]}]}`,
			i, i, pkg, fixed)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return dir
}

// benchLayer is a Debian 12 layer of 1,000 installed packages (at
// 1.5-1) among 2,000 other files.
func benchLayer(b *testing.B) []byte {
	var status strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&status, "Package: pkg%d\nStatus: install ok installed\nVersion: 1.5-1\nDescription: package %d\n a longer description line\n\n", i, i)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	add := func(name, body string) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			b.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	add("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
	for i := range 2000 {
		add(fmt.Sprintf("usr/share/doc/pkg%d/copyright", i), strings.Repeat("x", 512))
	}
	add("var/lib/dpkg/status", status.String())
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// BenchmarkScan: one image of 1,000 packages (its layer read and
// parsed, its packages matched) against the 100,000-entry database.
func BenchmarkScan(b *testing.B) {
	db, err := LoadDB(benchDB(b))
	if err != nil {
		b.Fatal(err)
	}
	layer := benchLayer(b)
	b.SetBytes(int64(len(layer)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		fs := files{}
		if err := fs.addLayer(bytes.NewReader(layer)); err != nil {
			b.Fatal(err)
		}
		key, cmp := distro(fs.osRelease())
		pkgs, err := fs.packages()
		if err != nil {
			b.Fatal(err)
		}
		findings := db.Match(key, cmp, pkgs)
		if len(findings) != 5000 {
			b.Fatalf("%d findings, want 5000", len(findings))
		}
	}
}

// BenchmarkLoadDB: reading the 100,000-entry database.
func BenchmarkLoadDB(b *testing.B) {
	dir := benchDB(b)
	b.ReportAllocs()
	for b.Loop() {
		db, err := LoadDB(dir)
		if err != nil || db.Entries != 100_000 {
			b.Fatal(db, err)
		}
	}
}
