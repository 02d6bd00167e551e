package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/ecrd/ecrd/internal/registry"
)

// layersBatch bounds the digests looked up per query, keeping each query's
// bound parameters far below SQLite's limit however many a caller passes.
const layersBatch = 500

// Layers returns the layers of the repository among digests.
func (t *tx) Layers(key registry.RepoKey, digests []registry.Digest) (map[registry.Digest]registry.Layer, error) {
	layers := make(map[registry.Digest]registry.Layer, len(digests))
	for len(digests) > 0 {
		batch := digests[:min(len(digests), layersBatch)]
		digests = digests[len(batch):]
		if err := t.layersBatch(key, batch, layers); err != nil {
			return nil, fmt.Errorf("layers of %s/%s: %w", key.Registry, key.Name, err)
		}
	}
	return layers, nil
}

// layersBatch adds to into the layers of the repository among digests.
func (t *tx) layersBatch(key registry.RepoKey, digests []registry.Digest, into map[registry.Digest]registry.Layer) error {
	args := make([]any, 0, 2+len(digests))
	args = append(args, key.Registry, key.Name)
	for _, d := range digests {
		args = append(args, d)
	}
	rows, err := t.query(`SELECT digest, size, media_type, created_at FROM layers
		WHERE registry_id = ? AND repo_name = ?
		AND digest IN (?`+strings.Repeat(", ?", len(digests)-1)+`)`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			l       registry.Layer
			created int64
		)
		if err := rows.Scan(&l.Digest, &l.Size, &l.MediaType, &created); err != nil {
			return err
		}
		l.CreatedAt = fromMicros(created)
		into[l.Digest] = l
	}
	return rows.Err()
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
