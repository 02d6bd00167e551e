package sqlite

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// Parents returns, in byte order, the digests of the repository's images
// whose Children include d; an index that lists d twice appears once.
func (t *tx) Parents(key registry.RepoKey, d registry.Digest) ([]registry.Digest, error) {
	var parents []registry.Digest
	err := t.each(`SELECT DISTINCT image_digest FROM image_children
		WHERE registry_id = ? AND repo_name = ? AND child_digest = ?
		ORDER BY image_digest`, []any{key.Registry, key.Name, d}, func(scan func(...any) error) error {
		var p registry.Digest
		if err := scan(&p); err != nil {
			return err
		}
		parents = append(parents, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("parents of %s in %s/%s: %w", d, key.Registry, key.Name, err)
	}
	return parents, nil
}

// LayerRefs returns, for each of digests, the most available status of
// the repository's images that refer to it. Each question is an EXISTS
// that one seek of image_blobs_blob (blob, then image status and restore
// time) answers, asked in order of availability and only until one holds
// (CASE stops there): a layer an active image refers to, the common case,
// costs one seek, whatever the number of images sharing it. The status is
// the image's as stored, copied into its image_blobs rows; a restore whose
// time has come counts as active (see the interface), and so does one
// without a time, which has no time to wait for.
func (t *tx) LayerRefs(key registry.RepoKey, digests []registry.Digest, now time.Time) (map[registry.Digest]string, error) {
	refs := make(map[registry.Digest]string)
	if len(digests) == 0 {
		return refs, nil
	}
	const refers = `EXISTS (SELECT 1 FROM image_blobs AS b
		WHERE b.registry_id = ?1 AND b.repo_name = ?2 AND b.blob_digest = j.value AND b.image_status = `
	// A digest asked for twice is answered twice, into the same entry.
	err := t.each(`SELECT j.value, CASE
			WHEN `+refers+`'ACTIVE') THEN 'ACTIVE'
			WHEN `+refers+`'ACTIVATING' AND b.image_active_at <= ?3) THEN 'ACTIVE'
			WHEN `+refers+`'ACTIVATING' AND b.image_active_at IS NULL) THEN 'ACTIVE'
			WHEN `+refers+`'ACTIVATING' AND b.image_active_at > ?3) THEN 'ACTIVATING'
			WHEN `+refers+`'ARCHIVED') THEN 'ARCHIVED'
			ELSE '' END
		FROM json_each(?4) AS j`,
		[]any{key.Registry, key.Name, micros(now), digestsJSON(digests)}, func(scan func(...any) error) error {
			var d registry.Digest
			var use string
			if err := scan(&d, &use); err != nil {
				return err
			}
			if use != "" {
				refs[d] = use
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("layer refs in %s/%s: %w", key.Registry, key.Name, err)
	}
	return refs, nil
}

// SetLayerMediaTypes records the media types under which an image refers
// to layers of the repository, with one UPDATE per media type (an image
// has a handful, whatever its number of layers). Rows that have the media
// type already are left unwritten, so that pushing an image again rewrites
// no pages. Layers the repository does not hold are ignored.
func (t *tx) SetLayerMediaTypes(key registry.RepoKey, types map[registry.Digest]string) error {
	byType := make(map[string][]registry.Digest)
	for d, mt := range types {
		byType[mt] = append(byType[mt], d)
	}
	for _, mt := range slices.Sorted(maps.Keys(byType)) {
		_, err := t.exec(`UPDATE layers SET media_type = ?
			WHERE registry_id = ? AND repo_name = ? AND digest IN (SELECT value FROM json_each(?))
			AND media_type <> ?`,
			mt, key.Registry, key.Name, digestsJSON(byType[mt]), mt)
		if err != nil {
			return fmt.Errorf("set media type %q of %d layers in %s/%s: %w", mt, len(byType[mt]), key.Registry, key.Name, err)
		}
	}
	return nil
}

// CountImages returns how many images the repository holds; 0 for a
// repository that does not exist.
func (t *tx) CountImages(key registry.RepoKey) (int, error) {
	var n int
	err := t.queryRow(`SELECT count(*) FROM images WHERE registry_id = ? AND repo_name = ?`,
		key.Registry, key.Name).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count images of %s/%s: %w", key.Registry, key.Name, err)
	}
	return n, nil
}

// RecordPull implements registry.Tx: one column, not a rewrite of the image.
func (t *tx) RecordPull(key registry.RepoKey, d registry.Digest, at time.Time) error {
	_, err := t.exec(`UPDATE images SET last_pulled_at = ? WHERE registry_id = ? AND repo_name = ? AND digest = ?`,
		micros(at), key.Registry, key.Name, d)
	if err != nil {
		return fmt.Errorf("record pull of %s in %s/%s: %w", d, key.Registry, key.Name, err)
	}
	return nil
}
