package ecr

import (
	"context"
	"errors"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/api/ecrshared"
	"github.com/ecrd/ecrd/internal/pullthrough"
	"github.com/ecrd/ecrd/internal/registry"
)

func (a *API) batchGetImage(ctx context.Context, in *batchGetImageInput) (*batchGetImageOutput, error) {
	key, err := repoKey(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	ids := ecrshared.ImageIDs(in.ImageIDs)
	found, failures, err := a.reg.BatchGetImage(ctx, key, ids, in.AcceptedMediaTypes)
	upstream, perr := a.pullMissing(ctx, key, ids, failures, err)
	if perr != nil {
		return nil, perr
	}
	if upstream != nil {
		found, failures, err = a.reg.BatchGetImage(ctx, key, ids, in.AcceptedMediaTypes)
		for i, f := range failures {
			if code, ok := upstream[f.ID]; ok && f.Code == registry.FailureImageNotFound {
				failures[i].Code, failures[i].Reason = code.Code, code.Reason
			}
		}
	}
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
		var status *imageScanStatus
		var summary *imageScanFindingsSummary
		if s := d.Scan; s != nil {
			status = &imageScanStatus{Status: s.Status, Description: s.Description}
			if !s.CompletedAt.IsZero() && s.Status != registry.ScanImageArchived {
				summary = &imageScanFindingsSummary{ImageScanCompletedAt: awsjson.Time{Time: s.CompletedAt},
					VulnerabilitySourceUpdatedAt: awsjson.Time{Time: s.SourceUpdatedAt}, FindingSeverityCounts: s.Counts}
			}
		}
		out.ImageDetails = append(out.ImageDetails, imageDetail{
			ImageScanStatus: status, ImageScanFindingsSummary: summary,
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

// pullMissing imports, through the pull through cache, the images a
// BatchGetImage missed in a repository under a rule, as ECR does, and
// returns the failures the upstream gave (keyed by image ID); nil when
// there was nothing to import. An image not upstream, or a repository the
// caller may not create, is what the second read then says; any other
// error is the request's.
func (a *API) pullMissing(ctx context.Context, key registry.RepoKey, ids []registry.ImageID, failures []registry.ImageFailure, err error) (map[registry.ImageID]registry.ImageFailure, error) {
	var missing []registry.ImageID
	switch {
	case registry.IsCode(err, registry.CodeRepositoryNotFound):
		missing = ids
	case err == nil:
		for _, f := range failures {
			if f.Code == registry.FailureImageNotFound {
				missing = append(missing, f.ID)
			}
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	upstream := map[registry.ImageID]registry.ImageFailure{}
	for _, id := range missing {
		ref := id.Digest
		if ref == "" {
			ref = id.Tag
		}
		perr := a.pullThrough.Pull(ctx, key, ref, false)
		switch {
		case perr == nil, registry.IsCode(perr, registry.CodeImageNotFound), registry.IsCode(perr, registry.CodeRepositoryNotFound):
		case errors.Is(perr, pullthrough.ErrNoRule):
			return nil, nil
		case registry.IsCode(perr, registry.CodeUpstreamUnavailable), registry.IsCode(perr, registry.CodeImageDigestDoesNotMatch):
			upstream[id] = registry.ImageFailure{Code: "UpstreamUnavailable", Reason: messageOf(perr)}
		case registry.IsCode(perr, registry.CodeAccessDenied):
			upstream[id] = registry.ImageFailure{Code: "UpstreamAccessDenied", Reason: messageOf(perr)}
		default:
			return nil, perr
		}
	}
	return upstream, nil
}

func messageOf(err error) string {
	var de *registry.Error
	if errors.As(err, &de) {
		return de.Message
	}
	return err.Error()
}
