package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"strconv"

	schema "github.com/ecrd/ecrd/internal/metastore/migrations"
)

// migrationFiles holds the schema migrations, NNNN_name.sql, numbered from 1
// without gaps. A released migration is never edited: a change is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations reads migrationFiles in version order and checks the numbering.
func migrations() ([]schema.Migration, error) {
	return schema.Read(migrationFiles, "migrations")
}

// migrate applies, in order, each migration newer than the database's
// user_version, each in its own write transaction together with the bump of
// user_version, so that a crash leaves the schema at one version or the next.
// Reading the version inside the same IMMEDIATE transaction makes two
// processes opening the file at once apply each step only once.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if err := apply(ctx, db, m, len(ms)); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// apply runs m unless the database is already at m.Version or later. known
// is the newest version this build knows.
func apply(ctx context.Context, db *sql.DB, m schema.Migration, known int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var current int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return err
	}
	if current > known {
		return fmt.Errorf("the database schema is at version %d, newer than this ecrd knows (%d)", current, known)
	}
	if current >= m.Version {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	// PRAGMA takes no bound parameters; the version is an int we parsed.
	if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(m.Version)); err != nil {
		return err
	}
	return tx.Commit()
}
