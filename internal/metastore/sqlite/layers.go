package sqlite

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/ecrd/ecrd/internal/registry"
)

// layersBatch bounds the digests looked up per query where a query binds
// each digest as a parameter, keeping it far below SQLite's limit however
// many a caller passes.
const layersBatch = 500

// Layers returns the layers of the repository among digests, with one
// query however many there are (see jsonargs.go).
func (t *tx) Layers(key registry.RepoKey, digests []registry.Digest) (map[registry.Digest]registry.Layer, error) {
	layers := make(map[registry.Digest]registry.Layer, len(digests))
	if len(digests) == 0 {
		return layers, nil
	}
	// CROSS JOIN keeps json_each the outer loop: one primary-key lookup
	// per digest, where IN (SELECT …) would first build a temporary index
	// of the digests.
	err := t.each(`SELECT l.digest, l.size, l.media_type, l.created_at
		FROM json_each(?) AS j CROSS JOIN layers AS l
		WHERE l.registry_id = ? AND l.repo_name = ? AND l.digest = j.value`,
		[]any{digestsJSON(digests), key.Registry, key.Name}, func(scan func(...any) error) error {
			var (
				l       registry.Layer
				created int64
			)
			if err := scan(&l.Digest, &l.Size, &l.MediaType, &created); err != nil {
				return err
			}
			l.CreatedAt = fromMicros(created)
			layers[l.Digest] = l
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("layers of %s/%s: %w", key.Registry, key.Name, err)
	}
	return layers, nil
}

// CountLayers returns how many layers the repository holds; 0 for a
// repository that does not exist.
func (t *tx) CountLayers(key registry.RepoKey) (int, error) {
	var n int
	err := t.queryRow(`SELECT count(*) FROM layers WHERE registry_id = ? AND repo_name = ?`,
		key.Registry, key.Name).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count layers of %s/%s: %w", key.Registry, key.Name, err)
	}
	return n, nil
}

// RepositoryEmpty implements registry.Tx: each EXISTS stops at the first
// record of the repository it finds.
func (t *tx) RepositoryEmpty(key registry.RepoKey) (bool, error) {
	var held bool
	err := t.queryRow(`SELECT EXISTS (SELECT 1 FROM layers WHERE registry_id = ?1 AND repo_name = ?2)
		OR EXISTS (SELECT 1 FROM images WHERE registry_id = ?1 AND repo_name = ?2)`, key.Registry, key.Name).Scan(&held)
	if err != nil {
		return false, fmt.Errorf("contents of %s/%s: %w", key.Registry, key.Name, err)
	}
	return !held, nil
}

// AddLayer records that the repository holds l, or returns
// registry.ErrExists; for a repository that does not exist it returns
// registry.ErrNotFound.
func (t *tx) AddLayer(key registry.RepoKey, l registry.Layer) error {
	_, err := t.exec(`INSERT INTO layers (registry_id, repo_name, digest, size, media_type, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`,
		key.Registry, key.Name, l.Digest, l.Size, l.MediaType, micros(l.CreatedAt))
	if err != nil {
		return insertError(err, fmt.Sprintf("add layer %s to %s/%s", l.Digest, key.Registry, key.Name))
	}
	return nil
}

// DeleteLayer implements registry.Tx.
func (t *tx) DeleteLayer(key registry.RepoKey, d registry.Digest) error {
	what := fmt.Sprintf("delete layer %s of %s/%s", d, key.Registry, key.Name)
	res, err := t.exec(`DELETE FROM layers WHERE registry_id = ? AND repo_name = ? AND digest = ?`, key.Registry, key.Name, d)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return mustAffect(res, what)
}

// Blob returns the blob record, or registry.ErrNotFound.
func (t *tx) Blob(d registry.Digest) (registry.Blob, error) {
	var (
		b       registry.Blob
		created int64
	)
	err := t.queryRow(`SELECT digest, size, created_at FROM blobs WHERE digest = ?`, d).
		Scan(&b.Digest, &b.Size, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return registry.Blob{}, fmt.Errorf("blob %s: %w", d, registry.ErrNotFound)
	}
	if err != nil {
		return registry.Blob{}, fmt.Errorf("blob %s: %w", d, err)
	}
	b.CreatedAt = fromMicros(created)
	return b, nil
}

// AddBlob records b unless its digest is recorded already (the first record
// wins, so a blob's CreatedAt is when it was first stored), and clears its
// pin.
func (t *tx) AddBlob(b registry.Blob) error {
	_, err := t.exec(`INSERT INTO blobs (digest, size, created_at) VALUES (?, ?, ?)
		ON CONFLICT (digest) DO NOTHING`, b.Digest, b.Size, micros(b.CreatedAt))
	if err != nil {
		return fmt.Errorf("add blob %s: %w", b.Digest, err)
	}
	// The commit is done: the layer record that comes with it protects the
	// blob from now on, so the pin that covered the commit is cleared.
	var deleting bool
	if err := t.queryRow(`UPDATE blobs SET pinned_at = NULL WHERE digest = ? RETURNING deleting`, b.Digest).Scan(&deleting); err != nil {
		return fmt.Errorf("add blob %s: %w", b.Digest, err)
	}
	if deleting {
		return fmt.Errorf("add blob %s: being deleted: %w", b.Digest, registry.ErrConflict)
	}
	return nil
}
