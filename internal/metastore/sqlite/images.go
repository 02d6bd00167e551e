package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/ecrd/ecrd/internal/registry"
)

// imageColumns lists the columns scanImage reads, in its order.
const imageColumns = `digest, manifest, media_type, artifact_media_type, size, pushed_at,
	last_pulled_at, status, last_archived_at, last_activated_at, active_at, subject`

// listColumns is imageColumns without the manifest bytes, which listings
// leave out: a page of 1,000 images of 4 MiB manifests would be 4 GiB.
const listColumns = `digest, NULL, media_type, artifact_media_type, size, pushed_at,
	last_pulled_at, status, last_archived_at, last_activated_at, active_at, subject`

// Image returns the image of the repository with digest d, or
// registry.ErrNotFound.
func (t *tx) Image(key registry.RepoKey, d registry.Digest) (registry.Image, error) {
	img, err := t.ImageManifest(key, d)
	if err != nil {
		return registry.Image{}, err
	}
	imgs := []registry.Image{img}
	if err := t.addImageParts(key, imgs); err != nil {
		return registry.Image{}, fmt.Errorf("image %s in %s/%s: %w", d, key.Registry, key.Name, err)
	}
	return imgs[0], nil
}

// ImageManifest returns the image's own row, without the blob and child
// rows, or registry.ErrNotFound.
func (t *tx) ImageManifest(key registry.RepoKey, d registry.Digest) (registry.Image, error) {
	what := fmt.Sprintf("image %s in %s/%s", d, key.Registry, key.Name)
	img, err := scanImage(t.queryRow(`SELECT `+imageColumns+` FROM images
		WHERE registry_id = ? AND repo_name = ? AND digest = ?`, key.Registry, key.Name, d))
	if errors.Is(err, sql.ErrNoRows) {
		return registry.Image{}, fmt.Errorf("%s: %w", what, registry.ErrNotFound)
	}
	if err != nil {
		return registry.Image{}, fmt.Errorf("%s: %w", what, err)
	}
	return img, nil
}

// Images returns the page of the repository's images q selects (see
// imagePage), without their manifests, blobs or children. A limit of 0 or
// less returns none.
func (t *tx) Images(key registry.RepoKey, q registry.ImageQuery) ([]registry.Image, error) {
	what := fmt.Sprintf("images of %s/%s", key.Registry, key.Name)
	if q.Limit <= 0 {
		return nil, nil
	}
	query, args, err := imagePage(key, q)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return t.scanImages(what, query, args...)
}

// Referrers returns up to limit images of the repository whose subject is
// subject, after after in digest order, by the images_subject index.
func (t *tx) Referrers(key registry.RepoKey, subject, after registry.Digest, limit int) ([]registry.Image, error) {
	if limit <= 0 {
		return nil, nil
	}
	// subject <> '' is spelled out so that the planner may use the
	// partial index, which holds only images with a subject.
	return t.scanImages(fmt.Sprintf("referrers of %s in %s/%s", subject, key.Registry, key.Name),
		`SELECT `+imageColumns+` FROM images
		WHERE registry_id = ? AND repo_name = ? AND subject = ? AND subject <> '' AND digest > ?
		ORDER BY digest LIMIT ?`, key.Registry, key.Name, subject, after, limit)
}

