package registry

import (
	"context"
	"errors"
	"io"
)

// DownloadableLayer checks that the repository's layer d may be
// downloaded: the repository holds it, an image refers to it, and some
// image that refers to it is active.
// Errors: RepositoryNotFound, InvalidParameter (malformed digest),
// LayersNotFound, LayerInaccessible.
func (r *Registry) DownloadableLayer(ctx context.Context, key RepoKey, digest string) (Layer, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return Layer{}, err
	}
	d, err := ParseDigest(digest)
	if err != nil {
		return Layer{}, Errorf(CodeInvalidParameter, "Invalid parameter at 'layerDigest': %v", err)
	}
	var l Layer
	err = r.meta.View(ctx, func(tx Tx) error {
		if _, err := r.access(ctx, tx, "GetDownloadUrlForLayer", key); err != nil {
			return err
		}
		have, err := tx.Layers(key, []Digest{d})
		if err != nil {
			return err
		}
		var ok bool
		if l, ok = have[d]; !ok {
			return Errorf(CodeLayersNotFound, "The specified layers could not be found, or the specified layer is not valid for this repository: '%s' is not a layer of the repository with name '%s'", d, key.Name)
		}
		refs, err := tx.LayerRefs(key, []Digest{d}, r.now())
		if err != nil {
			return err
		}
		switch rf := refs[d]; {
		case rf == "":
			return Errorf(CodeLayerInaccessible, "The specified layer is not available because it is not associated with an image. Unassociated image layers may be cleaned up at any time.")
		case availability(rf) != LayerAvailable:
			return Errorf(CodeLayerInaccessible, "The specified layer is not available: every image that refers to it is archived or being restored; restore one with UpdateImageStorageClass")
		}
		return nil
	})
	return l, err
}

// OpenLayer checks the layer as DownloadableLayer does and opens its bytes
// from offset on.
func (r *Registry) OpenLayer(ctx context.Context, key RepoKey, digest string, offset int64) (Layer, io.ReadSeekCloser, error) {
	l, err := r.DownloadableLayer(ctx, key, digest)
	return r.openChecked(ctx, l, offset, err)
}

// openChecked opens the bytes of a layer a check has passed (err is the
// check's result); bytes missing from the blob store make the layer
// inaccessible, not a server error.
func (r *Registry) openChecked(ctx context.Context, l Layer, offset int64, err error) (Layer, io.ReadSeekCloser, error) {
	if err != nil {
		return l, nil, err
	}
	// A range past the end is the caller's to refuse (416): open at the end.
	offset = min(offset, l.Size)
	rc, err := r.blobs.Open(ctx, l.Digest, offset)
	if errors.Is(err, ErrNotFound) {
		return l, nil, Errorf(CodeLayerInaccessible, "The bytes of layer '%s' are missing from the blob store", l.Digest)
	}
	if err != nil {
		return l, nil, err
	}
	return l, r.seekable(ctx, l, offset, rc), nil
}
