package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
)

// ReferrerStatusAny selects referrers whatever their status.
const ReferrerStatusAny = "ANY"

// ReferrerFilter selects among the referrers of a subject: by status
// (ImageActive when empty, or ReferrerStatusAny) and by artifact type
// (any of ArtifactTypes; every type when empty).
type ReferrerFilter struct {
	Status        string
	ArtifactTypes []string
}

func (f ReferrerFilter) matches(status, artifactType string) bool {
	want := f.Status
	if want == "" {
		want = ImageActive
	}
	return (want == ReferrerStatusAny || want == status) &&
		(len(f.ArtifactTypes) == 0 || slices.Contains(f.ArtifactTypes, artifactType))
}

// Referrer is an image whose manifest names a subject, with its status as
// of now.
type Referrer struct {
	Image
	Status string
}

// Annotations returns the annotations of the image's manifest (nil for
// none or for a manifest that is not a JSON object).
func (img Image) Annotations() map[string]string {
	var doc struct {
		Annotations map[string]string `json:"annotations"`
	}
	if json.NewDecoder(bytes.NewReader(img.Manifest)).Decode(&doc) != nil {
		return nil
	}
	return doc.Annotations
}

// Referrers returns every active image of the repository whose manifest
// names subject as its subject, in digest order: the OCI referrers API,
// which has no pages. A subject that does not exist has none.
// Errors: RepositoryNotFound.
func (r *Registry) Referrers(ctx context.Context, key RepoKey, subject Digest) ([]Image, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return nil, err
	}
	var refs []Referrer
	err = r.meta.View(ctx, func(tx Tx) error {
		if _, err := r.access(ctx, tx, "BatchGetImage", key); err != nil {
			return err
		}
		var err error
		refs, _, err = r.scanReferrers(tx, key, subject, ReferrerFilter{}, "", 0)
		return err
	})
	imgs := make([]Image, len(refs))
	for i, ref := range refs {
		imgs[i] = ref.Image
	}
	return imgs, err
}

// ListReferrers returns one page of the referrers of subject that pass
// the filter, in digest order, and the token of the next page ("" on the
// last): ECR's ListImageReferrers. Errors: RepositoryNotFound,
// InvalidParameter (a malformed subject digest, a token this listing did
// not issue).
func (r *Registry) ListReferrers(ctx context.Context, key RepoKey, subject string, f ReferrerFilter, p Page) ([]Referrer, string, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return nil, "", err
	}
	d, err := ParseDigest(subject)
	if err != nil {
		return nil, "", Errorf(CodeInvalidParameter, "Invalid parameter at 'subjectId.imageDigest': %v", err)
	}
	if p.Max <= 0 {
		p.Max = DefaultPageSize
	}
	// A token carries its subject: one of another listing is refused,
	// not taken as a cursor into this one.
	kind := "referrers:" + string(d)
	after, err := decodeToken(kind, p.Token)
	if err != nil {
		return nil, "", err
	}
	var (
		out  []Referrer
		more bool
	)
	err = r.meta.View(ctx, func(tx Tx) error {
		if _, err := r.access(ctx, tx, "ListImageReferrers", key); err != nil {
			return err
		}
		var err error
		out, more, err = r.scanReferrers(tx, key, d, f, Digest(after), p.Max)
		return err
	})
	if err != nil || !more {
		return out, "", err
	}
	return out, encodeToken(kind, string(out[len(out)-1].Digest)), nil
}

// scanReferrers collects, after the digest after, up to max (0: all)
// referrers of subject that pass f, and reports whether more follow. The
// store finds a subject's referrers by an index, so the cost is that of
// the subject's referrers, not of the repository's images.
func (r *Registry) scanReferrers(tx Tx, key RepoKey, subject Digest, f ReferrerFilter, after Digest, max int) ([]Referrer, bool, error) {
	var out []Referrer
	for {
		batch, err := tx.Referrers(key, subject, after, 500)
		if err != nil || len(batch) == 0 {
			return out, false, err
		}
		for _, img := range batch {
			after = img.Digest
			status := r.effectiveStatus(img)
			if !f.matches(status, img.ArtifactMediaType) {
				continue
			}
			if max > 0 && len(out) == max {
				return out, true, nil
			}
			out = append(out, Referrer{Image: img, Status: status})
		}
	}
}
