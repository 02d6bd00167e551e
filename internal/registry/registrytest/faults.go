package registrytest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall"

	"github.com/ecrd/ecrd/internal/diskerr"
	"github.com/ecrd/ecrd/internal/registry"
)

// FaultKind is a failure Faults injects.
type FaultKind string

const (
	// FaultFull: the storage is out of space (ENOSPC, SQLITE_FULL).
	FaultFull FaultKind = "full"
	// FaultIO: the storage fails to read or write (EIO).
	FaultIO FaultKind = "io"
	// FaultConflict: a serializable transaction lost a race and is retried
	// by the store, as PostgreSQL's would be: fn runs a second time.
	FaultConflict FaultKind = "conflict"
	// FaultShortWrite: a part write stops half-way with io.ErrShortWrite.
	FaultShortWrite FaultKind = "short-write"
)

// Faults wraps a MetaStore and a BlobStore, records every call made to
// them (View, Update, each Tx method, each BlobStore method) and fails the
// one it is armed for. It is for tests only: a table-driven test runs an
// operation once to learn its calls, then again with a failure at each.
type Faults struct {
	mu    sync.Mutex
	calls []Call
	armed int // index in calls of the call to fail, -1 for none
	kind  FaultKind
	fired bool
}

// Call is one store call Faults saw.
type Call struct {
	// Name is "Meta.View", "Meta.Update", "Tx.<method>" or
	// "Blob.<method>".
	Name string
	// InUpdate says a Tx call ran inside Update (a write transaction).
	InUpdate bool
}

// Kinds are the failures that make sense for the call.
func (c Call) Kinds() []FaultKind {
	switch c.Name {
	case "Meta.View":
		return []FaultKind{FaultIO}
	case "Meta.Update":
		return []FaultKind{FaultFull, FaultIO}
	case "Blob.WriteUploadPart":
		return []FaultKind{FaultFull, FaultShortWrite}
	case "Blob.CommitUpload":
		return []FaultKind{FaultFull, FaultIO}
	}
	if len(c.Name) > 3 && c.Name[:3] == "Tx." {
		if c.InUpdate {
			return []FaultKind{FaultFull, FaultConflict}
		}
		return []FaultKind{FaultIO}
	}
	return []FaultKind{FaultIO}
}

// NewFaults returns a disarmed Faults.
func NewFaults() *Faults { return &Faults{armed: -1} }

// Wrap returns the stores with every call going through f.
func (f *Faults) Wrap(meta registry.MetaStore, blobs registry.BlobStore) (registry.MetaStore, registry.BlobStore) {
	return faultMeta{MetaStore: meta, f: f}, faultBlobs{BlobStore: blobs, f: f}
}

// Reset forgets the calls seen and disarms.
func (f *Faults) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls, f.armed, f.fired = nil, -1, false
}

// Arm makes the call with index i (0-based, counted from the last Reset)
// fail with kind.
func (f *Faults) Arm(i int, kind FaultKind) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed, f.kind = i, kind
}

// Calls returns the calls seen since the last Reset.
func (f *Faults) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

// Fired reports whether the armed failure happened.
func (f *Faults) Fired() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fired
}

// errInjectedConflict is the conflict Faults injects; its Update retries
// fn once when it sees it, as a serializable store does.
var errInjectedConflict = fmt.Errorf("injected serialization failure: %w", registry.ErrConflict)

// hit records a call and returns the failure it is armed with, if this is
// the armed call.
func (f *Faults) hit(c Call) (FaultKind, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := len(f.calls)
	f.calls = append(f.calls, c)
	if i != f.armed {
		return "", nil
	}
	f.fired = true
	switch f.kind {
	case FaultFull:
		return f.kind, diskerr.New(registry.StorageFull, fmt.Errorf("injected at %s: %w", c.Name, syscall.ENOSPC), "injected store", "/injected")
	case FaultIO:
		return f.kind, diskerr.New(registry.StorageIO, fmt.Errorf("injected at %s: %w", c.Name, syscall.EIO), "injected store", "/injected")
	case FaultConflict:
		return f.kind, errInjectedConflict
	}
	return f.kind, nil // FaultShortWrite: the caller acts it out
}

type faultMeta struct {
	registry.MetaStore
	f *Faults
}

func (m faultMeta) View(ctx context.Context, fn func(tx registry.Tx) error) error {
	if _, err := m.f.hit(Call{Name: "Meta.View"}); err != nil {
		return err
	}
	return m.MetaStore.View(ctx, func(tx registry.Tx) error { return fn(faultTx{Tx: tx, f: m.f}) })
}

// Update fails as a commit does when armed: after fn has run, with
// nothing written. A conflict injected inside fn is retried once, fn
// running again from the start, as the MetaStore contract allows.
func (m faultMeta) Update(ctx context.Context, fn func(tx registry.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := m.MetaStore.Update(ctx, func(tx registry.Tx) error {
			if err := fn(faultTx{Tx: tx, f: m.f, inUpdate: true}); err != nil {
				return err
			}
			_, err := m.f.hit(Call{Name: "Meta.Update"})
			return err
		})
		if attempt == 0 && errors.Is(err, errInjectedConflict) {
			continue
		}
		return err
	}
}

type faultBlobs struct {
	registry.BlobStore
	f *Faults
}

func (b faultBlobs) WriteUploadPart(ctx context.Context, id registry.UploadID, part int, offset int64, r io.Reader) (int64, error) {
	kind, err := b.f.hit(Call{Name: "Blob.WriteUploadPart"})
	if err != nil {
		return 0, err
	}
	if kind == FaultShortWrite {
		// Some bytes reach the file, then the write stops.
		n, err := b.BlobStore.WriteUploadPart(ctx, id, part, offset, io.LimitReader(r, 1))
		return n, errors.Join(err, fmt.Errorf("injected: %w", io.ErrShortWrite))
	}
	return b.BlobStore.WriteUploadPart(ctx, id, part, offset, r)
}

func (b faultBlobs) CommitUpload(ctx context.Context, id registry.UploadID, parts int, size int64, d registry.Digest) error {
	if _, err := b.f.hit(Call{Name: "Blob.CommitUpload"}); err != nil {
		return err
	}
	return b.BlobStore.CommitUpload(ctx, id, parts, size, d)
}

func (b faultBlobs) DeleteUpload(ctx context.Context, id registry.UploadID) error {
	if _, err := b.f.hit(Call{Name: "Blob.DeleteUpload"}); err != nil {
		return err
	}
	return b.BlobStore.DeleteUpload(ctx, id)
}

func (b faultBlobs) Stat(ctx context.Context, d registry.Digest) (int64, error) {
	if _, err := b.f.hit(Call{Name: "Blob.Stat"}); err != nil {
		return 0, err
	}
	return b.BlobStore.Stat(ctx, d)
}

func (b faultBlobs) Open(ctx context.Context, d registry.Digest, offset int64) (io.ReadCloser, error) {
	if _, err := b.f.hit(Call{Name: "Blob.Open"}); err != nil {
		return nil, err
	}
	return b.BlobStore.Open(ctx, d, offset)
}

func (b faultBlobs) Delete(ctx context.Context, d registry.Digest) error {
	if _, err := b.f.hit(Call{Name: "Blob.Delete"}); err != nil {
		return err
	}
	return b.BlobStore.Delete(ctx, d)
}
