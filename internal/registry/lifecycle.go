package registry

import (
	"context"
	"errors"
	"slices"
	"time"
)

// What capabilities beside the core (internal/lifecycle) build on: the
// caller's registry, transactions on a repository's records queued as the
// core's own, and the lifecycle actions, which delete and archive images
// by the same rules as BatchDeleteImage and UpdateImageStorageClass.

// Resolve fills in the caller's registry when key names none.
// Errors: InvalidParameter (a request with no account).
func (r *Registry) Resolve(ctx context.Context, key RepoKey) (RepoKey, error) {
	return r.resolve(ctx, key)
}

// ViewRepository runs fn in a read transaction, once the caller may take
// action on the repository and it is known to exist (AsCore: the core's
// own work, for no caller). Errors: AccessDenied, RepositoryNotFound, and
// fn's.
func (r *Registry) ViewRepository(ctx context.Context, action string, key RepoKey, fn func(tx Tx) error) error {
	return r.meta.View(ctx, func(tx Tx) error {
		if _, err := r.access(ctx, tx, action, key); err != nil {
			return err
		}
		return fn(tx)
	})
}

// UpdateRepository runs fn in a write transaction on the repository's
// records, queued as the core's own writes are, once the caller may take
// action on the repository and it is known to exist. fn may run more than
// once. Errors: AccessDenied, RepositoryNotFound, and fn's.
func (r *Registry) UpdateRepository(ctx context.Context, action string, key RepoKey, fn func(tx Tx) error) error {
	return r.updateRepository(ctx, key, func(tx Tx) error {
		if _, err := r.access(ctx, tx, action, key); err != nil {
			return err
		}
		return fn(tx)
	})
}

// View and Update run fn in a read or write transaction of the store, for
// records of no one repository (leases).
func (r *Registry) View(ctx context.Context, fn func(tx Tx) error) error {
	return r.meta.View(ctx, fn)
}

// Update is View's write transaction; fn may run more than once.
func (r *Registry) Update(ctx context.Context, fn func(tx Tx) error) error {
	return r.meta.Update(ctx, fn)
}

// Holders tells whether the process named by a record still runs.
func (r *Registry) Holders() Holders { return r.holders }

// Now is the registry's clock.
func (r *Registry) Now() time.Time { return r.now() }

// StatusAt is an image's status as of at: a restore whose time has come
// by then is complete.
func StatusAt(img Image, at time.Time) string {
	if img.Status == ImageActivating && !at.Before(img.ActiveAt) {
		return ImageActive
	}
	return img.Status
}

// LifecycleAction is what a lifecycle policy does to one image, with what
// the evaluation saw of the image.
type LifecycleAction struct {
	Digest Digest
	// Expire deletes the image with its tags; otherwise it is archived.
	Expire bool
	// Tags (in byte order) and Status (as of the evaluation's time) are
	// the image's when it was evaluated.
	Tags   []string
	Status string
}

// lifecycleBatch bounds the images one transaction of ApplyLifecycle
// acts on, so that a run never holds a repository's writers for long.
const lifecycleBatch = 50

// ApplyLifecycle carries out a policy's actions on a repository's images,
// evaluated as of at, a batch of them per transaction. An image that
// changed since it was evaluated (gone, another status, other tags, or now
// in an index that is not archived; for an expiry, in any index) is left
// alone: the next evaluation judges it as it is. It returns the actions taken. Errors:
// RepositoryNotFound, and the store's.
func (r *Registry) ApplyLifecycle(ctx context.Context, key RepoKey, at time.Time, actions []LifecycleAction) ([]LifecycleAction, error) {
	var done []LifecycleAction
	for batch := range slices.Chunk(actions, lifecycleBatch) {
		var took []LifecycleAction
		err := r.updateRepository(ctx, key, func(tx Tx) error {
			if err := r.checkRepository(tx, key); err != nil {
				return err
			}
			took = took[:0]
			now := r.now().UTC()
			for _, a := range batch {
				ok, err := r.applyLifecycle(tx, key, at, now, a)
				if err != nil {
					return err
				}
				if ok {
					took = append(took, a)
				}
			}
			return nil
		})
		if err != nil {
			return done, err
		}
		done = append(done, took...)
	}
	return done, nil
}

// applyLifecycle takes one action in tx, if the image is still as it was
// evaluated, and reports whether it did.
func (r *Registry) applyLifecycle(tx Tx, key RepoKey, at, now time.Time, a LifecycleAction) (bool, error) {
	img, err := tx.Image(key, a.Digest)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if StatusAt(img, at) != a.Status {
		return false, nil
	}
	tags, err := tx.ImageTags(key, a.Digest)
	if err != nil {
		return false, err
	}
	if !slices.Equal(tags, a.Tags) {
		return false, nil
	}
	parents, err := tx.Parents(key, a.Digest)
	if err != nil {
		return false, err
	}
	if a.Expire && len(parents) > 0 {
		return false, nil // as BatchDeleteImage, never from under an index
	}
	for _, p := range parents {
		pi, err := tx.ImageManifest(key, p)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return false, err
		}
		if err == nil && pi.Status != ImageArchived {
			return false, nil
		}
	}
	if a.Expire {
		return true, deleteAndRelease(tx, key, img, now)
	}
	if img.Status == ImageArchived {
		return false, nil
	}
	img.Status, img.LastArchivedAt, img.ActiveAt = ImageArchived, now, time.Time{}
	return true, tx.PutImage(key, img)
}

// IsIndex reports whether a manifest media type lists other manifests (a
// Docker manifest list or an OCI index).
func IsIndex(mediaType string) bool { return isIndex(mediaType) }

// EncodePageToken and DecodePageToken make and read the opaque nextToken
// of a listing kind, as the core's own listings do: a token of one kind
// is refused by another (InvalidParameter).
func EncodePageToken(kind, after string) string { return encodeToken(kind, after) }

// DecodePageToken: see EncodePageToken; "" decodes to "".
func DecodePageToken(kind, token string) (string, error) { return decodeToken(kind, token) }
