package fs

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecrd/ecrd/internal/registry"
	"github.com/ecrd/ecrd/internal/registry/registrytest"
)

func TestContract(t *testing.T) {
	registrytest.BlobStore(t, func(t *testing.T) registry.BlobStore {
		return openStore(t, t.TempDir())
	})
}

// TestCommitLeavesOnlyTheBlob proves that a commit leaves no upload
// directory, data file or temp file behind, whether it moves the upload
// into place or discards it for an existing blob, and that the blob lands
// at its content address, read-only.
func TestCommitLeavesOnlyTheBlob(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	data := bytes.Repeat([]byte("layer"), 1000)
	d := registry.Digest(fmt.Sprintf("sha256:%x", sha256.Sum256(data)))
	for range 2 {
		id := registry.NewUploadID()
		for i, part := range [][]byte{data[:2000], data[2000:]} {
			if _, err := s.WriteUploadPart(t.Context(), id, i, int64(i*2000), bytes.NewReader(part)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.CommitUpload(t.Context(), id, 2, int64(len(data)), d); err != nil {
			t.Fatal(err)
		}
	}
	var files []string
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			files = append(files, strings.TrimPrefix(p, root+"/"))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "blobs/sha256/" + d.Hex()[:2] + "/" + d.Hex()
	if len(files) != 1 || files[0] != want {
		t.Errorf("files under the root: %q, want only %q", files, want)
	}
	if entries, err := os.ReadDir(filepath.Join(root, "uploads")); err != nil || len(entries) != 0 {
		t.Errorf("uploads directory: %v entries, %v; want empty", len(entries), err)
	}
	if fi, err := os.Stat(filepath.Join(root, want)); err != nil || fi.Mode().Perm() != blobMode {
		t.Errorf("blob mode: %v, %v; want %v", fi.Mode().Perm(), err, os.FileMode(blobMode))
	}
}

func TestOpenUnwritableRoot(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, root := range []string{file, filepath.Join(file, "data")} {
		_, err := Open(root)
		if err == nil || !strings.Contains(err.Error(), root) {
			t.Errorf("Open(%q): got %v, want an error naming the path", root, err)
		}
	}
	if _, err := Open(""); err == nil {
		t.Errorf("Open(\"\"): no error")
	}
}

// TestRefusesUnparsedNames proves that names which bypassed the registry's
// parsers never become paths.
func TestRefusesUnparsedNames(t *testing.T) {
	s := openStore(t, t.TempDir())
	ctx := t.Context()
	good := registry.Digest("sha256:" + strings.Repeat("a", 64))
	for _, d := range []registry.Digest{"sha256:../../etc/passwd", "sha256:" + registry.Digest(strings.Repeat("A", 64)), ""} {
		if _, err := s.Stat(ctx, d); err == nil {
			t.Errorf("Stat(%q): no error", d)
		}
		if err := s.Delete(ctx, d); err == nil {
			t.Errorf("Delete(%q): no error", d)
		}
	}
	for _, id := range []registry.UploadID{"../blobs", "ABCDEF01-2345-4678-9abc-def012345678", ""} {
		if _, err := s.WriteUploadPart(ctx, id, 0, 0, strings.NewReader("x")); err == nil {
			t.Errorf("WriteUploadPart(%q): no error", id)
		}
		if err := s.CommitUpload(ctx, id, 1, 1, good); err == nil {
			t.Errorf("CommitUpload(%q): no error", id)
		}
		if err := s.DeleteUpload(ctx, id); err == nil {
			t.Errorf("DeleteUpload(%q): no error", id)
		}
	}
}

func openStore(t *testing.T, root string) *Store {
	t.Helper()
	s, err := Open(root)
	if err != nil {
		t.Fatalf("Open(%q): %v", root, err)
	}
	return s
}
