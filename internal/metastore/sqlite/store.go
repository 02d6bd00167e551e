// Package sqlite implements registry.MetaStore on a single SQLite database
// file, with the pure-Go driver modernc.org/sqlite.
//
// Writers are serialized: Update runs on the one connection of a write pool
// and begins with BEGIN IMMEDIATE, so a transaction that reads and then
// writes never fails with SQLITE_BUSY half-way through. Readers use a
// separate pool; in WAL mode they see the last committed state and never
// block the writer. Every commit is synced to disk (synchronous=FULL), so it
// survives power loss, not only a crash of the process.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"

	"github.com/ecrd/ecrd/internal/diskerr"
	"github.com/ecrd/ecrd/internal/registry"
	// The driver registers itself as "sqlite" when imported.
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var _ registry.MetaStore = (*Store)(nil)

// connPragmas are set on every connection of both pools, since SQLite
// pragmas are per connection. Within one Store the single write connection
// never waits for another writer; busy_timeout covers another process on the
// same file and the brief locks WAL recovery and checkpoints take.
var connPragmas = []string{
	// ANALYZE (run by PRAGMA optimize) reads about this many rows per
	// index, so that keeping the statistics costs milliseconds at any size.
	"analysis_limit(1000)",
	"busy_timeout(10000)",
	"foreign_keys(ON)",
	"journal_mode(WAL)",
	"synchronous(FULL)",
}

// Store is a registry.MetaStore in one SQLite database file. It is safe for
// concurrent use.
type Store struct {
	// write has exactly one connection, whose transactions begin with
	// BEGIN IMMEDIATE; it also runs the migrations.
	write *sql.DB
	// read runs View's read-only transactions.
	read *sql.DB
	// dir holds the database file, for the free space a storage error
	// reports.
	dir string
	// writeStmts and readStmts are each pool's prepared statements.
	writeStmts, readStmts *stmts
	// trace is given every statement a transaction runs (tests only).
	trace func(query string, args []any)
	// restoreFull is the statement that ends a lazy commit (updateLazily);
	// tests make it fail.
	restoreFull string
	// commits counts Updates committed, for keeping the statistics.
	commits atomic.Int64
}

// optimizeEvery is how many commits pass between two PRAGMA optimize: the
// planner's statistics follow the data as it grows, and optimize analyzes
// only the tables whose size has changed a lot since their last analysis.
const optimizeEvery = 1000

// Open opens the database at path, creating it if it does not exist, and
// brings its schema up to date. It fails if the file was written by a newer
// ecrd whose schema this one does not know.
func Open(path string) (*Store, error) {
	write, err := sql.Open("sqlite", dsn(path, "_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// One writer at a time: the database allows no more, and waiting in
	// database/sql for the connection honours the caller's ctx, where
	// waiting in SQLite's busy handler would not.
	write.SetMaxOpenConns(1)
	if err := migrate(context.Background(), write); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}

	// query_only makes a write inside View fail loudly instead of slipping
	// past the single writer.
	read, err := sql.Open("sqlite", dsn(path, "_query_only=1"))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// Each connection is a whole SQLite handle with its own page cache;
	// more readers than CPUs would only queue inside SQLite.
	readers := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(readers)
	// Kept open, idle or not: a connection is its page cache and its
	// prepared statements, both lost with it.
	read.SetMaxIdleConns(readers)
	if err := read.Ping(); err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s := &Store{write: write, read: read, dir: filepath.Dir(path), writeStmts: newStmts(write), readStmts: newStmts(read),
		restoreFull: "PRAGMA synchronous=FULL"}
	// A database written by an ecrd that never analyzed it, or grown
	// since, gets statistics now rather than the planner's guesses
	// (0x10000: look at every table, not only those queried lately). It
	// writes, so it fails on a full disk; ecrd must still start there and
	// serve pulls, and the statistics are only older: the next round, every
	// optimizeEvery commits, tries again.
	_ = s.optimize(context.Background(), "PRAGMA optimize=0x10002")
	return s, nil
}

// optimize runs a PRAGMA optimize on the write connection.
func (s *Store) optimize(ctx context.Context, pragma string) error {
	if _, err := s.write.ExecContext(ctx, pragma); err != nil {
		return fmt.Errorf("keeping the planner's statistics: %w", err)
	}
	return nil
}

// dsn returns the modernc DSN for the file at path with connPragmas and the
// extra query parameters. The path is escaped so that a '?', '#' or '%' in
// it cannot be mistaken for the start of the parameters.
func dsn(path string, extra ...string) string {
	params := make([]string, 0, len(connPragmas)+len(extra))
	for _, p := range connPragmas {
		params = append(params, "_pragma="+url.QueryEscape(p))
	}
	params = append(params, extra...)
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + strings.Join(params, "&")
}

// View runs fn in a read-only transaction that sees one consistent snapshot.
func (s *Store) View(ctx context.Context, fn func(tx registry.Tx) error) error {
	sqlTx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return s.storageError(fmt.Errorf("sqlite: begin read: %w", err))
	}
	defer sqlTx.Rollback() // for an fn that panics
	err = fn(newTx(ctx, sqlTx, s.readStmts, s.trace))
	return s.storageError(end(ctx, sqlTx, err, s.readStmts, "end read"))
}

