package registry

import (
	"context"
	"errors"
	"slices"
	"time"
)

// pullRecordInterval is how stale an image's recorded pull time may get
// before a pull refreshes it.
const pullRecordInterval = time.Minute

// Per-image failure codes of BatchGetImage and BatchDeleteImage.
const (
	FailureInvalidImageDigest            = "InvalidImageDigest"
	FailureInvalidImageTag               = "InvalidImageTag"
	FailureImageTagDoesNotMatchDigest    = "ImageTagDoesNotMatchDigest"
	FailureImageNotFound                 = "ImageNotFound"
	FailureMissingDigestAndTag           = "MissingDigestAndTag"
	FailureImageReferencedByManifestList = "ImageReferencedByManifestList"
)

// ImageFailure is a per-image failure of a batch operation.
type ImageFailure struct {
	ID     ImageID
	Code   string
	Reason string
}

// FoundImage is an image a batch read found: the image and the ID it was
// asked for by (with both parts filled in).
type FoundImage struct {
	ID    ImageID
	Image Image
}

// lookup resolves one ImageID in the repository. It returns a failure
// (not an error) for what is the client's mistake.
func lookup(tx Tx, key RepoKey, id ImageID) (Image, *ImageFailure, error) {
	return lookupWith(tx.Tag, tx.Image, key, id)
}

// lookupWith is lookup reading the tag with tag and the image with read:
// tx.Image, or tx.ImageManifest where the image's layer records are not
// needed (a pull, which must not cost a row per layer of a 25,000-layer
// image), or what one Tx.ReadImage read (readOne).
func lookupWith(tag func(RepoKey, string) (Digest, error), read func(RepoKey, Digest) (Image, error), key RepoKey, id ImageID) (Image, *ImageFailure, error) {
	fail := func(code, reason string) (Image, *ImageFailure, error) {
		return Image{}, &ImageFailure{ID: id, Code: code, Reason: reason}, nil
	}
	if id.Digest == "" && id.Tag == "" {
		return fail(FailureMissingDigestAndTag, "Invalid request parameters: both tag and digest cannot be null")
	}
	var d Digest
	if id.Digest != "" {
		pd, err := ParseDigest(id.Digest)
		if err != nil {
			return fail(FailureInvalidImageDigest, "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+': "+err.Error())
		}
		d = pd
	}
	if id.Tag != "" {
		if checkTag(id.Tag) != nil {
			return fail(FailureInvalidImageTag, "Invalid request parameters: the image tag is not valid")
		}
		td, err := tag(key, id.Tag)
		if errors.Is(err, ErrNotFound) {
			return fail(FailureImageNotFound, "Requested image not found")
		} else if err != nil {
			return Image{}, nil, err
		}
		if d != "" && d != td {
			return fail(FailureImageTagDoesNotMatchDigest, "The image tag '"+id.Tag+"' does not point to the image digest '"+string(d)+"'")
		}
		d = td
	}
	img, err := read(key, d)
	if errors.Is(err, ErrNotFound) {
		return fail(FailureImageNotFound, "Requested image not found")
	}
	return img, nil, err
}

// lookupStrict is lookup for operations where an ID that names no image
// fails the whole call (DescribeImages with imageIds,
// UpdateImageStorageClass) instead of giving a per-image failure; field
// names the request member in other errors.
func lookupStrict(tx Tx, key RepoKey, id ImageID, field string) (Image, error) {
	img, f, err := lookup(tx, key, id)
	switch {
	case err != nil:
		return Image{}, err
	case f == nil:
		return img, nil
	case f.Code == FailureImageNotFound:
		return Image{}, Errorf(CodeImageNotFound, "The image with imageId %s does not exist within the repository with name '%s' in the registry with id '%s'", id, key.Name, key.Registry.Account())
	}
	return Image{}, Errorf(CodeInvalidParameter, "Invalid parameter at '%s': %s", field, f.Reason)
}

