package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// An upload's lease keeps two requests from writing its bytes at once. It
// names the process that took it (Holders), so it dies with that process,
// and lasts while its holder makes progress.

// leaseHeld reports whether another request holds the upload now: its
// lease has seen progress within the lease timeout and its process runs.
func (r *Registry) leaseHeld(u Upload, now time.Time) bool {
	if u.Lease == "" || now.Sub(u.LeaseAt) >= r.limits.LeaseTimeout || !r.holders.Alive(u.Holder) {
		return false
	}
	// A lease this process gave up but could not record as given up (the
	// store failed then) is no one's.
	_, abandoned := r.abandoned.Load(u.Lease)
	return !abandoned || u.Holder != r.holders.Self()
}

// errLeaseLost ends a write whose lease another request has taken over.
var errLeaseLost = errors.New("the upload's lease was taken over by another request")

// renewLease records that the holder of lease is making progress.
func (r *Registry) renewLease(ctx context.Context, key RepoKey, id UploadID, lease string) error {
	err := r.updateRepository(ctx, key, func(tx Tx) error {
		u, err := tx.Upload(id)
		if errors.Is(err, ErrNotFound) || err == nil && u.Lease != lease {
			return uploadNotFound(key, id)
		} else if err != nil {
			return err
		}
		now := r.now().UTC()
		u.LeaseAt, u.UpdatedAt = now, now
		return tx.UpdateUpload(u)
	})
	if IsCode(err, CodeUploadNotFound) {
		return fmt.Errorf("%w: %w", errLeaseLost, err)
	}
	return err
}

// leasedReader passes a part's bytes through, renewing the lease at most
// every so often while they come. A renewal that fails ends the read, so
// that bytes which arrive after the lease was lost are never written.
type leasedReader struct {
	r     io.Reader
	every time.Duration
	last  time.Time
	renew func() error
	now   func() time.Time
}

func (l *leasedReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if n > 0 && l.now().Sub(l.last) >= l.every {
		if rerr := l.renew(); rerr != nil {
			return 0, rerr
		}
		l.last = l.now()
	}
	return n, err
}

// releaseLease gives the upload back after a failed write, so the client can
// retry the part at once instead of waiting out the lease.
func (r *Registry) releaseLease(ctx context.Context, id UploadID, lease string) {
	err := r.meta.Update(LazyCommitContext(context.WithoutCancel(ctx)), func(tx Tx) error {
		u, err := tx.Upload(id)
		if err != nil || u.Lease != lease {
			return nil
		}
		u.Lease, u.Holder = "", ""
		return tx.UpdateUpload(u)
	})
	if err != nil {
		// The client may retry as soon as the store recovers, not only
		// once the lease times out.
		r.abandoned.Store(lease, true)
		r.log.Warn("could not release an upload lease", "upload", id, "err", err)
	}
}
