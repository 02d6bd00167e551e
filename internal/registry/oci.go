package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// The operations below serve the OCI Distribution API (/v2/). They share
// the rules and records of the ECR operations; what differs is what the
// protocol allows: blobs are readable as soon as the repository holds them,
// chunks have any size, an empty blob is valid, and pushing what exists
// already is success.

// StatBlob returns the repository's layer d as /v2/ serves it: held by
// the repository, and not only archived or restoring (archived images
// cannot be pulled).
// Errors: RepositoryNotFound, InvalidParameter, LayersNotFound,
// LayerInaccessible.
func (r *Registry) StatBlob(ctx context.Context, key RepoKey, digest string) (Layer, error) {
	return r.statBlob(ctx, "BatchCheckLayerAvailability", key, digest)
}

// statBlob is StatBlob for a caller who may take action on the repository.
func (r *Registry) statBlob(ctx context.Context, action string, key RepoKey, digest string) (Layer, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return Layer{}, err
	}
	d, err := ParseDigest(digest)
	if err != nil {
		// Rare: checkLayers answers it as it answers any digest, the
		// repository checked first.
		return r.statChecked(ctx, key, digest)
	}
	// The one read a HEAD makes (Tx.LayerStatus): what decides access,
	// the layer and the images referring to it, in a single statement, so
	// that a store that can runs it without a transaction (SingleReader).
	var st BlobStatus
	err = r.viewSingle(ctx, func(tx Tx) (err error) {
		st, err = tx.LayerStatus(key, d, r.now())
		return err
	})
	if err != nil {
		return Layer{}, err
	}
	if _, err := r.decideAccess(ctx, action, key, st.Access); err != nil {
		return Layer{}, err
	}
	l, use := st.Layer, st.Use
	switch {
	case l.Digest == "":
		return Layer{}, blobNotInRepository(key, digest)
	}
	if a := availability(use); a != LayerAvailable {
		return Layer{}, blobInaccessible(digest, a)
	}
	return l, nil
}

// statChecked is StatBlob through checkLayers.
func (r *Registry) statChecked(ctx context.Context, key RepoKey, digest string) (Layer, error) {
	checks, err := r.checkLayers(ctx, key, []string{digest})
	if err != nil {
		return Layer{}, err
	}
	c := checks[0]
	switch {
	case c.FailureCode == FailureInvalidLayerDigest:
		return Layer{}, Errorf(CodeInvalidParameter, "Invalid parameter at 'digest': %s", c.FailureReason)
	case c.FailureCode != "":
		return Layer{}, blobNotInRepository(key, digest)
	case c.Availability != LayerAvailable:
		return Layer{}, blobInaccessible(digest, c.Availability)
	}
	return c.Layer, nil
}

func blobNotInRepository(key RepoKey, digest string) *Error {
	return Errorf(CodeLayersNotFound, "The blob '%s' is not in the repository with name '%s'", digest, key.Name)
}

func blobInaccessible(digest, availability string) *Error {
	return Errorf(CodeLayerInaccessible, "The blob '%s' is %s: every image that refers to it is archived or being restored", digest, availability)
}

// OpenBlob is StatBlob and the blob's bytes from offset on. They seek,
// whatever the blob store (see seekingBlob), to positions in the blob.
func (r *Registry) OpenBlob(ctx context.Context, key RepoKey, digest string, offset int64) (Layer, io.ReadSeekCloser, error) {
	l, err := r.statBlob(ctx, "GetDownloadUrlForLayer", key, digest)
	return r.openChecked(ctx, l, offset, err)
}

// AppendUpload writes body at offset, which must be the number of bytes
// the upload holds; n is the body's length, or -1 when it is streamed. It
// returns the upload's new size.
// Errors: RepositoryNotFound, UploadNotFound, InvalidLayerPart (offset),
// LimitExceeded, AccessDenied.
func (r *Registry) AppendUpload(ctx context.Context, key RepoKey, id UploadID, offset, n int64, body io.Reader) (int64, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return 0, err
	}
	return r.writePart(ctx, key, id, offset, n, body, func(u Upload) error {
		switch {
		case offset != u.Size:
			return &Error{
				Code:    CodeInvalidLayerPart,
				Message: fmt.Sprintf("The chunk starts at byte %d, but the upload holds %d bytes: chunks must be sent in order", offset, u.Size),
				Upload:  &UploadPosition{Registry: u.Repo.Registry, Name: u.Repo.Name, ID: u.ID, LastValidByte: u.Size - 1},
			}
		case u.Parts >= r.limitsFor(u.Repo.Registry).MaxParts:
			return Errorf(CodeLimitExceeded, "An upload can have at most %d parts", r.limitsFor(u.Repo.Registry).MaxParts)
		}
		return nil
	})
}

// UploadStatus returns the upload as it stands (Size is the bytes
// received). Errors: RepositoryNotFound, UploadNotFound.
func (r *Registry) UploadStatus(ctx context.Context, key RepoKey, id UploadID) (Upload, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return Upload{}, err
	}
	var u Upload
	err = r.meta.View(ctx, func(tx Tx) (err error) {
		u, err = r.liveUpload(ctx, tx, "UploadLayerPart", key, id)
		return err
	})
	return u, err
}

