package diskerr_test

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/ecrd/ecrd/internal/diskerr"
	"github.com/ecrd/ecrd/internal/registry"
)

func TestWrap(t *testing.T) {
	dir := t.TempDir()
	pathErr := func(e syscall.Errno) error {
		return fmt.Errorf("write: %w", &os.PathError{Op: "write", Path: dir + "/x", Err: e})
	}
	cases := []struct {
		name string
		err  error
		kind registry.StorageKind // "" for left alone
	}{
		{"ENOSPC", pathErr(syscall.ENOSPC), registry.StorageFull},
		{"EDQUOT", pathErr(syscall.EDQUOT), registry.StorageFull},
		{"EIO", pathErr(syscall.EIO), registry.StorageIO},
		{"EROFS", pathErr(syscall.EROFS), registry.StorageIO},
		{"ENOENT", pathErr(syscall.ENOENT), ""},
		{"Plain", errors.New("something else"), ""},
		{"Nil", nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := diskerr.Wrap(c.err, "blob store", dir)
			se, ok := registry.AsStorageError(got)
			if c.kind == "" {
				if ok || got != c.err {
					t.Fatalf("Wrap(%v) = %v, want it unchanged", c.err, got)
				}
				return
			}
			if !ok || se.Kind != c.kind || se.Path != dir || se.Store != "blob store" {
				t.Fatalf("Wrap(%v) = %#v, want a %s StorageError for %s", c.err, got, c.kind, dir)
			}
			if se.Free < 0 {
				t.Errorf("free space of %s unknown", dir)
			}
			if !errors.Is(got, c.err) {
				t.Error("the cause is lost")
			}
			if again := diskerr.Wrap(got, "x", "y"); again != got {
				t.Error("wrapping twice changed the error")
			}
		})
	}
}
