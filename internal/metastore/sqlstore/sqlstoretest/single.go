package sqlstoretest

import (
	"errors"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// SingleStore is a store with a ViewSingle.
type SingleStore interface {
	registry.MetaStore
	registry.SingleReader
}

// ViewSingle: a read of one statement runs alone, and gives View's
// answer; an fn that reads twice, or writes, is run again in View (so a
// write fails as in a read-only transaction), whatever it made of the
// refusal; a failing statement is the answer, as in View.
func ViewSingle(t *testing.T, s SingleStore) {
	ctx := t.Context()
	key := registry.RepoKey{Registry: "111111111111", Name: "single/app"}
	other := registry.RepoKey{Registry: "111111111111", Name: "single/other"}
	if err := s.Update(ctx, func(tx registry.Tx) error {
		return tx.CreateRepository(registry.Repository{Registry: key.Registry, Name: key.Name, CreatedAt: time.Now()})
	}); err != nil {
		t.Fatal(err)
	}

	runs := 0
	var got registry.Repository
	if err := s.ViewSingle(ctx, func(tx registry.Tx) (err error) {
		runs++
		got, err = tx.Repository(key)
		return err
	}); err != nil || got.Name != key.Name || runs != 1 {
		t.Fatalf("one read: %+v, %v after %d runs; want the repository in one run", got, err, runs)
	}

	runs = 0
	var second error
	if err := s.ViewSingle(ctx, func(tx registry.Tx) error {
		runs++
		if _, err := tx.Repository(key); err != nil {
			return err
		}
		// A second read: refused in the single run, whatever fn does
		// with the refusal, and run again in View.
		_, second = tx.Repository(other)
		return nil
	}); err != nil || runs != 2 || !errors.Is(second, registry.ErrNotFound) {
		t.Fatalf("two reads: %v after %d runs, the second read %v; want View's answer (ErrNotFound) on a second run", err, runs, second)
	}

	runs = 0
	err := s.ViewSingle(ctx, func(tx registry.Tx) error {
		runs++
		return tx.CreateRepository(registry.Repository{Registry: other.Registry, Name: other.Name, CreatedAt: time.Now()})
	})
	if err == nil || runs != 2 {
		t.Fatalf("a write: %v after %d runs; want it refused, as View refuses it", err, runs)
	}
	if err := s.View(ctx, func(tx registry.Tx) error { _, err := tx.Repository(other); return err }); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("after a write in ViewSingle: %v; want nothing written", err)
	}

	if err := s.ViewSingle(ctx, func(tx registry.Tx) error {
		_, err := tx.Repository(other)
		return err
	}); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("a read of nothing: %v, want ErrNotFound", err)
	}
}
