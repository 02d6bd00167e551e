package registry

import (
	"context"
	"errors"
	"time"
)

// BlobLinker is a BlobStore that can hand out URLs of its blobs, so that
// a download's bytes bypass ecrd (S3 presigned URLs, as ECR's are). The
// core uses it only when Options.Links is set: a store that can link may
// still be asked to serve the bytes itself.
type BlobLinker interface {
	// BlobURL returns a URL that answers GET, with Range, with the bytes
	// of blob d, to anyone who holds it, for expiry. It does not check
	// that the blob exists (the metadata says so); a failure to make the
	// URL is the store's (a StorageError).
	BlobURL(ctx context.Context, d Digest, expiry time.Duration) (string, error)
}

// DownloadURLLifetime is how long a download URL works: those
// GetDownloadUrlForLayer returns and those a /v2/ blob GET redirects to.
// An hour is what ecrd's own download URLs have always had, and longer
// than any client waits between asking and fetching. A URL S3 presigns
// with temporary credentials (an instance role) stops working when they
// expire, which may be sooner; clients ask again.
const DownloadURLLifetime = time.Hour

// LayerLink checks the layer as DownloadableLayer does and returns a URL
// of its bytes outside ecrd, or "" when downloads are not redirected (the
// caller serves the bytes). Errors: those of DownloadableLayer, and the
// blob store's failure to make the URL.
func (r *Registry) LayerLink(ctx context.Context, key RepoKey, digest string) (Layer, string, error) {
	l, err := r.DownloadableLayer(ctx, key, digest)
	return r.link(ctx, l, err)
}

// BlobLink checks the blob as StatBlob does and returns a URL of its
// bytes outside ecrd, or "" when downloads are not redirected.
func (r *Registry) BlobLink(ctx context.Context, key RepoKey, digest string) (Layer, string, error) {
	l, err := r.StatBlob(ctx, key, digest)
	return r.link(ctx, l, err)
}

// Redirects reports whether downloads are redirected to the blob store.
func (r *Registry) Redirects() bool { return r.links != nil }

// link makes the URL of a layer a check has passed (err is the check's
// result). A store that fails to make one fails the request: answering
// without a URL would be a success with nothing to download.
func (r *Registry) link(ctx context.Context, l Layer, err error) (Layer, string, error) {
	if err != nil || r.links == nil {
		return l, "", err
	}
	u, err := r.links.BlobURL(ctx, l.Digest, DownloadURLLifetime)
	if err == nil && u == "" {
		err = errors.New("the blob store made an empty download URL")
	}
	if err != nil {
		return l, "", err
	}
	return l, u, nil
}

// watchedLinker is a BlobLinker whose storage failures the watch sees.
type watchedLinker struct {
	BlobLinker
	w *storageWatch
}

func (b watchedLinker) BlobURL(ctx context.Context, d Digest, expiry time.Duration) (string, error) {
	u, err := b.BlobLinker.BlobURL(ctx, d, expiry)
	return u, b.w.observe(err, false)
}
