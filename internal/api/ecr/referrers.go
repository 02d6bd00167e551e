package ecr

import (
	"context"

	"github.com/ecrd/ecrd/internal/api/ecrshared"
	"github.com/ecrd/ecrd/internal/registry"
)

type listImageReferrersInput struct {
	RegistryID     string            `json:"registryId"`
	RepositoryName string            `json:"repositoryName"`
	SubjectID      subjectIdentifier `json:"subjectId"`
	Filter         *referrersFilter  `json:"filter"`
	NextToken      *string           `json:"nextToken"`
	MaxResults     *int              `json:"maxResults"`
}

type subjectIdentifier struct {
	ImageDigest string `json:"imageDigest"`
}

type referrersFilter struct {
	ArtifactTypes  []string `json:"artifactTypes"`
	ArtifactStatus string   `json:"artifactStatus"`
}

type listImageReferrersOutput struct {
	Referrers []imageReferrer `json:"referrers"`
	NextToken string          `json:"nextToken,omitempty"`
}

type imageReferrer struct {
	Digest         registry.Digest   `json:"digest"`
	MediaType      string            `json:"mediaType"`
	ArtifactType   string            `json:"artifactType,omitempty"`
	Size           int64             `json:"size"`
	Annotations    map[string]string `json:"annotations,omitempty"`
	ArtifactStatus string            `json:"artifactStatus"`
}

// referrersPageSize is ListImageReferrers' page without maxResults, as
// the model documents it (the API reference page says 50; the model, which
// the SDKs are built from, is followed). maxResults may ask for up to 50.
const referrersPageSize = 20

// listImageReferrers lists the manifests whose subject is the given image,
// as the OCI referrers API does, with ECR's status and type filters and
// pages. A subject the repository does not hold has no referrers.
func (a *API) listImageReferrers(ctx context.Context, in *listImageReferrersInput) (*listImageReferrersOutput, error) {
	key, err := repoKey(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	var f registry.ReferrerFilter
	if in.Filter != nil {
		f = registry.ReferrerFilter{Status: in.Filter.ArtifactStatus, ArtifactTypes: in.Filter.ArtifactTypes}
	}
	p := ecrshared.Page(in.NextToken, in.MaxResults)
	if p.Max == 0 {
		p.Max = referrersPageSize
	}
	refs, next, err := a.reg.ListReferrers(ctx, key, in.SubjectID.ImageDigest, f, p)
	if err != nil {
		return nil, err
	}
	out := &listImageReferrersOutput{Referrers: []imageReferrer{}, NextToken: next}
	for _, r := range refs {
		out.Referrers = append(out.Referrers, imageReferrer{
			Digest:         r.Digest,
			MediaType:      r.MediaType,
			ArtifactType:   r.ArtifactMediaType,
			Size:           int64(len(r.Manifest)),
			Annotations:    r.Annotations(),
			ArtifactStatus: r.Status,
		})
	}
	return out, nil
}
