package registry

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Limits are the bounds the core enforces on uploads. The defaults are ECR's
// service quotas.
type Limits struct {
	// PartSize is the part size InitiateLayerUpload advises clients to use.
	PartSize int64
	// MinPartSize is the least size of every part but the last.
	MinPartSize int64
	// MaxPartSize is the most bytes one part may carry.
	MaxPartSize int64
	// MaxParts is the most parts one upload may have.
	MaxParts int
	// MaxLayerSize is the largest layer an upload may build.
	MaxLayerSize int64
	// UploadExpiry is how long an upload may stay idle before it expires
	// and its bytes are reclaimed.
	UploadExpiry time.Duration
	// LeaseTimeout is how long a request writing to an upload may go
	// without progress before another request may take the upload over
	// (the holder is presumed stuck). A holder that makes progress renews
	// its lease; one whose process died loses it at once (Holders).
	LeaseTimeout time.Duration
	// RestoreDelay is how long a restored image stays ACTIVATING before it
	// is ACTIVE again (ECR: up to 20 minutes).
	RestoreDelay time.Duration
	// PublicMaxParts and PublicMaxLayerSize replace MaxParts and
	// MaxLayerSize in public registries (ECR Public's quotas are lower).
	PublicMaxParts     int
	PublicMaxLayerSize int64
}

const mib = 1 << 20

// DefaultLimits returns ECR's quotas: parts of 5 MiB to 20 MiB (the model's
// LayerPartBlob maximum), 4,200 parts, layers up to 52,000 MiB. Idle uploads
// expire after 24 hours.
func DefaultLimits() Limits {
	return Limits{
		PartSize:     10 * mib,
		MinPartSize:  5 * mib,
		MaxPartSize:  20 * mib,
		MaxParts:     4200,
		MaxLayerSize: 52000 * mib,
		UploadExpiry: 24 * time.Hour,
		LeaseTimeout: time.Minute,
		RestoreDelay: 5 * time.Second,
		// ECR Public: 1,000 parts, layers up to 10,000 MiB.
		PublicMaxParts:     1000,
		PublicMaxLayerSize: 10000 * mib,
	}
}

// limitsFor returns the limits of uploads into the registry.
func (r *Registry) limitsFor(reg RegistryID) Limits {
	l := r.limits
	if reg.IsPublic() && l.PublicMaxParts > 0 {
		l.MaxParts = l.PublicMaxParts
	}
	if reg.IsPublic() && l.PublicMaxLayerSize > 0 {
		l.MaxLayerSize = l.PublicMaxLayerSize
	}
	return l
}

// Options configure a Registry.
type Options struct {
	Meta  MetaStore
	Blobs BlobStore
	// Region names the AWS region the registry answers as; it appears in
	// the ARNs of defaulted KMS keys.
	Region string
	Limits Limits
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
	// NewUploadID returns a fresh upload ID; NewUploadID when nil.
	NewUploadID func() UploadID
	// Logger receives what the core cannot return to a caller, such as a
	// failed clean-up after a successful operation; discarded when nil.
	Logger *slog.Logger
	// Holders tells whether the process holding an upload's lease runs;
	// nil takes every holder for alive, so leases lapse only by timeout.
	Holders Holders
	// OnStorageError, when set, is told of every store call that failed
	// for want of storage (the metrics count them; the log says it once
	// per episode).
	OnStorageError func(StorageKind)
	// Links, when set, makes downloads redirects to URLs of the blob
	// store's (LayerLink, BlobLinker); nil: ecrd serves the bytes.
	Links BlobLinker
	// Principals, when set, says which IAM principals exist, so that a
	// policy naming one that does not is refused, as IAM refuses it.
	Principals PrincipalDirectory
	// CreateOnPush makes a push to a missing repository that no
	// CREATE_ON_PUSH template covers create it with ECR's defaults, as if
	// a ROOT template applied to pushes (--create-on-push).
	CreateOnPush bool
}

