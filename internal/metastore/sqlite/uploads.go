package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// uploadColumns lists the columns scanUpload reads, in its order.
const uploadColumns = `id, registry_id, repo_name, created_at, updated_at, size,
	parts, last_part_size, small_part, hash_state, lease, lease_holder, lease_at`

// Upload returns the upload, or registry.ErrNotFound.
func (t *tx) Upload(id registry.UploadID) (registry.Upload, error) {
	u, err := scanUpload(t.queryRow(`SELECT `+uploadColumns+` FROM uploads WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return registry.Upload{}, fmt.Errorf("upload %s: %w", id, registry.ErrNotFound)
	}
	if err != nil {
		return registry.Upload{}, fmt.Errorf("upload %s: %w", id, err)
	}
	return u, nil
}

// CreateUpload stores u, or returns registry.ErrExists; for a repository
// that does not exist it returns registry.ErrNotFound.
func (t *tx) CreateUpload(u registry.Upload) error {
	_, err := t.exec(`INSERT INTO uploads (`+uploadColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Repo.Registry, u.Repo.Name, micros(u.CreatedAt), micros(u.UpdatedAt), u.Size,
		u.Parts, u.LastPartSize, u.SmallPart, u.HashState, u.Lease, u.Holder, nullMicros(u.LeaseAt))
	if err != nil {
		return insertError(err, fmt.Sprintf("create upload %s", u.ID))
	}
	return nil
}

// UpdateUpload replaces every field of the upload with u.ID, or returns
// registry.ErrNotFound.
func (t *tx) UpdateUpload(u registry.Upload) error {
	what := fmt.Sprintf("update upload %s", u.ID)
	res, err := t.exec(`UPDATE uploads SET registry_id = ?, repo_name = ?, created_at = ?,
		updated_at = ?, size = ?, parts = ?, last_part_size = ?, small_part = ?,
		hash_state = ?, lease = ?, lease_holder = ?, lease_at = ?
		WHERE id = ?`,
		u.Repo.Registry, u.Repo.Name, micros(u.CreatedAt), micros(u.UpdatedAt), u.Size,
		u.Parts, u.LastPartSize, u.SmallPart, u.HashState, u.Lease, u.Holder, nullMicros(u.LeaseAt),
		u.ID)
	if err != nil {
		return insertError(err, what)
	}
	return mustAffect(res, what)
}

// DeleteUpload removes the upload, or returns registry.ErrNotFound.
func (t *tx) DeleteUpload(id registry.UploadID) error {
	what := fmt.Sprintf("delete upload %s", id)
	res, err := t.exec(`DELETE FROM uploads WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return mustAffect(res, what)
}

// StaleUploads returns up to limit uploads last updated before before,
// oldest first; uploads updated in the same microsecond come in ID order, so
// that the result is the same on every call. A limit of 0 or less returns
// none.
func (t *tx) StaleUploads(before time.Time, limit int) ([]registry.Upload, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := t.query(`SELECT `+uploadColumns+` FROM uploads
		WHERE updated_at < ? ORDER BY updated_at, id LIMIT ?`, micros(before), limit)
	if err != nil {
		return nil, fmt.Errorf("stale uploads: %w", err)
	}
	defer rows.Close()
	var us []registry.Upload
	for rows.Next() {
		u, err := scanUpload(rows)
		if err != nil {
			return nil, fmt.Errorf("stale uploads: %w", err)
		}
		us = append(us, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stale uploads: %w", err)
	}
	return us, nil
}

// RepositoryUploads returns the IDs of the repository's uploads, in no
// particular order (the index on the repository holds no ID to sort by).
func (t *tx) RepositoryUploads(key registry.RepoKey) ([]registry.UploadID, error) {
	rows, err := t.query(`SELECT id FROM uploads WHERE registry_id = ? AND repo_name = ?`,
		key.Registry, key.Name)
	if err != nil {
		return nil, fmt.Errorf("uploads of %s/%s: %w", key.Registry, key.Name, err)
	}
	defer rows.Close()
	var ids []registry.UploadID
	for rows.Next() {
		var id registry.UploadID
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("uploads of %s/%s: %w", key.Registry, key.Name, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("uploads of %s/%s: %w", key.Registry, key.Name, err)
	}
	return ids, nil
}

func scanUpload(s scanner) (registry.Upload, error) {
	var (
		u                registry.Upload
		created, updated int64
		leaseAt          sql.NullInt64
	)
	err := s.Scan(&u.ID, &u.Repo.Registry, &u.Repo.Name, &created, &updated, &u.Size,
		&u.Parts, &u.LastPartSize, &u.SmallPart, &u.HashState, &u.Lease, &u.Holder, &leaseAt)
	if err != nil {
		return registry.Upload{}, err
	}
	u.CreatedAt = fromMicros(created)
	u.UpdatedAt = fromMicros(updated)
	u.LeaseAt = fromNullMicros(leaseAt)
	return u, nil
}
