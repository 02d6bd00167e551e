package registry

import (
	"context"
	"crypto/sha256"
	"encoding"
	"errors"
	"fmt"
	"hash"
	"io"
)

// InitiateLayerUpload starts an upload into the repository.
// Errors: RepositoryNotFound.
func (r *Registry) InitiateLayerUpload(ctx context.Context, key RepoKey) (Upload, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return Upload{}, err
	}
	state, err := marshalHash(sha256.New())
	if err != nil {
		return Upload{}, err
	}
	now := r.now().UTC()
	u := Upload{ID: r.newID(), Repo: key, CreatedAt: now, UpdatedAt: now, HashState: state}
	err = r.updateRepository(ctx, key, func(tx Tx) error {
		if _, err := r.access(ctx, tx, "InitiateLayerUpload", key); err != nil {
			return err
		}
		return tx.CreateUpload(u)
	})
	return u, err
}

// UploadLayerPart appends the n bytes of body to the upload. The part must
// start where the upload stands (first == bytes received so far) and span
// exactly n bytes (last == first+n-1), byte ranges being inclusive as in ECR.
// It returns the offset of the last byte received.
// Errors: RepositoryNotFound, UploadNotFound, InvalidLayerPart,
// LimitExceeded, InvalidParameter.
func (r *Registry) UploadLayerPart(ctx context.Context, key RepoKey, id UploadID, first, last, n int64, body io.Reader) (int64, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return 0, err
	}
	// Authorized by takeUpload, in the transaction that takes the upload,
	// before a byte is written.
	if n > r.limits.MaxPartSize {
		return 0, Errorf(CodeInvalidParameter, "Invalid parameter at 'layerPartBlob' failed to satisfy constraint: 'must have length less than or equal to %d'", r.limits.MaxPartSize)
	}
	if _, err := r.writePart(ctx, key, id, first, n, body, func(u Upload) error {
		return r.checkPart(u, first, last, n)
	}); err != nil {
		return 0, err
	}
	return last, nil
}

// writePart streams body (n bytes, or until EOF when n is -1) into the
// upload at offset, under a lease, once check accepts the upload as it
// stands; it hashes while streaming and returns the upload's new size.
func (r *Registry) writePart(ctx context.Context, key RepoKey, id UploadID, offset, n int64, body io.Reader, check func(Upload) error) (int64, error) {
	lease := string(r.newID())
	u, err := r.takeUpload(ctx, "UploadLayerPart", key, id, lease, func(_ Tx, u Upload) (bool, error) {
		return true, check(u)
	})
	if err != nil {
		return 0, err
	}

	h, err := unmarshalHash(u.HashState)
	if err != nil {
		r.releaseLease(ctx, id, lease)
		return 0, err
	}
	limit := n
	if n < 0 {
		// Streamed: one byte past the largest layer tells it is too large.
		limit = r.limitsFor(key.Registry).MaxLayerSize - u.Size + 1
	}
	// The lease lasts as long as the bytes keep coming: a part that takes
	// an hour on a slow link keeps it, a stalled one loses it after the
	// lease timeout, and its late bytes are then refused (renewal fails)
	// rather than written over the new holder's.
	src := &leasedReader{r: io.LimitReader(body, limit), every: r.limits.LeaseTimeout / 4, last: u.LeaseAt,
		renew: func() error { return r.renewLease(ctx, key, id, lease) }, now: r.now}
	var part io.Reader = io.TeeReader(src, h)
	if n >= 0 {
		part = declared{part, n} // a store may stream it (declared.go)
	}
	written, err := r.blobs.WriteUploadPart(ctx, id, u.Parts, offset, part)
	if errors.Is(err, ErrNotFound) {
		// The upload's earlier bytes are gone (committed or reaped): it can
		// never complete correctly, so it goes.
		r.dropUpload(ctx, id)
		return 0, uploadNotFound(key, id)
	}
	if err == nil && n >= 0 && written != n {
		// The body ended before the bytes it declared: the caller's
		// mistake (or a client gone), answered with where the upload
		// stands so that it can resend the part.
		err = &Error{
			Code:    CodeInvalidLayerPart,
			Message: fmt.Sprintf("The part declares %d bytes but its body held %d; the upload still holds %d bytes: resend the part", n, written, u.Size),
			Upload:  &UploadPosition{Registry: key.Registry, Name: key.Name, ID: id, LastValidByte: u.Size - 1},
		}
	}
	if err == nil && u.Size+written > r.limitsFor(key.Registry).MaxLayerSize {
		err = Errorf(CodeLimitExceeded, "A layer can be at most %d bytes", r.limitsFor(key.Registry).MaxLayerSize)
	}
	if err != nil {
		r.releaseLease(ctx, id, lease)
		return 0, err
	}
	state, err := marshalHash(h)
	if err != nil {
		r.releaseLease(ctx, id, lease)
		return 0, err
	}
	// The part is on disk; recording it must not depend on the client
	// staying to hear about it.
	err = r.updateRepository(context.WithoutCancel(ctx), key, func(tx Tx) error {
		cur, err := tx.Upload(id)
		if errors.Is(err, ErrNotFound) || err == nil && cur.Lease != lease {
			// Expired and reaped, or taken over after the lease lapsed:
			// this part's bytes may be overwritten, so it does not count.
			return uploadNotFound(key, id)
		} else if err != nil {
			return err
		}
		if cur.Parts > 0 && cur.LastPartSize < r.limits.MinPartSize {
			cur.SmallPart = true
		}
		cur.Size += written
		cur.Parts++
		cur.LastPartSize = written
		cur.HashState = state
		cur.Lease, cur.Holder = "", ""
		cur.UpdatedAt = r.now().UTC()
		return tx.UpdateUpload(cur)
	})
	if err != nil {
		if !IsCode(err, CodeUploadNotFound) {
			r.releaseLease(ctx, id, lease)
		}
		return 0, err
	}
	return u.Size + written, nil
}

