package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// Tags compare as bytes (SQLite's BINARY collation), the order Go's string
// comparison gives, so that a page boundary means the same on every backend.

// Tag returns the digest a tag of the repository names, or
// registry.ErrNotFound.
func (t *tx) Tag(key registry.RepoKey, tag string) (registry.Digest, error) {
	what := fmt.Sprintf("tag %q in %s/%s", tag, key.Registry, key.Name)
	var d registry.Digest
	err := t.queryRow(`SELECT digest FROM tags WHERE registry_id = ? AND repo_name = ? AND tag = ?`,
		key.Registry, key.Name, tag).Scan(&d)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("%s: %w", what, registry.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return d, nil
}

// ImageTags returns the tags naming d, in byte order; none for an image
// without tags or one that does not exist.
func (t *tx) ImageTags(key registry.RepoKey, d registry.Digest) ([]string, error) {
	var tags []string
	err := t.each(`SELECT tag FROM tags WHERE registry_id = ? AND repo_name = ? AND digest = ?
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
// order. A limit of 0 or less returns none.
func (t *tx) Tags(key registry.RepoKey, after string, limit int) ([]registry.TagRef, error) {
	if limit <= 0 {
		return nil, nil
	}
	var refs []registry.TagRef
	err := t.each(`SELECT tag, digest, created_at FROM tags WHERE registry_id = ? AND repo_name = ? AND tag > ?
		ORDER BY tag LIMIT ?`, []any{key.Registry, key.Name, after, limit}, func(scan func(...any) error) error {
		var r registry.TagRef
		var created sql.NullInt64
		if err := scan(&r.Tag, &r.Digest, &created); err != nil {
			return err
		}
		if created.Valid {
			r.CreatedAt = fromMicros(created.Int64)
		}
		refs = append(refs, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tags of %s/%s: %w", key.Registry, key.Name, err)
	}
	return refs, nil
}

// SetTag points tag at d, creating the tag or moving it. An image the
// repository does not hold (the foreign key) gives registry.ErrNotFound.
// Setting a tag to the image it already names keeps its creation time.
func (t *tx) SetTag(key registry.RepoKey, tag string, d registry.Digest, at time.Time) error {
	_, err := t.exec(`INSERT INTO tags (registry_id, repo_name, tag, digest, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (registry_id, repo_name, tag) DO UPDATE SET digest = excluded.digest,
			created_at = CASE WHEN tags.digest = excluded.digest AND tags.created_at IS NOT NULL
				THEN tags.created_at ELSE excluded.created_at END`,
		key.Registry, key.Name, tag, d, micros(at))
	if err != nil {
		return refError(err, fmt.Sprintf("set tag %q to %s in %s/%s", tag, d, key.Registry, key.Name), "image")
	}
	return nil
}

// DeleteTag removes a tag, or returns registry.ErrNotFound.
func (t *tx) DeleteTag(key registry.RepoKey, tag string) error {
	what := fmt.Sprintf("delete tag %q in %s/%s", tag, key.Registry, key.Name)
	res, err := t.exec(`DELETE FROM tags WHERE registry_id = ? AND repo_name = ? AND tag = ?`,
		key.Registry, key.Name, tag)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return mustAffect(res, what)
}
