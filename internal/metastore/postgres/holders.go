package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ecrd/ecrd/internal/registry"
)

var _ registry.Holders = (*Holders)(nil)

// The defaults of HolderOptions. A holder is taken for dead once its row
// has not been rewritten for HolderExpiry: five missed heartbeats, so that
// a busy database or a GC pause does not void a live process's leases,
// while a crashed replica's uploads resume within about 12 s (the expiry
// plus one refresh) instead of the one-minute lease timeout.
const (
	DefaultHolderHeartbeat = 2 * time.Second
	DefaultHolderExpiry    = 10 * time.Second
	DefaultHolderForget    = time.Hour
)

// HolderOptions tunes Holders; zero fields take the defaults above.
type HolderOptions struct {
	// Heartbeat is how often this process rewrites its row and rereads
	// everyone's.
	Heartbeat time.Duration
	// Expiry is how long after its last heartbeat a process is taken for
	// dead. It must be at least three heartbeats.
	Expiry time.Duration
	// Forget is how long the row of a process that stopped beating is
	// kept before it is deleted; at least two expiries, so that a row is
	// never deleted before its process is older than the expiry.
	Forget time.Duration
	// Logger is told when heartbeats start and stop failing (nil: none).
	Logger *slog.Logger
}

// Holders is a registry.Holders for processes on different hosts sharing
// one database: each rewrites its row of lease_holders every heartbeat,
// and a process whose row is older than the expiry has stopped.
//
// Alive never waits for the database: it answers from a snapshot of the
// table that the heartbeat loop rereads. Ages are measured on the
// database's clock, within one statement batch, so the hosts' clocks need
// not agree. When the snapshot is older than the expiry (the database is
// not answering this process) Alive cannot tell and answers true, and the
// lease timeout decides, as registry.Holders asks.
type Holders struct {
	pool *pgxpool.Pool
	self string
	opts HolderOptions
	log  *slog.Logger

	mu   sync.Mutex
	snap holderSnapshot

	stop     context.CancelFunc
	done     chan struct{}
	stopOnce sync.Once
}

// holderSnapshot is the table as one heartbeat read it.
type holderSnapshot struct {
	read  time.Time            // when, on this host's (monotonic) clock
	dbNow time.Time            // when, on the database's clock
	seen  map[string]time.Time // id -> last_seen, the database's clock
}

