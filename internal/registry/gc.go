package registry

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// GCStats says what a collection removed, and how much it read to do so.
type GCStats struct {
	Layers int // layer records no image referred to
	Blobs  int // blobs no layer record named, with their bytes
	// Bytes is the size of the blobs removed, as the blob store reported
	// it before deleting them (a blob it could not size counts 0).
	Bytes int64
	// LayersVisited and BlobsVisited count the records the sweeps read:
	// every record, once per collection.
	LayersVisited, BlobsVisited int
}

// Page sizes of a collection's sweeps: each page is one transaction. A
// thousand layer records is milliseconds of SQLite's write lock, or of
// PostgreSQL's predicate locks, so that pushes wait for a page and never
// for the collection; a million records is a thousand pages. Blob pages
// are smaller because their marked blobs stay marked, holding up any
// commit of the same bytes, until the blob store has deleted them.
const (
	gcLayerPage = 1000
	gcBlobPage  = 256
)

// CollectGarbage reclaims what nothing uses any more, in two sweeps:
//
//  1. Layer records that no image of their repository refers to go once
//     grace has passed since they were uploaded and since an image last
//     let go of them (ECR: "unassociated image layers may be cleaned up at
//     any time"; the grace period is what keeps a layer a push has just
//     uploaded, or just found AVAILABLE, until its manifest arrives).
//  2. Blobs that no layer record names, older than grace and not pinned by
//     an upload within the lease timeout, are marked a page at a time,
//     their bytes deleted, and their records removed. An upload pins its
//     blob in the transaction that decides to commit it, so it either
//     happens before the mark (and the blob is skipped) or after it (and
//     waits until the collection has finished with the digest).
//
// The cut-offs are taken once, when the collection starts: whatever is
// written while it runs is younger than them. Each page re-reads what it
// decides on in the transaction that deletes, so an image put between two
// pages keeps its layers, and a layer added keeps its blob. Interrupted
// runs are safe to repeat: marked blobs are picked up again.
func (r *Registry) CollectGarbage(ctx context.Context, grace time.Duration) (GCStats, error) {
	return r.collectGarbage(ctx, grace, gcLayerPage, gcBlobPage)
}

func (r *Registry) collectGarbage(ctx context.Context, grace time.Duration, layerPage, blobPage int) (st GCStats, err error) {
	// One collection at a time, across processes and replicas: two would
	// race on the same marks (one deleting bytes the other has seen
	// recommitted). Every page takes the lease again in its own
	// transaction, so no page commits once another collection holds it.
	holder := string(r.newID())
	if err := r.renewGCLease(ctx, holder); err != nil {
		return st, err
	}
	defer func() {
		dropErr := r.gcUpdate(context.WithoutCancel(ctx), func(tx Tx) error { return tx.DropLease(gcLease, holder) })
		err = errors.Join(err, dropErr)
	}()
	start := r.now()
	before, pinnedBefore := start.Add(-grace), start.Add(-r.limits.LeaseTimeout)

	pages := gcPager{r: r, holder: holder}
	for after, size := (LayerCursor{}), layerPage; ; {
		var page LayerSweep
		used, err := pages.update(ctx, &size, layerPage, func(tx Tx, limit int) (err error) {
			page, err = tx.DeleteUnreferencedLayers(after, before, limit)
			return err
		})
		if err != nil {
			return st, err
		}
		st.Layers += page.Deleted
		st.LayersVisited += page.Visited
		if page.Visited < used {
			break
		}
		after = page.Last
	}
	for after, size := Digest(""), blobPage; ; {
		var page BlobSweep
		used, err := pages.update(ctx, &size, blobPage, func(tx Tx, limit int) (err error) {
			page, err = tx.MarkGarbageBlobs(after, before, pinnedBefore, limit)
			return err
		})
		if err != nil {
			return st, err
		}
		st.BlobsVisited += page.Visited
		if err := r.deleteMarked(ctx, page.Marked, &st); err != nil {
			return st, err
		}
		if page.Visited < used {
			return st, nil
		}
		after = page.Last
	}
}

// gcConflicts is how many times in a row a collection's page may lose
// every race the store retries (ErrConflict) once it is down to one
// record, before the collection gives up until its next run.
const gcConflicts = 5

// gcUpdate is meta.Update for a collection's transactions that are not
// pages (its lease, the records of the blobs it deleted): tried again, up
// to gcConflicts times, while it loses races (see gcPager).
func (r *Registry) gcUpdate(ctx context.Context, fn func(tx Tx) error) error {
	err := r.meta.Update(ctx, fn)
	for i := 1; i < gcConflicts && errors.Is(err, ErrConflict); i++ {
		err = r.meta.Update(ctx, fn)
	}
	return err
}