// BatchGetImage returns the manifests of the images asked for. With
// accepted media types, an image asked for by tag whose stored type is not
// accepted is converted between Docker schema 2 and OCI when possible, as
// ECR does; an image asked for by digest never is. Pulls are recorded.
// Errors: RepositoryNotFound.
func (r *Registry) BatchGetImage(ctx context.Context, key RepoKey, ids []ImageID, accepted []string) ([]FoundImage, []ImageFailure, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	var found []FoundImage
	var failures []ImageFailure
	var record []Digest // stored digests whose pull time is due an update
	now := r.now().UTC()
	// pull decides what a pull of id gets of the repository.
	pull := func(id ImageID, tag func(RepoKey, string) (Digest, error), read func(RepoKey, Digest) (Image, error)) error {
		img, f, err := lookupWith(tag, read, key, id)
		if err != nil {
			return err
		}
		if f == nil && r.effectiveStatus(img) != ImageActive {
			f = &ImageFailure{ID: id, Code: FailureImageNotFound, Reason: "The image is " + r.effectiveStatus(img) + " and cannot be pulled until it is restored"}
		}
		stored, lastPull := img.Digest, img.LastPulledAt
		if f == nil && len(accepted) > 0 && !slices.Contains(accepted, img.MediaType) {
			converted, ok := convertManifest(img, accepted)
			if id.Tag == "" || !ok {
				f = &ImageFailure{ID: id, Code: FailureImageNotFound, Reason: "The image's manifest media type '" + img.MediaType + "' is not among the accepted media types"}
			} else {
				img = converted
			}
		}
		if f != nil {
			failures = append(failures, *f)
			return nil
		}
		// A converted pull is still a pull of the stored image.
		if now.Sub(lastPull) >= pullRecordInterval {
			record = append(record, stored)
		}
		found = append(found, FoundImage{ID: ImageID{Digest: string(img.Digest), Tag: id.Tag}, Image: img})
		return nil
	}
	if len(ids) == 1 {
		// A manifest GET: one statement (Tx.ReadImage), which a store
		// that can runs without a transaction.
		err = r.viewSingle(ctx, func(tx Tx) error {
			found, failures, record = nil, nil, nil
			rd, err := readOne(tx, key, ids[0])
			if err != nil {
				return err
			}
			if _, err := r.decideAccess(ctx, "BatchGetImage", key, rd.Access); err != nil {
				return err
			}
			return pull(ids[0], rd.tag, rd.read)
		})
	} else {
		err = r.meta.View(ctx, func(tx Tx) error {
			found, failures, record = nil, nil, nil
			if _, err := r.access(ctx, tx, "BatchGetImage", key); err != nil {
				return err
			}
			for _, id := range ids {
				if err := pull(id, tx.Tag, tx.ImageManifest); err != nil {
					return err
				}
			}
			return nil
		})
	}
	// The core's own reads (a replication, an import) are nobody's pull.
	if err != nil || len(record) == 0 || isCore(ctx) {
		return found, failures, err
	}
	// Pulls are reads; only a pull time gone stale costs a write (ECR, too,
	// refreshes lastRecordedPullTime at most so often). The write is
	// bookkeeping: a pull never fails because of it (a full disk must not
	// stop pulls), and the next pull tries again.
	err = r.updateRepository(ctx, key, func(tx Tx) error {
		exclusions, err := tx.PullTimeExclusions(key.Registry)
		if err != nil || excludedFromPullTimes(Caller(ctx), exclusions) {
			return err
		}
		for _, d := range record {
			if err := tx.RecordPull(key, d, now); err != nil {
				return err
			}
		}
		return nil
	})
	if _, storage := AsStorageError(err); err != nil && !storage {
		r.log.Warn("could not record a pull time", "repository", key.Name, "err", err)
	}
	return found, failures, nil
}

// oneRead is what Tx.ReadImage read of one image, as lookupWith reads a
// tag and an image.
type oneRead struct{ ImageRead }

// readOne reads what a pull of id needs in one Tx.ReadImage: a tag or a
// digest lookupWith refuses is not asked for, as lookupWith fails before
// reading either.
func readOne(tx Tx, key RepoKey, id ImageID) (oneRead, error) {
	tag, d := id.Tag, Digest("")
	if checkTag(tag) != nil {
		tag = ""
	}
	if pd, err := ParseDigest(id.Digest); err == nil {
		d = pd
	}
	rd, err := tx.ReadImage(key, tag, d)
	return oneRead{rd}, err
}

