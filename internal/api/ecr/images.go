package ecr

import (
	"context"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/api/ecrshared"
	"github.com/ecrd/ecrd/internal/registry"
)

func (a *API) batchGetImage(ctx context.Context, in *batchGetImageInput) (*batchGetImageOutput, error) {
	key, err := repoKey(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	found, failures, err := a.reg.BatchGetImage(ctx, key, ecrshared.ImageIDs(in.ImageIDs), in.AcceptedMediaTypes)
	if err != nil {
		return nil, err
	}
	out := &batchGetImageOutput{Images: []image{}, Failures: ecrshared.ImageFailures(failures)}
	for _, f := range found {
		out.Images = append(out.Images, ecrshared.RenderImage(ctx, key, f.ID, f.Image))
	}
	return out, nil
}

func (a *API) describeImages(ctx context.Context, in *describeImagesInput) (*describeImagesOutput, error) {
	key, err := repoKey(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	// ECR rejects paging a lookup by ID, as DescribeRepositories does.
	if in.ImageIDs != nil && (in.NextToken != nil || in.MaxResults != nil) {
		return nil, registry.Errorf(registry.CodeInvalidParameter, "Invalid parameter: nextToken and maxResults cannot be used when imageIds are given")
	}
	details, next, err := a.reg.DescribeImages(ctx, key, ecrshared.ImageIDs(in.ImageIDs), filter(in.Filter), ecrshared.Page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	account := string(registry.Caller(ctx).Account)
	out := &describeImagesOutput{ImageDetails: []imageDetail{}, NextToken: next}
	for _, d := range details {
		out.ImageDetails = append(out.ImageDetails, imageDetail{
			RegistryID:             account,
			RepositoryName:         string(key.Name),
			ImageDigest:            string(d.Digest),
			ImageTags:              d.Tags,
			ImageSizeInBytes:       d.Size,
			ImagePushedAt:          awsjson.Time{Time: d.PushedAt},
			ImageManifestMediaType: d.MediaType,
			ArtifactMediaType:      d.ArtifactMediaType,
			LastRecordedPullTime:   awsjson.Time{Time: d.LastPulledAt},
			ImageStatus:            d.Status,
			LastArchivedAt:         awsjson.Time{Time: d.LastArchivedAt},
			LastActivatedAt:        awsjson.Time{Time: d.LastActivatedAt},
			SubjectManifestDigest:  string(d.Subject),
		})
	}
	return out, nil
}

func (a *API) listImages(ctx context.Context, in *listImagesInput) (*listImagesOutput, error) {
	key, err := repoKey(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	ids, next, err := a.reg.ListImages(ctx, key, filter(in.Filter), ecrshared.Page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &listImagesOutput{ImageIDs: []imageIdentifier{}, NextToken: next}
	for _, id := range ids {
		out.ImageIDs = append(out.ImageIDs, imageIdentifier{ImageDigest: id.Digest, ImageTag: id.Tag})
	}
	return out, nil
}

func filter(f *imageFilter) registry.ImageFilter {
	if f == nil {
		return registry.ImageFilter{}
	}
	return registry.ImageFilter{TagStatus: f.TagStatus, ImageStatus: f.ImageStatus}
}