// gcPager runs a collection's pages. A collection is background work and
// pushes are not: when a page keeps losing races against them (on
// PostgreSQL, a page's reads conflict with every write into the ranges it
// read, and pushes write there all the time), the store's retries can run
// out while pushes go on. Failing then would throw away a collection's
// progress for a reason that passes; instead the page is tried again at
// half its size, which narrows what it conflicts with, down to one record,
// and grows back as pages commit.
type gcPager struct {
	r      *Registry
	holder string
}

// update runs fn in a transaction holding the collection's lease, with a
// page of *size records, shrinking and growing *size up to full as above,
// and returns the size of the page that committed.
func (p gcPager) update(ctx context.Context, size *int, full int, fn func(tx Tx, limit int) error) (int, error) {
	for conflicts := 0; ; {
		limit := *size
		err := p.r.meta.Update(ctx, func(tx Tx) error {
			if err := p.r.holdGCLease(tx, p.holder); err != nil {
				return err
			}
			return fn(tx, limit)
		})
		if !errors.Is(err, ErrConflict) {
			if err == nil {
				*size = min(2*limit, full)
			}
			return limit, err
		}
		if limit == 1 {
			if conflicts++; conflicts == gcConflicts {
				return limit, fmt.Errorf("garbage collection: a page of one record lost every race %d times in a row: %w", gcConflicts, err)
			}
		}
		*size = max(1, limit/2)
	}
}

// deleteMarked deletes the bytes of the marked blobs, then, in one
// transaction, the records of those whose bytes went. A blob whose bytes
// could not be deleted keeps its record, unmarked: a mark left behind
// would hold up every commit of the digest, a record dropped would leave
// bytes no collection ever finds again; unmarked, the next collection
// tries again.
func (r *Registry) deleteMarked(ctx context.Context, marked []Digest, st *GCStats) error {
	if len(marked) == 0 {
		return nil
	}
	var delErrs []error
	failed := map[Digest]bool{}
	var bytes int64
	for _, d := range marked {
		size, statErr := r.blobs.Stat(ctx, d)
		if err := r.blobs.Delete(ctx, d); err != nil {
			delErrs = append(delErrs, err)
			failed[d] = true
		} else if statErr == nil {
			bytes += size
		}
	}
	// The bytes are gone: losing races to pushes is no reason to leave
	// the marks, which hold up every commit of the digests, to the next
	// collection.
	err := r.gcUpdate(context.WithoutCancel(ctx), func(tx Tx) error {
		for _, d := range marked {
			if failed[d] {
				if err := tx.UnmarkBlob(d); err != nil {
					return err
				}
			} else if err := tx.DeleteBlob(d); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return errors.Join(append(delErrs, err)...)
	}
	st.Blobs += len(marked) - len(failed)
	st.Bytes += bytes
	return errors.Join(delErrs...)
}

// gcLease names the lease a collection holds.
const gcLease = "garbage-collection"

// ErrCollectionRunning: another process or replica is collecting garbage.
var ErrCollectionRunning = errors.New("another garbage collection is running")

func (r *Registry) renewGCLease(ctx context.Context, holder string) error {
	return r.gcUpdate(ctx, func(tx Tx) error { return r.holdGCLease(tx, holder) })
}

// holdGCLease takes or renews the collection lease for holder in tx, or
// returns ErrCollectionRunning.
func (r *Registry) holdGCLease(tx Tx, holder string) error {
	ok, err := tx.TakeLease(gcLease, holder, r.now(), r.limits.LeaseTimeout)
	if err == nil && !ok {
		return ErrCollectionRunning
	}
	return err
}

// pinBlob pins d for a commit, waiting while a collection finishes
// deleting an earlier copy of the same bytes (it deletes them right after
// marking, so the wait is short).
func (r *Registry) pinBlob(ctx context.Context, d Digest, size int64) error {
	deadline := time.Now().Add(30 * time.Second)
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		// A pin acknowledges nothing: what it protects is acknowledged by
		// a later commit, which makes it durable too (LazyCommit).
		err := r.meta.Update(LazyCommitContext(ctx), func(tx Tx) error { return tx.PinBlob(d, size, r.now().UTC()) })
		if !errors.Is(err, ErrConflict) {
			return err
		}
		if time.Now().After(deadline) {
			// A collection that crashed after marking the blob; the next
			// one finishes the deletion. The client may retry then.
			return fmt.Errorf("blob %s is held by an unfinished garbage collection: %w", d, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}
