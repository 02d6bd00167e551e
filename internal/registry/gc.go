package registry

import (
	"context"
	"errors"
	"time"
)

// GCStats says what a collection removed.
type GCStats struct {
	Layers int // layer records no image referred to
	Blobs  int // blobs no layer record named, with their bytes
}

// CollectGarbage reclaims what nothing uses any more, in two steps:
//
//  1. Layer records that no image of their repository refers to and that
//     are older than grace go (ECR: "unassociated image layers may be
//     cleaned up at any time"; the grace period is what keeps a layer a
//     push has just uploaded, or just found AVAILABLE, until its manifest
//     arrives).
//  2. Blobs that no layer record names, older than grace and not pinned by
//     an upload within the lease timeout, are marked in one transaction,
//     their bytes deleted, and their records removed. An upload pins its
//     blob in the transaction that decides to commit it, so it either
//     happens before the mark (and the blob is skipped) or after it (and
//     waits until the collection has finished with the digest).
//
// Interrupted runs are safe to repeat: marked blobs are picked up again.
func (r *Registry) CollectGarbage(ctx context.Context, grace time.Duration) (GCStats, error) {
	var st GCStats
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
			if err := r.blobs.Delete(ctx, d); err != nil {
				return st, err
			}
			err := r.meta.Update(ctx, func(tx Tx) error {
				if err := tx.DeleteBlob(d); err != nil && !errors.Is(err, ErrNotFound) {
					return err
				}
				return nil
			})
			if err != nil {
				return st, err
			}
			st.Blobs++
		}
	}
}

// pinBlob pins d for a commit, waiting while a collection finishes
// deleting an earlier copy of the same bytes (it deletes them right after
// marking, so the wait is short).
func (r *Registry) pinBlob(ctx context.Context, d Digest, size int64) error {
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		err := r.meta.Update(ctx, func(tx Tx) error { return tx.PinBlob(d, size, r.now().UTC()) })
		if !errors.Is(err, ErrConflict) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}
