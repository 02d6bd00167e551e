package sqlstore

import (
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/ecrd/ecrd/internal/registry"
)

// imageColumns lists the columns scanImages reads, in its order.
const imageColumns = `digest, manifest, media_type, artifact_media_type, size, pushed_at,
	last_pulled_at, status, last_archived_at, last_activated_at, active_at, subject`

// listColumns is imageColumns without the manifest bytes, which listings
// leave out: a page of 1,000 images of 4 MiB manifests would be 4 GiB.
// (bytea is no SQLite type; its CAST of NULL is NULL all the same.)
const listColumns = `digest, CAST(NULL AS bytea), media_type, artifact_media_type, size, pushed_at,
	last_pulled_at, status, last_archived_at, last_activated_at, active_at, subject`

// Image returns the image of the repository with digest d, or
// registry.ErrNotFound.
func (t *Tx) Image(key registry.RepoKey, d registry.Digest) (registry.Image, error) {
	img, err := t.ImageManifest(key, d)
	if err != nil {
		return registry.Image{}, err
	}
	if err := t.addImageParts(key, &img); err != nil {
		return registry.Image{}, fmt.Errorf("image %s in %s/%s: %w", d, key.Registry, key.Name, err)
	}
	return img, nil
}

// ImageManifest returns the image's own row, without the blob and child
// rows, or registry.ErrNotFound.
func (t *Tx) ImageManifest(key registry.RepoKey, d registry.Digest) (registry.Image, error) {
	what := fmt.Sprintf("image %s in %s/%s", d, key.Registry, key.Name)
	imgs, err := t.scanImages(what, `SELECT `+imageColumns+` FROM images
		WHERE registry_id = $1 AND repo_name = $2 AND digest = $3`, key.Registry, key.Name, d)
	if err != nil {
		return registry.Image{}, err
	}
	if len(imgs) == 0 {
		return registry.Image{}, fmt.Errorf("%s: %w", what, registry.ErrNotFound)
	}
	return imgs[0], nil
}

// Images returns the page of the repository's images q selects (see
// imagePage), without their manifests, blobs or children. A limit of 0 or
// less returns none.
func (t *Tx) Images(key registry.RepoKey, q registry.ImageQuery) ([]registry.Image, error) {
	what := fmt.Sprintf("images of %s/%s", key.Registry, key.Name)
	if q.Limit <= 0 {
		return nil, nil
	}
	arms, err := imagePage(key, q)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var page []registry.Image
	for _, a := range arms {
		imgs, err := t.scanImages(what, a.query, a.args...)
		if err != nil {
			return nil, err
		}
		page = append(page, imgs...)
	}
	if len(arms) > 1 {
		// The arms' statuses differ, so no image is in two of them.
		slices.SortFunc(page, func(a, b registry.Image) int { return strings.Compare(string(a.Digest), string(b.Digest)) })
		page = page[:min(len(page), q.Limit)]
	}
	return page, nil
}

// Referrers returns up to limit images of the repository whose subject is
// subject, after after in digest order, by the images_subject index.
func (t *Tx) Referrers(key registry.RepoKey, subject, after registry.Digest, limit int) ([]registry.Image, error) {
	if limit <= 0 {
		return nil, nil
	}
	// subject <> '' is spelled out so that the planner may use the
	// partial index, which holds only images with a subject.
	return t.scanImages(fmt.Sprintf("referrers of %s in %s/%s", subject, key.Registry, key.Name),
		`SELECT `+imageColumns+` FROM images
		WHERE registry_id = $1 AND repo_name = $2 AND subject = $3 AND subject <> '' AND digest > $4
		ORDER BY digest LIMIT $5`, key.Registry, key.Name, subject, after, limit)
}