func (o oneRead) tag(key RepoKey, tag string) (Digest, error) {
	if o.Tagged == "" {
		return "", ErrNotFound
	}
	return o.Tagged, nil
}

func (o oneRead) read(key RepoKey, d Digest) (Image, error) {
	if o.Image.Digest == "" || o.Image.Digest != d {
		return Image{}, ErrNotFound
	}
	return o.Image, nil
}

// BatchDeleteImage deletes images and tags. A tag alone removes that tag
// (and the image with its last tag, as ECR does, unless an index still
// refers to it); a digest removes the image with all its tags. Each
// removed tag is reported, or the digest alone for an untagged image.
// Errors: RepositoryNotFound, AccessDenied.
func (r *Registry) BatchDeleteImage(ctx context.Context, key RepoKey, ids []ImageID) ([]ImageID, []ImageFailure, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	var deleted []ImageID
	var failures []ImageFailure
	err = r.updateRepository(ctx, key, func(tx Tx) error {
		deleted, failures = nil, nil
		if _, err := r.access(ctx, tx, "BatchDeleteImage", key); err != nil {
			return err
		}
		for _, id := range ids {
			img, f, err := lookup(tx, key, id)
			if err != nil {
				return err
			}
			if f != nil {
				failures = append(failures, *f)
				continue
			}
			var gone []ImageID
			if id.Digest == "" {
				gone, f, err = deleteTag(tx, key, img, id, r.now().UTC())
			} else {
				gone, f, err = deleteImage(tx, key, img, id, r.now().UTC())
			}
			if err != nil {
				return err
			}
			if f != nil {
				failures = append(failures, *f)
			}
			deleted = append(deleted, gone...)
		}
		return nil
	})
	return deleted, failures, err
}

func deleteTag(tx Tx, key RepoKey, img Image, id ImageID, now time.Time) ([]ImageID, *ImageFailure, error) {
	if err := tx.DeleteTag(key, id.Tag); err != nil {
		return nil, nil, err
	}
	gone := []ImageID{{Digest: string(img.Digest), Tag: id.Tag}}
	tags, err := tx.ImageTags(key, img.Digest)
	if err != nil || len(tags) > 0 {
		return gone, nil, err
	}
	parents, err := tx.Parents(key, img.Digest)
	if err != nil || len(parents) > 0 {
		return gone, nil, err
	}
	return gone, nil, deleteAndRelease(tx, key, img, now)
}

// deleteAndRelease deletes an image and restarts the grace period of the
// layers it referred to: a layer a push found AVAILABLE a moment ago must
// not be collected before the push's manifest arrives.
func deleteAndRelease(tx Tx, key RepoKey, img Image, now time.Time) error {
	if err := tx.DeleteImage(key, img.Digest); err != nil {
		return err
	}
	digests := make([]Digest, len(img.Blobs))
	for i, b := range img.Blobs {
		digests[i] = b.Digest
	}
	return tx.ReleaseLayers(key, digests, now)
}

func deleteImage(tx Tx, key RepoKey, img Image, id ImageID, now time.Time) ([]ImageID, *ImageFailure, error) {
	parents, err := tx.Parents(key, img.Digest)
	if err != nil {
		return nil, nil, err
	}
	if len(parents) > 0 {
		return nil, &ImageFailure{ID: id, Code: FailureImageReferencedByManifestList,
			Reason: "The image is referenced by the manifest list or index '" + string(parents[0]) + "'; delete that first"}, nil
	}
	tags, err := tx.ImageTags(key, img.Digest)
	if err != nil {
		return nil, nil, err
	}
	if err := deleteAndRelease(tx, key, img, now); err != nil {
		return nil, nil, err
	}
	if len(tags) == 0 {
		return []ImageID{{Digest: string(img.Digest)}}, nil, nil
	}
	gone := make([]ImageID, len(tags))
	for i, t := range tags {
		gone[i] = ImageID{Digest: string(img.Digest), Tag: t}
	}
	return gone, nil, nil
}

// effectiveStatus is the image's status now: a restore whose time has come
// is complete.
func (r *Registry) effectiveStatus(img Image) string { return StatusAt(img, r.now()) }
