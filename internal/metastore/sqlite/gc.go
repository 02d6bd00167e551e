package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// PinBlob implements registry.Tx.
func (t *tx) PinBlob(d registry.Digest, size int64, now time.Time) error {
	var deleting bool
	err := t.queryRow(`INSERT INTO blobs (digest, size, created_at, pinned_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (digest) DO UPDATE SET pinned_at = excluded.pinned_at WHERE deleting = 0
		RETURNING deleting`, d, size, micros(now), micros(now)).Scan(&deleting)
	if err == nil {
		return nil
	}
	// No row returned: the conflict's WHERE did not hold, so a collection
	// is deleting the blob.
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("pin blob %s: being deleted: %w", d, registry.ErrConflict)
	}
	return fmt.Errorf("pin blob %s: %w", d, err)
}

// DeleteUnreferencedLayers implements registry.Tx.
func (t *tx) DeleteUnreferencedLayers(before time.Time, limit int) (int, error) {
	res, err := t.exec(`DELETE FROM layers WHERE (registry_id, repo_name, digest) IN (
			SELECT l.registry_id, l.repo_name, l.digest FROM layers l
			WHERE max(l.created_at, coalesce(l.released_at, 0)) < ? AND NOT EXISTS (
				SELECT 1 FROM image_blobs b
				WHERE b.registry_id = l.registry_id AND b.repo_name = l.repo_name AND b.blob_digest = l.digest)
			LIMIT ?)`, micros(before), limit)
	if err != nil {
		return 0, fmt.Errorf("delete unreferenced layers: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// MarkGarbageBlobs implements registry.Tx.
func (t *tx) MarkGarbageBlobs(before, pinnedBefore time.Time, limit int) ([]registry.Digest, error) {
	rows, err := t.query(`UPDATE blobs SET deleting = 1 WHERE digest IN (
			SELECT b.digest FROM blobs b
			WHERE b.deleting = 1 OR (b.created_at < ? AND (b.pinned_at IS NULL OR b.pinned_at < ?)
				AND NOT EXISTS (SELECT 1 FROM layers l WHERE l.digest = b.digest))
			LIMIT ?)
		RETURNING digest`, micros(before), micros(pinnedBefore), limit)
	if err != nil {
		return nil, fmt.Errorf("mark garbage blobs: %w", err)
	}
	defer rows.Close()
	var out []registry.Digest
	for rows.Next() {
		var d registry.Digest
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DeleteBlob implements registry.Tx.
func (t *tx) DeleteBlob(d registry.Digest) error {
	res, err := t.exec(`DELETE FROM blobs WHERE digest = ?`, d)
	if err != nil {
		return fmt.Errorf("delete blob %s: %w", d, err)
	}
	return mustAffect(res, "delete blob "+string(d))
}

// TakeLease implements registry.Tx.
func (t *tx) TakeLease(name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	res, err := t.exec(`INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at <= ?`,
		name, holder, micros(now.Add(ttl)), micros(now))
	if err != nil {
		return false, fmt.Errorf("take lease %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DropLease implements registry.Tx.
func (t *tx) DropLease(name, holder string) error {
	if _, err := t.exec(`DELETE FROM leases WHERE name = ? AND holder = ?`, name, holder); err != nil {
		return fmt.Errorf("drop lease %s: %w", name, err)
	}
	return nil
}

// ReleaseLayers implements registry.Tx.
func (t *tx) ReleaseLayers(key registry.RepoKey, digests []registry.Digest, now time.Time) error {
	for len(digests) > 0 {
		batch := digests[:min(len(digests), layersBatch)]
		digests = digests[len(batch):]
		args := append([]any{micros(now)}, digestArgs(key, batch)...)
		if _, err := t.exec(`UPDATE layers SET released_at = ?
			WHERE registry_id = ? AND repo_name = ? AND digest IN `+inList(len(batch)), args...); err != nil {
			return fmt.Errorf("release layers in %s/%s: %w", key.Registry, key.Name, err)
		}
	}
	return nil
}
