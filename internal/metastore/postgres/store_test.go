package postgres

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/metastore/postgres/pgtest"
	"github.com/ecrd/ecrd/internal/registry"
	"github.com/ecrd/ecrd/internal/registry/registrytest"
)

// freshDatabase creates an empty database on the test server, dropped
// when the test ends, and returns its DSN (pgtest.FreshDatabase).
func freshDatabase(t *testing.T) string { return pgtest.FreshDatabase(t) }

// serverDSN returns the test server's DSN (pgtest.ServerDSN).
func serverDSN(t *testing.T) string { return pgtest.ServerDSN(t) }

// openFresh opens a store on a fresh database and closes it when the test
// ends (before the database is dropped).
func openFresh(t *testing.T, opts Options) (*Store, string) {
	t.Helper()
	dsn := freshDatabase(t)
	return openStore(t, dsn, opts), dsn
}

func openStore(t *testing.T, dsn string, opts Options) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn, opts)
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
	serverDSN(t) // once, rather than a failure per case
	registrytest.MetaStore(t, func(t *testing.T) registry.MetaStore {
		s, _ := openFresh(t, Options{})
		return s
	})
}

// TestReopen shows that what one Store wrote another reads back, to the
// microsecond, and that opening a migrated database migrates nothing.
func TestReopen(t *testing.T) {
	dsn := freshDatabase(t)
	at := time.Date(2025, 6, 1, 12, 30, 45, 123456789, time.UTC)
	key := registry.RepoKey{Registry: "123456789012", Name: "team/app"}
	upload := registry.Upload{
		ID: registry.NewUploadID(), Repo: key, CreatedAt: at, UpdatedAt: at.Add(time.Second),
		Size: 10, Parts: 1, LastPartSize: 10, HashState: []byte{1, 2, 3}, Lease: "me", LeaseAt: at,
	}
	s, err := Open(t.Context(), dsn, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	err = s.Update(t.Context(), func(tx registry.Tx) error {
		if err := tx.CreateRepository(registry.Repository{Registry: key.Registry, Name: key.Name, CreatedAt: at}); err != nil {
			return err
		}
		return tx.CreateUpload(upload)
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	s.Close()

	s = openStore(t, dsn, Options{})
	trunc := at.Truncate(time.Microsecond)
	err = s.View(t.Context(), func(tx registry.Tx) error {
		u, err := tx.Upload(upload.ID)
		if err != nil {
			return err
		}
		if !u.CreatedAt.Equal(trunc) || !u.LeaseAt.Equal(trunc) || !u.UpdatedAt.Equal(trunc.Add(time.Second)) ||
			string(u.HashState) != "\x01\x02\x03" || u.Repo != key {
			t.Errorf("Upload after reopen = %+v, want %+v", u, upload)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	var applied int
	if err := s.pool.QueryRow(t.Context(), "SELECT count(*) FROM schema_migrations").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if ms, _ := migrations(); applied != len(ms) {
		t.Errorf("schema_migrations has %d rows, want %d", applied, len(ms))
	}
}

// TestOpenRace opens several Stores on one fresh database at once, as
// replicas starting together do: the advisory lock makes them migrate it
// in turn, and every one succeeds.
func TestOpenRace(t *testing.T) {
	dsn := freshDatabase(t)
	const replicas = 6
	var (
		wg   sync.WaitGroup
		errs = make([]error, replicas)
	)
	for i := range replicas {
		wg.Go(func() {
			s, err := Open(t.Context(), dsn, Options{MaxConns: 2})
			if err == nil {
				err = s.Ping(t.Context())
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d of %d racing: %v", i+1, replicas, err)
		}
	}
}

// TestNewerSchema shows that a database migrated by a newer ecrd is
// refused rather than used with a schema this build does not know.
func TestNewerSchema(t *testing.T) {
	s, dsn := openFresh(t, Options{})
	if _, err := s.pool.Exec(t.Context(), "INSERT INTO schema_migrations (version, name) VALUES (1000, '1000_future.sql')"); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(t.Context(), dsn, Options{})
	if err == nil {
		s2.Close()
		t.Fatal("Open of a database with a newer schema succeeded")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open of a newer schema: %v, want it to say the schema is newer", err)
	}
}

// TestViewIsReadOnly shows that a write inside View fails.
func TestViewIsReadOnly(t *testing.T) {
	s, _ := openFresh(t, Options{})
	err := s.View(t.Context(), func(tx registry.Tx) error {
		return tx.AddBlob(registry.Blob{Digest: registry.Digest("sha256:" + strings.Repeat("cd", 32)), Size: 1})
	})
	if err == nil {
		t.Fatal("a write in View succeeded")
	}
}

// TestMissingRepository shows how this store answers what the MetaStore
// contract leaves open: a layer or upload for a repository that does not
// exist is refused with ErrNotFound, and the transaction carries on (a
// failed statement would have aborted it).
func TestMissingRepository(t *testing.T) {
	s, _ := openFresh(t, Options{})
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
		if err := tx.PutRepositoryPolicy(missing, "{}"); !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("PutRepositoryPolicy of a missing repository: %v, want ErrNotFound", err)
		}
		if err := tx.PutRepositoryCatalog(missing, registry.Catalog{}); !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("PutRepositoryCatalog of a missing repository: %v, want ErrNotFound", err)
		}
		return tx.CreateRepository(registry.Repository{Registry: missing.Registry, Name: missing.Name})
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
}
