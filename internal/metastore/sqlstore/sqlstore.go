// Package sqlstore is the registry.Tx both SQL metadata stores share:
// internal/metastore/sqlite (database/sql over modernc.org/sqlite) and
// internal/metastore/postgres (pgx). Every method of registry.Tx but the
// garbage collector's (registry.GCTx, which each store keeps in its gc.go)
// is written here once, over two things a store supplies:
//
//   - a Conn, which runs one statement on the store's open transaction.
//     The store converts what it is given on the way: queries are written
//     once, in PostgreSQL's $N form (SQLite takes the same numbers as ?N);
//     time.Time, NullTime, []string (a list column: text[] or JSON text)
//     and []registry.Digest (a list parameter: text[] or a JSON array for
//     json_each) become what its driver and schema want. Rows scan times
//     through Time, which takes both engines' forms, and list columns
//     through Dialect.Strings. A NULL in a select list is written
//     CAST(NULL AS <PostgreSQL type>), which PostgreSQL needs to type it
//     and SQLite reads as NULL whatever the type's name; booleans are
//     compared as "= true" and "= false", which both read from an index.
//   - a Dialect: the read-only table of what its SQL must spell its own
//     way, each entry named: the statements over many rows (arrays and
//     unnest against json_each), index hints, the deletes SQLite's schema
//     does not cascade, and how its errors name a constraint violation.
//
// Opening, migrations, transactions (SQLite's single writer with BEGIN
// IMMEDIATE, PostgreSQL's serializable retries), Ping and Close stay in
// each store, as do its schema, its query-plan test and its gc.go, which
// writes its statements in the engine's own form through the store's own
// helpers. Each store's transaction type embeds *Tx, is its Conn, and adds
// the GCTx methods, so that it is a registry.Tx.
//
// PostgreSQL stays on pgx's native interface rather than database/sql
// (pgx/v5/stdlib): the shared code needs nothing but Conn, which pgx.Tx
// serves in a few lines, and the store keeps its pool, its record of the
// first failed statement (which decides its retries) and its plan test's
// connection as they were.
//
// A failed statement aborts a PostgreSQL transaction: every later one
// fails too. The contract lets the core carry on after ErrExists and
// ErrNotFound, so no statement here fails for those, on either engine:
// inserts say ON CONFLICT DO NOTHING and select their parent row, and the
// rows affected tell which sentinel error it is. A constraint violation
// that still happens (a race that isolation does not turn into a
// serialization failure) is mapped through Dialect.Violation.
package sqlstore

import (
	"errors"
	"fmt"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// Conn runs statements in one transaction. Its methods take no ctx: the
// store's transaction carries the one given to View or Update.
type Conn interface {
	// Exec runs a statement and returns the rows it affected.
	Exec(query string, args ...any) (int64, error)
	// Query runs a query; its rows must be closed.
	Query(query string, args ...any) (Rows, error)
}

// Rows are the rows of a query, as both *sql.Rows and pgx.Rows give them.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Violation is the kind of constraint a failed statement violated.
type Violation int

// The constraint violations the store tells apart.
const (
	NoViolation Violation = iota
	// UniqueViolation is a duplicate key: registry.ErrExists.
	UniqueViolation
	// ForeignKeyViolation is a row whose parent does not exist:
	// registry.ErrNotFound.
	ForeignKeyViolation
)

// Tx is a registry.Tx without the GCTx methods, over a Conn. A store
// embeds it in its own transaction type, which adds those.
type Tx struct {
	c Conn
	d *Dialect
}

// NewTx returns the shared Tx over c with the store's dialect d.
func NewTx(c Conn, d *Dialect) *Tx { return &Tx{c: c, d: d} }

// errNoRow is what queryRow returns for a query that selected no row.
var errNoRow = errors.New("sqlstore: no row")

// exec runs a statement and returns the rows it affected.
func (t *Tx) exec(query string, args ...any) (int64, error) { return t.c.Exec(query, args...) }

// queryRow runs a query of at most one row and scans it into dest; no row
// is errNoRow.
func (t *Tx) queryRow(query string, args []any, dest ...any) error {
	rows, err := t.c.Query(query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return errNoRow
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	// The statement may fail after its row: PostgreSQL, scanning on for
	// more, can abort it (a serialization failure) once the row is sent.
	// Only closing reads that far.
	rows.Close()
	return rows.Err()
}

// each runs query and calls fn with the Scan of each row in turn.
func (t *Tx) each(query string, args []any, fn func(scan func(...any) error) error) error {
	return Each(t.c, query, args, fn)
}

// Each runs query on c and calls fn with the Scan of each row in turn, for
// the statements a store writes itself (its gc.go).
func Each(c Conn, query string, args []any, fn func(scan func(...any) error) error) error {
	rows, err := c.Query(query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

// mustAffect returns registry.ErrNotFound, wrapped with what, when the
// statement changed no row.
func mustAffect(n int64, what string) error {
	if n == 0 {
		return fmt.Errorf("%s: %w", what, registry.ErrNotFound)
	}
	return nil
}

// constraintError maps a statement that failed on a constraint to the
// store's sentinel errors: a duplicate key is ErrExists, a row whose
// parent does not exist (a foreign key violation) ErrNotFound. The
// statements avoid both (see the package doc); this is for a race that
// isolation does not turn into a serialization failure.
func (t *Tx) constraintError(err error, what, parent string) error {
	switch t.d.Violation(err) {
	case UniqueViolation:
		return fmt.Errorf("%s: %w: %w", what, registry.ErrExists, err)
	case ForeignKeyViolation:
		return fmt.Errorf("%s: %s: %w: %w", what, parent, registry.ErrNotFound, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// existsOrMissing tells, after an insert into a table of the repository
// affected no row, whether the row was there already (ErrExists) or the
// repository is not (ErrNotFound).
func (t *Tx) existsOrMissing(key registry.RepoKey, what string) error {
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

// time returns the Scan destination of a time column that fills *p (see
// Dialect.Time).
func (t *Tx) time(p *time.Time) any { return t.d.Time(p) }

// NullTime is an argument for an optional time column: the zero time is
// stored as NULL. A time.Time argument is a time that is always set.
type NullTime time.Time

// Time is a Scan destination for a time column of either engine: SQLite's
// integer unix microseconds, PostgreSQL's timestamptz, or NULL, which is
// the zero time. The time is given in the one representation the stores
// agree on: the microsecond instant, in UTC, without a monotonic reading,
// so that == and reflect.DeepEqual compare instants (see FromDB). A
// Dialect may give a destination its driver fills faster.
type Time struct{ T *time.Time }

// Scan implements sql.Scanner, which pgx honours too.
func (d Time) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.T = time.Time{}
	case int64:
		*d.T = time.UnixMicro(v).UTC()
	case time.Time:
		*d.T = FromDB(v)
	default:
		return fmt.Errorf("sqlstore: a time column holds a %T", src)
	}
	return nil
}

// FromDB returns t in the representation the stores agree on (see Time).
func FromDB(t time.Time) time.Time { return time.UnixMicro(t.UnixMicro()).UTC() }
