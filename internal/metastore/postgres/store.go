// Package postgres implements registry.MetaStore on a PostgreSQL database,
// with pgx and its connection pool. Several ecrd replicas may share one
// database: every transaction that writes is SERIALIZABLE, so PostgreSQL
// itself orders them, and one that loses a race is run again (the
// MetaStore contract lets Update run fn more than once); a read (View) is
// a REPEATABLE READ snapshot (see View). The schema is brought up to date
// at Open under an advisory lock, so replicas starting together migrate it
// once.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

var (
	_ registry.MetaStore       = (*Store)(nil)
	_ registry.ConflictRetrier = (*Store)(nil)
)

// Options tunes a Store.
type Options struct {
	// MaxConns bounds the connections the pool opens; 0 takes pgxpool's
	// default (the larger of 4 and the number of CPUs).
	MaxConns int
}

// Store is a registry.MetaStore in a PostgreSQL database. It is safe for
// concurrent use.
type Store struct {
	pool *pgxpool.Pool
	// where names the database, host:port/name, for the storage errors'
	// Path (the server's own directory is not ours to know).
	where string
	// trace is given every statement a transaction runs (tests only).
	trace func(query string, args []any)
}

// The retry schedule of a transaction that lost a serialization race: up
// to maxAttempts runs, the wait before each doubling from firstBackoff up
// to maxBackoff, each wait a random fraction of that (full jitter), so
// that transactions that collided do not collide again in step.
const (
	maxAttempts  = 20
	firstBackoff = time.Millisecond
	maxBackoff   = 200 * time.Millisecond
)

// Open connects to the database dsn names (a postgres:// URL or libpq
// key=value string), and brings its schema up to date. It fails if the
// schema was migrated by a newer ecrd, whose schema this one does not know.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the DSN, password and all.
		return nil, errors.New("postgres: the DSN does not parse: want postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=... or libpq's key=value form")
	}
	if opts.MaxConns < 0 {
		return nil, fmt.Errorf("postgres: MaxConns is %d, want 0 (default) or more", opts.MaxConns)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = int32(min(opts.MaxConns, 1<<30))
	}
	cc := cfg.ConnConfig
	where := net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port))) + "/" + cc.Database
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", where, err)
	}
	s := &Store{pool: pool, where: where}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, s.storageError(fmt.Errorf("postgres: %s: %w", where, err))
	}
	return s, nil
}

