package sqlite

import (
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
	"github.com/ecrd/ecrd/internal/registry/registrytest"
)

// openTemp opens a store in a new file under t.TempDir and closes it when
// the test ends.
func openTemp(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestContract(t *testing.T) {
	registrytest.MetaStore(t, func(t *testing.T) registry.MetaStore {
		return openTemp(t, filepath.Join(t.TempDir(), "meta.db"))
	})
}

func TestReopen(t *testing.T) {
	// A '?' and a '#' in the path must not be taken for DSN syntax.
	path := filepath.Join(t.TempDir(), "odd ?name#.db")
	at := time.Date(2025, 6, 1, 12, 30, 45, 123456789, time.UTC)
	key := registry.RepoKey{Registry: "123456789012", Name: "team/app"}
	repo := registry.Repository{
		Registry: key.Registry, Name: key.Name, CreatedAt: at,
		TagMutability: "MUTABLE_WITH_EXCLUSION", MutabilityExclusions: []string{"dev-*"},
		ScanOnPush: true, EncryptionType: "KMS", KMSKey: "alias/ecr",
		Tags: []registry.ResourceTag{{Key: "team", Value: "platform"}},
	}
	layer := registry.Layer{Digest: registry.Digest("sha256:" + strings.Repeat("ab", 32)), Size: 99, MediaType: "application/vnd.oci.image.layer.v1.tar", CreatedAt: at}
	blob := registry.Blob{Digest: layer.Digest, Size: 99, CreatedAt: at}
	upload := registry.Upload{
		ID: registry.NewUploadID(), Repo: key, CreatedAt: at, UpdatedAt: at.Add(time.Second),
		Size: 10, Parts: 1, LastPartSize: 10, HashState: []byte{1, 2, 3}, Lease: "me", LeaseAt: at,
	}

	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	err = s.Update(t.Context(), func(tx registry.Tx) error {
		if err := tx.CreateRepository(repo); err != nil {
			return err
		}
		if err := tx.AddLayer(key, layer); err != nil {
			return err
		}
		if err := tx.AddBlob(blob); err != nil {
			return err
		}
		return tx.CreateUpload(upload)
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openTemp(t, path)
	trunc := at.Truncate(time.Microsecond)
	err = s.View(t.Context(), func(tx registry.Tx) error {
		r, err := tx.Repository(key)
		if err != nil {
			return err
		}
		if !r.CreatedAt.Equal(trunc) || r.KMSKey != repo.KMSKey || len(r.Tags) != 1 || r.Tags[0] != repo.Tags[0] ||
			len(r.MutabilityExclusions) != 1 || r.MutabilityExclusions[0] != "dev-*" || !r.ScanOnPush {
			t.Errorf("Repository after reopen = %+v, want %+v", r, repo)
		}
		ls, err := tx.Layers(key, []registry.Digest{layer.Digest})
		if err != nil {
			return err
		}
		if l := ls[layer.Digest]; l.Size != layer.Size || l.MediaType != layer.MediaType || !l.CreatedAt.Equal(trunc) {
			t.Errorf("Layer after reopen = %+v, want %+v", l, layer)
		}
		b, err := tx.Blob(blob.Digest)
		if err != nil {
			return err
		}
		if b.Size != blob.Size || !b.CreatedAt.Equal(trunc) {
			t.Errorf("Blob after reopen = %+v, want %+v", b, blob)
		}
		u, err := tx.Upload(upload.ID)
		if err != nil {
			return err
		}
		if u.Size != 10 || string(u.HashState) != "\x01\x02\x03" || u.Lease != "me" || !u.LeaseAt.Equal(trunc) ||
			!u.UpdatedAt.Equal(trunc.Add(time.Second)) {
			t.Errorf("Upload after reopen = %+v, want %+v", u, upload)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	// Reopening applied no migration twice.
	var version int
	if err := s.write.QueryRowContext(t.Context(), "PRAGMA user_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if ms, _ := migrations(); version != len(ms) {
		t.Errorf("user_version = %d, want %d", version, len(ms))
	}
}

// TestPragmas checks the settings that durability and correctness rest on,
// on connections of both pools.
func TestPragmas(t *testing.T) {
	s := openTemp(t, filepath.Join(t.TempDir(), "meta.db"))
	want := map[string]string{
		"journal_mode": "wal",
		"synchronous":  "2", // FULL
		"foreign_keys": "1",
		"busy_timeout": "10000",
	}
	for poolName, pool := range map[string]*sql.DB{"write": s.write, "read": s.read} {
		for pragma, w := range want {
			var got string
			if err := pool.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatalf("%s pool: PRAGMA %s: %v", poolName, pragma, err)
			}
			if strings.ToLower(got) != w {
				t.Errorf("%s pool: PRAGMA %s = %s, want %s", poolName, pragma, got, w)
			}
		}
	}
	var queryOnly int
	if err := s.read.QueryRowContext(t.Context(), "PRAGMA query_only").Scan(&queryOnly); err != nil || queryOnly != 1 {
		t.Errorf("read pool: PRAGMA query_only = %d, %v; want 1", queryOnly, err)
	}
}

// TestViewIsReadOnly shows that a write inside View fails rather than
// bypassing the single writer.
func TestViewIsReadOnly(t *testing.T) {
	s := openTemp(t, filepath.Join(t.TempDir(), "meta.db"))
	err := s.View(t.Context(), func(tx registry.Tx) error {
		return tx.AddBlob(registry.Blob{Digest: registry.Digest("sha256:" + strings.Repeat("cd", 32)), Size: 1})
	})
	if err == nil {
		t.Fatal("a write in View succeeded")
	}
}

// TestNewerSchema shows that a file migrated by a newer ecrd is refused
// rather than used with a schema this build does not know.
func TestNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s := openTemp(t, path)
	if _, err := s.write.ExecContext(t.Context(), "PRAGMA user_version = 1000"); err != nil {
		t.Fatal(err)
	}
	if s2, err := Open(path); err == nil {
		s2.Close()
		t.Fatal("Open of a database with a newer schema succeeded")
	}
}

// TestMissingRepository shows how this store answers what the MetaStore
// contract leaves open: a layer or upload for a repository that does not
// exist is refused with ErrNotFound (the foreign key), and the transaction
// carries on.
func TestMissingRepository(t *testing.T) {
	s := openTemp(t, filepath.Join(t.TempDir(), "meta.db"))
	missing := registry.RepoKey{Registry: "123456789012", Name: "missing"}
	err := s.Update(t.Context(), func(tx registry.Tx) error {
		l := registry.Layer{Digest: registry.Digest("sha256:" + strings.Repeat("ef", 32)), Size: 1}
		if err := tx.AddLayer(missing, l); !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("AddLayer to a missing repository: %v, want ErrNotFound", err)
		}
		u := registry.Upload{ID: registry.NewUploadID(), Repo: missing}
		if err := tx.CreateUpload(u); !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("CreateUpload in a missing repository: %v, want ErrNotFound", err)
		}
		return tx.CreateRepository(registry.Repository{Registry: missing.Registry, Name: missing.Name})
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
}
