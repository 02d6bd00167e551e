package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ecrd/ecrd/internal/metastore/sqlstore"
	"github.com/ecrd/ecrd/internal/registry"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

var _ registry.Tx = (*tx)(nil)

// tx is a registry.Tx over one pgx transaction: the shared sqlstore.Tx,
// for which it is the sqlstore.Conn, and the garbage collector's methods
// (gc.go). Its methods take no ctx, so it carries the one given to View
// or Update: every statement stops when that ends.
//
// A statement that fails aborts a PostgreSQL transaction: every later one
// fails too. The shared statements never fail for ErrExists or ErrNotFound
// (see sqlstore); the first error of any statement is kept, so that
// attempt retries a transaction that lost a race whatever fn made of it.
type tx struct {
	*sqlstore.Tx
	ctx context.Context
	tx  pgx.Tx
	// failed is the first error a statement returned: once set, the
	// transaction can only roll back.
	failed error
	// trace, when set, sees every statement before it runs: the
	// query-plan test collects them to ask PostgreSQL for their plans.
	trace func(query string, args []any)
}

func newTx(ctx context.Context, pgTx pgx.Tx, trace func(string, []any)) *tx {
	t := &tx{ctx: ctx, tx: pgTx, trace: trace}
	t.Tx = sqlstore.NewTx(t, &dialect)
	return t
}

// Exec implements sqlstore.Conn.
func (t *tx) Exec(query string, args ...any) (int64, error) {
	tag, err := t.exec(query, convert(args)...)
	return tag.RowsAffected(), err
}

// Query implements sqlstore.Conn.
func (t *tx) Query(query string, args ...any) (sqlstore.Rows, error) {
	rows, err := t.query(query, convert(args)...)
	if err != nil {
		if rows != nil {
			rows.Close()
		}
		return nil, err
	}
	return pgRows{rows, t}, nil
}

// pgRows are pgx.Rows whose error is kept as the transaction's (fail).
type pgRows struct {
	pgx.Rows
	t *tx
}

func (r pgRows) Err() error { return r.t.fail(r.Rows.Err()) }

// convert turns the shared statements' arguments into what pgx sends for
// the schema's types: an unset optional time as NULL, lists as text[]
// (never NULL). time.Time goes as it is: timestamptz keeps the
// microseconds pgx truncates it to. It converts in place: args is the
// variadic slice of one call.
func convert(args []any) []any {
	for i, a := range args {
		switch v := a.(type) {
		case sqlstore.NullTime:
			args[i] = nullTime(time.Time(v))
		case []string:
			if v == nil {
				args[i] = []string{}
			}
		case []registry.Digest:
			args[i] = digestStrings(v)
		}
	}
	return args
}

// violation implements sqlstore.Dialect.Violation.
func violation(err error) sqlstore.Violation {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return sqlstore.UniqueViolation
		case "23503":
			return sqlstore.ForeignKeyViolation
		}
	}
	return sqlstore.NoViolation
}

// The statements gc.go (and ReleaseLayers) write themselves go through
// exec, query, queryRow and each, which trace them and keep their errors.

func (t *tx) exec(query string, args ...any) (pgconn.CommandTag, error) {
	t.traced(query, args)
	tag, err := t.tx.Exec(t.ctx, query, args...)
	return tag, t.fail(err)
}

// query runs a query; its rows' error goes through fail too (see each).
func (t *tx) query(query string, args ...any) (pgx.Rows, error) {
	t.traced(query, args)
	rows, err := t.tx.Query(t.ctx, query, args...)
	return rows, t.fail(err)
}

// queryRow runs a query of at most one row and scans it into dest; no row
// is pgx.ErrNoRows.
func (t *tx) queryRow(query string, args []any, dest ...any) error {
	t.traced(query, args)
	err := t.tx.QueryRow(t.ctx, query, args...).Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	return t.fail(err)
}

func (t *tx) traced(query string, args []any) {
	if t.trace != nil {
		t.trace(query, args)
	}
}

// fail records the first error of a statement and returns err.
func (t *tx) fail(err error) error {
	if err != nil && t.failed == nil {
		t.failed = err
	}
	return err
}

// each runs query and calls fn with the Scan of each row in turn.
func (t *tx) each(query string, args []any, fn func(scan func(...any) error) error) error {
	return sqlstore.Each(t, query, args, fn)
}

// errNoRow reports whether err is pgx's "no row" from a query of one row.
func errNoRow(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// mustAffect returns registry.ErrNotFound, wrapped with what, when the
// statement changed no row.
func mustAffect(tag pgconn.CommandTag, what string) error {
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", what, registry.ErrNotFound)
	}
	return nil
}

// nullTime stores the zero time as NULL, for times that are optional.
func nullTime(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}

// digestStrings returns digests as the []string a text[] parameter takes.
func digestStrings(digests []registry.Digest) []string {
	s := make([]string, len(digests))
	for i, d := range digests {
		s[i] = string(d)
	}
	return s
}
