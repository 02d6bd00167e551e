package registry_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/metastore/sqlite"
	"github.com/ecrd/ecrd/internal/registry"
	"github.com/ecrd/ecrd/internal/registry/registrytest"
)

// holders is a registry.Holders whose processes live until killed.
type holders struct {
	self string
	mu   *sync.Mutex
	dead map[string]bool
}

func (h holders) Self() string { return h.self }
func (h holders) Alive(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.dead[id]
}

// leaseEnv is two processes, "a" and "b", over one pair of stores, and
// an upload in repository a/b.
type leaseEnv struct {
	clock      *clock
	meta       *sqlite.Store
	a, b       *registry.Registry
	mu         sync.Mutex
	dead       map[string]bool
	upload     registry.UploadID
	leaseLimit time.Duration
	faults     *registrytest.Faults
}

func newLeaseEnv(t *testing.T) *leaseEnv {
	t.Helper()
	meta, blobs, _ := openStores(t)
	e := &leaseEnv{clock: newClock(), meta: meta, dead: map[string]bool{}, leaseLimit: limits().LeaseTimeout, faults: registrytest.NewFaults()}
	// a's store calls go through faults (disarmed unless a test arms it).
	aMeta, aBlobs := e.faults.Wrap(meta, blobs)
	e.a = registry.New(registry.Options{Meta: aMeta, Blobs: aBlobs, Region: "us-east-1", Limits: limits(), Now: e.clock.Now,
		Holders: holders{self: "a", mu: &e.mu, dead: e.dead}})
	e.b = registry.New(registry.Options{Meta: meta, Blobs: blobs, Region: "us-east-1", Limits: limits(), Now: e.clock.Now,
		Holders: holders{self: "b", mu: &e.mu, dead: e.dead}})
	ctx := callerCtx()
	if _, err := e.a.CreateRepository(ctx, registry.NewRepository{Key: key("a/b")}); err != nil {
		t.Fatal(err)
	}
	u, err := e.a.InitiateLayerUpload(ctx, key("a/b"))
	if err != nil {
		t.Fatal(err)
	}
	e.upload = u.ID
	return e
}

func (e *leaseEnv) kill(name string) { e.mu.Lock(); e.dead[name] = true; e.mu.Unlock() }