func (t *Tx) scanImages(what, query string, args ...any) ([]registry.Image, error) {
	var imgs []registry.Image
	err := t.each(query, args, func(scan func(...any) error) error {
		var (
			img                              registry.Image
			mediaType, artifactType, subject sql.NullString
			size                             sql.NullInt64
		)
		err := scan(&img.Digest, &img.Manifest, &mediaType, &artifactType, &size,
			t.time(&img.PushedAt), t.time(&img.LastPulledAt), &img.Status, t.time(&img.LastArchivedAt),
			t.time(&img.LastActivatedAt), t.time(&img.ActiveAt), &subject)
		if err != nil {
			return err
		}
		img.MediaType, img.ArtifactMediaType, img.Subject = mediaType.String, artifactType.String, registry.Digest(subject.String)
		img.Size = size.Int64
		imgs = append(imgs, img)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return imgs, nil
}

// pageArm is one statement of a page of images.
type pageArm struct {
	query string
	args  []any
}

// imagePage builds the statements of a page of images: one per status the
// query admits, each a range of images_status (or, with a tag status,
// images_tagged) read in digest order up to the page's limit, which
// Images merges. Without a status or tag status the primary key alone
// serves. One statement per status, rather than their UNION ALL: before
// PostgreSQL 17 a union is appended and sorted whole, and as a subquery
// its arms' conditions do not make the index's order the page's, so it is
// sorted too, however many images the repository holds.
func imagePage(key registry.RepoKey, q registry.ImageQuery) ([]pageArm, error) {
	type arm struct {
		status string // "" for any
		extra  string // a condition on active_at, with the parameter $6
	}
	var arms []arm
	switch q.Status {
	case "":
		arms = []arm{{}}
		if q.TagStatus != "" {
			arms = []arm{{status: registry.ImageActive}, {status: registry.ImageArchived}, {status: registry.ImageActivating}}
		}
	case registry.ImageActive:
		// A restore whose time has come is active: see registry.ImageQuery.
		arms = []arm{{status: registry.ImageActive}, {status: registry.ImageActivating, extra: "(active_at IS NULL OR active_at <= $6)"}}
	case registry.ImageArchived:
		arms = []arm{{status: registry.ImageArchived}}
	case registry.ImageActivating:
		arms = []arm{{status: registry.ImageActivating, extra: "active_at > $6"}}
	default:
		return nil, fmt.Errorf("unknown image status %q", q.Status)
	}
	tagged := ""
	switch q.TagStatus {
	case "":
	case registry.TagStatusTagged:
		tagged = " AND tagged = true"
	case registry.TagStatusUntagged:
		tagged = " AND tagged = false"
	default:
		return nil, fmt.Errorf("unknown tag status %q", q.TagStatus)
	}
	out := make([]pageArm, 0, len(arms))
	for _, a := range arms {
		cols := listColumns
		if q.DigestsOnly {
			// What images_status and images_tagged hold, so that the page
			// may be read from the index alone; only a restoring image's
			// row is read, for its restore time.
			activeAt := "CAST(NULL AS timestamptz)"
			if a.status != registry.ImageActive && a.status != registry.ImageArchived {
				activeAt = "active_at"
			}
			cols = `digest, CAST(NULL AS bytea), CAST(NULL AS text), CAST(NULL AS text), CAST(NULL AS bigint),
				CAST(NULL AS timestamptz), CAST(NULL AS timestamptz), status, CAST(NULL AS timestamptz),
				CAST(NULL AS timestamptz), ` + activeAt + `, CAST(NULL AS text)`
		}
		// $1 registry, $2 repository, $3 after, $4 limit, $5 status, $6 now.
		query := `SELECT ` + cols + ` FROM images WHERE registry_id = $1 AND repo_name = $2 AND digest > $3` + tagged
		args := []any{key.Registry, key.Name, q.After, q.Limit}
		if a.status != "" {
			query += ` AND status = $5`
			args = append(args, a.status)
		}
		if a.extra != "" {
			query += ` AND ` + a.extra
			args = append(args, q.Now)
		}
		out = append(out, pageArm{query: query + ` ORDER BY digest LIMIT $4`, args: args})
	}
	return out, nil
}
