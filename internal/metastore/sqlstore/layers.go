package sqlstore

import (
	"errors"
	"fmt"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// Statements over many rows (an image of 25,000 layers) bind them as one
// list parameter (see Dialect) rather than as one statement per row or a
// statement of thousands of placeholders: one statement is prepared and
// run whatever the count, and no engine's parameter limit comes into it.

// Layers returns the layers of the repository among digests, with one
// query however many there are.
func (t *Tx) Layers(key registry.RepoKey, digests []registry.Digest) (map[registry.Digest]registry.Layer, error) {
	layers := make(map[registry.Digest]registry.Layer, len(digests))
	if len(digests) == 0 {
		return layers, nil
	}
	err := t.each(t.d.Layers, []any{key.Registry, key.Name, digests}, func(scan func(...any) error) error {
		var l registry.Layer
		if err := scan(&l.Digest, &l.Size, &l.MediaType, t.time(&l.CreatedAt)); err != nil {
			return err
		}
		layers[l.Digest] = l
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("layers of %s/%s: %w", key.Registry, key.Name, err)
	}
	return layers, nil
}

// HeldLayers implements registry.Tx in one statement: per digest, a seek
// of the layer's primary key, and for a held one layerUse's.
func (t *Tx) HeldLayers(key registry.RepoKey, digests []registry.Digest, now time.Time) (map[registry.Digest]registry.HeldLayer, error) {
	held := make(map[registry.Digest]registry.HeldLayer, len(digests))
	if len(digests) == 0 {
		return held, nil
	}
	err := t.each(`SELECT l.digest, l.size, l.media_type, l.created_at, `+layerUse("l.digest", "$3")+`
		FROM `+t.d.HeldLayersFrom,
		[]any{key.Registry, key.Name, now, digests}, func(scan func(...any) error) error {
			var h registry.HeldLayer
			if err := scan(&h.Layer.Digest, &h.Layer.Size, &h.Layer.MediaType, t.time(&h.Layer.CreatedAt), &h.Use); err != nil {
				return err
			}
			held[h.Layer.Digest] = h
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("held layers of %s/%s: %w", key.Registry, key.Name, err)
	}
	return held, nil
}

// layerStatusQuery is LayerStatus's statement, built once: a HEAD runs it.
var layerStatusQuery = `SELECT true, r.tags,
			(SELECT p.policy FROM repository_policies AS p WHERE p.registry_id = $1 AND p.repo_name = $2),
			(SELECT g.policy FROM registry_policies AS g WHERE g.registry_id = $1), ` + scopeColumn + `,
			COALESCE(l.digest, ''), COALESCE(l.size, 0), COALESCE(l.media_type, ''), l.created_at,
			CASE WHEN l.digest IS NULL THEN '' ELSE ` + layerUse("l.digest", "$4") + ` END
		FROM repositories AS r
		LEFT JOIN layers AS l ON l.registry_id = r.registry_id AND l.repo_name = r.name AND l.digest = $3
		WHERE r.registry_id = $1 AND r.name = $2
		UNION ALL
		SELECT false, '[]', NULL, (SELECT g.policy FROM registry_policies AS g WHERE g.registry_id = $1), ` + scopeColumn + `, '', 0, '', NULL, ''
		WHERE NOT EXISTS (SELECT 1 FROM repositories AS r WHERE r.registry_id = $1 AND r.name = $2)`

// LayerStatus implements registry.Tx in one statement, which a blob HEAD
// runs alone: the repository's row, its and its registry's policies, its
// layer d if it holds it, and LayerRefs' answer for d (see layerUse),
// asked only of a layer it holds; or, when there is no such repository,
// a row of its registry's policy alone. Each is a seek of a primary key
// or of image_blobs_blob.
func (t *Tx) LayerStatus(key registry.RepoKey, d registry.Digest, now time.Time) (registry.BlobStatus, error) {
	var (
		st                     registry.BlobStatus
		tagsJSON               []byte
		policy, registryPolicy *string
		scope                  *string
	)
	err := t.queryRow(layerStatusQuery,
		[]any{key.Registry, key.Name, d, now}, &st.Access.Exists, &tagsJSON, &policy, &registryPolicy, &scope,
		&st.Layer.Digest, &st.Layer.Size, &st.Layer.MediaType, t.time(&st.Layer.CreatedAt), &st.Use)
	if err == nil && st.Access.Exists {
		st.Access.Repository = registry.Repository{Registry: key.Registry, Name: key.Name}
		err = decodeTags(tagsJSON, &st.Access.Repository.Tags)
		st.Access.Policy = deref(policy)
	}
	if err != nil {
		return registry.BlobStatus{}, fmt.Errorf("layer %s of %s/%s: %w", d, key.Registry, key.Name, err)
	}
	st.Access.RegistryPolicy, st.Access.RegistryPolicyScope = deref(registryPolicy), deref(scope)
	return st, nil
}

// CountLayers returns how many layers the repository holds; 0 for a
// repository that does not exist.
func (t *Tx) CountLayers(key registry.RepoKey) (int, error) {
	var n int
	err := t.queryRow(`SELECT count(*) FROM layers WHERE registry_id = $1 AND repo_name = $2`,
		[]any{key.Registry, key.Name}, &n)
	if err != nil {
		return 0, fmt.Errorf("count layers of %s/%s: %w", key.Registry, key.Name, err)
	}
	return n, nil
}

// RepositoryEmpty implements registry.Tx: each EXISTS stops at the first
// record of the repository it finds.
func (t *Tx) RepositoryEmpty(key registry.RepoKey) (bool, error) {
	var held bool
	err := t.queryRow(`SELECT EXISTS (SELECT 1 FROM layers WHERE registry_id = $1 AND repo_name = $2)
		OR EXISTS (SELECT 1 FROM images WHERE registry_id = $1 AND repo_name = $2)`,
		[]any{key.Registry, key.Name}, &held)
	if err != nil {
		return false, fmt.Errorf("contents of %s/%s: %w", key.Registry, key.Name, err)
	}
	return !held, nil
}

// AddLayer records that the repository holds l, or returns
// registry.ErrExists; for a repository that does not exist it returns
// registry.ErrNotFound. The row is inserted only under its repository's,
// so that neither answer fails the statement (see the package doc).
func (t *Tx) AddLayer(key registry.RepoKey, l registry.Layer) error {
	what := fmt.Sprintf("add layer %s to %s/%s", l.Digest, key.Registry, key.Name)
	n, err := t.exec(`INSERT INTO layers (registry_id, repo_name, digest, size, media_type, created_at)
		SELECT r.registry_id, r.name, $3, $4, $5, $6 FROM repositories AS r
		WHERE r.registry_id = $1 AND r.name = $2
		ON CONFLICT DO NOTHING`,
		key.Registry, key.Name, l.Digest, l.Size, l.MediaType, l.CreatedAt)
	if err != nil {
		return t.constraintError(err, what, "repository")
	}
	if n == 0 {
		return t.existsOrMissing(key, what)
	}
	return nil
}

// DeleteLayer implements registry.Tx.
func (t *Tx) DeleteLayer(key registry.RepoKey, d registry.Digest) error {
	what := fmt.Sprintf("delete layer %s of %s/%s", d, key.Registry, key.Name)
	n, err := t.exec(`DELETE FROM layers WHERE registry_id = $1 AND repo_name = $2 AND digest = $3`,
		key.Registry, key.Name, d)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return mustAffect(n, what)
}

// Blob returns the blob record, or registry.ErrNotFound.
func (t *Tx) Blob(d registry.Digest) (registry.Blob, error) {
	var b registry.Blob
	err := t.queryRow(`SELECT digest, size, created_at FROM blobs WHERE digest = $1`, []any{d},
		&b.Digest, &b.Size, t.time(&b.CreatedAt))
	if errors.Is(err, errNoRow) {
		return registry.Blob{}, fmt.Errorf("blob %s: %w", d, registry.ErrNotFound)
	}
	if err != nil {
		return registry.Blob{}, fmt.Errorf("blob %s: %w", d, err)
	}
	return b, nil
}

// AddBlob records b unless its digest is recorded already (the first record
// wins, so a blob's CreatedAt is when it was first stored), and clears its
// pin: the commit is done, and the layer record that comes with it
// protects the blob from now on.
func (t *Tx) AddBlob(b registry.Blob) error {
	var deleting bool
	err := t.queryRow(`INSERT INTO blobs (digest, size, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (digest) DO UPDATE SET pinned_at = NULL
		RETURNING deleting`, []any{b.Digest, b.Size, b.CreatedAt}, &deleting)
	if err != nil {
		return fmt.Errorf("add blob %s: %w", b.Digest, err)
	}
	if deleting {
		return fmt.Errorf("add blob %s: being deleted: %w", b.Digest, registry.ErrConflict)
	}
	return nil
}