// FinishUpload verifies the upload's bytes against digest and makes the
// layer available; a layer the repository already has is success, and so
// is an empty upload (the empty blob).
// Errors: RepositoryNotFound, UploadNotFound, InvalidLayer,
// InvalidParameter, AccessDenied.
func (r *Registry) FinishUpload(ctx context.Context, key RepoKey, id UploadID, digest string) (Digest, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return "", err
	}
	d, err := ParseDigest(digest)
	if err != nil {
		return "", Errorf(CodeInvalidParameter, "Invalid parameter at 'digest': %v", err)
	}
	if d.Algorithm() != "sha256" {
		return "", Errorf(CodeInvalidLayer, "ecrd verifies sha256 digests, as ECR does; '%s' cannot be verified", d)
	}
	got, err := r.complete(ctx, key, id, []string{string(d)}, false)
	switch {
	case err == nil:
		return got, nil
	case IsCode(err, CodeLayerAlreadyExists):
		return d, nil
	}
	return "", err
}

// CancelUpload deletes an upload and its bytes. It is a write: a key that
// may only read cannot cancel anyone's push.
// Errors: RepositoryNotFound, UploadNotFound, AccessDenied.
func (r *Registry) CancelUpload(ctx context.Context, key RepoKey, id UploadID) error {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return err
	}
	err = r.updateRepository(ctx, key, func(tx Tx) error {
		if _, err := r.liveUpload(ctx, tx, "InitiateLayerUpload", key, id); err != nil {
			return err
		}
		return tx.DeleteUpload(id)
	})
	if err == nil {
		r.discardUpload(ctx, id)
	}
	return err
}

// MountBlob makes the layer d of repository from, in the same registry, a
// layer of key too, without moving bytes. Reading from needs no more than
// the caller's account, which owns both.
// Errors: RepositoryNotFound, LayersNotFound, InvalidParameter, AccessDenied.
func (r *Registry) MountBlob(ctx context.Context, key RepoKey, from RepositoryName, digest string) (Layer, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return Layer{}, err
	}
	// A mount reads the source: the caller must be able to pull from it,
	// and one who may not learns no more than from a blob it lacks.
	src, err := r.statBlob(ctx, "GetDownloadUrlForLayer", RepoKey{Registry: key.Registry, Name: from}, digest)
	if IsCode(err, CodeRepositoryNotFound, CodeLayerInaccessible, CodeAccessDenied) {
		err = Errorf(CodeLayersNotFound, "The blob '%s' cannot be mounted from the repository with name '%s'", digest, from)
	}
	if err != nil {
		return Layer{}, err
	}
	l := Layer{Digest: src.Digest, Size: src.Size, CreatedAt: r.now().UTC()}
	err = r.updateRepository(ctx, key, func(tx Tx) error {
		dst, err := r.access(ctx, tx, "CompleteLayerUpload", key)
		if err != nil {
			return err
		}
		// As ECR: mounting is an account setting (off by default), and
		// links only between repositories encrypted alike.
		if on, err := accountSetting(tx, key.Registry, SettingBlobMounting); err != nil {
			return err
		} else if on != "ENABLED" {
			return Errorf(CodeLayersNotFound, "Blob mounting is DISABLED for the registry with id '%s' (account setting BLOB_MOUNTING)", key.Registry.Account())
		}
		source, err := tx.RepositoryAccess(RepoKey{Registry: key.Registry, Name: from})
		if err != nil {
			return err
		}
		if source.Repository.EncryptionType != dst.EncryptionType || source.Repository.KMSKey != dst.KMSKey {
			return Errorf(CodeLayersNotFound, "The blob '%s' cannot be mounted between repositories encrypted differently", digest)
		}
		// The source still holds it (checked in this transaction), so a
		// collection cannot have taken the bytes.
		have, err := tx.Layers(RepoKey{Registry: key.Registry, Name: from}, []Digest{src.Digest})
		if err != nil {
			return err
		}
		if _, ok := have[src.Digest]; !ok {
			return Errorf(CodeLayersNotFound, "The blob '%s' cannot be mounted from the repository with name '%s'", digest, from)
		}
		if err := tx.AddLayer(key, l); err != nil && !errors.Is(err, ErrExists) {
			return err
		}
		return nil
	})
	return l, err
}

// ListTags returns up to n tags of the repository after last, in byte
// order, and whether more follow. Errors: RepositoryNotFound.
func (r *Registry) ListTags(ctx context.Context, key RepoKey, last string, n int) ([]string, bool, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return nil, false, err
	}
	var tags []string
	more := false
	err = r.meta.View(ctx, func(tx Tx) error {
		if _, err := r.access(ctx, tx, "ListImages", key); err != nil {
			return err
		}
		refs, err := tx.Tags(key, last, n+1)
		if err != nil {
			return err
		}
		more = len(refs) > n
		for i := 0; i < len(refs) && i < n; i++ {
			tags = append(tags, refs[i].Tag)
		}
		return nil
	})
	return tags, more, err
}

// DeleteLayer removes the repository's layer record d; the bytes are
// left for garbage collection. Errors: RepositoryNotFound, LayersNotFound,
// InvalidParameter, AccessDenied.
func (r *Registry) DeleteLayer(ctx context.Context, key RepoKey, digest string) error {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return err
	}
	d, err := ParseDigest(digest)
	if err != nil {
		return Errorf(CodeInvalidParameter, "Invalid parameter at 'digest': %v", err)
	}
	return r.updateRepository(ctx, key, func(tx Tx) error {
		if _, err := r.access(ctx, tx, "BatchDeleteImage", key); err != nil {
			return err
		}
		refs, err := tx.LayerRefs(key, []Digest{d}, r.now())
		if err != nil {
			return err
		}
		if refs[d] != "" {
			return Errorf(CodeInvalidParameter, "The blob '%s' is referred to by images of the repository; delete them first", d)
		}
		if err := tx.DeleteLayer(key, d); errors.Is(err, ErrNotFound) {
			return Errorf(CodeLayersNotFound, "The blob '%s' is not in the repository with name '%s'", d, key.Name)
		} else if err != nil {
			return err
		}
		return nil
	})
}
