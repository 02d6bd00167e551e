package registry

import (
	"context"
	"strings"
	"time"
)

// Tag status filters of DescribeImages and ListImages.
const (
	TagStatusTagged   = "TAGGED"
	TagStatusUntagged = "UNTAGGED"
	TagStatusAny      = "ANY"
)

// ImageFilter selects images by tag status and image status; empty fields
// take ECR's defaults (any tag status, ACTIVE images only).
type ImageFilter struct {
	TagStatus   string
	ImageStatus string
}

// ImageDetail is an image with its tags and current status, as
// DescribeImages reports it.
type ImageDetail struct {
	Image
	Tags []string
	// Scan is the image's scan, without its findings (nil for none).
	Scan *ImageScan
}

func (f ImageFilter) statusMatches(status string) bool {
	switch f.ImageStatus {
	case "", ImageActive:
		return status == ImageActive
	case "ANY":
		return true
	}
	return status == f.ImageStatus
}

// DescribeImages describes the images named by ids, or (with no ids) one
// page of the repository's images that pass the filter, in digest order.
// Errors: RepositoryNotFound, ImageNotFound (an id that names no image),
// InvalidParameter.
func (r *Registry) DescribeImages(ctx context.Context, key RepoKey, ids []ImageID, filter ImageFilter, p Page) ([]ImageDetail, string, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return nil, "", err
	}
	if p.Max <= 0 {
		p.Max = DefaultPageSize
	}
	after, err := decodeToken("images", p.Token)
	if err != nil {
		return nil, "", err
	}
	var out []ImageDetail
	next := ""
	err = r.meta.View(ctx, func(tx Tx) error {
		out, next = nil, ""
		if _, err := r.access(ctx, tx, "DescribeImages", key); err != nil {
			return err
		}
		var scans *ScanningConfig
		if !key.Registry.IsPublic() {
			c, err := scanningConfig(tx, key.Registry)
			if err != nil {
				return err
			}
			scans = &c
		}
		if ids != nil {
			return r.describeByID(tx, key, ids, scans, &out)
		}
		// One image more than the page tells whether another follows.
		imgs, err := tx.Images(key, filter.query(Digest(after), p.Max+1, r.now()))
		if err != nil {
			return err
		}
		if len(imgs) > p.Max {
			imgs = imgs[:p.Max]
			next = encodeToken("images", string(imgs[len(imgs)-1].Digest))
		}
		for _, img := range imgs {
			d, err := r.detail(tx, key, img, scans)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	return out, next, err
}

// query is the store's query for a page of images that pass the filter.
func (f ImageFilter) query(after Digest, limit int, now time.Time) ImageQuery {
	q := ImageQuery{After: after, Limit: limit, TagStatus: f.TagStatus, Status: f.ImageStatus, Now: now}
	switch f.ImageStatus {
	case "":
		q.Status = ImageActive
	case "ANY":
		q.Status = ""
	}
	if q.TagStatus == TagStatusAny {
		q.TagStatus = ""
	}
	return q
}

func (r *Registry) describeByID(tx Tx, key RepoKey, ids []ImageID, scans *ScanningConfig, out *[]ImageDetail) error {
	seen := map[Digest]bool{}
	for _, id := range ids {
		img, err := lookupStrict(tx, key, id, "imageIds")
		if err != nil {
			return err
		}
		if seen[img.Digest] {
			continue
		}
		seen[img.Digest] = true
		d, err := r.detail(tx, key, img, scans)
		if err != nil {
			return err
		}
		*out = append(*out, d)
	}
	return nil
}

// detail is an image as DescribeImages reports it: with its tags, and,
// under the scanning configuration scans (nil for a public registry), its
// scan.
func (r *Registry) detail(tx Tx, key RepoKey, img Image, scans *ScanningConfig) (ImageDetail, error) {
	tags, err := tx.ImageTags(key, img.Digest)
	if err != nil {
		return ImageDetail{}, err
	}
	img.Status = r.effectiveStatus(img)
	d := ImageDetail{Image: img, Tags: tags}
	if scans != nil {
		d.Scan, err = visibleScan(tx, key, img, scans)
	}
	return d, err
}

// ListImages lists one page of the repository's image IDs: one per tag
// (tags in byte order), then one per untagged image (digest order), as the
// filter's tag status selects.
// Errors: RepositoryNotFound, InvalidParameter.
func (r *Registry) ListImages(ctx context.Context, key RepoKey, filter ImageFilter, p Page) ([]ImageID, string, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return nil, "", err
	}
	if p.Max <= 0 {
		p.Max = DefaultPageSize
	}
	pos, err := decodeToken("list", p.Token)
	if err != nil {
		return nil, "", err
	}
	phase, after, _ := strings.Cut(pos, ":")
	if phase == "" {
		phase = "t"
		if filter.TagStatus == TagStatusUntagged {
			phase = "u"
		}
	}
	var out []ImageID
	var next string
	err = r.meta.View(ctx, func(tx Tx) error {
		out, next = nil, ""
		if _, err := r.access(ctx, tx, "ListImages", key); err != nil {
			return err
		}
		if phase == "t" {
			done, err := r.listTagged(tx, key, filter, after, p.Max+1, &out)
			if err != nil {
				return err
			}
			if done && filter.TagStatus != TagStatusTagged {
				phase, after = "u", ""
			}
		}
		if phase == "u" && len(out) <= p.Max {
			if err := r.listUntagged(tx, key, filter, after, p.Max+1-len(out), &out); err != nil {
				return err
			}
		}
		if len(out) > p.Max {
			out = out[:p.Max]
			last := out[len(out)-1]
			if last.Tag != "" {
				next = encodeToken("list", "t:"+last.Tag)
			} else {
				next = encodeToken("list", "u:"+last.Digest)
			}
		}
		return nil
	})
	return out, next, err
}

// listTagged appends up to limit tagged IDs after tag after; done reports
// that the tags ran out.
func (r *Registry) listTagged(tx Tx, key RepoKey, filter ImageFilter, after string, limit int, out *[]ImageID) (bool, error) {
	for len(*out) < limit {
		tags, err := tx.TagsWithStatus(key, after, limit)
		if err != nil || len(tags) == 0 {
			return true, err
		}
		for _, t := range tags {
			after = t.Tag
			img := Image{Status: t.Status, ActiveAt: t.ActiveAt}
			if filter.statusMatches(r.effectiveStatus(img)) && len(*out) < limit {
				*out = append(*out, ImageID{Digest: string(t.Digest), Tag: t.Tag})
			}
		}
	}
	return false, nil
}

func (r *Registry) listUntagged(tx Tx, key RepoKey, filter ImageFilter, after string, limit int, out *[]ImageID) error {
	filter.TagStatus = TagStatusUntagged
	q := filter.query(Digest(after), limit, r.now())
	q.DigestsOnly = true
	imgs, err := tx.Images(key, q)
	for _, img := range imgs {
		*out = append(*out, ImageID{Digest: string(img.Digest)})
	}
	return err
}
