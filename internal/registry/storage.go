package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
)

// StorageKind says how storage failed.
type StorageKind string

const (
	// StorageFull: no space is left where the store writes.
	StorageFull StorageKind = "out of space"
	// StorageIO: the device or file system failed to read or write (EIO,
	// a read-only file system, a failed fsync).
	StorageIO StorageKind = "I/O error"
)

// StorageError is a failure of the storage under a store rather than of
// the request: the disk is full, or it cannot read or write. Stores return
// it (wrapping the cause) so that every front end can answer with the
// cause, and the core can log it once per episode rather than once per
// request. It is never a domain error: nothing the client did caused it.
type StorageError struct {
	Kind StorageKind
	// Store names the store, for people: "metadata database", "blob store".
	Store string
	// Path is where the store writes; Free the bytes free there when the
	// error happened (-1 when unknown).
	Path string
	Free int64
	Err  error
}

func (e *StorageError) Error() string {
	return fmt.Sprintf("%s %s (%s): %v", e.Store, e.Kind, e.Path, e.Err)
}

func (e *StorageError) Unwrap() error { return e.Err }

// Message is what a client is told: the cause, in words, with nothing of
// the server's layout.
func (e *StorageError) Message() string {
	if e.Kind == StorageFull {
		return "ecrd's storage is out of space: writes fail until space is freed on the server (reads still work)"
	}
	return "ecrd's storage failed with an I/O error; the server log has the details"
}

// AsStorageError returns the StorageError in err's chain, if any.
func AsStorageError(err error) (*StorageError, bool) {
	var se *StorageError
	ok := errors.As(err, &se)
	return se, ok
}

// storageWatch logs storage failures once per episode: the first failure
// is logged with its path and free space, the rest are counted, and the
// first write that succeeds afterwards ends the episode (space came back)
// and says how many requests failed meanwhile.
type storageWatch struct {
	log *slog.Logger
	// failing is set while an episode is in progress, so that the calls
	// that succeed, nearly all of them, pass without taking mu.
	failing atomic.Bool
	mu      sync.Mutex
	failed  map[StorageKind]int // episodes in progress, by kind: failures so far
	// notify, when set, hears of every failure (Options.OnStorageError).
	notify func(StorageKind)
}

// observe notes the outcome of a store call; wrote says whether the call
// was a write, whose success ends an episode.
func (w *storageWatch) observe(err error, wrote bool) error {
	se, ok := AsStorageError(err)
	if !ok && (err != nil || !wrote || !w.failing.Load()) {
		return err
	}
	if ok && w.notify != nil {
		w.notify(se.Kind)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case ok:
		if w.failed[se.Kind] == 0 {
			w.log.Error("storage failing: requests that need it fail until it recovers",
				"kind", string(se.Kind), "store", se.Store, "path", se.Path, "free_bytes", se.Free, "err", se.Err)
		}
		w.failed[se.Kind]++
		w.failing.Store(true)
	case err == nil && wrote && len(w.failed) > 0:
		for kind, n := range w.failed {
			w.log.Info("storage recovered: writes succeed again", "kind", string(kind), "failed_calls", n)
		}
		clear(w.failed)
		w.failing.Store(false)
	}
	return err
}

// watchedMeta is a MetaStore whose storage failures the watch sees.
type watchedMeta struct {
	MetaStore
	w *storageWatch
}

func (m watchedMeta) View(ctx context.Context, fn func(tx Tx) error) error {
	return m.w.observe(m.MetaStore.View(ctx, fn), false)
}

// ViewSingle is the store's SingleReader's, or View.
func (m watchedMeta) ViewSingle(ctx context.Context, fn func(tx Tx) error) error {
	if s, ok := m.MetaStore.(SingleReader); ok {
		return m.w.observe(s.ViewSingle(ctx, fn), false)
	}
	return m.View(ctx, fn)
}

func (m watchedMeta) Update(ctx context.Context, fn func(tx Tx) error) error {
	return m.w.observe(m.MetaStore.Update(ctx, fn), true)
}

// watchedBlobs is a BlobStore whose storage failures the watch sees.
type watchedBlobs struct {
	BlobStore
	w *storageWatch
}

func (b watchedBlobs) WriteUploadPart(ctx context.Context, id UploadID, part int, offset int64, r io.Reader) (int64, error) {
	n, err := b.BlobStore.WriteUploadPart(ctx, id, part, offset, r)
	return n, b.w.observe(err, true)
}

func (b watchedBlobs) CommitUpload(ctx context.Context, id UploadID, parts int, size int64, d Digest) error {
	return b.w.observe(b.BlobStore.CommitUpload(ctx, id, parts, size, d), true)
}

func (b watchedBlobs) DeleteUpload(ctx context.Context, id UploadID) error {
	return b.w.observe(b.BlobStore.DeleteUpload(ctx, id), false)
}

func (b watchedBlobs) Stat(ctx context.Context, d Digest) (int64, error) {
	n, err := b.BlobStore.Stat(ctx, d)
	return n, b.w.observe(err, false)
}

func (b watchedBlobs) Open(ctx context.Context, d Digest, offset int64) (io.ReadCloser, error) {
	rc, err := b.BlobStore.Open(ctx, d, offset)
	return rc, b.w.observe(err, false)
}

func (b watchedBlobs) Delete(ctx context.Context, d Digest) error {
	return b.w.observe(b.BlobStore.Delete(ctx, d), false)
}

// Ping passes a readiness check through to the blob store, when it can
// answer one.
func (b watchedBlobs) Ping(ctx context.Context) error {
	if p, ok := b.BlobStore.(Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}
