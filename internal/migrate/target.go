package migrate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/ecrd/ecrd/internal/metastore/postgres"
)

// markerSecret names the row of secrets that records which snapshot filled
// the database: its value is the snapshot's fingerprint. A secrets row,
// because the store keeps named values there and has no other place; the
// server never reads it.
const markerSecret = "ecrd-migrate-source"

// migrateLock is the transaction advisory lock two migrations into one
// database take turns on, so that the second finds the first's work.
const migrateLock int64 = 0x65637264_636f7079 // "ecrdcopy"

// target is the PostgreSQL database migrated into.
type target struct {
	conn *pgx.Conn
}

// openTarget brings the database's schema up to date (through the store,
// which owns it) and connects for the copy.
func openTarget(ctx context.Context, dsn string) (*target, error) {
	st, err := postgres.Open(ctx, dsn, postgres.Options{MaxConns: 1})
	if err != nil {
		return nil, fmt.Errorf("target database: %w", err)
	}
	if err := st.Close(); err != nil {
		return nil, fmt.Errorf("target database: %w", err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		// pgx's message may quote the DSN, password and all.
		return nil, errors.New("target database: cannot connect, although the schema migration just did")
	}
	return &target{conn: conn}, nil
}

// Close disconnects.
func (t *target) Close() error { return t.conn.Close(context.Background()) }

// tables lists the database's tables.
func (t *target) tables(ctx context.Context) ([]string, error) {
	rows, err := t.conn.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`)
	if err != nil {
		return nil, fmt.Errorf("target database: listing tables: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("target database: listing tables: %w", err)
	}
	return names, nil
}

// columns returns the table's columns in order, with their types.
func (t *target) columns(ctx context.Context, name string) ([]column, error) {
	rows, err := t.conn.Query(ctx, `SELECT column_name, CASE WHEN data_type = 'ARRAY' THEN udt_name ELSE data_type END
		FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1
		ORDER BY ordinal_position`, name)
	if err != nil {
		return nil, fmt.Errorf("target database: columns of %s: %w", name, err)
	}
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (column, error) {
		var c column
		return c, r.Scan(&c.name, &c.pgType)
	})
	if err != nil {
		return nil, fmt.Errorf("target database: columns of %s: %w", name, err)
	}
	return cols, nil
}

// serverMade are the tables a server fills as it starts, before anyone
// uses it: its secrets, and its account's public registry. A database
// holding rows only there holds no registry yet, and the source's rows
// replace them.
var serverMade = []string{"secrets", "public_registries"}

// targetState is what the database holds.
type targetState int

const (
	// targetEmpty holds no registry: no rows but, perhaps, serverMade's.
	targetEmpty targetState = iota
	// targetSame holds the snapshot being migrated, copied by an earlier run.
	targetSame
	// targetOther holds another registry.
	targetOther
)

// querier is a connection or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// state is stateOf on the connection, outside any transaction.
func (t *target) state(ctx context.Context, fp []byte) (targetState, error) {
	return stateOf(ctx, t.conn, fp)
}

// stateOf classifies the database against the snapshot fingerprint fp.
// With targetOther the error says what the database holds.
func stateOf(ctx context.Context, q querier, fp []byte) (targetState, error) {
	var marker []byte
	err := q.QueryRow(ctx, `SELECT value FROM secrets WHERE name = $1`, markerSecret).Scan(&marker)
	switch {
	case err == nil && bytes.Equal(marker, fp):
		return targetSame, nil
	case err == nil:
		return targetOther, errors.New("it was migrated from another registry, or from this one before it changed")
	case !errors.Is(err, pgx.ErrNoRows):
		return 0, fmt.Errorf("target database: %w", err)
	}
	for _, tb := range copied {
		if slices.Contains(serverMade, tb.name) {
			continue
		}
		var rows bool
		// The table name is one of copied's, never input.
		if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+tb.name+`)`).Scan(&rows); err != nil {
			return 0, fmt.Errorf("target database: %s: %w", tb.name, err)
		}
		if rows {
			return targetOther, fmt.Errorf("its table %s has rows", tb.name)
		}
	}
	return targetEmpty, nil
}

// copyRecords writes every table's rows and the marker in one
// transaction, and returns the rows written, or same when another run of
// this migration filled the database meanwhile. What a server made on the
// empty database (serverMade) gives way to the source's: its secrets sign
// the tokens and download URLs the migrated registry issued.
func (t *target) copyRecords(ctx context.Context, src *source, tables []table, fp []byte, p *progress, beforeCommit func() error) (n int64, same bool, err error) {
	err = pgx.BeginFunc(ctx, t.conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
			return err
		}
		// Classified again under the lock: another migration, or a
		// server, may have written since the first look.
		state, err := stateOf(ctx, tx, fp)
		if state == targetOther {
			return fmt.Errorf("%w: %v", ErrTargetHoldsRegistry, err)
		}
		if err != nil {
			return err
		}
		if state == targetSame {
			// Another run of this migration committed meanwhile.
			same = true
			return nil
		}
		for _, name := range serverMade {
			// The name is one of serverMade's, never input.
			if _, err := tx.Exec(ctx, `DELETE FROM `+name); err != nil {
				return err
			}
		}
		for _, tb := range tables {
			m, err := copyTable(ctx, tx, src, tb, p)
			if err != nil {
				return err
			}
			n += m
		}
		if _, err := tx.Exec(ctx, `INSERT INTO secrets (name, value, created_at) VALUES ($1, $2, now())`, markerSecret, fp); err != nil {
			return err
		}
		if beforeCommit != nil {
			return beforeCommit()
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrTargetHoldsRegistry) {
			return 0, false, err
		}
		return 0, false, fmt.Errorf("copying the metadata (rolled back; run again to retry): %w", err)
	}
	return n, same, nil
}

// copyTable streams one table from SQLite into PostgreSQL with COPY, a
// row at a time.
func copyTable(ctx context.Context, tx pgx.Tx, src *source, tb table, p *progress) (int64, error) {
	names := make([]string, len(tb.cols))
	for i, c := range tb.cols {
		names[i] = c.name
	}
	rows, err := src.tx.QueryContext(ctx, tb.selectSQL())
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", tb.name, err)
	}
	defer rows.Close()
	vals := make([]any, len(tb.cols))
	ptrs := make([]any, len(tb.cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{tb.name}, names, pgx.CopyFromFunc(func() ([]any, error) {
		if !rows.Next() {
			return nil, rows.Err()
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out := make([]any, len(vals))
		for i, v := range vals {
			var err error
			if out[i], err = convert(tb.cols[i], v); err != nil {
				return nil, err
			}
		}
		p.add(1, 0)
		return out, nil
	}))
	if err != nil {
		return n, fmt.Errorf("%s: %w", tb.name, err)
	}
	return n, nil
}
