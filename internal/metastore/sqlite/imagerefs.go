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

// LayerRefs counts, for each of digests, the repository's images whose
// Blobs include it, by stored status; an image that lists a blob twice
// counts once. The core decides what an ACTIVATING image whose ActiveAt has
// passed means, so the status is taken as stored. Digests are looked up in
// batches, one query each, so that any number of them can be asked for.
func (t *tx) LayerRefs(key registry.RepoKey, digests []registry.Digest, now time.Time) (map[registry.Digest]registry.LayerRefs, error) {
	refs := make(map[registry.Digest]registry.LayerRefs)
	for len(digests) > 0 {
		batch := digests[:min(len(digests), layersBatch)]
		digests = digests[len(batch):]
		// A restore whose time has come counts as active: see the interface.
		args := append([]any{micros(now)}, digestArgs(key, batch)...)
		err := t.each(`SELECT b.blob_digest,
				CASE WHEN i.status = 'ACTIVATING' AND i.active_at <= ? THEN 'ACTIVE' ELSE i.status END AS st,
				count(DISTINCT i.digest)
			FROM image_blobs b JOIN images i ON i.registry_id = b.registry_id
				AND i.repo_name = b.repo_name AND i.digest = b.image_digest
			WHERE b.registry_id = ? AND b.repo_name = ? AND b.blob_digest IN `+inList(len(batch))+`
			GROUP BY b.blob_digest, st`, args, func(scan func(...any) error) error {
			var (
				d      registry.Digest
				status string
				n      int
			)
			if err := scan(&d, &status, &n); err != nil {
				return err
			}
			r := refs[d]
			switch status {
			case registry.ImageActive:
				r.Active += n
			case registry.ImageArchived:
				r.Archived += n
			case registry.ImageActivating:
				r.Activating += n
			default:
				return fmt.Errorf("image referring to %s has unknown status %q", d, status)
			}
			refs[d] = r
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("layer refs in %s/%s: %w", key.Registry, key.Name, err)
		}
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
