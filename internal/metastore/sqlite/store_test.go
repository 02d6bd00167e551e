package sqlite

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecrd/ecrd/internal/metastore/sqlstore/sqlstoretest"
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
	s := sqlstoretest.Reopen(t, func() registry.MetaStore {
		s, err := Open(path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	}).(*Store)
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
	sqlstoretest.ViewIsReadOnly(t, openTemp(t, filepath.Join(t.TempDir(), "meta.db")))
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

// TestMissingRepository: see sqlstoretest.MissingRepository.
func TestMissingRepository(t *testing.T) {
	sqlstoretest.MissingRepository(t, openTemp(t, filepath.Join(t.TempDir(), "meta.db")))
}
