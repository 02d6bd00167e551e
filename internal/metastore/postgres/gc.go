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

// DeleteUnreferencedLayers implements registry.Tx. The page is read by
// the primary key from the cursor on, and each record's references by
// image_blobs_blob: a page costs its limit whatever the registry holds.
// The deletion re-reads nothing: it runs in the serializable transaction
// that read the page, so an image put meanwhile that refers to a record
// makes one of the two fail and retry.
func (t *tx) DeleteUnreferencedLayers(after registry.LayerCursor, before time.Time, limit int) (registry.LayerSweep, error) {
	page := registry.LayerSweep{Last: after}
	if limit <= 0 {
		return page, nil
	}
	var regs, names, digests []string
	err := t.each(`SELECT l.registry_id, l.repo_name, l.digest,
			greatest(l.created_at, l.released_at) < $4 AND NOT EXISTS (
				SELECT 1 FROM image_blobs AS b
				WHERE b.registry_id = l.registry_id AND b.repo_name = l.repo_name AND b.blob_digest = l.digest)
		FROM layers AS l WHERE (l.registry_id, l.repo_name, l.digest) > ($1, $2, $3)
		ORDER BY l.registry_id, l.repo_name, l.digest LIMIT $5`,
		[]any{after.Repo.Registry, after.Repo.Name, after.Digest, before, limit}, func(scan func(...any) error) error {
			var c registry.LayerCursor
			var unreferenced bool
			if err := scan(&c.Repo.Registry, &c.Repo.Name, &c.Digest, &unreferenced); err != nil {
				return err
			}
			page.Visited++
			page.Last = c
			if unreferenced {
				regs, names, digests = append(regs, string(c.Repo.Registry)), append(names, string(c.Repo.Name)), append(digests, string(c.Digest))
			}
			return nil
		})
	if err != nil {
		return page, fmt.Errorf("sweep layers: %w", err)
	}
	if len(digests) == 0 {
		return page, nil
	}
	tag, err := t.exec(`DELETE FROM layers AS l
		USING unnest($1::text[], $2::text[], $3::text[]) AS g (registry_id, repo_name, digest)
		WHERE l.registry_id = g.registry_id AND l.repo_name = g.repo_name AND l.digest = g.digest`,
		regs, names, digests)
	if err != nil {
		return page, fmt.Errorf("delete unreferenced layers: %w", err)
	}
	page.Deleted = int(tag.RowsAffected())
	return page, nil
}

// MarkGarbageBlobs implements registry.Tx, by the primary key from the
// cursor on, asking layers_digest whether a layer names each blob.
func (t *tx) MarkGarbageBlobs(after registry.Digest, before, pinnedBefore time.Time, limit int) (registry.BlobSweep, error) {
	page := registry.BlobSweep{Last: after}
	if limit <= 0 {
		return page, nil
	}
	err := t.each(`SELECT b.digest,
			b.deleting OR (b.created_at < $2 AND (b.pinned_at IS NULL OR b.pinned_at < $3)
				AND NOT EXISTS (SELECT 1 FROM layers AS l WHERE l.digest = b.digest))
		FROM blobs AS b WHERE b.digest > $1 ORDER BY b.digest LIMIT $4`,
		[]any{after, before, pinnedBefore, limit}, func(scan func(...any) error) error {
			var d registry.Digest
			var garbage bool
			if err := scan(&d, &garbage); err != nil {
				return err
			}
			page.Visited++
			page.Last = d
			if garbage {
				page.Marked = append(page.Marked, d)
			}
			return nil
		})
	if err != nil {
		return page, fmt.Errorf("sweep blobs: %w", err)
	}
	if len(page.Marked) == 0 {
		return page, nil
	}
	if _, err := t.exec(`UPDATE blobs SET deleting = true WHERE digest = ANY ($1::text[])`,
		digestStrings(page.Marked)); err != nil {
		return page, fmt.Errorf("mark garbage blobs: %w", err)
	}
	return page, nil
}

// DeleteBlob implements registry.Tx.
func (t *tx) DeleteBlob(d registry.Digest) error {
	tag, err := t.exec(`DELETE FROM blobs WHERE digest = $1`, d)
	if err != nil {
		return fmt.Errorf("delete blob %s: %w", d, err)
	}
	return mustAffect(tag, "delete blob "+string(d))
}

// UnmarkBlob implements registry.Tx.
func (t *tx) UnmarkBlob(d registry.Digest) error {
	if _, err := t.exec(`UPDATE blobs SET deleting = false WHERE digest = $1`, d); err != nil {
		return fmt.Errorf("unmark blob %s: %w", d, err)
	}
	return nil
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
