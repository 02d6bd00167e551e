package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// A statement can fail after the row a caller read: PostgreSQL sends each
// row as it finds it, and may abort the statement while it scans on (a
// serialization failure, in an earlier build lost this way: the caller
// had its row, the transaction was aborted, and the next statement failed
// with 25P02 "current transaction is aborted", which nobody retries).
// These tests make such a statement, as the first of the transaction
// (sent with BEGIN) and as a later one.

// afterRow is a query whose first row is 1 and whose second fails with
// SQLSTATE code, by the function failWith made in setupAfterRow.
const afterRow = `SELECT CASE WHEN x = 1 THEN x ELSE fail_with($1) END FROM unnest(ARRAY[1, 0]) AS x`

func setupAfterRow(t *testing.T, s *Store) {
	t.Helper()
	if _, err := s.pool.Exec(t.Context(), `CREATE FUNCTION fail_with(code text) RETURNS int LANGUAGE plpgsql AS
		$$ BEGIN RAISE EXCEPTION 'failed after the first row' USING ERRCODE = code; END $$`); err != nil {
		t.Fatal(err)
	}
}

// readFirstRow reads afterRow's first row and closes the rows, as a
// caller wanting one row does.
func readFirstRow(t *testing.T, rtx registry.Tx, code string) {
	rows, err := rtx.(*tx).Query(afterRow, code)
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	var n int
	if !rows.Next() || rows.Scan(&n) != nil || n != 1 {
		t.Fatalf("the first row: %d, %v", n, rows.Err())
	}
	rows.Close()
}

// TestErrorAfterTheRow: an error after the row read fails the transaction
// whatever fn makes of it, and nothing it wrote commits.
func TestErrorAfterTheRow(t *testing.T) {
	s, _ := openFresh(t, Options{MaxConns: 2})
	setupAfterRow(t, s)
	key := registry.RepoKey{Registry: "111111111111", Name: "after/row"}
	for _, first := range []bool{true, false} {
		err := s.Update(t.Context(), func(rtx registry.Tx) error {
			if !first {
				if err := rtx.CreateRepository(registry.Repository{Registry: key.Registry, Name: key.Name, CreatedAt: time.Now()}); err != nil {
					return err
				}
			}
			readFirstRow(t, rtx, "22012")
			if first {
				return rtx.CreateRepository(registry.Repository{Registry: key.Registry, Name: key.Name, CreatedAt: time.Now()})
			}
			return nil
		})
		if err == nil {
			t.Errorf("first statement %v: Update whose statement failed after its row: nil error", first)
		}
		err = s.View(t.Context(), func(rtx registry.Tx) error {
			_, err := rtx.Repository(key)
			return err
		})
		if !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("first statement %v: the repository after the failed Update: %v, want ErrNotFound", first, err)
		}
	}
}

// TestSerializationFailureAfterTheRow: a serialization failure after the
// row read is retried like any other, and the retry commits.
func TestSerializationFailureAfterTheRow(t *testing.T) {
	s, _ := openFresh(t, Options{MaxConns: 2})
	setupAfterRow(t, s)
	key := registry.RepoKey{Registry: "111111111111", Name: "after/retried"}
	runs := 0
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	err := s.Update(ctx, func(rtx registry.Tx) error {
		runs++
		if runs == 1 {
			readFirstRow(t, rtx, "40001")
		}
		return rtx.CreateRepository(registry.Repository{Registry: key.Registry, Name: key.Name, CreatedAt: time.Now()})
	})
	if err != nil || runs != 2 {
		t.Fatalf("Update: %v after %d runs, want success after 2", err, runs)
	}
	if err := s.View(ctx, func(rtx registry.Tx) error { _, err := rtx.Repository(key); return err }); err != nil {
		t.Errorf("the repository the retry created: %v", err)
	}
}
