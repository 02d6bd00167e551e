package postgres

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ecrd/ecrd/internal/syncbuf"
)

// testHolderOptions beat fast, so that an expiry passes in a second.
var testHolderOptions = HolderOptions{Heartbeat: 200 * time.Millisecond, Expiry: time.Second}

func startHolders(t *testing.T, s *Store) *Holders {
	t.Helper()
	h, err := s.Holders(t.Context(), testHolderOptions)
	if err != nil {
		t.Fatalf("Holders: %v", err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// crash stops h's heartbeat as a kill -9 would: its row stays behind.
func crash(h *Holders) {
	h.stopOnce.Do(func() {
		h.stop()
		<-h.done
	})
}

// within polls cond until it holds, failing the test after d.
func within(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// TestHolders runs its cases at once: each has Holders of its own, and
// they take seconds each of waiting for expiries.
func TestHolders(t *testing.T) {
	dsn := freshDatabase(t)
	storeA, storeB := openStore(t, dsn, Options{}), openStore(t, dsn, Options{})

	t.Run("SelfAlive", func(t *testing.T) {
		t.Parallel()
		a := startHolders(t, storeA)
		if !a.Alive(a.Self()) {
			t.Fatal("a process is not alive to itself")
		}
	})

	t.Run("AliveWhileBeating", func(t *testing.T) {
		t.Parallel()
		a, b := startHolders(t, storeA), startHolders(t, storeB)
		// Over several expiries, the heartbeat keeps each alive to the other.
		for end := time.Now().Add(3 * testHolderOptions.Expiry); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			if !a.Alive(b.Self()) || !b.Alive(a.Self()) {
				t.Fatalf("a live process taken for dead: a sees b %v, b sees a %v", a.Alive(b.Self()), b.Alive(a.Self()))
			}
		}
	})

	t.Run("DeadAfterCrash", func(t *testing.T) {
		t.Parallel()
		a, b := startHolders(t, storeA), startHolders(t, storeB)
		within(t, time.Second, "b alive to a", func() bool { return a.Alive(b.Self()) })
		crash(b)
		if !a.Alive(b.Self()) {
			t.Fatal("b taken for dead at once, before its expiry")
		}
		took := within(t, testHolderOptions.Expiry+time.Second, "b dead to a after its crash", func() bool { return !a.Alive(b.Self()) })
		if took < testHolderOptions.Expiry-2*testHolderOptions.Heartbeat {
			t.Errorf("b dead to a %v after its crash, before its expiry %v", took, testHolderOptions.Expiry)
		}
	})

	t.Run("DeadAfterClose", func(t *testing.T) {
		t.Parallel()
		a, b := startHolders(t, storeA), startHolders(t, storeB)
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		// Its row is gone: dead at a's next heartbeat, not after the expiry.
		within(t, testHolderOptions.Expiry/2, "b dead to a after Close", func() bool { return !a.Alive(b.Self()) })
	})

	t.Run("UnknownID", func(t *testing.T) {
		t.Parallel()
		a := startHolders(t, storeA)
		old := "0123456789abcdef-" + strconv.FormatInt(time.Now().Add(-time.Hour).UnixMicro(), 10)
		if a.Alive(old) {
			t.Errorf("Alive(%q), a name that never beat, started an hour ago: true", old)
		}
		// A process started after the snapshot was read is not yet in it.
		young := "0123456789abcdef-" + strconv.FormatInt(time.Now().Add(time.Second).UnixMicro(), 10)
		if !a.Alive(young) {
			t.Errorf("Alive(%q), a name newer than the snapshot: false", young)
		}
		// Names Holders never gives only the lease timeout may judge:
		// internal/instance's, or leases from before holders were recorded.
		for _, id := range []string{"", strings.Repeat("ab", 16), "zz23456789abcdef-123", "0123456789abcdef-x"} {
			if !a.Alive(id) {
				t.Errorf("Alive(%q): false, want true", id)
			}
		}
	})

	t.Run("DatabaseFailing", func(t *testing.T) {
		t.Parallel()
		// a on a store of its own, whose pool is closed under it.
		own := openStore(t, dsn, Options{})
		logged := &syncbuf.Buffer{}
		opts := testHolderOptions
		opts.Logger = slog.New(slog.NewTextHandler(logged, nil))
		a, err := own.Holders(t.Context(), opts)
		if err != nil {
			t.Fatal(err)
		}
		b := startHolders(t, storeB)
		within(t, time.Second, "b alive to a", func() bool { return a.Alive(b.Self()) })
		crash(b)
		within(t, testHolderOptions.Expiry+time.Second, "b dead to a", func() bool { return !a.Alive(b.Self()) })
		own.pool.Close()
		// Once a's snapshot is older than the expiry, a cannot tell.
		within(t, testHolderOptions.Expiry+time.Second, "b alive to a, which cannot reach the database", func() bool { return a.Alive(b.Self()) })
		if !a.Alive(a.Self()) {
			t.Error("a is not alive to itself")
		}
		if !strings.Contains(logged.String(), "heartbeat failing") {
			t.Errorf("the failing heartbeat was not logged; the log:\n%s", logged)
		}
		if err := a.Close(); err == nil {
			t.Error("Close with the database gone: no error")
		}
	})

	t.Run("DatabaseRecovers", func(t *testing.T) {
		t.Parallel()
		// A database of its own, whose sessions the server ends: the
		// heartbeat fails, then goes on over new connections.
		own := openStore(t, freshDatabase(t), Options{})
		logged := &syncbuf.Buffer{}
		opts := testHolderOptions
		opts.Logger = slog.New(slog.NewTextHandler(logged, nil))
		a, err := own.Holders(t.Context(), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		admin, err := pgx.Connect(t.Context(), serverDSN(t))
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close(context.WithoutCancel(t.Context()))
		within(t, 5*time.Second, "the heartbeat failing and recovering", func() bool {
			if _, err := admin.Exec(t.Context(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
				own.pool.Config().ConnConfig.Database); err != nil {
				t.Fatal(err)
			}
			time.Sleep(2 * opts.Heartbeat)
			return strings.Contains(logged.String(), "heartbeat recovered")
		})
		within(t, 2*time.Second, "a fresh snapshot", func() bool {
			a.mu.Lock()
			defer a.mu.Unlock()
			return time.Since(a.snap.read) < 2*opts.Heartbeat
		})
	})

	t.Run("Forget", func(t *testing.T) {
		t.Parallel()
		opts := testHolderOptions
		opts.Forget = 2 * opts.Expiry
		a, err := storeA.Holders(t.Context(), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		b := startHolders(t, storeB)
		seen := func() bool {
			a.mu.Lock()
			defer a.mu.Unlock()
			_, ok := a.snap.seen[b.Self()]
			return ok
		}
		within(t, time.Second, "b's row read by a", seen)
		crash(b)
		took := within(t, opts.Forget+time.Second, "b's row deleted", func() bool { return !seen() })
		if took < opts.Forget-2*opts.Heartbeat {
			t.Errorf("b's row deleted %v after its crash, before Forget (%v)", took, opts.Forget)
		}
		if a.Alive(b.Self()) {
			t.Error("b alive to a once its row is deleted")
		}
	})

	t.Run("BadOptions", func(t *testing.T) {
		t.Parallel()
		for _, o := range []HolderOptions{
			{Heartbeat: -time.Second},
			{Heartbeat: time.Second, Expiry: 2 * time.Second},
			{Heartbeat: time.Second, Expiry: 5 * time.Second, Forget: 9 * time.Second},
		} {
			if h, err := storeA.Holders(t.Context(), o); err == nil {
				h.Close()
				t.Errorf("Holders(%+v): no error", o)
			}
		}
	})

	t.Run("RegisterFailing", func(t *testing.T) {
		t.Parallel()
		closed := openStore(t, dsn, Options{})
		closed.pool.Close()
		if h, err := closed.Holders(t.Context(), testHolderOptions); err == nil {
			h.Close()
			t.Fatal("Holders on a closed pool: no error")
		}
	})
}
