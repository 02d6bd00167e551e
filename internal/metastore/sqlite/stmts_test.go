package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/metastore/sqlstore/sqlstoretest"
	"github.com/ecrd/ecrd/internal/registry"
)

var _ registry.SingleReader = (*Store)(nil)

func TestViewSingle(t *testing.T) {
	sqlstoretest.ViewSingle(t, openTemp(t, filepath.Join(t.TempDir(), "meta.db")))
}

// prepared reports whether the pool keeps query prepared.
func prepared(c *stmts, query string) bool {
	_, ok := c.ready.Load(query)
	return ok
}

// TestStatementsPrepared: a statement runs unprepared the first time,
// is prepared once its transaction has ended, in each pool, and answers
// the same from then on; one that does not prepare keeps failing as it
// did, and is not kept.
func TestStatementsPrepared(t *testing.T) {
	s := openTemp(t, filepath.Join(t.TempDir(), "meta.db"))
	ctx := t.Context()
	key := registry.RepoKey{Registry: "111111111111", Name: "stmts/app"}
	const count = `SELECT count(*) FROM repositories WHERE registry_id = ?`
	for i := range 3 {
		if err := s.Update(ctx, func(tx registry.Tx) error {
			k := key
			k.Name += registry.RepositoryName(rune('a' + i))
			return tx.CreateRepository(registry.Repository{Registry: k.Registry, Name: k.Name, CreatedAt: time.Now()})
		}); err != nil {
			t.Fatal(err)
		}
		for _, run := range []func(func(registry.Tx) error) error{
			func(fn func(registry.Tx) error) error { return s.View(ctx, fn) },
			func(fn func(registry.Tx) error) error { return s.Update(ctx, fn) },
		} {
			var n int
			if err := run(func(rtx registry.Tx) error {
				return rtx.(*tx).queryRow(count, key.Registry).Scan(&n)
			}); err != nil || n != i+1 {
				t.Fatalf("round %d: %d repositories, %v; want %d", i, n, err, i+1)
			}
		}
		if !prepared(s.readStmts, count) || !prepared(s.writeStmts, count) {
			t.Fatalf("round %d: the statement is not kept prepared in both pools", i)
		}
	}
	// Repository's own statement, through ViewSingle, is kept too.
	if err := s.ViewSingle(ctx, func(tx registry.Tx) error { _, err := tx.Repository(key); return err }); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("Repository of a missing one: %v", err)
	}

	const bad = `SELECT nosuchcolumn FROM repositories`
	for range 2 {
		err := s.View(ctx, func(rtx registry.Tx) error {
			var v int
			return rtx.(*tx).queryRow(bad).Scan(&v)
		})
		if err == nil || prepared(s.readStmts, bad) {
			t.Fatalf("a statement that does not prepare: %v (kept: %v); want its error, not kept", err, prepared(s.readStmts, bad))
		}
	}
}

// TestStatementsClosed: a store closed with statements prepared closes
// them, and a statement first run after the close is not prepared.
func TestStatementsClosed(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	key := registry.RepoKey{Registry: "111111111111", Name: "stmts/app"}
	for range 2 {
		if err := s.View(t.Context(), func(tx registry.Tx) error { _, err := tx.Repository(key); return err }); !errors.Is(err, registry.ErrNotFound) {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	n := 0
	s.readStmts.ready.Range(func(_, _ any) bool { n++; return true })
	if n != 0 {
		t.Fatalf("%d statements kept after Close", n)
	}
	s.readStmts.get("SELECT 1")
	s.readStmts.prepare(t.Context())
	if prepared(s.readStmts, "SELECT 1") {
		t.Fatal("a statement prepared after Close")
	}
}

// synchronous is the write connection's PRAGMA synchronous (2: FULL).
func synchronous(t *testing.T, s *Store) int {
	t.Helper()
	var v int
	if err := s.write.QueryRowContext(t.Context(), "PRAGMA synchronous").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestLazyCommit: an Update marked LazyCommit commits, and leaves the
// write connection committing with FULL again; when FULL cannot be
// restored, the commit stands and the connection is replaced by one that
// commits with FULL, never given back lazy.
func TestLazyCommit(t *testing.T) {
	s := openTemp(t, filepath.Join(t.TempDir(), "meta.db"))
	ctx := registry.LazyCommitContext(t.Context())
	create := func(name registry.RepositoryName) error {
		return s.Update(ctx, func(tx registry.Tx) error {
			return tx.CreateRepository(registry.Repository{Registry: "111111111111", Name: name, CreatedAt: time.Now()})
		})
	}
	exists := func(name registry.RepositoryName) bool {
		err := s.View(t.Context(), func(tx registry.Tx) error {
			_, err := tx.Repository(registry.RepoKey{Registry: "111111111111", Name: name})
			return err
		})
		return err == nil
	}
	if err := create("lazy/a"); err != nil || !exists("lazy/a") {
		t.Fatalf("a lazy Update: %v (committed: %v)", err, exists("lazy/a"))
	}
	if got := synchronous(t, s); got != 2 {
		t.Fatalf("after a lazy Update the write connection has synchronous=%d, want 2 (FULL)", got)
	}
	// A failing fn changes nothing, and the connection is FULL again.
	if err := s.Update(ctx, func(tx registry.Tx) error { return errors.New("no") }); err == nil || synchronous(t, s) != 2 {
		t.Fatalf("a failing lazy Update: %v, synchronous=%d", err, synchronous(t, s))
	}

	s.restoreFull = "PRAGMA no such thing"
	if err := create("lazy/b"); err != nil || !exists("lazy/b") {
		t.Fatalf("a lazy Update whose FULL is not restored: %v (committed: %v); want it committed", err, exists("lazy/b"))
	}
	s.restoreFull = "PRAGMA synchronous=FULL"
	if got := synchronous(t, s); got != 2 {
		t.Fatalf("after FULL could not be restored the write connection has synchronous=%d, want a fresh one's 2", got)
	}
	// Updates go on on the fresh connection, durably.
	if err := s.Update(t.Context(), func(tx registry.Tx) error {
		return tx.CreateRepository(registry.Repository{Registry: "111111111111", Name: "lazy/c", CreatedAt: time.Now()})
	}); err != nil || !exists("lazy/c") {
		t.Fatalf("an Update after: %v", err)
	}
}

// TestViewSingleCancelled: a ViewSingle whose context has ended runs
// nothing and says so; one that has not runs its statement to the end.
func TestViewSingleCancelled(t *testing.T) {
	s := openTemp(t, filepath.Join(t.TempDir(), "meta.db"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	ran := false
	if err := s.ViewSingle(ctx, func(registry.Tx) error { ran = true; return nil }); !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("ViewSingle after its context ended: %v (fn ran: %v); want context.Canceled, fn not run", err, ran)
	}
}