func (t *tx) scanImages(what, query string, args ...any) ([]registry.Image, error) {
	rows, err := t.query(query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var imgs []registry.Image
	for rows.Next() {
		img, err := scanImage(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		imgs = append(imgs, img)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return imgs, nil
}

// imagePage builds the query of a page of images. Each status the query
// admits is one arm, a range of images_status (or, with a tag status,
// images_tagged) in digest order; arms are merged by digest, which SQLite
// does without sorting, so that the LIMIT stops the scan of every arm.
// Without a status or tag status the primary key alone serves.
func imagePage(key registry.RepoKey, q registry.ImageQuery) (string, []any, error) {
	type arm struct {
		status string // "" for any
		extra  string // a condition on active_at, with one parameter
	}
	var arms []arm
	switch q.Status {
	case "":
		arms = []arm{{}}
		if q.TagStatus != "" {
			arms = []arm{{status: registry.ImageActive}, {status: registry.ImageArchived}, {status: registry.ImageActivating}}
		}
	case registry.ImageActive:
		// A restore whose time has come is active: see registry.ImageQuery.
		arms = []arm{{status: registry.ImageActive}, {status: registry.ImageActivating, extra: "(active_at IS NULL OR active_at <= ?)"}}
	case registry.ImageArchived:
		arms = []arm{{status: registry.ImageArchived}}
	case registry.ImageActivating:
		arms = []arm{{status: registry.ImageActivating, extra: "active_at > ?"}}
	default:
		return "", nil, fmt.Errorf("unknown image status %q", q.Status)
	}
	tagged := ""
	switch q.TagStatus {
	case "":
	case registry.TagStatusTagged:
		tagged = " AND tagged = 1"
	case registry.TagStatusUntagged:
		tagged = " AND tagged = 0"
	default:
		return "", nil, fmt.Errorf("unknown tag status %q", q.TagStatus)
	}
	var (
		parts []string
		args  []any
	)
	for _, a := range arms {
		cols := listColumns
		if q.DigestsOnly {
			// What images_status and images_tagged hold, so that the page
			// is read from the index alone; only a restoring image's row
			// is read, for its restore time.
			activeAt := "NULL"
			if a.status != registry.ImageActive && a.status != registry.ImageArchived {
				activeAt = "active_at"
			}
			cols = `digest, NULL, '', '', 0, 0, NULL, status, NULL, NULL, ` + activeAt + `, ''`
		}
		part := `SELECT ` + cols + ` FROM images WHERE registry_id = ? AND repo_name = ? AND digest > ?` + tagged
		args = append(args, key.Registry, key.Name, q.After)
		if a.status != "" {
			part += ` AND status = ?`
			args = append(args, a.status)
		}
		if a.extra != "" {
			part += ` AND ` + a.extra
			args = append(args, micros(q.Now))
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, "\nUNION ALL\n") + "\nORDER BY digest LIMIT ?", append(args, q.Limit), nil
}

// PutImage stores img, replacing every field of an image with the same
// digest. The upsert updates an existing row in place, keeping its tagged
// flag (its tags stay); the blob and child rows are then written afresh,
// and the tags take the image's status. A repository that does not exist
// gives registry.ErrNotFound.
func (t *tx) PutImage(key registry.RepoKey, img registry.Image) error {
	what := fmt.Sprintf("put image %s in %s/%s", img.Digest, key.Registry, key.Name)
	manifest := img.Manifest
	if manifest == nil {
		// The column is NOT NULL; nil binds as NULL, an empty slice as ''.
		manifest = []byte{}
	}
	_, err := t.exec(`INSERT INTO images (registry_id, repo_name, `+imageColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (registry_id, repo_name, digest) DO UPDATE SET
		manifest = excluded.manifest, media_type = excluded.media_type,
		artifact_media_type = excluded.artifact_media_type, size = excluded.size,
		pushed_at = excluded.pushed_at, last_pulled_at = excluded.last_pulled_at,
		status = excluded.status, last_archived_at = excluded.last_archived_at,
		last_activated_at = excluded.last_activated_at, active_at = excluded.active_at,
		subject = excluded.subject`,
		key.Registry, key.Name, img.Digest, manifest, img.MediaType, img.ArtifactMediaType,
		img.Size, micros(img.PushedAt), nullMicros(img.LastPulledAt), img.Status,
		nullMicros(img.LastArchivedAt), nullMicros(img.LastActivatedAt), nullMicros(img.ActiveAt),
		img.Subject)
	if err != nil {
		return insertError(err, what)
	}
	// The image's tags carry its status (see TagsWithStatus); only a
	// change is written. The index is named: without statistics SQLite
	// would search the tags by the repository alone (the plan test).
	if _, err := t.exec(`UPDATE tags INDEXED BY tags_digest SET image_status = ?4, image_active_at = ?5
		WHERE registry_id = ?1 AND repo_name = ?2 AND digest = ?3
			AND (image_status <> ?4 OR image_active_at IS NOT ?5)`,
		key.Registry, key.Name, img.Digest, img.Status, nullMicros(img.ActiveAt)); err != nil {
		return fmt.Errorf("%s: tags: %w", what, err)
	}
	for _, table := range []string{"image_blobs", "image_children"} {
		_, err := t.exec(`DELETE FROM `+table+` WHERE registry_id = ? AND repo_name = ? AND image_digest = ?`,
			key.Registry, key.Name, img.Digest)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	// One statement per table however many rows: see jsonargs.go.
	if len(img.Blobs) > 0 {
		_, err := t.exec(`INSERT INTO image_blobs (registry_id, repo_name, image_digest, position,
			blob_digest, media_type, size, image_status, image_active_at)
			SELECT ?, ?, ?, j.key, j.value ->> 0, j.value ->> 1, j.value ->> 2, ?, ? FROM json_each(?) AS j`,
			key.Registry, key.Name, img.Digest, img.Status, nullMicros(img.ActiveAt), blobsJSON(img.Blobs))
		if err != nil {
			return fmt.Errorf("%s: blobs: %w", what, err)
		}
	}
	if len(img.Children) > 0 {
		_, err := t.exec(`INSERT INTO image_children (registry_id, repo_name, image_digest, position,
			child_digest)
			SELECT ?, ?, ?, j.key, j.value FROM json_each(?) AS j`,
			key.Registry, key.Name, img.Digest, digestsJSON(img.Children))
		if err != nil {
			return fmt.Errorf("%s: children: %w", what, err)
		}
	}
	return nil
}

// DeleteImage removes the image and its tags; the foreign keys' ON DELETE
// CASCADE removes its blob and child rows, which are keyed by image. Tags
// have no foreign key (see migration 0011): they go first, by the index
// the statement names. An absent image gives registry.ErrNotFound.
func (t *tx) DeleteImage(key registry.RepoKey, d registry.Digest) error {
	what := fmt.Sprintf("delete image %s in %s/%s", d, key.Registry, key.Name)
	if _, err := t.exec(`DELETE FROM tags INDEXED BY tags_digest WHERE registry_id = ? AND repo_name = ? AND digest = ?`,
		key.Registry, key.Name, d); err != nil {
		return fmt.Errorf("%s: tags: %w", what, err)
	}
	res, err := t.exec(`DELETE FROM images WHERE registry_id = ? AND repo_name = ? AND digest = ?`,
		key.Registry, key.Name, d)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return mustAffect(res, what)
}

// addImageParts fills in the Blobs and Children of imgs, images of the
// repository, in their stored order, with one query per table per batch of
// images rather than per image.
func (t *tx) addImageParts(key registry.RepoKey, imgs []registry.Image) error {
	byDigest := make(map[registry.Digest]*registry.Image, len(imgs))
	digests := make([]registry.Digest, len(imgs))
	for i := range imgs {
		byDigest[imgs[i].Digest] = &imgs[i]
		digests[i] = imgs[i].Digest
	}
	for len(digests) > 0 {
		batch := digests[:min(len(digests), layersBatch)]
		digests = digests[len(batch):]
		args := digestArgs(key, batch)
		in := inList(len(batch))
		err := t.each(`SELECT image_digest, blob_digest, media_type, size FROM image_blobs
			WHERE registry_id = ? AND repo_name = ? AND image_digest IN `+in+`
			ORDER BY image_digest, position`, args, func(scan func(...any) error) error {
			var (
				d registry.Digest
				b registry.ImageBlob
			)
			if err := scan(&d, &b.Digest, &b.MediaType, &b.Size); err != nil {
				return err
			}
			byDigest[d].Blobs = append(byDigest[d].Blobs, b)
			return nil
		})
		if err != nil {
			return fmt.Errorf("blobs: %w", err)
		}
		err = t.each(`SELECT image_digest, child_digest FROM image_children
			WHERE registry_id = ? AND repo_name = ? AND image_digest IN `+in+`
			ORDER BY image_digest, position`, args, func(scan func(...any) error) error {
			var d, child registry.Digest
			if err := scan(&d, &child); err != nil {
				return err
			}
			byDigest[d].Children = append(byDigest[d].Children, child)
			return nil
		})
		if err != nil {
			return fmt.Errorf("children: %w", err)
		}
	}
	return nil
}

// each runs query and calls fn with the Scan of each row in turn.
func (t *tx) each(query string, args []any, fn func(scan func(...any) error) error) error {
	rows, err := t.query(query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

// digestArgs returns the arguments of a query on the repository's rows
// among digests: the key, then each digest.
func digestArgs(key registry.RepoKey, digests []registry.Digest) []any {
	args := make([]any, 0, 2+len(digests))
	args = append(args, key.Registry, key.Name)
	for _, d := range digests {
		args = append(args, d)
	}
	return args
}

// inList returns "(?, ?, …)" with n > 0 placeholders.
func inList(n int) string { return "(?" + strings.Repeat(", ?", n-1) + ")" }

func scanImage(s scanner) (registry.Image, error) {
	var (
		img                                   registry.Image
		pushed                                int64
		pulled, archived, activated, activeAt sql.NullInt64
	)
	err := s.Scan(&img.Digest, &img.Manifest, &img.MediaType, &img.ArtifactMediaType, &img.Size,
		&pushed, &pulled, &img.Status, &archived, &activated, &activeAt, &img.Subject)
	if err != nil {
		return registry.Image{}, err
	}
	img.PushedAt = fromMicros(pushed)
	img.LastPulledAt = fromNullMicros(pulled)
	img.LastArchivedAt = fromNullMicros(archived)
	img.LastActivatedAt = fromNullMicros(activated)
	img.ActiveAt = fromNullMicros(activeAt)
	return img, nil
}
