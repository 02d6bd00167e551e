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

// DeleteUnreferencedLayers implements registry.Tx. The page is read by
// the primary key from the cursor on, and each record's references by
// image_blobs_blob: a page costs its limit whatever the registry holds.
func (t *tx) DeleteUnreferencedLayers(after registry.LayerCursor, before time.Time, limit int) (registry.LayerSweep, error) {
	page := registry.LayerSweep{Last: after}
	if limit <= 0 {
		return page, nil
	}
	rows, err := t.query(`SELECT l.registry_id, l.repo_name, l.digest,
			max(l.created_at, coalesce(l.released_at, 0)) < ? AND NOT EXISTS (
				SELECT 1 FROM image_blobs b
				WHERE b.registry_id = l.registry_id AND b.repo_name = l.repo_name AND b.blob_digest = l.digest)
		FROM layers l WHERE (l.registry_id, l.repo_name, l.digest) > (?, ?, ?)
		ORDER BY l.registry_id, l.repo_name, l.digest LIMIT ?`,
		micros(before), after.Repo.Registry, after.Repo.Name, after.Digest, limit)
	if err != nil {
		return page, fmt.Errorf("sweep layers: %w", err)
	}
	var garbage []registry.LayerCursor
	for rows.Next() {
		var c registry.LayerCursor
		var unreferenced bool
		if err := rows.Scan(&c.Repo.Registry, &c.Repo.Name, &c.Digest, &unreferenced); err != nil {
			rows.Close()
			return page, fmt.Errorf("sweep layers: %w", err)
		}
		page.Visited++
		page.Last = c
		if unreferenced {
			garbage = append(garbage, c)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return page, fmt.Errorf("sweep layers: %w", err)
	}
	// The write transaction that read the page deletes from it: nothing
	// can refer to a record between the two.
	for _, c := range garbage {
		if _, err := t.exec(`DELETE FROM layers WHERE registry_id = ? AND repo_name = ? AND digest = ?`,
			c.Repo.Registry, c.Repo.Name, c.Digest); err != nil {
			return page, fmt.Errorf("delete unreferenced layer %s in %s/%s: %w", c.Digest, c.Repo.Registry, c.Repo.Name, err)
		}
		page.Deleted++
	}
	return page, nil
}

// MarkGarbageBlobs implements registry.Tx, by the primary key from the
// cursor on, asking layers_by_digest whether a layer names each blob.
func (t *tx) MarkGarbageBlobs(after registry.Digest, before, pinnedBefore time.Time, limit int) (registry.BlobSweep, error) {
	page := registry.BlobSweep{Last: after}
	if limit <= 0 {
		return page, nil
	}
	rows, err := t.query(`SELECT b.digest,
			b.deleting = 1 OR (b.created_at < ? AND (b.pinned_at IS NULL OR b.pinned_at < ?)
				AND NOT EXISTS (SELECT 1 FROM layers l WHERE l.digest = b.digest))
		FROM blobs b WHERE b.digest > ? ORDER BY b.digest LIMIT ?`,
		micros(before), micros(pinnedBefore), after, limit)
	if err != nil {
		return page, fmt.Errorf("sweep blobs: %w", err)
	}
	for rows.Next() {
		var d registry.Digest
		var garbage bool
		if err := rows.Scan(&d, &garbage); err != nil {
			rows.Close()
			return page, fmt.Errorf("sweep blobs: %w", err)
		}
		page.Visited++
		page.Last = d
		if garbage {
			page.Marked = append(page.Marked, d)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return page, fmt.Errorf("sweep blobs: %w", err)
	}
	if len(page.Marked) == 0 {
		return page, nil
	}
	if _, err := t.exec(`UPDATE blobs SET deleting = 1 WHERE digest IN (SELECT value FROM json_each(?))`,
		digestsJSON(page.Marked)); err != nil {
		return page, fmt.Errorf("mark garbage blobs: %w", err)
	}
	return page, nil
}

// DeleteBlob implements registry.Tx.
func (t *tx) DeleteBlob(d registry.Digest) error {
	res, err := t.exec(`DELETE FROM blobs WHERE digest = ?`, d)
	if err != nil {
		return fmt.Errorf("delete blob %s: %w", d, err)
	}
	return mustAffect(res, "delete blob "+string(d))
}

// UnmarkBlob implements registry.Tx.
func (t *tx) UnmarkBlob(d registry.Digest) error {
	if _, err := t.exec(`UPDATE blobs SET deleting = 0 WHERE digest = ?`, d); err != nil {
		return fmt.Errorf("unmark blob %s: %w", d, err)
	}
	return nil
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