// Registry is the domain core. All its methods are safe for concurrent use;
// correctness across replicas rests on MetaStore transactions, not on
// process-local locks.
type Registry struct {
	meta   MetaStore
	blobs  BlobStore
	links  BlobLinker // Options.Links, watched; nil: no redirects
	region string
	limits Limits
	now    func() time.Time
	newID  func() UploadID
	log    *slog.Logger
	// holders is Options.Holders, or one that names no process and takes
	// every holder for alive.
	holders Holders
	// abandoned holds the upload leases this process gave up without
	// being able to record it (releaseLease failed): knowledge only this
	// process has, about leases only it could hold.
	abandoned sync.Map
	// writers queues this process's write transactions per repository
	// before a ConflictRetrier (see updateRepository); nil: no queue.
	writers *writers
	// policies caches parsed repository and registry policies.
	policies policyCache
	// decisions caches access decisions (access_cache.go).
	decisions decisionCache
	// principals is Options.Principals; nil knows of none.
	principals PrincipalDirectory
	// createOnPush is Options.CreateOnPush.
	createOnPush bool
}

// New returns a Registry over the given stores.
func New(o Options) *Registry {
	r := &Registry{meta: o.Meta, blobs: o.Blobs, region: o.Region, limits: o.Limits, now: o.Now, newID: o.NewUploadID, log: o.Logger, holders: o.Holders,
		principals: o.Principals, createOnPush: o.CreateOnPush}
	if _, ok := o.Meta.(ConflictRetrier); ok {
		r.writers = newWriters()
	}
	if r.holders == nil {
		r.holders = everyoneAlive{}
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.newID == nil {
		r.newID = NewUploadID
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	// Every store call passes the watch, which logs a full or failing
	// disk once per episode rather than once per request.
	w := &storageWatch{log: r.log, failed: map[StorageKind]int{}, notify: o.OnStorageError}
	if r.meta != nil {
		r.meta = watchedMeta{MetaStore: r.meta, w: w}
	}
	if r.blobs != nil {
		r.blobs = watchedBlobs{BlobStore: r.blobs, w: w}
	}
	if o.Links != nil {
		r.links = watchedLinker{BlobLinker: o.Links, w: w}
	}
	if r.limits == (Limits{}) {
		r.limits = DefaultLimits()
	}
	return r
}

// viewSingle is View for an fn of one statement (SingleReader).
func (r *Registry) viewSingle(ctx context.Context, fn func(tx Tx) error) error {
	if w, ok := r.meta.(watchedMeta); ok {
		return w.ViewSingle(ctx, fn)
	}
	return r.meta.View(ctx, fn)
}

// Limits returns the limits in force.
func (r *Registry) Limits() Limits { return r.limits }

// Ping reports whether the stores are open.
func (r *Registry) Ping(ctx context.Context) error { return r.meta.Ping(ctx) }

// Pinger is a store that can say whether it answers. A BlobStore may
// implement it (object storage across a network should); one that does
// not is taken to answer whenever the process runs.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Ready reports whether both stores answer: the metadata store, and the
// blob store when it can tell. A replica that is not ready should get no
// traffic, although it lives (Ping).
func (r *Registry) Ready(ctx context.Context) error {
	if err := r.meta.Ping(ctx); err != nil {
		return fmt.Errorf("metadata store: %w", err)
	}
	if p, ok := r.blobs.(Pinger); ok {
		if err := p.Ping(ctx); err != nil {
			return fmt.Errorf("blob store: %w", err)
		}
	}
	return nil
}

type callerKey struct{}

// WithCaller returns ctx carrying the authenticated principal. Every
// operation acts on its behalf: its account's registry is the default, and
// no other account's registry is visible to it.
func WithCaller(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, callerKey{}, p)
}

// Caller returns the principal set by WithCaller (zero if none).
func Caller(ctx context.Context) Principal {
	p, _ := ctx.Value(callerKey{}).(Principal)
	return p
}

// resolve fills in the caller's private registry when the key names
// none. A key may name another account's registry: whether the caller
// may act on it is for the policies to say (access), and until they do
// nothing of it is read.
func (r *Registry) resolve(ctx context.Context, key RepoKey) (RepoKey, error) {
	caller := Caller(ctx).Account
	if caller == "" && !key.Registry.IsPublic() {
		return key, Errorf(CodeInvalidParameter, "the request carries no account")
	}
	if key.Registry == "" {
		key.Registry = caller
	}
	return key, nil
}

func repositoryNotFound(key RepoKey) *Error {
	return Errorf(CodeRepositoryNotFound, "The repository with name '%s' does not exist in the registry with id '%s'", key.Name, key.Registry.Account())
}

// everyoneAlive is the Holders of a registry given none.
type everyoneAlive struct{}

func (everyoneAlive) Self() string      { return "" }
func (everyoneAlive) Alive(string) bool { return true }
