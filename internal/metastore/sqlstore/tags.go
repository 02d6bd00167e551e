package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// Tags compare as bytes (COLLATE "C", SQLite's BINARY), the order Go's
// string comparison gives, so that a page boundary means the same on every
// backend.

// Tag returns the digest a tag of the repository names, or
// registry.ErrNotFound.
func (t *Tx) Tag(key registry.RepoKey, tag string) (registry.Digest, error) {
	what := fmt.Sprintf("tag %q in %s/%s", tag, key.Registry, key.Name)
	var d registry.Digest
	err := t.queryRow(`SELECT digest FROM tags WHERE registry_id = $1 AND repo_name = $2 AND tag = $3`,
		[]any{key.Registry, key.Name, tag}, &d)
	if errors.Is(err, errNoRow) {
		return "", fmt.Errorf("%s: %w", what, registry.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return d, nil
}

// ImageTags returns the tags naming d, in byte order; none for an image
// without tags or one that does not exist.
func (t *Tx) ImageTags(key registry.RepoKey, d registry.Digest) ([]string, error) {
	var tags []string
	err := t.each(`SELECT tag FROM tags WHERE registry_id = $1 AND repo_name = $2 AND digest = $3
		ORDER BY tag`, []any{key.Registry, key.Name, d}, func(scan func(...any) error) error {
		var tag string
		if err := scan(&tag); err != nil {
			return err
		}
		tags = append(tags, tag)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tags of image %s in %s/%s: %w", d, key.Registry, key.Name, err)
	}
	return tags, nil
}

// Tags returns up to limit tags of the repository after after, in byte
// order, from the primary key alone. A limit of 0 or less returns none.
func (t *Tx) Tags(key registry.RepoKey, after string, limit int) ([]registry.TagRef, error) {
	return t.tagPage(key, `SELECT tag, digest, created_at, CAST(NULL AS text), CAST(NULL AS timestamptz) FROM tags
		WHERE registry_id = $1 AND repo_name = $2 AND tag > $3 ORDER BY tag LIMIT $4`, after, limit)
}

// TagsWithStatus is Tags with each tag's image status, which the tag row
// carries: the same read of the primary key.
func (t *Tx) TagsWithStatus(key registry.RepoKey, after string, limit int) ([]registry.TagRef, error) {
	return t.tagPage(key, `SELECT tag, digest, created_at, image_status, image_active_at FROM tags
		WHERE registry_id = $1 AND repo_name = $2 AND tag > $3 ORDER BY tag LIMIT $4`, after, limit)
}

func (t *Tx) tagPage(key registry.RepoKey, query, after string, limit int) ([]registry.TagRef, error) {
	if limit <= 0 {
		return nil, nil
	}
	var refs []registry.TagRef
	err := t.each(query, []any{key.Registry, key.Name, after, limit}, func(scan func(...any) error) error {
		var (
			r      registry.TagRef
			status sql.NullString
		)
		if err := scan(&r.Tag, &r.Digest, t.time(&r.CreatedAt), &status, t.time(&r.ActiveAt)); err != nil {
			return err
		}
		r.Status = status.String
		refs = append(refs, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tags of %s/%s: %w", key.Registry, key.Name, err)
	}
	return refs, nil
}

// SetTag points tag at d, creating the tag or moving it. An image the
// repository does not hold gives registry.ErrNotFound: the INSERT selects
// its row from the image's, with the image's status, so that no row means
// no image. Setting a tag to the image it already names keeps its creation
// time. The images' tagged flags follow: d is tagged, and an image the tag
// moved away from is tagged only if another tag names it.
func (t *Tx) SetTag(key registry.RepoKey, tag string, d registry.Digest, at time.Time) error {
	what := fmt.Sprintf("set tag %q to %s in %s/%s", tag, d, key.Registry, key.Name)
	var old registry.Digest
	err := t.queryRow(`SELECT digest FROM tags WHERE registry_id = $1 AND repo_name = $2 AND tag = $3`,
		[]any{key.Registry, key.Name, tag}, &old)
	if err != nil && !errors.Is(err, errNoRow) {
		return fmt.Errorf("%s: %w", what, err)
	}
	n, err := t.exec(`INSERT INTO tags (registry_id, repo_name, tag, digest, created_at, image_status, image_active_at)
		SELECT i.registry_id, i.repo_name, $3, i.digest, $5, i.status, i.active_at FROM images AS i
		WHERE i.registry_id = $1 AND i.repo_name = $2 AND i.digest = $4
		ON CONFLICT (registry_id, repo_name, tag) DO UPDATE SET digest = excluded.digest,
			image_status = excluded.image_status, image_active_at = excluded.image_active_at,
			created_at = CASE WHEN tags.digest = excluded.digest AND tags.created_at IS NOT NULL
				THEN tags.created_at ELSE excluded.created_at END`,
		key.Registry, key.Name, tag, d, at)
	if err != nil {
		return t.constraintError(err, what, "image")
	}
	if err := mustAffect(n, what+": image"); err != nil {
		return err
	}
	if _, err := t.exec(`UPDATE images SET tagged = true
		WHERE registry_id = $1 AND repo_name = $2 AND digest = $3 AND tagged = false`,
		key.Registry, key.Name, d); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if old != "" && old != d {
		if err := t.retag(key, old); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return nil
}

// DeleteTag removes a tag, or returns registry.ErrNotFound; its image stays
// tagged only if another tag names it.
func (t *Tx) DeleteTag(key registry.RepoKey, tag string) error {
	what := fmt.Sprintf("delete tag %q in %s/%s", tag, key.Registry, key.Name)
	var d registry.Digest
	err := t.queryRow(`DELETE FROM tags WHERE registry_id = $1 AND repo_name = $2 AND tag = $3 RETURNING digest`,
		[]any{key.Registry, key.Name, tag}, &d)
	if errors.Is(err, errNoRow) {
		return fmt.Errorf("%s: %w", what, registry.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := t.retag(key, d); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// retag sets image d's tagged flag from its tags, after one let go of it;
// a flag that is right already is left unwritten.
func (t *Tx) retag(key registry.RepoKey, d registry.Digest) error {
	_, err := t.exec(`UPDATE images AS i SET tagged = NOT i.tagged
		WHERE i.registry_id = $1 AND i.repo_name = $2 AND i.digest = $3
			AND i.tagged <> EXISTS (SELECT 1 FROM tags AS t
				WHERE t.registry_id = i.registry_id AND t.repo_name = i.repo_name AND t.digest = i.digest)`,
		key.Registry, key.Name, d)
	return err
}