// checkPart enforces ECR's rules for where a part may go.
func (r *Registry) checkPart(u Upload, first, last, n int64) error {
	bad := func(format string, args ...any) error {
		return &Error{
			Code:    CodeInvalidLayerPart,
			Message: fmt.Sprintf(format, args...),
			Upload:  &UploadPosition{Registry: u.Repo.Registry, Name: u.Repo.Name, ID: u.ID, LastValidByte: u.Size - 1},
		}
	}
	switch {
	case first != u.Size:
		return bad("The part's first byte %d does not follow the last valid byte received, %d: parts must be sent in order and start at the next byte", first, u.Size-1)
	case last < first:
		return bad("The part's last byte %d is before its first byte %d", last, first)
	case last-first+1 != n:
		return bad("The part spans bytes %d to %d (%d bytes) but carries %d bytes", first, last, last-first+1, n)
	case u.Parts >= r.limitsFor(u.Repo.Registry).MaxParts:
		return Errorf(CodeLimitExceeded, "An upload can have at most %d parts", r.limitsFor(u.Repo.Registry).MaxParts)
	case u.Size+n > r.limitsFor(u.Repo.Registry).MaxLayerSize:
		return Errorf(CodeLimitExceeded, "A layer can be at most %d bytes; this part would make it %d", r.limitsFor(u.Repo.Registry).MaxLayerSize, u.Size+n)
	}
	return nil
}

// CompleteLayerUpload verifies the upload's bytes against the digests the
// client gives and makes the layer available in the repository.
// Errors: RepositoryNotFound, UploadNotFound, EmptyUpload, LayerPartTooSmall,
// InvalidLayer, LayerAlreadyExists.
func (r *Registry) CompleteLayerUpload(ctx context.Context, key RepoKey, id UploadID, digests []string) (Digest, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return "", err
	}
	return r.complete(ctx, key, id, digests, true)
}

