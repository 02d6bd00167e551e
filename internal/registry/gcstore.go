package registry

import "time"

// GCTx is the part of a transaction that garbage collection and the
// uploads racing with it use. The rule it serves: bytes are deleted only
// for blobs that no layer record names, that are older than the grace
// period, and that no upload has pinned recently; an upload pins its blob
// in the same transaction that decides to commit it, so a collection that
// began earlier can never delete bytes an upload is about to acknowledge.
//
// A collection sweeps the layer and blob records a page at a time, each
// page in a transaction of its own that visits at most limit records in
// key order from a cursor: its cost is the page's, however many records
// the registry holds, and every decision to delete is taken in the
// transaction that deletes, so a write that commits between two pages is
// judged as it stands when the sweep reaches it.
type GCTx interface {
	// PinBlob records that bytes for d (size bytes) are being committed at
	// now, creating the blob record when missing. It returns ErrConflict
	// while a collection is deleting d's bytes.
	PinBlob(d Digest, size int64, now time.Time) error
	// ReleaseLayers records that an image referring to these layers of the
	// repository went away at now, restarting their grace period.
	ReleaseLayers(key RepoKey, digests []Digest, now time.Time) error
	// DeleteUnreferencedLayers visits the first limit layer records after
	// after, in LayerCursor order, and removes those that no image of their
	// repository refers to and that were created, and last released,
	// before before.
	DeleteUnreferencedLayers(after LayerCursor, before time.Time, limit int) (LayerSweep, error)
	// MarkGarbageBlobs visits the first limit blob records with digests
	// greater than after, in byte order, and marks as being deleted those
	// that no layer record names, created before before and pinned (if
	// ever) before pinnedBefore; it returns them, with the blobs in the
	// page that a collection marked earlier and did not finish.
	MarkGarbageBlobs(after Digest, before, pinnedBefore time.Time, limit int) (BlobSweep, error)
	// DeleteBlob removes the record of blob d, or returns ErrNotFound.
	DeleteBlob(d Digest) error
	// UnmarkBlob clears the mark MarkGarbageBlobs set on d, whose bytes a
	// collection could not delete: commits of d go ahead meanwhile, and
	// the next collection tries again. A blob not recorded is no error.
	UnmarkBlob(d Digest) error

	// TakeLease gives the named lease to holder until now+ttl if it is
	// free, expired, or already holder's, and reports whether it did.
	TakeLease(name, holder string, now time.Time, ttl time.Duration) (bool, error)
	// DropLease frees the named lease if holder holds it.
	DropLease(name, holder string) error
}

// LayerCursor names a layer record in the order a sweep visits them: by
// registry, then repository name, then digest, each in byte order. The
// zero LayerCursor comes before every record (the one place a Tx is given
// an empty Registry).
type LayerCursor struct {
	Repo   RepoKey
	Digest Digest
}

// LayerSweep is what one page of a sweep over layer records did.
type LayerSweep struct {
	// Visited is how many records the page read; fewer than the limit
	// means the sweep has reached the end.
	Visited int
	// Last is the last record visited, where the next page starts; the
	// cursor given when the page visited none.
	Last LayerCursor
	// Deleted is how many of the visited records went.
	Deleted int
}

// BlobSweep is what one page of a sweep over blob records did.
type BlobSweep struct {
	// Visited and Last are as in LayerSweep.
	Visited int
	Last    Digest
	// Marked are the blobs of the page now marked as being deleted, in
	// digest order.
	Marked []Digest
}
