package sqlstore

import (
	"errors"
	"fmt"

	"github.com/ecrd/ecrd/internal/registry"
)

// PutImage stores img, replacing every field of an image with the same
// digest. The upsert updates an existing row in place, keeping its tagged
// flag (its tags stay); the tags take the image's status, and the blob and
// child rows are written afresh. The row is inserted only under its
// repository's, so that a repository that does not exist gives
// registry.ErrNotFound without failing the statement.
func (t *Tx) PutImage(key registry.RepoKey, img registry.Image) error {
	what := fmt.Sprintf("put image %s in %s/%s", img.Digest, key.Registry, key.Name)
	manifest := img.Manifest
	if manifest == nil {
		// The column is NOT NULL; nil binds as NULL.
		manifest = []byte{}
	}
	var existed bool
	err := t.queryRow(t.d.PutImageWith+`INSERT INTO images (registry_id, repo_name, `+imageColumns+`)
		SELECT r.registry_id, r.name, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14
		FROM repositories AS r WHERE r.registry_id = $1 AND r.name = $2
		ON CONFLICT (registry_id, repo_name, digest) DO UPDATE SET
		manifest = excluded.manifest, media_type = excluded.media_type,
		artifact_media_type = excluded.artifact_media_type, size = excluded.size,
		pushed_at = excluded.pushed_at, last_pulled_at = excluded.last_pulled_at,
		status = excluded.status, last_archived_at = excluded.last_archived_at,
		last_activated_at = excluded.last_activated_at, active_at = excluded.active_at,
		subject = excluded.subject
		RETURNING `+t.d.PutImageExisted,
		[]any{key.Registry, key.Name, img.Digest, manifest, img.MediaType, img.ArtifactMediaType,
			img.Size, img.PushedAt, NullTime(img.LastPulledAt), img.Status,
			NullTime(img.LastArchivedAt), NullTime(img.LastActivatedAt), NullTime(img.ActiveAt),
			img.Subject}, &existed)
	if errors.Is(err, errNoRow) {
		return fmt.Errorf("%s: repository: %w", what, registry.ErrNotFound)
	}
	if err != nil {
		return t.constraintError(err, what, "repository")
	}
	if existed {
		// The image's tags carry its status (see TagsWithStatus); only a
		// change is written.
		if _, err := t.exec(`UPDATE tags`+t.d.TagsByDigest+` SET image_status = $4, image_active_at = $5
			WHERE registry_id = $1 AND repo_name = $2 AND digest = $3
				AND (image_status <> $4 OR image_active_at IS DISTINCT FROM $5)`,
			key.Registry, key.Name, img.Digest, img.Status, NullTime(img.ActiveAt)); err != nil {
			return fmt.Errorf("%s: tags: %w", what, err)
		}
		for _, table := range []string{"image_blobs", "image_children"} {
			_, err := t.exec(`DELETE FROM `+table+` WHERE registry_id = $1 AND repo_name = $2 AND image_digest = $3`,
				key.Registry, key.Name, img.Digest)
			if err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
		}
	}
	// One statement per table however many rows: see layers.go.
	if len(img.Blobs) > 0 {
		args := append([]any{key.Registry, key.Name, img.Digest, img.Status, NullTime(img.ActiveAt)},
			t.d.ImageBlobArgs(img.Blobs)...)
		if _, err := t.exec(t.d.InsertImageBlobs, args...); err != nil {
			return fmt.Errorf("%s: blobs: %w", what, err)
		}
	}
	if len(img.Children) > 0 {
		if _, err := t.exec(t.d.InsertImageChildren, key.Registry, key.Name, img.Digest, img.Children); err != nil {
			return fmt.Errorf("%s: children: %w", what, err)
		}
	}
	return nil
}

// DeleteImage removes the image and its tags, which go first where the
// schema does not cascade into them; the foreign keys' ON DELETE CASCADE
// removes its blob and child rows (by their primary keys). An absent image
// gives registry.ErrNotFound.
func (t *Tx) DeleteImage(key registry.RepoKey, d registry.Digest) error {
	what := fmt.Sprintf("delete image %s in %s/%s", d, key.Registry, key.Name)
	if q := t.d.DeleteImageTags; q != "" {
		if _, err := t.exec(q, key.Registry, key.Name, d); err != nil {
			return fmt.Errorf("%s: tags: %w", what, err)
		}
	}
	n, err := t.exec(`DELETE FROM images WHERE registry_id = $1 AND repo_name = $2 AND digest = $3`,
		key.Registry, key.Name, d)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return mustAffect(n, what)
}

// addImageParts fills in the Blobs and Children of img, an image of the
// repository, in their stored order, by the tables' primary keys.
func (t *Tx) addImageParts(key registry.RepoKey, img *registry.Image) error {
	args := []any{key.Registry, key.Name, img.Digest}
	err := t.each(`SELECT blob_digest, media_type, size FROM image_blobs
		WHERE registry_id = $1 AND repo_name = $2 AND image_digest = $3
		ORDER BY position`, args, func(scan func(...any) error) error {
		var b registry.ImageBlob
		if err := scan(&b.Digest, &b.MediaType, &b.Size); err != nil {
			return err
		}
		img.Blobs = append(img.Blobs, b)
		return nil
	})
	if err != nil {
		return fmt.Errorf("blobs: %w", err)
	}
	err = t.each(`SELECT child_digest FROM image_children
		WHERE registry_id = $1 AND repo_name = $2 AND image_digest = $3
		ORDER BY position`, args, func(scan func(...any) error) error {
		var child registry.Digest
		if err := scan(&child); err != nil {
			return err
		}
		img.Children = append(img.Children, child)
		return nil
	})
	if err != nil {
		return fmt.Errorf("children: %w", err)
	}
	return nil
}
