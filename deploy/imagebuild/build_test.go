package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// fakeBuildStage makes what the Dockerfile's build stage leaves in /out for
// each platform: a binary (here, some bytes, mode 0700 to show that
// --chmod wins) and an empty data dir.
func fakeBuildStage(t *testing.T, platforms ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range platforms {
		out := filepath.Join(dir, strings.ReplaceAll(p, "/", "_"), "out")
		if err := os.MkdirAll(filepath.Join(out, "data"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, "ecrd"), []byte("binary for "+p), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func buildLayout(t *testing.T, stageDir, platforms string) (string, v1.Hash) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "layout")
	d, err := build("../../Dockerfile", out, platforms, "1700000000", map[string]string{"build": stageDir}, map[string]string{"VERSION": "v1"})
	if err != nil {
		t.Fatal(err)
	}
	return out, d
}

// listLayer lists a layer's entries as `tar tv` would, with file contents.
func listLayer(t *testing.T, l v1.Layer) []string {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var out []string
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		out = append(out, fmt.Sprintf("%c %o %d:%d %s %d %q", h.Typeflag, h.Mode, h.Uid, h.Gid, h.Name, h.ModTime.Unix(), body))
	}
}

func TestBuildImage(t *testing.T) {
	dir, digest := buildLayout(t, fakeBuildStage(t, "linux/amd64"), "linux/amd64")
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 || m.Manifests[0].Digest != digest {
		t.Fatalf("layout lists %+v, want the one image %s", m.Manifests, digest)
	}
	img, err := idx.Image(digest)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	want := repositoryStage(t, platform{"linux", "amd64"}, map[string]string{"VERSION": "v1"})
	if !reflect.DeepEqual(cf.Config, want.config) || cf.OS != "linux" || cf.Architecture != "amd64" || cf.Created.Unix() != 1700000000 {
		t.Errorf("config file %+v\nwant the stage's config %+v for linux/amd64 created at 1700000000", cf, want.config)
	}
	if len(cf.History) != len(want.steps) {
		t.Errorf("%d history entries for %d instructions", len(cf.History), len(want.steps))
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, l := range layers {
		got = append(got, listLayer(t, l))
		if mt, _ := l.MediaType(); mt != "application/vnd.oci.image.layer.v1.tar+gzip" {
			t.Errorf("layer media type %s", mt)
		}
	}
	const ts = 1700000000
	wantLayers := [][]string{{
		fmt.Sprintf(`5 755 0:0 usr/ %d ""`, ts),
		fmt.Sprintf(`5 755 0:0 usr/local/ %d ""`, ts),
		fmt.Sprintf(`5 755 0:0 usr/local/bin/ %d ""`, ts),
		fmt.Sprintf(`0 755 0:0 usr/local/bin/ecrd %d "binary for linux/amd64"`, ts),
	}, {
		fmt.Sprintf(`5 755 0:0 var/ %d ""`, ts),
		fmt.Sprintf(`5 755 0:0 var/lib/ %d ""`, ts),
		fmt.Sprintf(`5 750 65532:65532 var/lib/ecrd/ %d ""`, ts),
	}}
	if !reflect.DeepEqual(got, wantLayers) {
		t.Errorf("layers\n%q\nwant\n%q", got, wantLayers)
	}
}

// The same inputs make the same bytes, so a rebuild pushes nothing new and
// the digest names the source.
func TestBuildIsReproducible(t *testing.T) {
	stageDir := fakeBuildStage(t, "linux/amd64")
	_, d1 := buildLayout(t, stageDir, "linux/amd64")
	_, d2 := buildLayout(t, stageDir, "linux/amd64")
	if d1 != d2 {
		t.Fatalf("two builds of the same inputs: %s and %s", d1, d2)
	}
}

func TestBuildIndex(t *testing.T) {
	dir, digest := buildLayout(t, fakeBuildStage(t, "linux/amd64", "linux/arm64"), "linux/amd64,linux/arm64")
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := idx.Digest(); err != nil || d != digest {
		t.Fatalf("the layout's index.json is %s (%v), want the index itself, %s", d, err, digest)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != "application/vnd.oci.image.index.v1+json" || len(m.Manifests) != 2 {
		t.Fatalf("index %+v, want an OCI index of two images", m)
	}
	for i, arch := range []string{"amd64", "arm64"} {
		d := m.Manifests[i]
		if d.Platform == nil || d.Platform.OS != "linux" || d.Platform.Architecture != arch {
			t.Errorf("manifest %d: platform %+v, want linux/%s", i, d.Platform, arch)
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		layers, _ := img.Layers()
		if got := listLayer(t, layers[0]); !strings.Contains(got[len(got)-1], "binary for linux/"+arch) {
			t.Errorf("linux/%s image holds %q", arch, got)
		}
	}
}

func TestBuildRefuses(t *testing.T) {
	stageDir := fakeBuildStage(t, "linux/amd64")
	notLayout := t.TempDir()
	if err := os.WriteFile(filepath.Join(notLayout, "precious"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, out, platforms string
		stages               map[string]string
		err                  string
	}{
		{"OverwriteOtherDir", notLayout, "linux/amd64", map[string]string{"build": stageDir}, "neither empty nor an OCI image layout"},
		{"NoStageDir", filepath.Join(t.TempDir(), "l"), "linux/amd64", nil, `no directory given for stage "build"`},
		{"MissingPlatform", filepath.Join(t.TempDir(), "l"), "linux/arm64", map[string]string{"build": stageDir}, "linux_arm64/out/ecrd"},
		{"Variant", filepath.Join(t.TempDir(), "l"), "linux/arm/v7", map[string]string{"build": stageDir}, "want os/arch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := build("../../Dockerfile", tc.out, tc.platforms, "0", tc.stages, nil)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err %v, want one saying %q", err, tc.err)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(notLayout, "precious")); err != nil {
		t.Errorf("a refused build touched the directory: %v", err)
	}
}

func TestRunUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if status := run([]string{"-stage", "build=x"}, func(string) string { return "" }, &stdout, &stderr); status != 2 || !strings.Contains(stderr.String(), "-o LAYOUT") {
		t.Errorf("status %d, stderr %q; want 2 and a usage message", status, stderr.String())
	}
}
