package registry

import (
	"context"
	"time"
)

// TagDetail is a tag with the image it names, as ECR Public's
// DescribeImageTags reports it.
type TagDetail struct {
	Tag       string
	CreatedAt time.Time
	Image     Image
}

// DescribeImageTags returns one page of the repository's tags in byte
// order, each with its image, and the token of the next page ("" on the
// last). Errors: RepositoryNotFound, InvalidParameter.
func (r *Registry) DescribeImageTags(ctx context.Context, key RepoKey, p Page) ([]TagDetail, string, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return nil, "", err
	}
	if p.Max <= 0 {
		p.Max = DefaultPageSize
	}
	after, err := decodeToken("tags", p.Token)
	if err != nil {
		return nil, "", err
	}
	var out []TagDetail
	var next string
	err = r.meta.View(ctx, func(tx Tx) error {
		out, next = nil, ""
		if _, err := r.access(ctx, tx, "DescribeImageTags", key); err != nil {
			return err
		}
		// One extra tag tells whether another page follows.
		refs, err := tx.Tags(key, after, p.Max+1)
		if err != nil {
			return err
		}
		if len(refs) > p.Max {
			refs = refs[:p.Max]
			next = encodeToken("tags", refs[len(refs)-1].Tag)
		}
		for _, ref := range refs {
			// A tag's image exists in the same snapshot (deleting an image
			// deletes its tags).
			img, err := tx.Image(key, ref.Digest)
			if err != nil {
				return err
			}
			img.Status = r.effectiveStatus(img)
			created := ref.CreatedAt
			if created.IsZero() {
				created = img.PushedAt
			}
			out = append(out, TagDetail{Tag: ref.Tag, CreatedAt: created, Image: img})
		}
		return nil
	})
	return out, next, err
}
