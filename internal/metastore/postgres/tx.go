package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

var _ registry.Tx = (*tx)(nil)

// tx is a registry.Tx over one pgx transaction. Its methods take no ctx, so
// it carries the one given to View or Update: every statement stops when
// that ends.
//
// A statement that fails aborts a PostgreSQL transaction: every later one
// fails too. The contract lets the core carry on after ErrExists and
// ErrNotFound, so the statements never fail for those: inserts say ON
// CONFLICT DO NOTHING and select their parent row, and the store tells
// from the rows affected which sentinel error it is.
type tx struct {
	ctx context.Context
	tx  pgx.Tx
	// failed is the first error a statement returned: once set, the
	// transaction can only roll back.
	failed error
	// trace, when set, sees every statement before it runs: the
	// query-plan test collects them to ask PostgreSQL for their plans.
	trace func(query string, args []any)
}

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
	rows, err := t.query(query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return err
		}
	}
	return t.fail(rows.Err())
}

// mustAffect returns registry.ErrNotFound, wrapped with what, when the
// statement changed no row.
func mustAffect(tag pgconn.CommandTag, what string) error {
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", what, registry.ErrNotFound)
	}
	return nil
}

// constraintError maps a statement that failed on a constraint to the
// store's sentinel errors: a duplicate key is ErrExists, a row whose parent
// does not exist (a foreign key violation) ErrNotFound. The store's
// statements avoid both (see tx); this is for a race that serializable
// isolation does not turn into a serialization failure.
func constraintError(err error, what, parent string) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return fmt.Errorf("%s: %w: %w", what, registry.ErrExists, err)
		case "23503":
			return fmt.Errorf("%s: %s: %w: %w", what, parent, registry.ErrNotFound, err)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// existsOrMissing tells, after an insert into a table of the repository
// affected no row, whether the row was there already (ErrExists) or the
// repository is not (ErrNotFound).
func (t *tx) existsOrMissing(key registry.RepoKey, what string) error {
	var held bool
	if err := t.queryRow(`SELECT EXISTS (SELECT 1 FROM repositories WHERE registry_id = $1 AND name = $2)`,
		[]any{key.Registry, key.Name}, &held); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if !held {
		return fmt.Errorf("%s: repository: %w", what, registry.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, registry.ErrExists)
}

// Times are timestamptz, which keeps microseconds: pgx truncates a
// time.Time to them when it sends one.

// fromDB returns a time read from the database in the one representation
// the stores agree on: the microsecond instant, in UTC, without a
// monotonic reading, so that == and reflect.DeepEqual compare instants.
func fromDB(t time.Time) time.Time { return time.UnixMicro(t.UnixMicro()).UTC() }

// nullTime stores the zero time as NULL, for times that are optional.
func nullTime(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}

// fromNull is the inverse of nullTime.
func fromNull(n pgtype.Timestamptz) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromDB(n.Time)
}

// scanner is a pgx.Row or pgx.Rows.
type scanner interface{ Scan(dest ...any) error }

// digestStrings returns digests as the []string a text[] parameter takes.
func digestStrings(digests []registry.Digest) []string {
	s := make([]string, len(digests))
	for i, d := range digests {
		s[i] = string(d)
	}
	return s
}

// nonNil returns s, or an empty slice for nil, which pgx would send as
// NULL rather than as an empty array.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
