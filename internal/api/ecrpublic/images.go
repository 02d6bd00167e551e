package ecrpublic

import (
	"context"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/api/ecrshared"
	"github.com/ecrd/ecrd/internal/registry"
)

func (a *API) describeImages(ctx context.Context, in *describeImagesInput) (*describeImagesOutput, error) {
	key, err := a.key(ctx, in.RegistryID, in.RepositoryName, false)
	if err != nil {
		return nil, err
	}
	if in.ImageIDs != nil && (in.NextToken != nil || in.MaxResults != nil) {
		return nil, registry.Errorf(registry.CodeInvalidParameter, "Invalid parameter: nextToken and maxResults cannot be used when imageIds are given")
	}
	details, next, err := a.reg.DescribeImages(ctx, key, ecrshared.ImageIDs(in.ImageIDs), registry.ImageFilter{}, ecrshared.Page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &describeImagesOutput{ImageDetails: []imageDetail{}, NextToken: next}
	for _, d := range details {
		out.ImageDetails = append(out.ImageDetails, imageDetail{
			RegistryID:             string(key.Registry.Account()),
			RepositoryName:         string(key.Name),
			ImageDigest:            string(d.Digest),
			ImageTags:              d.Tags,
			ImageSizeInBytes:       d.Size,
			ImagePushedAt:          awsjson.Time{Time: d.PushedAt},
			ImageManifestMediaType: d.MediaType,
			ArtifactMediaType:      d.ArtifactMediaType,
		})
	}
	return out, nil
}

func (a *API) describeImageTags(ctx context.Context, in *describeImageTagsInput) (*describeImageTagsOutput, error) {
	key, err := a.key(ctx, in.RegistryID, in.RepositoryName, false)
	if err != nil {
		return nil, err
	}
	tags, next, err := a.reg.DescribeImageTags(ctx, key, ecrshared.Page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &describeImageTagsOutput{ImageTagDetails: []imageTagDetail{}, NextToken: next}
	for _, t := range tags {
		out.ImageTagDetails = append(out.ImageTagDetails, imageTagDetail{
			ImageTag:  t.Tag,
			CreatedAt: awsjson.Time{Time: t.CreatedAt},
			ImageDetail: referencedImageDetail{
				ImageDigest:            string(t.Image.Digest),
				ImageSizeInBytes:       t.Image.Size,
				ImagePushedAt:          awsjson.Time{Time: t.Image.PushedAt},
				ImageManifestMediaType: t.Image.MediaType,
				ArtifactMediaType:      t.Image.ArtifactMediaType,
			},
		})
	}
	return out, nil
}
