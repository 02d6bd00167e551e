package registry

import "time"

// GCTx is the part of a transaction that garbage collection and the
// uploads racing with it use. The rule it serves: bytes are deleted only
// for blobs that no layer record names, that are older than the grace
// period, and that no upload has pinned recently; an upload pins its blob
// in the same transaction that decides to commit it, so a collection that
// began earlier can never delete bytes an upload is about to acknowledge.
type GCTx interface {
	// PinBlob records that bytes for d (size bytes) are being committed at
	// now, creating the blob record when missing. It returns ErrConflict
	// while a collection is deleting d's bytes.
	PinBlob(d Digest, size int64, now time.Time) error
	// ReleaseLayers records that an image referring to these layers of the
	// repository went away at now, restarting their grace period.
	ReleaseLayers(key RepoKey, digests []Digest, now time.Time) error
	// DeleteUnreferencedLayers removes up to limit layer records, of any
	// repository, that no image of their repository refers to and that were
	// created, and last released, before before; it returns how many it
	// removed.
	DeleteUnreferencedLayers(before time.Time, limit int) (int, error)
	// MarkGarbageBlobs marks as being deleted, and returns, up to limit
	// blobs that no layer record names, created before before and pinned
	// (if ever) before pinnedBefore; blobs a collection marked earlier but
	// did not finish are returned again.
	MarkGarbageBlobs(before, pinnedBefore time.Time, limit int) ([]Digest, error)
	// DeleteBlob removes the record of blob d, or returns ErrNotFound.
	DeleteBlob(d Digest) error

	// TakeLease gives the named lease to holder until now+ttl if it is
	// free, expired, or already holder's, and reports whether it did.
	TakeLease(name, holder string, now time.Time, ttl time.Duration) (bool, error)
	// DropLease frees the named lease if holder holds it.
	DropLease(name, holder string) error
}
