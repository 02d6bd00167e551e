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
	"github.com/jackc/pgx/v5/pgxpool"
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
	// tx is the transaction, nil until its first statement: begin sends
	// BEGIN with that statement, in one round trip (see start).
	tx    pgx.Tx
	pool  *pgxpool.Pool
	begin pgx.TxOptions
	// failed is the first error a statement returned: once set, the
	// transaction can only roll back.
	failed error
	// trace, when set, sees every statement before it runs: the
	// query-plan test collects them to ask PostgreSQL for their plans.
	trace func(query string, args []any)
	// single runs the one query fn may make alone, outside a transaction
	// (ViewSingle); any other statement fails with errNotSingle.
	single, used bool
}

// errNotSingle ends a ViewSingle whose fn makes a second statement or a
// write: ViewSingle runs it again in View.
var errNotSingle = errors.New("postgres: more than one read in a single-statement view")

func newTx(ctx context.Context, pool *pgxpool.Pool, begin pgx.TxOptions, trace func(string, []any)) *tx {
	t := &tx{ctx: ctx, pool: pool, begin: begin, trace: trace}
	t.Tx = sqlstore.NewTx(t, &dialect)
	return t
}

// start begins the transaction with query as its first statement, if it
// has not begun: one batch of BEGIN and query, sent together (pgx's
// Batch.BeginTx), where pgx.Conn.BeginTx would wait for BEGIN's answer
// before sending query. It returns the batch's results at query's, which
// must be closed before the transaction is used again, or nil when the
// transaction had begun already. PostgreSQL takes a transaction's snapshot
// at its first statement, not at BEGIN, so what the transaction sees is
// the same either way.
func (t *tx) start(query string, args []any) (pgx.BatchResults, error) {
	if t.tx != nil {
		return nil, nil
	}
	b := &pgx.Batch{}
	b.BeginTx(t.begin)
	b.Queue(query, args...)
	br := t.pool.SendBatch(t.ctx, b)
	// Tx is the transaction even when the batch failed: Rollback (in
	// attempt) gives its connection back to the pool.
	t.tx = br.Tx()
	if _, err := br.Exec(); err != nil {
		br.Close()
		return nil, fmt.Errorf("postgres: begin: %w", err)
	}
	return br, nil
}

// rollback ends a transaction that has begun, and gives its connection
// back; its own error is of no use (Rollback after Commit does nothing).
func (t *tx) rollback() {
	if t.tx != nil {
		t.tx.Rollback(context.WithoutCancel(t.ctx))
	}
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

// pgRows are pgx.Rows whose error is kept as the transaction's (fail),
// whether it shows while reading them or only once they are closed (an
// error after the rows a caller read, which it never asks about).
type pgRows struct {
	pgx.Rows
	t *tx
}

func (r pgRows) Err() error { return r.t.fail(r.Rows.Err()) }

func (r pgRows) Close() {
	r.Rows.Close()
	r.t.fail(r.Rows.Err())
}

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
	if t.single {
		return pgconn.CommandTag{}, t.fail(errNotSingle)
	}
	t.traced(query, args)
	br, err := t.start(query, args)
	if err != nil {
		return pgconn.CommandTag{}, t.fail(err)
	}
	if br != nil {
		tag, err := br.Exec()
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		return tag, t.fail(err)
	}
	tag, err := t.tx.Exec(t.ctx, query, args...)
	return tag, t.fail(err)
}

// query runs a query; its rows' error goes through fail too (see each).
func (t *tx) query(query string, args ...any) (pgx.Rows, error) {
	if t.single {
		if t.used {
			return nil, t.fail(errNotSingle)
		}
		t.used = true
		t.traced(query, args)
		// One statement is atomic and sees one snapshot: the pool's
		// connection goes back when the rows are closed.
		rows, err := t.pool.Query(t.ctx, query, args...)
		return rows, t.fail(err)
	}
	t.traced(query, args)
	br, err := t.start(query, args)
	if err != nil {
		return nil, t.fail(err)
	}
	if br != nil {
		rows, err := br.Query()
		if err != nil {
			br.Close()
			return nil, t.fail(err)
		}
		return batchRows{rows, br, t}, nil
	}
	rows, err := t.tx.Query(t.ctx, query, args...)
	return rows, t.fail(err)
}

// batchRows are the rows of a transaction's first statement: closing them
// closes the batch that began it, after which the transaction is usable.
type batchRows struct {
	pgx.Rows
	br pgx.BatchResults
	t  *tx
}

func (r batchRows) Close() {
	r.Rows.Close()
	r.t.fail(r.br.Close())
}

// queryRow runs a query of at most one row and scans it into dest; no row
// is pgx.ErrNoRows.
func (t *tx) queryRow(query string, args []any, dest ...any) error {
	rows, err := t.query(query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return t.fail(err)
		}
		return pgx.ErrNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return t.fail(err)
	}
	rows.Close()
	return t.fail(rows.Err())
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