// end commits sqlTx if fn's err is nil, else rolls it back; then, its
// connection free again, prepares the statements it ran unprepared.
func end(ctx context.Context, sqlTx *sql.Tx, err error, c *stmts, what string) error {
	if err == nil {
		if err = sqlTx.Commit(); err != nil {
			err = fmt.Errorf("sqlite: %s: %w", what, err)
		}
	} else {
		sqlTx.Rollback()
	}
	c.prepare(ctx)
	return err
}

// ViewSingle is View for an fn that makes one query, which runs alone on
// the read pool (a statement is atomic and sees one snapshot, as View's
// transaction would), without BEGIN and COMMIT around it. An fn that
// makes a second statement, or a write, is run again in View, whatever it
// made of the refusal (registry.SingleReader).
//
// The statement runs to its end once started, whatever becomes of ctx: it
// is a point read (a HEAD's, a manifest GET's), over in microseconds, and
// a cancellable context costs the driver and database/sql a goroutine
// each to watch it, more than the read.
func (s *Store) ViewSingle(ctx context.Context, fn func(tx registry.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t := newTx(context.WithoutCancel(ctx), nil, s.readStmts, s.trace)
	t.single = true
	err := fn(t)
	s.readStmts.prepare(ctx)
	if errors.Is(t.failed, errNotSingle) {
		return s.View(ctx, fn)
	}
	return s.storageError(err)
}

// Update runs fn in a write transaction and commits it when fn returns nil;
// fn's error is returned as it is, with nothing written. Writers run one at
// a time, so fn is never run more than once. fn must not call Update on the
// same Store: it would wait for the connection it holds until ctx ends.
func (s *Store) Update(ctx context.Context, fn func(tx registry.Tx) error) error {
	if registry.LazyCommit(ctx) {
		if err := s.updateLazily(ctx, fn); err != nil {
			return s.storageError(err)
		}
	} else {
		// _txlock=immediate makes this BEGIN IMMEDIATE: the write lock is
		// taken up front, so no later statement can fail to upgrade a
		// read lock.
		sqlTx, err := s.write.BeginTx(ctx, nil)
		if err != nil {
			return s.storageError(fmt.Errorf("sqlite: begin write: %w", err))
		}
		defer sqlTx.Rollback() // for an fn that panics
		err = fn(newTx(ctx, sqlTx, s.writeStmts, s.trace))
		if err := end(ctx, sqlTx, err, s.writeStmts, "commit"); err != nil {
			return s.storageError(err)
		}
	}
	if s.commits.Add(1)%optimizeEvery == 0 {
		// The commit stands whatever happens here: statistics that could
		// not be refreshed are only older, and the next round tries again.
		_ = s.optimize(ctx, "PRAGMA optimize=0x10002")
	}
	return nil
}

// updateLazily is Update for a registry.LazyCommit ctx: the transaction
// commits under synchronous=NORMAL, which in WAL mode writes the commit
// to the WAL without an fsync; the next FULL commit's fsync of the WAL
// makes it durable along with everything before it. The one write
// connection is held from the pragma to its restoring, so no other
// transaction commits under NORMAL; a connection whose FULL could not be
// restored is discarded rather than given back, and the pool opens a
// fresh one (connPragmas: FULL).
func (s *Store) updateLazily(ctx context.Context, fn func(tx registry.Tx) error) (err error) {
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: begin write: %w", err)
	}
	defer func() {
		// What fn did stands either way (committed, or rolled back); only
		// the connection is of no more use if it would commit lazily.
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), s.restoreFull); rerr != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
		s.writeStmts.prepare(ctx)
	}()
	if _, err := conn.ExecContext(ctx, "PRAGMA synchronous=NORMAL"); err != nil {
		return fmt.Errorf("sqlite: begin write: %w", err)
	}
	sqlTx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin write: %w", err)
	}
	defer sqlTx.Rollback() // for an fn that panics
	err = fn(newTx(ctx, sqlTx, s.writeStmts, s.trace))
	if err == nil {
		if err = sqlTx.Commit(); err != nil {
			err = fmt.Errorf("sqlite: commit: %w", err)
		}
	}
	return err
}

// storageError names SQLite's "database or disk is full" and its I/O and
// corruption errors as storage failures (registry.StorageError); every
// other error, fn's domain errors included, is returned as it is.
func (s *Store) storageError(err error) error {
	var se *msqlite.Error
	if err == nil || !errors.As(err, &se) {
		return err
	}
	switch se.Code() & 0xff { // the primary code of an extended one
	case sqlite3.SQLITE_FULL:
		return diskerr.New(registry.StorageFull, err, "metadata database", s.dir)
	case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return diskerr.New(registry.StorageIO, err, "metadata database", s.dir)
	}
	return diskerr.Wrap(err, "metadata database", s.dir)
}

// Ping checks that the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return s.storageError(fmt.Errorf("sqlite: ping: %w", err))
	}
	return nil
}

// Close closes both connection pools, after waiting for the queries that
// have started to finish.
func (s *Store) Close() error {
	s.writeStmts.close()
	s.readStmts.close()
	werr := s.write.Close()
	rerr := s.read.Close()
	if werr != nil {
		return fmt.Errorf("sqlite: close: %w", werr)
	}
	if rerr != nil {
		return fmt.Errorf("sqlite: close: %w", rerr)
	}
	return nil
}
