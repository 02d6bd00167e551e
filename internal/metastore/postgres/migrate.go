package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	schema "github.com/ecrd/ecrd/internal/metastore/migrations"
)

// migrationFiles holds the schema migrations, NNNN_name.sql, numbered from 1
// without gaps. A released migration is never edited: a change is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLock is the key of the session advisory lock that Open holds
// while it migrates: replicas opening the same database at once take turns,
// and the one after the first finds nothing left to do. Advisory locks are
// per database, so databases on one server never wait for each other.
const migrationLock int64 = 0x65637264_6d696772 // "ecrdmigr"

// migrations reads migrationFiles in version order and checks the numbering.
func migrations() ([]schema.Migration, error) {
	return schema.Read(migrationFiles, "migrations")
}

// migrate applies, in order, each migration the database has not had, each
// in its own transaction together with its row in schema_migrations, so
// that a crash leaves the schema at one version or the next. It holds
// migrationLock throughout; a database whose schema is newer than this
// build knows is refused.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		conn.Release()
		return fmt.Errorf("taking the migration lock: %w", err)
	}
	defer func() {
		// The lock is the session's: a connection that could not drop it
		// is closed, which drops it, rather than given back to the pool.
		if _, uerr := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock); uerr != nil {
			_ = conn.Hijack().Close(context.WithoutCancel(ctx))
			return
		}
		conn.Release()
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer     NOT NULL PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("schema_migrations: %w", err)
	}
	var current int
	if err := conn.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return fmt.Errorf("schema version: %w", err)
	}
	if current > len(ms) {
		return fmt.Errorf("the database schema is at version %d, newer than this ecrd knows (%d)", current, len(ms))
	}
	for _, m := range ms[current:] {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			// No arguments: pgx sends the file as one simple query, which
			// may hold many statements.
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name)
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	return nil
}