// Holders registers this process in the store's database under a fresh
// name and starts its heartbeat, which runs until Close: ctx bounds the
// registration only, which fails when the first heartbeat does. Close the
// Holders before the Store: the heartbeat uses the Store's pool.
func (s *Store) Holders(ctx context.Context, opts HolderOptions) (*Holders, error) {
	if opts.Heartbeat == 0 {
		opts.Heartbeat = DefaultHolderHeartbeat
	}
	if opts.Expiry == 0 {
		opts.Expiry = DefaultHolderExpiry
	}
	if opts.Forget == 0 {
		opts.Forget = max(DefaultHolderForget, 2*opts.Expiry)
	}
	if opts.Heartbeat < 0 || opts.Expiry < 3*opts.Heartbeat || opts.Forget < 2*opts.Expiry {
		return nil, fmt.Errorf("postgres: holder heartbeat %v, expiry %v, forget %v: want a positive heartbeat, an expiry of at least three heartbeats and forget at least two expiries",
			opts.Heartbeat, opts.Expiry, opts.Forget)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h := &Holders{pool: s.pool, opts: opts, log: log, done: make(chan struct{})}
	// The name carries the database's time of its start, so that Alive
	// can tell a process too new for the last snapshot from one gone.
	var start time.Time
	if err := s.pool.QueryRow(ctx, "SELECT now()").Scan(&start); err != nil {
		return nil, fmt.Errorf("postgres: %s: registering this process: %w", s.where, err)
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	h.self = hex.EncodeToString(b[:]) + "-" + strconv.FormatInt(start.UnixMicro(), 10)
	if err := h.beat(ctx); err != nil {
		return nil, fmt.Errorf("postgres: %s: registering this process: %w", s.where, err)
	}
	loopCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	h.stop = stop
	go h.loop(loopCtx)
	return h, nil
}

// Self is this process's name: 16 hex digits, '-', and the database's
// time of its start in Unix microseconds.
func (h *Holders) Self() string { return h.self }

// Alive reports whether the process named id still beats. Names Holders
// does not give (those of internal/instance, or "") are answered true, as
// is every name while the snapshot is too old to trust.
func (h *Holders) Alive(id string) bool {
	if id == h.self {
		return true
	}
	start, ok := parseHolder(id)
	if !ok {
		return true
	}
	h.mu.Lock()
	snap := h.snap
	h.mu.Unlock()
	if time.Since(snap.read) > h.opts.Expiry {
		return true
	}
	if last, ok := snap.seen[id]; ok {
		return snap.dbNow.Sub(last) <= h.opts.Expiry
	}
	// No row: deleted long after it stopped, or its first heartbeat came
	// after the snapshot's, or has yet to be read.
	return snap.dbNow.Sub(start) < h.opts.Expiry
}

// Close stops the heartbeat and marks this process's row as stopped, so
// that the others take its leases for dead at their next heartbeat rather
// than after the expiry. The row is kept (backdated by the expiry and a
// heartbeat, then deleted after Forget like any other): a name with no row
// that started within the expiry could be one the snapshot has yet to
// see. Close waits for a heartbeat under way, at most one heartbeat.
func (h *Holders) Close() error {
	var err error
	h.stopOnce.Do(func() {
		h.stop()
		<-h.done
		ctx, cancel := context.WithTimeout(context.Background(), h.opts.Heartbeat)
		defer cancel()
		_, err = h.pool.Exec(ctx, "UPDATE lease_holders SET last_seen = now() - make_interval(secs => $2) WHERE id = $1",
			h.self, (h.opts.Expiry + h.opts.Heartbeat).Seconds())
		if err != nil {
			err = fmt.Errorf("postgres: marking this process stopped in lease_holders: %w", err)
		}
	})
	return err
}

// loop beats every heartbeat until ctx ends (Close).
func (h *Holders) loop(ctx context.Context) {
	defer close(h.done)
	t := time.NewTicker(h.opts.Heartbeat)
	defer t.Stop()
	var failing bool
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := h.beat(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil && !failing:
			failing = true
			h.log.Warn("lease holder heartbeat failing: other replicas' upload leases lapse by their timeout alone until it recovers", "err", err)
		case err == nil && failing:
			failing = false
			h.log.Info("lease holder heartbeat recovered")
		}
	}
}

// beat rewrites this process's row, deletes forgotten ones and rereads
// the table, in one batch: one implicit transaction, so now() is one
// instant throughout. A beat may take at most one heartbeat, so that a
// database that hangs leaves the snapshot to age rather than the loop.
func (h *Holders) beat(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, h.opts.Heartbeat)
	defer cancel()
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO lease_holders (id, last_seen) VALUES ($1, now())
		ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen`, h.self)
	b.Queue("DELETE FROM lease_holders WHERE last_seen < now() - make_interval(secs => $1)", h.opts.Forget.Seconds())
	b.Queue("SELECT id, last_seen, now() FROM lease_holders")
	br := h.pool.SendBatch(ctx, b)
	snap := holderSnapshot{seen: map[string]time.Time{}}
	_, err := br.Exec()
	if err == nil {
		_, err = br.Exec()
	}
	if err == nil {
		var rows pgx.Rows
		if rows, err = br.Query(); err == nil {
			for rows.Next() {
				var id string
				var last time.Time
				if err = rows.Scan(&id, &last, &snap.dbNow); err != nil {
					break
				}
				snap.seen[id] = last
			}
			rows.Close()
			err = errors.Join(err, rows.Err())
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if _, ok := snap.seen[h.self]; !ok {
		return errors.New("lease_holders lacks this process's row just written")
	}
	snap.read = time.Now()
	h.mu.Lock()
	h.snap = snap
	h.mu.Unlock()
	return nil
}

// parseHolder returns the start time a name Self gives carries, and
// false for any other string.
func parseHolder(id string) (time.Time, bool) {
	r, micros, ok := strings.Cut(id, "-")
	if !ok || len(r) != 16 {
		return time.Time{}, false
	}
	if _, err := hex.DecodeString(r); err != nil {
		return time.Time{}, false
	}
	us, err := strconv.ParseInt(micros, 10, 64)
	if err != nil || us <= 0 {
		return time.Time{}, false
	}
	return time.UnixMicro(us), true
}
