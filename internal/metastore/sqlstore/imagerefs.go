package sqlstore

import (
	"fmt"
	"slices"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// Parents returns, in byte order, the digests of the repository's images
// whose Children include d; an index that lists d twice appears once.
func (t *Tx) Parents(key registry.RepoKey, d registry.Digest) ([]registry.Digest, error) {
	var parents []registry.Digest
	err := t.each(`SELECT DISTINCT image_digest FROM image_children
		WHERE registry_id = $1 AND repo_name = $2 AND child_digest = $3
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
func (t *Tx) LayerRefs(key registry.RepoKey, digests []registry.Digest, now time.Time) (map[registry.Digest]string, error) {
	refs := make(map[registry.Digest]string)
	if len(digests) == 0 {
		return refs, nil
	}
	// A digest asked for twice is answered twice, into the same entry.
	err := t.each(`SELECT u.value, `+layerUse("u.value", "$3")+`
		FROM `+t.d.LayerRefsFrom,
		[]any{key.Registry, key.Name, now, digests}, func(scan func(...any) error) error {
			var (
				d   registry.Digest
				use string
			)
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

// layerUse is the CASE expression of LayerRefs for the digest that the
// SQL expression digest names, in repository $1/$2, as of the time
// parameter now: the most available status of the images that refer to
// it, or the empty string.
//
// The least status in byte order (ACTIVATING < ACTIVE < ARCHIVED) is one
// seek of image_blobs_blob however many images refer to the digest, and
// decides every case but ACTIVATING: none (no image refers to it), ACTIVE
// (some image is active) or ARCHIVED (all are). Only when an image is
// being restored do the seeks of ACTIVE, of the restores that are done
// and of those still running follow, each stopping at its first row.
func layerUse(digest, now string) string {
	where := `b.registry_id = $1 AND b.repo_name = $2 AND b.blob_digest = ` + digest
	refers := `EXISTS (SELECT 1 FROM image_blobs AS b WHERE ` + where + ` AND b.image_status = `
	return `CASE (SELECT min(b.image_status) FROM image_blobs AS b WHERE ` + where + `)
			WHEN 'ACTIVE' THEN 'ACTIVE'
			WHEN 'ARCHIVED' THEN 'ARCHIVED'
			WHEN 'ACTIVATING' THEN CASE
				WHEN ` + refers + `'ACTIVE') THEN 'ACTIVE'
				WHEN ` + refers + `'ACTIVATING' AND (b.image_active_at IS NULL OR b.image_active_at <= ` + now + `)) THEN 'ACTIVE'
				ELSE 'ACTIVATING' END
			ELSE '' END`
}

// SetLayerMediaTypes records the media types under which an image refers
// to layers of the repository, with one UPDATE however many there are
// (or one per media type: see Dialect.SetLayerMediaTypes).
// Rows that have the media type already are left unwritten, so that
// pushing an image again writes nothing. The digests go in byte order, the
// order of the primary key, so that two transactions updating the same
// layers lock them in the same order rather than deadlock. Layers the
// repository does not hold are ignored.
func (t *Tx) SetLayerMediaTypes(key registry.RepoKey, types map[registry.Digest]string) error {
	if len(types) == 0 {
		return nil
	}
	digests := make([]registry.Digest, 0, len(types))
	for d := range types {
		digests = append(digests, d)
	}
	slices.Sort(digests)
	mediaTypes := make([]string, len(digests))
	for i, d := range digests {
		mediaTypes[i] = types[d]
	}
	for _, set := range t.d.LayerMediaTypeArgs(digests, mediaTypes) {
		args := append([]any{key.Registry, key.Name}, set...)
		if _, err := t.exec(t.d.SetLayerMediaTypes, args...); err != nil {
			return fmt.Errorf("set media types of %d layers in %s/%s: %w", len(types), key.Registry, key.Name, err)
		}
	}
	return nil
}

// CountImages returns how many images the repository holds; 0 for a
// repository that does not exist.
func (t *Tx) CountImages(key registry.RepoKey) (int, error) {
	var n int
	err := t.queryRow(`SELECT count(*) FROM images WHERE registry_id = $1 AND repo_name = $2`,
		[]any{key.Registry, key.Name}, &n)
	if err != nil {
		return 0, fmt.Errorf("count images of %s/%s: %w", key.Registry, key.Name, err)
	}
	return n, nil
}

// RecordPull implements registry.Tx: one column, not a rewrite of the image.
func (t *Tx) RecordPull(key registry.RepoKey, d registry.Digest, at time.Time) error {
	_, err := t.exec(`UPDATE images SET last_pulled_at = $1 WHERE registry_id = $2 AND repo_name = $3 AND digest = $4`,
		at, key.Registry, key.Name, d)
	if err != nil {
		return fmt.Errorf("record pull of %s in %s/%s: %w", d, key.Registry, key.Name, err)
	}
	return nil
}
