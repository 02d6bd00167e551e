package postgres

import (
	"strings"
	"sync"
	"testing"

	"github.com/ecrd/ecrd/internal/metastore/postgres/pgtest"
	"github.com/ecrd/ecrd/internal/metastore/sqlstore/sqlstoretest"
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
	s := sqlstoretest.Reopen(t, func() registry.MetaStore {
		s, err := Open(t.Context(), dsn, Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	}).(*Store)
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
	sqlstoretest.ViewIsReadOnly(t, s)
}

// TestMissingRepository: see sqlstoretest.MissingRepository.
func TestMissingRepository(t *testing.T) {
	s, _ := openFresh(t, Options{})
	sqlstoretest.MissingRepository(t, s)
}
