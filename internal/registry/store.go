package registry

import (
	"context"
	"io"
	"time"
)

// Repository is a repository's stored settings.
type Repository struct {
	Registry  RegistryID
	Name      RepositoryName
	CreatedAt time.Time
	// TagMutability is one of MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION,
	// MUTABLE_WITH_EXCLUSION.
	TagMutability string
	// MutabilityExclusions are wildcard tag filters; only set with the
	// *_WITH_EXCLUSION mutabilities.
	MutabilityExclusions []string
	ScanOnPush           bool
	// EncryptionType is AES256, KMS or KMS_DSSE; KMSKey is set for the KMS types.
	EncryptionType string
	KMSKey         string
	// Tags are the resource tags given at creation, in the order given.
	Tags []ResourceTag
}

// Key returns the repository's key.
func (r Repository) Key() RepoKey { return RepoKey{Registry: r.Registry, Name: r.Name} }

// ResourceTag is an AWS resource tag.
type ResourceTag struct{ Key, Value string }

// Layer is a blob that a repository holds: uploaded to it (or, later, pushed
// or mounted into it). Availability never leaks across repositories: a Layer
// row exists per repository even when the bytes are stored once.
type Layer struct {
	Digest Digest
	Size   int64
	// MediaType is the media type under which an image in the repository
	// refers to the layer; empty while nothing refers to it.
	MediaType string
	CreatedAt time.Time
}

// BlobStatus is Tx.LayerStatus's answer.
type BlobStatus struct {
	Access RepositoryAccess
	Layer  Layer
	// Use is the most available status of the images referring to Layer.
	Use string
}

// HeldLayer is a layer of Tx.HeldLayers' answer.
type HeldLayer struct {
	Layer Layer
	// Use is as in BlobStatus.
	Use string
}

// Blob is content stored once per digest, whatever repositories hold it.
type Blob struct {
	Digest    Digest
	Size      int64
	CreatedAt time.Time
}

// Upload is an in-progress layer upload.
type Upload struct {
	ID        UploadID
	Repo      RepoKey
	CreatedAt time.Time
	UpdatedAt time.Time
	// Size is the number of bytes received so far; Parts how many parts.
	Size  int64
	Parts int
	// LastPartSize is the size of the latest part; SmallPart records that
	// some part other than the latest was smaller than the minimum part size.
	LastPartSize int64
	SmallPart    bool
	// HashState is the marshalled sha256 state over the Size bytes received,
	// so that any replica can continue hashing without re-reading them.
	HashState []byte
	// Lease is set while one request writes a part or completes the upload,
	// so that two requests never write the same bytes at once. Holder names
	// the process that took it (Holders.Self): a lease dies with its
	// process. LeaseAt is when the holder last made progress; a lease
	// without progress for the lease timeout may be taken over too.
	Lease   string
	Holder  string
	LeaseAt time.Time
}

// Holders tells the core whether the process that took a lease still
// runs, so that a lease dies with its holder instead of outliving a crash:
// a restarted ecrd resumes the uploads of the one that died at once.
type Holders interface {
	// Self names this process; it holds the name for as long as it runs.
	Self() string
	// Alive reports whether the process named id still runs. When it
	// cannot tell, it answers true: the lease then lapses by its timeout.
	Alive(id string) bool
}

// MetaStore keeps every record of the registry. All reads and writes go
// through transactions: View for reads, Update for writes. Update runs fn in
// a serializable transaction and commits when fn returns nil; it may run fn
// more than once when the store detects a conflict, so fn must have no side
// effects outside tx.
type MetaStore interface {
	View(ctx context.Context, fn func(tx Tx) error) error
	Update(ctx context.Context, fn func(tx Tx) error) error
	// Ping reports whether the store is open and answering.
	Ping(ctx context.Context) error
	Close() error
}

// LazyCommit reports whether the Update run under ctx acknowledges nothing
// by itself (an upload's lease taken, renewed or given back): a store may
// then return before its commit is on disk, provided the store's later
// commits make it durable with them, in order (SQLite's WAL under
// synchronous=NORMAL, then FULL). A power loss can then lose only such
// commits, which no client was told of, and none before them: never one
// that was acknowledged. A store may ignore it.
func LazyCommit(ctx context.Context) bool {
	lazy, _ := ctx.Value(lazyCommitKey{}).(bool)
	return lazy
}

type lazyCommitKey struct{}

// LazyCommitContext marks ctx's Updates LazyCommit (for the core, and
// stores' tests).
func LazyCommitContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, lazyCommitKey{}, true)
}

// A SingleReader is a MetaStore that can answer a read of one statement
// more cheaply than View's transaction: PostgreSQL runs it alone, with no
// BEGIN and COMMIT round trips, its snapshot that of the statement. fn is
// as View's; one that runs a second statement, or any write, is run again
// in View, so the answer is always View's.
type SingleReader interface {
	ViewSingle(ctx context.Context, fn func(tx Tx) error) error
}

// A ConflictRetrier is a MetaStore whose Updates run at once and abort
// (to be retried) when they conflict, where conflicts are judged by the
// index pages each read: PostgreSQL's serializable isolation. Before such
// a store the core queues a process's write transactions of one
// repository (see updateRepository). A store that runs one writer at a
// time (SQLite) has no such conflicts; a queue there would only put a
// repository's writers behind every other writer.
type ConflictRetrier interface {
	RetriesConflicts()
}

