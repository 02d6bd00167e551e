package ecr

import (
	"context"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/registry"
)

func (a *API) putImage(ctx context.Context, in *putImageInput) (*putImageOutput, error) {
	key, err := repoKey(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	img, err := a.reg.PutImage(ctx, registry.NewImage{
		Key:       key,
		Manifest:  []byte(in.ImageManifest),
		MediaType: in.ImageManifestMediaType,
		Tag:       in.ImageTag,
		Digest:    in.ImageDigest,
	})
	if err != nil {
		return nil, err
	}
	id := registry.ImageID{Digest: string(img.Digest), Tag: in.ImageTag}
	return &putImageOutput{Image: a.image(ctx, key, id, img)}, nil
}

func (a *API) batchGetImage(ctx context.Context, in *batchGetImageInput) (*batchGetImageOutput, error) {
	key, err := repoKey(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	found, failures, err := a.reg.BatchGetImage(ctx, key, imageIDs(in.ImageIDs), in.AcceptedMediaTypes)
	if err != nil {
		return nil, err
	}
	out := &batchGetImageOutput{Images: []image{}, Failures: imageFailures(failures)}
	for _, f := range found {
		out.Images = append(out.Images, a.image(ctx, key, f.ID, f.Image))
	}
	return out, nil
}

func (a *API) batchDeleteImage(ctx context.Context, in *batchDeleteImageInput) (*batchDeleteImageOutput, error) {
	key, err := repoKey(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	deleted, failures, err := a.reg.BatchDeleteImage(ctx, key, imageIDs(in.ImageIDs))
	if err != nil {
		return nil, err
	}
	out := &batchDeleteImageOutput{ImageIDs: []imageIdentifier{}, Failures: imageFailures(failures)}
	for _, id := range deleted {
		out.ImageIDs = append(out.ImageIDs, imageIdentifier{ImageDigest: id.Digest, ImageTag: id.Tag})
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
	details, next, err := a.reg.DescribeImages(ctx, key, imageIDs(in.ImageIDs), filter(in.Filter), page(in.NextToken, in.MaxResults))
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
	ids, next, err := a.reg.ListImages(ctx, key, filter(in.Filter), page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &listImagesOutput{ImageIDs: []imageIdentifier{}, NextToken: next}
	for _, id := range ids {
		out.ImageIDs = append(out.ImageIDs, imageIdentifier{ImageDigest: id.Digest, ImageTag: id.Tag})
	}
	return out, nil
}

// image renders an image as PutImage and BatchGetImage return it: the
// manifest served (stored, or converted for BatchGetImage) under the ID it
// was asked for, with its digest filled in.
func (a *API) image(ctx context.Context, key registry.RepoKey, id registry.ImageID, img registry.Image) image {
	return image{
		RegistryID:             string(registry.Caller(ctx).Account),
		RepositoryName:         string(key.Name),
		ImageID:                imageIdentifier{ImageDigest: string(img.Digest), ImageTag: id.Tag},
		ImageManifest:          string(img.Manifest),
		ImageManifestMediaType: img.MediaType,
	}
}

// imageIDs passes the IDs on as sent; the core tells malformed ones apart
// as per-image failures. nil stays nil (no IDs given).
func imageIDs(in []imageIdentifier) []registry.ImageID {
	if in == nil {
		return nil
	}
	out := make([]registry.ImageID, len(in))
	for i, id := range in {
		out[i] = registry.ImageID{Digest: id.ImageDigest, Tag: id.ImageTag}
	}
	return out
}

func imageFailures(in []registry.ImageFailure) []imageFailure {
	out := make([]imageFailure, len(in))
	for i, f := range in {
		out[i] = imageFailure{
			ImageID:       imageIdentifier{ImageDigest: f.ID.Digest, ImageTag: f.ID.Tag},
			FailureCode:   f.Code,
			FailureReason: f.Reason,
		}
	}
	return out
}

func filter(f *imageFilter) registry.ImageFilter {
	if f == nil {
		return registry.ImageFilter{}
	}
	return registry.ImageFilter{TagStatus: f.TagStatus, ImageStatus: f.ImageStatus}
}

func page(token *string, max *int) registry.Page {
	var p registry.Page
	if token != nil {
		p.Token = *token
	}
	if max != nil {
		p.Max = *max
	}
	return p
}
