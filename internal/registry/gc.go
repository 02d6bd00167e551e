package registry

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// GCStats says what a collection removed.
type GCStats struct {
	Layers int // layer records no image referred to
	Blobs  int // blobs no layer record named, with their bytes
	// Bytes is the size of the blobs removed, as the blob store reported
	// it before deleting them (a blob it could not size counts 0).
	Bytes int64
}

// CollectGarbage reclaims what nothing uses any more, in two steps:
//
//  1. Layer records that no image of their repository refers to go once
//     grace has passed since they were uploaded and since an image last
//     let go of them (ECR: "unassociated image layers may be cleaned up at
//     any time"; the grace period is what keeps a layer a push has just
//     uploaded, or just found AVAILABLE, until its manifest arrives).
//  2. Blobs that no layer record names, older than grace and not pinned by
//     an upload within the lease timeout, are marked in one transaction,
//     their bytes deleted, and their records removed. An upload pins its
//     blob in the transaction that decides to commit it, so it either
//     happens before the mark (and the blob is skipped) or after it (and
//     waits until the collection has finished with the digest).
//
// Interrupted runs are safe to repeat: marked blobs are picked up again.
func (r *Registry) CollectGarbage(ctx context.Context, grace time.Duration) (st GCStats, err error) {
	// One collection at a time, across processes and replicas: two would
	// race on the same marks (one deleting bytes the other has seen
	// recommitted).
	holder := string(r.newID())
	if err := r.renewGCLease(ctx, holder); err != nil {
		return st, err
	}
	defer func() {
		dropErr := r.meta.Update(context.WithoutCancel(ctx), func(tx Tx) error { return tx.DropLease(gcLease, holder) })
		err = errors.Join(err, dropErr)
	}()
	const batch = 500
	for {
		var n int
		err := r.meta.Update(ctx, func(tx Tx) (err error) {
			n, err = tx.DeleteUnreferencedLayers(r.now().Add(-grace), batch)
			return err
		})
		if err != nil {
			return st, err
		}
		st.Layers += n
		if n < batch {
			break
		}
	}
	for {
		if err := r.renewGCLease(ctx, holder); err != nil {
			return st, err
		}
		var marked []Digest
		err := r.meta.Update(ctx, func(tx Tx) (err error) {
			now := r.now()
			marked, err = tx.MarkGarbageBlobs(now.Add(-grace), now.Add(-r.limits.LeaseTimeout), 100)
			return err
		})
		if err != nil || len(marked) == 0 {
			return st, err
		}
		for _, d := range marked {
			// The record goes even if the bytes could not be deleted: a
			// file without a record is only wasted space (a later commit
			// of the digest checks it), while a mark left behind would
			// hold up every commit of the digest.
			size, statErr := r.blobs.Stat(ctx, d)
			delErr := r.blobs.Delete(ctx, d)
			err := r.meta.Update(context.WithoutCancel(ctx), func(tx Tx) error {
				if err := tx.DeleteBlob(d); err != nil && !errors.Is(err, ErrNotFound) {
					return err
				}
				return nil
			})
			if err = errors.Join(delErr, err); err != nil {
				return st, err
			}
			st.Blobs++
			if statErr == nil {
				st.Bytes += size
			}
		}
	}
}

// gcLease names the lease a collection holds.
const gcLease = "garbage-collection"

// ErrCollectionRunning: another process or replica is collecting garbage.
var ErrCollectionRunning = errors.New("another garbage collection is running")

func (r *Registry) renewGCLease(ctx context.Context, holder string) error {
	var ok bool
	err := r.meta.Update(ctx, func(tx Tx) (err error) {
		ok, err = tx.TakeLease(gcLease, holder, r.now(), r.limits.LeaseTimeout)
		return err
	})
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
		err := r.meta.Update(ctx, func(tx Tx) error { return tx.PinBlob(d, size, r.now().UTC()) })
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
