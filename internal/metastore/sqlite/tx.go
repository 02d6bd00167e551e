package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var _ registry.Tx = (*tx)(nil)

// tx is a registry.Tx over one database/sql transaction. Its methods take no
// ctx, so it carries the one given to View or Update: every statement stops
// when that ends.
type tx struct {
	ctx context.Context
	tx  *sql.Tx
	// trace, when set, sees every statement before it runs: the
	// query-plan test collects them to ask SQLite for their plans.
	trace func(query string, args []any)
}

func (t *tx) exec(query string, args ...any) (sql.Result, error) {
	t.traced(query, args)
	return t.tx.ExecContext(t.ctx, query, args...)
}

func (t *tx) query(query string, args ...any) (*sql.Rows, error) {
	t.traced(query, args)
	return t.tx.QueryContext(t.ctx, query, args...)
}

func (t *tx) queryRow(query string, args ...any) *sql.Row {
	t.traced(query, args)
	return t.tx.QueryRowContext(t.ctx, query, args...)
}

func (t *tx) traced(query string, args []any) {
	if t.trace != nil {
		t.trace(query, args)
	}
}

// mustAffect returns registry.ErrNotFound, wrapped with what, when the
// statement changed no row.
func mustAffect(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, registry.ErrNotFound)
	}
	return nil
}

// insertError maps a failed INSERT to the store's sentinel errors: a
// duplicate key is ErrExists, and a row whose repository does not exist
// (a foreign key violation) is ErrNotFound.
func insertError(err error, what string) error {
	return refError(err, what, "repository")
}

// refError is insertError for a row whose foreign key names parent, the
// record that is missing when the key is violated.
func refError(err error, what, parent string) error {
	var se *msqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return fmt.Errorf("%s: %w", what, registry.ErrExists)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%s: %s: %w", what, parent, registry.ErrNotFound)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// micros is how times are stored: unix microseconds, which fit an int64 for
// every year a registry will see and keep the sub-millisecond order that
// StaleUploads relies on.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros is the inverse of micros, in UTC.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// nullMicros stores the zero time as NULL, for times that are optional.
func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: micros(t), Valid: true}
}

// fromNullMicros is the inverse of nullMicros.
func fromNullMicros(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromMicros(n.Int64)
}