// Tx is one transaction over the metadata. Every Registry in a RepoKey given
// to a Tx is set (never empty).
type Tx interface {
	ImageTx
	GCTx
	PublicTx
	RegistryPolicyTx
	LifecycleTx
	AccessTx
	TemplateTx
	PullThroughTx
	ReplicationTx
	ExclusionTx
	AccountSettingTx
	ScanTx
	SigningTx

	// Repository returns the repository, or ErrNotFound.
	Repository(key RepoKey) (Repository, error)
	// Repositories returns up to limit repositories of reg with names
	// greater than after, in name order.
	Repositories(reg RegistryID, after RepositoryName, limit int) ([]Repository, error)
	// CreateRepository stores a new repository, or returns ErrExists.
	CreateRepository(r Repository) error
	// DeleteRepository removes the repository with its layers and uploads,
	// or returns ErrNotFound.
	DeleteRepository(key RepoKey) error

	// Layers returns the layers of the repository among digests, keyed by
	// digest; digests it does not hold are absent from the map.
	Layers(key RepoKey, digests []Digest) (map[Digest]Layer, error)
	// LayerStatus returns what a blob HEAD needs, in one read: what
	// decides access to the repository, as RepositoryAccess gives it
	// (but of the repository only its key and tags), the repository's
	// layer d (the zero Layer if it does not hold it), and for a held
	// layer the most available status of the repository's images that
	// refer to it as of now, as LayerRefs gives it ("" when none does).
	LayerStatus(key RepoKey, d Digest, now time.Time) (BlobStatus, error)
	// HeldLayers is Layers and LayerRefs in one read: the layers of the
	// repository among digests, keyed by digest, each with the most
	// available status of the repository's images that refer to it as of
	// now ("" when none does).
	HeldLayers(key RepoKey, digests []Digest, now time.Time) (map[Digest]HeldLayer, error)
	// CountLayers returns how many layers the repository holds, reading
	// every layer record: for tests and tools, never for a request
	// (RepositoryEmpty answers whether there are any).
	CountLayers(key RepoKey) (int, error)
	// RepositoryEmpty reports whether the repository holds no layer and no
	// image, at the cost of reading at most one record of each.
	RepositoryEmpty(key RepoKey) (bool, error)
	// AddLayer records that the repository holds l, or returns ErrExists.
	AddLayer(key RepoKey, l Layer) error
	// DeleteLayer removes the repository's layer record d, or returns
	// ErrNotFound.
	DeleteLayer(key RepoKey, d Digest) error

	// Blob returns the blob record, or ErrNotFound.
	Blob(d Digest) (Blob, error)
	// AddBlob records a blob (a blob already recorded keeps its record) and
	// clears its pin (see GCTx.PinBlob); a blob a collection is deleting
	// gives ErrConflict.
	AddBlob(b Blob) error

	// Upload returns the upload, or ErrNotFound.
	Upload(id UploadID) (Upload, error)
	// CreateUpload stores a new upload, or returns ErrExists.
	CreateUpload(u Upload) error
	// UpdateUpload replaces the stored upload with the same ID, or returns
	// ErrNotFound.
	UpdateUpload(u Upload) error
	// DeleteUpload removes the upload, or returns ErrNotFound.
	DeleteUpload(id UploadID) error
	// StaleUploads returns up to limit uploads last updated before t, oldest
	// first.
	StaleUploads(before time.Time, limit int) ([]Upload, error)
	// RepositoryUploads returns the IDs of every upload of the repository.
	RepositoryUploads(key RepoKey) ([]UploadID, error)

	// Secret returns the named server secret, or ErrNotFound.
	Secret(name string) ([]byte, error)
	// CreateSecret stores a new named secret, or returns ErrExists.
	CreateSecret(name string, value []byte) error
}

// BlobStore keeps blob bytes by digest and the bytes of in-progress uploads.
// It knows nothing of repositories: which repository holds which blob is
// metadata. Every write is durable when the method returns.
type BlobStore interface {
	// WriteUploadPart streams r as part number part (0-based) of upload id,
	// starting at byte offset, and returns the bytes written. Writing a part
	// again replaces what an earlier, failed write of it left.
	WriteUploadPart(ctx context.Context, id UploadID, part int, offset int64, r io.Reader) (int64, error)
	// CommitUpload makes the first size bytes of upload id, made of parts
	// 0..parts-1, the blob d, and discards the upload. The caller has
	// verified the digest. If blob d exists already the upload is discarded
	// and the existing blob kept.
	CommitUpload(ctx context.Context, id UploadID, parts int, size int64, d Digest) error
	// DeleteUpload discards an upload's bytes; an unknown upload is not an error.
	DeleteUpload(ctx context.Context, id UploadID) error
	// Stat returns the size of blob d, or ErrNotFound.
	Stat(ctx context.Context, d Digest) (int64, error)
	// Open returns the bytes of blob d from offset on, or ErrNotFound.
	Open(ctx context.Context, d Digest, offset int64) (io.ReadCloser, error)
	// Delete removes blob d; a missing blob is not an error.
	Delete(ctx context.Context, d Digest) error
}
