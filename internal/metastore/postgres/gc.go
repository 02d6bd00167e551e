package postgres

import (
	"fmt"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// PinBlob implements registry.Tx.
func (t *tx) PinBlob(d registry.Digest, size int64, now time.Time) error {
	var deleting bool
	err := t.queryRow(`INSERT INTO blobs (digest, size, created_at, pinned_at) VALUES ($1, $2, $3, $3)
		ON CONFLICT (digest) DO UPDATE SET pinned_at = excluded.pinned_at WHERE NOT blobs.deleting
		RETURNING deleting`, []any{d, size, now}, &deleting)
	if err == nil {
		return nil
	}
	// No row returned: the conflict's WHERE did not hold, so a collection
	// is deleting the blob.
	if errNoRow(err) {
		return fmt.Errorf("pin blob %s: being deleted: %w", d, registry.ErrConflict)
	}
	return fmt.Errorf("pin blob %s: %w", d, err)
}

// DeleteUnreferencedLayers implements registry.Tx. It reads layers in no
// index's order: garbage collection sweeps every record, a batch at a time,
// in the background.
func (t *tx) DeleteUnreferencedLayers(before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	tag, err := t.exec(`DELETE FROM layers WHERE (registry_id, repo_name, digest) IN (
			SELECT l.registry_id, l.repo_name, l.digest FROM layers AS l
			WHERE greatest(l.created_at, l.released_at) < $1 AND NOT EXISTS (
				SELECT 1 FROM image_blobs AS b
				WHERE b.registry_id = l.registry_id AND b.repo_name = l.repo_name AND b.blob_digest = l.digest)
			LIMIT $2)`, before, limit)
	if err != nil {
		return 0, fmt.Errorf("delete unreferenced layers: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// MarkGarbageBlobs implements registry.Tx; like DeleteUnreferencedLayers,
// a sweep of every blob record.
func (t *tx) MarkGarbageBlobs(before, pinnedBefore time.Time, limit int) ([]registry.Digest, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []registry.Digest
	err := t.each(`UPDATE blobs SET deleting = true WHERE digest IN (
			SELECT b.digest FROM blobs AS b
			WHERE b.deleting OR (b.created_at < $1 AND (b.pinned_at IS NULL OR b.pinned_at < $2)
				AND NOT EXISTS (SELECT 1 FROM layers AS l WHERE l.digest = b.digest))
			LIMIT $3)
		RETURNING digest`, []any{before, pinnedBefore, limit}, func(scan func(...any) error) error {
		var d registry.Digest
		if err := scan(&d); err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("mark garbage blobs: %w", err)
	}
	return out, nil
}

// DeleteBlob implements registry.Tx.
func (t *tx) DeleteBlob(d registry.Digest) error {
	tag, err := t.exec(`DELETE FROM blobs WHERE digest = $1`, d)
	if err != nil {
		return fmt.Errorf("delete blob %s: %w", d, err)
	}
	return mustAffect(tag, "delete blob "+string(d))
}

// TakeLease implements registry.Tx.
func (t *tx) TakeLease(name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	tag, err := t.exec(`INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at <= $4`,
		name, holder, now.Add(ttl), now)
	if err != nil {
		return false, fmt.Errorf("take lease %s: %w", name, err)
	}
	return tag.RowsAffected() == 1, nil
}

// DropLease implements registry.Tx.
func (t *tx) DropLease(name, holder string) error {
	if _, err := t.exec(`DELETE FROM leases WHERE name = $1 AND holder = $2`, name, holder); err != nil {
		return fmt.Errorf("drop lease %s: %w", name, err)
	}
	return nil
}
