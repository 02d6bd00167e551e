package sqlstore

import (
	"fmt"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// uploadColumns lists the columns scanUploads reads, in its order.
const uploadColumns = `id, registry_id, repo_name, created_at, updated_at, size,
	parts, last_part_size, small_part, hash_state, lease, lease_holder, lease_at`

// Upload returns the upload, or registry.ErrNotFound.
func (t *Tx) Upload(id registry.UploadID) (registry.Upload, error) {
	us, err := t.scanUploads(`SELECT `+uploadColumns+` FROM uploads WHERE id = $1`, id)
	if err != nil {
		return registry.Upload{}, fmt.Errorf("upload %s: %w", id, err)
	}
	if len(us) == 0 {
		return registry.Upload{}, fmt.Errorf("upload %s: %w", id, registry.ErrNotFound)
	}
	return us[0], nil
}

// CreateUpload stores u, or returns registry.ErrExists (upload IDs are
// unique across repositories); for a repository that does not exist it
// returns registry.ErrNotFound.
func (t *Tx) CreateUpload(u registry.Upload) error {
	what := fmt.Sprintf("create upload %s", u.ID)
	n, err := t.exec(`INSERT INTO uploads (`+uploadColumns+`)
		SELECT $1, r.registry_id, r.name, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13
		FROM repositories AS r WHERE r.registry_id = $2 AND r.name = $3
		ON CONFLICT DO NOTHING`,
		u.ID, u.Repo.Registry, u.Repo.Name, u.CreatedAt, u.UpdatedAt, u.Size,
		u.Parts, u.LastPartSize, u.SmallPart, u.HashState, u.Lease, u.Holder, NullTime(u.LeaseAt))
	if err != nil {
		return t.constraintError(err, what, "repository")
	}
	if n == 0 {
		return t.existsOrMissing(u.Repo, what)
	}
	return nil
}

// UpdateUpload replaces every field of the upload with u.ID, or returns
// registry.ErrNotFound.
func (t *Tx) UpdateUpload(u registry.Upload) error {
	what := fmt.Sprintf("update upload %s", u.ID)
	n, err := t.exec(`UPDATE uploads SET registry_id = $1, repo_name = $2, created_at = $3,
		updated_at = $4, size = $5, parts = $6, last_part_size = $7, small_part = $8,
		hash_state = $9, lease = $10, lease_holder = $11, lease_at = $12
		WHERE id = $13`,
		u.Repo.Registry, u.Repo.Name, u.CreatedAt, u.UpdatedAt, u.Size,
		u.Parts, u.LastPartSize, u.SmallPart, u.HashState, u.Lease, u.Holder, NullTime(u.LeaseAt),
		u.ID)
	if err != nil {
		return t.constraintError(err, what, "repository")
	}
	return mustAffect(n, what)
}

// DeleteUpload removes the upload, or returns registry.ErrNotFound.
func (t *Tx) DeleteUpload(id registry.UploadID) error {
	what := fmt.Sprintf("delete upload %s", id)
	n, err := t.exec(`DELETE FROM uploads WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return mustAffect(n, what)
}

// StaleUploads returns up to limit uploads last updated before before,
// oldest first; uploads updated in the same microsecond come in ID order,
// so that the result is the same on every call. A limit of 0 or less
// returns none.
func (t *Tx) StaleUploads(before time.Time, limit int) ([]registry.Upload, error) {
	if limit <= 0 {
		return nil, nil
	}
	us, err := t.scanUploads(`SELECT `+uploadColumns+` FROM uploads
		WHERE updated_at < $1 ORDER BY updated_at, id LIMIT $2`, before, limit)
	if err != nil {
		return nil, fmt.Errorf("stale uploads: %w", err)
	}
	return us, nil
}

// RepositoryUploads returns the IDs of the repository's uploads, in no
// particular order (the index on the repository holds no ID to sort by).
func (t *Tx) RepositoryUploads(key registry.RepoKey) ([]registry.UploadID, error) {
	var ids []registry.UploadID
	err := t.each(`SELECT id FROM uploads WHERE registry_id = $1 AND repo_name = $2`,
		[]any{key.Registry, key.Name}, func(scan func(...any) error) error {
			var id registry.UploadID
			if err := scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("uploads of %s/%s: %w", key.Registry, key.Name, err)
	}
	return ids, nil
}

func (t *Tx) scanUploads(query string, args ...any) ([]registry.Upload, error) {
	var us []registry.Upload
	err := t.each(query, args, func(scan func(...any) error) error {
		var u registry.Upload
		err := scan(&u.ID, &u.Repo.Registry, &u.Repo.Name, t.time(&u.CreatedAt), t.time(&u.UpdatedAt), &u.Size,
			&u.Parts, &u.LastPartSize, &u.SmallPart, &u.HashState, &u.Lease, &u.Holder, t.time(&u.LeaseAt))
		if err != nil {
			return err
		}
		us = append(us, u)
		return nil
	})
	return us, err
}
