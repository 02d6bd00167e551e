package registry

import (
	"context"
	"time"
)

// Target storage classes of UpdateImageStorageClass.
const (
	StorageClassStandard = "STANDARD"
	StorageClassArchive  = "ARCHIVE"
)

// UpdateImageStorageClass archives an active image or restores an archived
// one. Archiving is immediate; a restore passes through ACTIVATING for the
// configured restore delay, during which the image cannot be pulled. The
// change is one transaction, so it is atomic and survives restarts; the
// end of a restore needs no further write (readers compare ActiveAt with
// the clock).
// Errors: RepositoryNotFound, ImageNotFound, ImageStorageClassUpdateNotSupported,
// InvalidParameter, AccessDenied.
func (r *Registry) UpdateImageStorageClass(ctx context.Context, key RepoKey, id ImageID, target string) (Image, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return Image{}, err
	}
	if target != StorageClassStandard && target != StorageClassArchive {
		return Image{}, Errorf(CodeInvalidParameter, "Invalid parameter at 'targetStorageClass' failed to satisfy constraint: 'must satisfy enum value set: [STANDARD, ARCHIVE]'")
	}
	var img Image
	err = r.updateRepository(ctx, key, func(tx Tx) error {
		if _, err := r.access(ctx, tx, "UpdateImageStorageClass", key); err != nil {
			return err
		}
		var err error
		if img, err = lookupStrict(tx, key, id, "imageId"); err != nil {
			return err
		}
		now := r.now().UTC()
		status := r.effectiveStatus(img)
		switch {
		case target == StorageClassArchive && status == ImageActive:
			img.Status, img.LastArchivedAt, img.ActiveAt = ImageArchived, now, time.Time{}
		case target == StorageClassStandard && status == ImageArchived:
			img.Status, img.ActiveAt = ImageActivating, now.Add(r.limits.RestoreDelay)
			img.LastActivatedAt = img.ActiveAt
			if r.limits.RestoreDelay <= 0 {
				img.Status = ImageActive
			}
		default:
			return Errorf(CodeImageStorageClassUpdateNotSupported, "The requested image storage class update is not supported: the image is %s and the target storage class is %s", status, target)
		}
		return tx.PutImage(key, img)
	})
	if err == nil {
		img.Status = r.effectiveStatus(img)
	}
	return img, err
}

// restoreOnPush makes an archived image active again when its manifest is
// put anew, as ECR does ("re-pushing the image restores it immediately").
func (r *Registry) restoreOnPush(tx Tx, key RepoKey, img *Image) (bool, error) {
	if r.effectiveStatus(*img) == ImageActive {
		return false, nil
	}
	now := r.now().UTC()
	img.Status, img.LastActivatedAt, img.ActiveAt = ImageActive, now, time.Time{}
	if err := tx.PutImage(key, *img); err != nil {
		return false, err
	}
	return true, nil
}
