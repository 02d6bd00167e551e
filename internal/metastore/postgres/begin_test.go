package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// TestOneConnection runs Views and Updates one after the other on a pool
// of one connection: a View's COMMIT, sent after View returns, gives the
// connection back before the next transaction needs it, so none waits
// for ever; and a View sees what the Update before it committed.
func TestOneConnection(t *testing.T) {
	s, _ := openFresh(t, Options{MaxConns: 1})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	reg := registry.RegistryID("111111111111")
	for i := range 50 {
		key := registry.RepoKey{Registry: reg, Name: registry.RepositoryName("one/" + string(rune('a'+i%26)) + string(rune('a'+i/26)))}
		if err := s.Update(ctx, func(tx registry.Tx) error {
			return tx.CreateRepository(registry.Repository{Registry: key.Registry, Name: key.Name, CreatedAt: time.Now()})
		}); err != nil {
			t.Fatalf("Update %d: %v", i, err)
		}
		for range 2 {
			if err := s.View(ctx, func(tx registry.Tx) error {
				_, err := tx.Repository(key)
				return err
			}); err != nil {
				t.Fatalf("View %d: %v", i, err)
			}
		}
	}
}

// TestTransactionWithoutStatements: a View or Update whose fn runs no
// statement begins no transaction, and returns fn's answer.
func TestTransactionWithoutStatements(t *testing.T) {
	s, _ := openFresh(t, Options{MaxConns: 1})
	mine := errors.New("fn's own error")
	for _, run := range []func(context.Context, func(registry.Tx) error) error{s.View, s.Update} {
		if err := run(t.Context(), func(registry.Tx) error { return nil }); err != nil {
			t.Errorf("fn without statements: %v", err)
		}
		if err := run(t.Context(), func(registry.Tx) error { return mine }); !errors.Is(err, mine) {
			t.Errorf("fn without statements returning its error: %v, want %v", err, mine)
		}
	}
}

// TestFirstStatementFails: the statement sent with BEGIN fails as any
// statement does, for fn and for View, and leaves the pool usable; so
// does a context that ended before it.
func TestFirstStatementFails(t *testing.T) {
	s, _ := openFresh(t, Options{MaxConns: 1})
	err := s.View(t.Context(), func(tx registry.Tx) error {
		_, err := tx.Repository(registry.RepoKey{Registry: "111111111111", Name: "absent"})
		if !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("Repository of none: %v, want ErrNotFound", err)
		}
		// A write in a read-only transaction fails the statement.
		return tx.CreateRepository(registry.Repository{Registry: "111111111111", Name: "written", CreatedAt: time.Now()})
	})
	if err == nil {
		t.Error("View that wrote: nil error")
	}
	err = s.View(t.Context(), func(tx registry.Tx) error {
		err := tx.CreateRepository(registry.Repository{Registry: "111111111111", Name: "written", CreatedAt: time.Now()})
		if err == nil {
			t.Error("a write as a View's first statement: nil error")
		}
		return nil
	})
	if err == nil {
		t.Error("View whose first statement failed, fn returning nil: nil error")
	}
	ended, cancel := context.WithCancel(t.Context())
	cancel()
	err = s.View(ended, func(tx registry.Tx) error {
		_, err := tx.Repository(registry.RepoKey{Registry: "111111111111", Name: "absent"})
		return err
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("View with an ended context: %v, want context.Canceled", err)
	}
	if err := s.Update(t.Context(), func(tx registry.Tx) error {
		return tx.CreateRepository(registry.Repository{Registry: "111111111111", Name: "written", CreatedAt: time.Now()})
	}); err != nil {
		t.Fatalf("Update after the failures: %v", err)
	}
}
