package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ecrd/ecrd/internal/metastore/sqlstore"
	"github.com/ecrd/ecrd/internal/registry"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var _ registry.Tx = (*tx)(nil)

// tx is a registry.Tx over one database/sql transaction: the shared
// sqlstore.Tx, for which it is the sqlstore.Conn, and the garbage
// collector's methods (gc.go). Its methods take no ctx, so it carries the
// one given to View or Update: every statement stops when that ends.
type tx struct {
	*sqlstore.Tx
	ctx context.Context
	// tx is the transaction; nil in ViewSingle, whose one statement runs
	// on the pool, alone (single).
	tx *sql.Tx
	// stmts are the pool's prepared statements, which the statements run
	// through when they have one.
	stmts *stmts
	// trace, when set, sees every statement before it runs: the
	// query-plan test collects them to ask SQLite for their plans.
	trace func(query string, args []any)
	// single runs the one query fn may make alone, on the pool, outside
	// a transaction (ViewSingle); any other statement fails, and failed
	// says so.
	single, used bool
	failed       error
}

func newTx(ctx context.Context, sqlTx *sql.Tx, c *stmts, trace func(string, []any)) *tx {
	t := &tx{ctx: ctx, tx: sqlTx, stmts: c, trace: trace}
	t.Tx = sqlstore.NewTx(t, &dialect)
	return t
}

// Exec implements sqlstore.Conn.
func (t *tx) Exec(query string, args ...any) (int64, error) {
	res, err := t.exec(t.stmts.rebind(query), convert(args)...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Query implements sqlstore.Conn.
func (t *tx) Query(query string, args ...any) (sqlstore.Rows, error) {
	rows, err := t.query(t.stmts.rebind(query), convert(args)...)
	if err != nil {
		return nil, err
	}
	return &sqlRows{Rows: rows}, nil
}

// sqlRows are *sql.Rows as sqlstore.Rows; Err reports an error closing
// them too.
type sqlRows struct {
	*sql.Rows
	closeErr error
}

func (r *sqlRows) Close() { r.closeErr = r.Rows.Close() }

func (r *sqlRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.closeErr
}

// The statements gc.go writes itself, in SQLite's own form (?
// placeholders, times as micros), go through exec, query and queryRow.

func (t *tx) exec(query string, args ...any) (sql.Result, error) {
	t.traced(query, args)
	if t.single {
		t.failed = errNotSingle // ViewSingle writes nothing
		return nil, t.failed
	}
	if st := t.stmt(query); st != nil {
		return st.ExecContext(t.ctx, args...)
	}
	return t.tx.ExecContext(t.ctx, query, args...)
}

func (t *tx) query(query string, args ...any) (*sql.Rows, error) {
	t.traced(query, args)
	if err := t.once(); err != nil {
		return nil, err
	}
	if st := t.stmt(query); st != nil {
		return st.QueryContext(t.ctx, args...)
	}
	if t.tx == nil {
		return t.stmts.db.QueryContext(t.ctx, query, args...)
	}
	return t.tx.QueryContext(t.ctx, query, args...)
}

// queryRow is query for one row. In ViewSingle, a second statement's row
// has the error of a cancelled query; failed says why.
func (t *tx) queryRow(query string, args ...any) *sql.Row {
	t.traced(query, args)
	if err := t.once(); err != nil {
		ctx, cancel := context.WithCancel(t.ctx)
		cancel()
		return t.stmts.db.QueryRowContext(ctx, query, args...)
	}
	if st := t.stmt(query); st != nil {
		return st.QueryRowContext(t.ctx, args...)
	}
	if t.tx == nil {
		return t.stmts.db.QueryRowContext(t.ctx, query, args...)
	}
	return t.tx.QueryRowContext(t.ctx, query, args...)
}

// stmt is query's prepared statement, for this transaction, or nil.
func (t *tx) stmt(query string) *sql.Stmt {
	st := t.stmts.get(query)
	if st != nil && t.tx != nil {
		st = t.tx.StmtContext(t.ctx, st)
	}
	return st
}

// errNotSingle ends a ViewSingle whose fn makes a second statement or a
// write: ViewSingle runs it again in View.
var errNotSingle = errors.New("sqlite: more than one read in a single-statement view")

// once refuses a second statement in ViewSingle.
func (t *tx) once() error {
	if t.single && t.used {
		t.failed = errNotSingle
		return t.failed
	}
	t.used = true
	return nil
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

// rebind turns the shared statements' $N parameters into SQLite's ?N,
// which number the arguments the same way. No statement has a '$' in a
// literal.
func rebind(query string) string { return strings.ReplaceAll(query, "$", "?") }

// convert turns the shared statements' arguments into what the schema
// stores: times as micros (NULL for an unset optional one), lists as JSON
// arrays (see jsonargs.go). It converts in place: args is the variadic
// slice of one call.
func convert(args []any) []any {
	for i, a := range args {
		switch v := a.(type) {
		case time.Time:
			args[i] = micros(v)
		case sqlstore.NullTime:
			args[i] = nullMicros(time.Time(v))
		case []string:
			args[i] = stringsJSON(v)
		case []registry.Digest:
			args[i] = digestsJSON(v)
		}
	}
	return args
}

// violation implements sqlstore.Dialect.Violation.
func violation(err error) sqlstore.Violation {
	var se *msqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return sqlstore.UniqueViolation
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return sqlstore.ForeignKeyViolation
		}
	}
	return sqlstore.NoViolation
}

// micros is how times are stored: unix microseconds, which fit an int64 for
// every year a registry will see and keep the sub-millisecond order that
// StaleUploads relies on.
func micros(t time.Time) int64 { return t.UnixMicro() }

// nullMicros stores the zero time as NULL, for times that are optional.
func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: micros(t), Valid: true}
}

// layersBatch bounds the digests looked up per query where a query binds
// each digest as a parameter (ReleaseLayers), keeping it far below
// SQLite's limit however many a caller passes.
const layersBatch = 500

// digestArgs returns the arguments of a query on the repository's rows
// among digests: the key, then each digest.
func digestArgs(key registry.RepoKey, digests []registry.Digest) []any {
	args := make([]any, 0, 2+len(digests))
	args = append(args, key.Registry, key.Name)
	for _, d := range digests {
		args = append(args, d)
	}
	return args
}

// inList returns "(?, ?, …)" with n > 0 placeholders.
func inList(n int) string { return "(?" + strings.Repeat(", ?", n-1) + ")" }