// View runs fn in a read-only REPEATABLE READ transaction: it sees one
// consistent snapshot, and a write in it fails.
//
// Not SERIALIZABLE, which adds nothing a read-only transaction of ours
// needs and costs every read: predicate locks that slow the writers down,
// and readers aborted and run again. Every writer (Update) is
// serializable, so every commit preserves what each one checks; a
// repeatable-read snapshot shows the commits made before its first
// statement, each read the way a serial run of just those would leave
// it. What serializable would add is the read-only anomaly's ordering: a
// snapshot may show a writer's commit but not that of one still running
// that a serial order puts before it. That matters only to a reader who
// writes what it read, and a View cannot write; the core decides every
// write inside the Update that makes it, reading there what it depends
// on, so a View's answer only goes back to a client, as of its snapshot,
// which holds every request that completed before it began.
func (s *Store) View(ctx context.Context, fn func(tx registry.Tx) error) error {
	return s.run(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

// ViewSingle is View for an fn that makes one query, which runs alone
// (a statement is atomic and sees one snapshot, as View's transaction
// would): one round trip where View needs two, and none off the request's
// path for COMMIT. An fn that makes a second statement, or a write, is
// run again in View, whatever it made of the refusal (registry.SingleReader).
func (s *Store) ViewSingle(ctx context.Context, fn func(tx registry.Tx) error) error {
	t := newTx(ctx, s.pool, pgx.TxOptions{}, s.trace)
	t.single = true
	err := fn(t)
	switch {
	case errors.Is(t.failed, errNotSingle):
		return s.View(ctx, fn)
	case t.failed != nil && retryable(t.failed):
		return s.View(ctx, fn)
	case err == nil && t.failed != nil:
		err = fmt.Errorf("postgres: a statement failed: %w", t.failed)
	}
	return s.storageError(err)
}

// RetriesConflicts marks the store a registry.ConflictRetrier: its
// serializable transactions track reads by index page.
func (s *Store) RetriesConflicts() {}

// Update runs fn in a serializable transaction and commits it when fn
// returns nil; fn's error is returned as it is, with nothing written. When
// PostgreSQL aborts the transaction for a serialization failure or a
// deadlock, fn is run again in a new one, up to maxAttempts times in all;
// after that Update returns registry.ErrConflict. fn must not call Update
// or View on the same Store: holding one connection while it waits for
// another, it could wait for ever once the pool is used up.
func (s *Store) Update(ctx context.Context, fn func(tx registry.Tx) error) error {
	return s.run(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable, AccessMode: pgx.ReadWrite}, fn)
}

// run runs fn in transactions of opts until one commits, fn fails for a
// reason of its own, or maxAttempts have lost a race.
func (s *Store) run(ctx context.Context, opts pgx.TxOptions, fn func(tx registry.Tx) error) error {
	backoff := firstBackoff
	for attempt := 1; ; attempt++ {
		err := s.attempt(ctx, opts, fn)
		if err == nil || !retryable(err) {
			return s.storageError(err)
		}
		if attempt == maxAttempts {
			return fmt.Errorf("postgres: %d attempts lost a race: %w: %w", attempt, registry.ErrConflict, err)
		}
		timer := time.NewTimer(rand.N(backoff) + 1)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("postgres: waiting to retry: %w (after %w)", ctx.Err(), err)
		case <-timer.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// attempt runs fn once in a transaction of opts. A statement that failed
// dooms the transaction whatever fn made of its error: when it failed for
// a retryable reason, that is the attempt's error, so that run retries.
// The transaction begins with fn's first statement (tx.start), in the
// same round trip; an fn that runs none has nothing to commit.
func (s *Store) attempt(ctx context.Context, opts pgx.TxOptions, fn func(tx registry.Tx) error) error {
	t := newTx(ctx, s.pool, opts, s.trace)
	defer func() {
		// A panicking fn leaves no transaction holding a connection.
		if p := recover(); p != nil {
			t.rollback()
			panic(p)
		}
	}()
	err := fn(t)
	switch {
	case t.failed != nil && retryable(t.failed):
		err = t.failed
	case err == nil && t.failed != nil:
		// fn carried on past a failed statement: nothing it did stands.
		err = fmt.Errorf("postgres: a statement failed: %w", t.failed)
	}
	if err != nil || t.tx == nil {
		t.rollback()
		return err
	}
	if opts.AccessMode == pgx.ReadOnly {
		// What a read-only transaction read is its answer once its
		// statements have returned: its COMMIT changes nothing and cannot
		// fail for anything fn did (repeatable read never aborts a reader;
		// see View). So it is sent off the request's path, and the
		// connection goes back to the pool only once it has completed: the
		// pgxpool.Tx releases it after Commit returns, and Close waits for
		// it. A connection whose commit failed (lost, or timed out) is
		// not given back but closed (pgxpool.Conn.Release).
		go func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
			defer cancel()
			_ = t.tx.Commit(ctx)
		}()
		return nil
	}
	if err := t.tx.Commit(ctx); err != nil {
		t.rollback()
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// commitTimeout bounds the COMMIT of a read-only transaction, which no
// request waits for: a server that stopped answering must not keep its
// connection from the pool for ever.
const commitTimeout = 30 * time.Second

// retryable reports whether err says PostgreSQL aborted the transaction to
// keep transactions serializable: a serialization failure (40001) or a
// deadlock (40P01). A run of fn again, in a new transaction, may succeed.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// storageError names PostgreSQL's errors that mean its storage failed as a
// registry.StorageError: disk_full (53100) as StorageFull, io_error
// (58030) and data or index corruption (XX001, XX002) as StorageIO. Every
// other error, a lost connection and fn's own errors included, is
// returned as it is.
func (s *Store) storageError(err error) error {
	var pe *pgconn.PgError
	if err == nil || !errors.As(err, &pe) {
		return err
	}
	var kind registry.StorageKind
	switch pe.Code {
	case "53100":
		kind = registry.StorageFull
	case "58030", "XX001", "XX002":
		kind = registry.StorageIO
	default:
		return err
	}
	return &registry.StorageError{Kind: kind, Store: "metadata database", Path: s.where, Free: -1, Err: err}
}

// Ping checks that the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.pool.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return s.storageError(fmt.Errorf("postgres: ping: %w", err))
	}
	return nil
}

// Close closes the pool, after waiting for the connections in use to be
// given back.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}