// complete verifies and commits an upload; ecrRules adds ECR's rules on
// parts (at least one; every part but the last at least the minimum
// size), which the OCI API does not have.
func (r *Registry) complete(ctx context.Context, key RepoKey, id UploadID, digests []string, ecrRules bool) (Digest, error) {
	lease := string(r.newID())
	var digest Digest
	var exists bool
	u, err := r.takeUpload(ctx, "CompleteLayerUpload", key, id, lease, func(tx Tx, u Upload) (bool, error) {
		switch {
		case ecrRules && u.Parts == 0:
			return false, Errorf(CodeEmptyUpload, "The layer upload with id '%s' does not contain any layer parts", id)
		case ecrRules && u.SmallPart:
			return false, Errorf(CodeLayerPartTooSmall, "Layer parts must be at least %d bytes (%d MiB) in size, except the last", r.limits.MinPartSize, r.limits.MinPartSize/mib)
		}
		h, err := unmarshalHash(u.HashState)
		if err != nil {
			return false, err
		}
		digest = Digest(fmt.Sprintf("sha256:%x", h.Sum(nil)))
		if err := checkDigests(digest, digests); err != nil {
			return false, err
		}
		// A layer the repository already holds is not made twice; the
		// upload is used up either way.
		have, err := tx.Layers(key, []Digest{digest})
		if err != nil {
			return false, err
		}
		if _, exists = have[digest]; exists {
			return false, tx.DeleteUpload(id)
		}
		return true, nil
	})
	if err != nil {
		return "", err
	}
	if exists {
		r.discardUpload(ctx, id)
		return "", Errorf(CodeLayerAlreadyExists, "The layer with digest '%s' already exists in the repository with name '%s' in registry with id '%s'", digest, key.Name, key.Registry.Account())
	}

	// Pinned, the blob is safe from a collection for the lease timeout.
	if err := r.pinBlob(ctx, digest, u.Size); err != nil {
		r.releaseLease(ctx, id, lease)
		return "", err
	}
	// The bytes become durable under their digest before the metadata that
	// acknowledges them commits: a crash in between leaves only an
	// unreferenced blob, never a layer without bytes.
	err = r.blobs.CommitUpload(ctx, id, u.Parts, u.Size, digest)
	if errors.Is(err, ErrNotFound) {
		// Neither the upload's bytes nor the blob are there (an earlier
		// commit whose blob was collected since): it can never complete.
		r.dropUpload(ctx, id)
		return "", uploadNotFound(key, id)
	}
	if err != nil {
		r.releaseLease(ctx, id, lease)
		return "", err
	}
	// From here the bytes are the blob, and the upload holds none of its
	// own: if the final transaction fails, the upload stays (its lease
	// released), and a retry commits again, which finds the blob in place.
	// A part appended meanwhile finds its earlier bytes gone and ends the
	// upload (WriteUploadPart's ErrNotFound), so nothing lands after a
	// hole. The transaction runs even if the client has gone.
	ctx = context.WithoutCancel(ctx)
	now := r.now().UTC()
	err = r.updateRepository(ctx, key, func(tx Tx) error {
		if cur, err := tx.Upload(id); errors.Is(err, ErrNotFound) || err == nil && cur.Lease != lease {
			return uploadNotFound(key, id)
		} else if err != nil {
			return err
		}
		if err := tx.DeleteUpload(id); err != nil {
			return err
		}
		// The pin taken before the commit made the record; if it is gone,
		// a collection took the blob after the pin lapsed, and the bytes
		// may be gone with it: acknowledge nothing.
		if _, err := tx.Blob(digest); errors.Is(err, ErrNotFound) {
			return fmt.Errorf("blob %s was collected during its commit: %w", digest, ErrConflict)
		} else if err != nil {
			return err
		}
		if err := tx.AddBlob(Blob{Digest: digest, Size: u.Size, CreatedAt: now}); err != nil {
			return err
		}
		return tx.AddLayer(key, Layer{Digest: digest, Size: u.Size, CreatedAt: now})
	})
	switch {
	case err == nil:
		r.discardUpload(ctx, id)
		return digest, nil
	case errors.Is(err, ErrExists):
		// A concurrent complete of the same bytes won; this upload is used
		// up all the same.
		r.dropUpload(ctx, id)
		return "", Errorf(CodeLayerAlreadyExists, "The layer with digest '%s' already exists in the repository with name '%s' in registry with id '%s'", digest, key.Name, key.Registry.Account())
	case errors.Is(err, ErrNotFound):
		r.dropUpload(ctx, id)
		return "", repositoryNotFound(key)
	case IsCode(err, CodeUploadNotFound):
		return "", err
	}
	r.releaseLease(ctx, id, lease)
	return "", err
}