// stored returns the upload as the store has it.
func (e *leaseEnv) stored(t *testing.T) registry.Upload {
	t.Helper()
	var u registry.Upload
	err := e.meta.View(context.Background(), func(tx registry.Tx) (err error) {
		u, err = tx.Upload(e.upload)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// waitLease waits until the stored lease was last renewed at at.
func (e *leaseEnv) waitLease(t *testing.T, holder string, at time.Time) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		u := e.stored(t)
		if u.Holder == holder && u.LeaseAt.Equal(at.UTC()) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lease is %q at %v, want %q at %v", u.Holder, u.LeaseAt, holder, at)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// writer is a streamed append by a, whose bytes the test feeds.
type writer struct {
	pw      *io.PipeWriter
	entered chan struct{} // a Read of the part's body has begun
	done    chan error
}

// pacedReader tells each Read's start, so that the test knows a chunk has
// gone all the way through (a started the next Read) before it moves the
// clock.
type pacedReader struct {
	r       io.Reader
	entered chan struct{}
}

func (p pacedReader) Read(b []byte) (int, error) {
	p.entered <- struct{}{}
	return p.r.Read(b)
}

// writing starts a streamed append by r and waits until it reads.
func (e *leaseEnv) writing(t *testing.T, r *registry.Registry) *writer {
	pr, pw := io.Pipe()
	w := &writer{pw: pw, entered: make(chan struct{}), done: make(chan error, 1)}
	go func() {
		_, err := r.AppendUpload(callerCtx(), key("a/b"), e.upload, 0, -1, pacedReader{pr, w.entered})
		w.done <- err
	}()
	w.settle(t)
	return w
}

// feed sends chunk and waits until the writer has dealt with it (renewing
// its lease if due) and reads again, or has stopped.
func (w *writer) feed(t *testing.T, chunk []byte) {
	t.Helper()
	if _, err := w.pw.Write(chunk); err != nil {
		t.Fatal(err)
	}
	w.settle(t)
}

func (w *writer) settle(t *testing.T) {
	t.Helper()
	select {
	case <-w.entered:
	case err := <-w.done:
		w.done <- err // for the test to read
	case <-time.After(10 * time.Second):
		t.Fatal("the writer neither read on nor stopped")
	}
}

// busy reports whether b is refused because someone writes the upload.
func (e *leaseEnv) busy(t *testing.T) bool {
	t.Helper()
	_, err := e.b.AppendUpload(callerCtx(), key("a/b"), e.upload, 0, 3, bytes.NewReader([]byte("bbb")))
	switch {
	case err == nil:
		return false
	case registry.IsCode(err, registry.CodeInvalidLayerPart):
		return true
	}
	t.Fatalf("append by b: %v", err)
	return false
}

func TestUploadLease(t *testing.T) {
	t.Run("DiesWithItsProcess", func(t *testing.T) {
		e := newLeaseEnv(t)
		w := e.writing(t, e.a)
		w.feed(t, []byte("aaaa"))
		e.waitLease(t, "a", e.clock.Now())
		if !e.busy(t) {
			t.Fatal("b wrote while a, alive, was writing")
		}
		// a dies mid-part: b takes the upload over at once, with no time
		// passing at all.
		e.kill("a")
		if e.busy(t) {
			t.Fatal("b is still refused after a died")
		}
		w.pw.CloseWithError(errors.New("process gone"))
		<-w.done
		if u := e.stored(t); u.Size != 3 || u.Lease != "" {
			t.Fatalf("upload after b's part: size %d lease %q, want 3 bytes and no lease", u.Size, u.Lease)
		}
	})
	t.Run("LapsesWithoutProgress", func(t *testing.T) {
		e := newLeaseEnv(t)
		w := e.writing(t, e.a)
		w.feed(t, []byte("aaaa"))
		e.waitLease(t, "a", e.clock.Now())
		e.clock.Add(e.leaseLimit - time.Second)
		if !e.busy(t) {
			t.Fatal("b took the upload before a's lease lapsed")
		}
		e.clock.Add(2 * time.Second)
		if e.busy(t) {
			t.Fatal("b is refused although a made no progress for the lease timeout")
		}
		// a's bytes arrive late: they must not be written over b's. (a may
		// have stopped reading already, if it saw its lease gone.)
		go func() { _, _ = w.pw.Write([]byte("late")) }()
		err := <-w.done
		w.pw.Close()
		if !registry.IsCode(err, registry.CodeUploadNotFound) {
			t.Fatalf("a's late write: %v, want UploadNotFound (its lease is gone)", err)
		}
		if u := e.stored(t); u.Size != 3 {
			t.Fatalf("upload holds %d bytes, want b's 3", u.Size)
		}
		got, err := e.b.FinishUpload(callerCtx(), key("a/b"), e.upload, digest([]byte("bbb")))
		if err != nil || string(got) != digest([]byte("bbb")) {
			t.Fatalf("finishing with b's bytes: %v, %v", got, err)
		}
	})
	t.Run("RenewalFails", func(t *testing.T) {
		// The store fails as a renewal is due: the part fails with the
		// cause, does not count, and gives the upload back at once.
		e := newLeaseEnv(t)
		w := e.writing(t, e.a)
		w.feed(t, []byte("start"))
		e.waitLease(t, "a", e.clock.Now())
		e.faults.Reset()
		e.faults.Arm(0, registrytest.FaultFull)
		e.clock.Add(e.leaseLimit / 2)
		_, _ = w.pw.Write([]byte("more"))
		err := <-w.done
		w.pw.Close()
		if _, ok := registry.AsStorageError(err); !ok || !e.faults.Fired() {
			t.Fatalf("the part whose renewal failed: %v (fault fired: %v), want the storage error", err, e.faults.Fired())
		}
		if u := e.stored(t); u.Size != 0 || u.Lease != "" {
			t.Fatalf("upload after the failed part: %d bytes, lease %q; want none counted and no lease", u.Size, u.Lease)
		}
		if e.busy(t) {
			t.Fatal("b is refused after a's part failed")
		}
	})
	t.Run("KeptWhileProgressing", func(t *testing.T) {
		e := newLeaseEnv(t)
		w := e.writing(t, e.a)
		sent := []byte("start")
		w.feed(t, sent)
		e.waitLease(t, "a", e.clock.Now())
		// Three lease timeouts' worth of a slow part, a chunk every half
		// timeout: a keeps the upload throughout.
		for i := range 6 {
			e.clock.Add(e.leaseLimit / 2)
			chunk := bytes.Repeat([]byte{byte('0' + i)}, 10)
			w.feed(t, chunk)
			sent = append(sent, chunk...)
			e.waitLease(t, "a", e.clock.Now())
			if !e.busy(t) {
				t.Fatalf("after %d chunks b took the upload from a, which is making progress", i+1)
			}
		}
		w.pw.Close()
		if err := <-w.done; err != nil {
			t.Fatalf("a's slow part: %v", err)
		}
		got, err := e.a.FinishUpload(callerCtx(), key("a/b"), e.upload, digest(sent))
		if err != nil || string(got) != digest(sent) {
			t.Fatalf("finishing a's slow part: %v, %v", got, err)
		}
	})
}
