package registry

import (
	"context"
	"errors"
)

// ExpireUploads removes uploads idle for longer than the expiry period, with
// their bytes, and returns how many it removed. Each record is deleted
// first, in a transaction that checks again that the upload is idle and
// not being written, so no request can be adding bytes to it; the bytes go
// after. A crash in between leaves an orphan directory, never a live
// upload without its bytes.
func (r *Registry) ExpireUploads(ctx context.Context) (int, error) {
	removed := 0
	for {
		var stale []Upload
		err := r.meta.View(ctx, func(tx Tx) (err error) {
			stale, err = tx.StaleUploads(r.now().Add(-r.limits.UploadExpiry), 100)
			return err
		})
		if err != nil || len(stale) == 0 {
			return removed, err
		}
		progress := false
		for _, u := range stale {
			gone := false
			err := r.meta.Update(ctx, func(tx Tx) error {
				cur, err := tx.Upload(u.ID)
				if errors.Is(err, ErrNotFound) {
					return nil
				} else if err != nil {
					return err
				}
				if !r.expired(cur) || r.leaseHeld(cur, r.now()) {
					return nil
				}
				gone = true
				return tx.DeleteUpload(u.ID)
			})
			if err != nil {
				return removed, err
			}
			if !gone {
				continue
			}
			progress = true
			removed++
			if err := r.blobs.DeleteUpload(ctx, u.ID); err != nil {
				return removed, err
			}
		}
		if !progress {
			return removed, nil
		}
	}
}

// dropUpload deletes an upload record that can no longer complete, and its
// bytes, ignoring a record already gone.
func (r *Registry) dropUpload(ctx context.Context, id UploadID) {
	ctx = context.WithoutCancel(ctx)
	err := r.meta.Update(ctx, func(tx Tx) error {
		if err := tx.DeleteUpload(id); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		return nil
	})
	if err != nil {
		r.log.Warn("could not remove a finished upload's record", "upload", id, "err", err)
	}
	r.discardUpload(ctx, id)
}