// checkDigests requires every digest the client gave to name the bytes
// received. ecrd computes sha256, as ECR does.
func checkDigests(computed Digest, given []string) error {
	for _, g := range given {
		if g != string(computed) {
			return Errorf(CodeInvalidLayer, "The layer digest calculated from the uploaded bytes, '%s', does not match the digest specified, '%s'", computed, g)
		}
	}
	return nil
}

// takeUpload checks the upload and, when check passes and asks for it,
// leases the upload to the caller so that no other request writes it
// meanwhile. check runs inside the transaction; it may finish the upload
// itself (and return lease false), in which case its writes commit.
func (r *Registry) takeUpload(ctx context.Context, action string, key RepoKey, id UploadID, lease string, check func(tx Tx, u Upload) (bool, error)) (Upload, error) {
	var u Upload
	// Taking the lease acknowledges nothing: the part's own commit, or
	// the completion's, makes it durable with them (LazyCommit).
	err := r.updateRepository(LazyCommitContext(ctx), key, func(tx Tx) error {
		var err error
		if u, err = r.liveUpload(ctx, tx, action, key, id); err != nil {
			return err
		}
		now := r.now()
		if r.leaseHeld(u, now) {
			return &Error{
				Code:    CodeInvalidLayerPart,
				Message: "Another request is writing to this upload; retry once it has finished",
				Upload:  &UploadPosition{Registry: key.Registry, Name: key.Name, ID: id, LastValidByte: u.Size - 1},
			}
		}
		take, err := check(tx, u)
		if err != nil || !take {
			return err
		}
		r.abandoned.Delete(u.Lease)
		u.Lease, u.Holder, u.LeaseAt, u.UpdatedAt = lease, r.holders.Self(), now.UTC(), now.UTC()
		return tx.UpdateUpload(u)
	})
	return u, err
}

// liveUpload returns the upload if the caller may take action on the
// repository, and the upload belongs to it and has not expired. An upload of another repository is reported as not found, so
// upload IDs do not leak across repositories or accounts.
func (r *Registry) liveUpload(ctx context.Context, tx Tx, action string, key RepoKey, id UploadID) (Upload, error) {
	if _, err := r.access(ctx, tx, action, key); err != nil {
		return Upload{}, err
	}
	u, err := tx.Upload(id)
	if errors.Is(err, ErrNotFound) || err == nil && (u.Repo != key || r.expired(u)) {
		return Upload{}, uploadNotFound(key, id)
	}
	return u, err
}

func (r *Registry) expired(u Upload) bool {
	return r.now().Sub(u.UpdatedAt) > r.limits.UploadExpiry
}

func uploadNotFound(key RepoKey, id UploadID) *Error {
	return Errorf(CodeUploadNotFound, "The upload with id '%s' does not exist in the repository with name '%s' in the registry with id '%s'", id, key.Name, key.Registry.Account())
}

func (r *Registry) discardUpload(ctx context.Context, id UploadID) {
	if err := r.blobs.DeleteUpload(context.WithoutCancel(ctx), id); err != nil {
		r.log.Warn("could not remove an upload's bytes", "upload", id, "err", err)
	}
}

func marshalHash(h hash.Hash) ([]byte, error) {
	return h.(encoding.BinaryMarshaler).MarshalBinary()
}

func unmarshalHash(state []byte) (hash.Hash, error) {
	h := sha256.New()
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return nil, fmt.Errorf("restoring the upload's hash state: %w", err)
	}
	return h, nil
}
