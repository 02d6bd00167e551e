package ecr

import (
	"context"

	"github.com/ecrd/ecrd/internal/registry"
)

type updateImageStorageClassInput struct {
	RegistryID         string          `json:"registryId"`
	RepositoryName     string          `json:"repositoryName"`
	ImageID            imageIdentifier `json:"imageId"`
	TargetStorageClass string          `json:"targetStorageClass"`
}

type updateImageStorageClassOutput struct {
	RegistryID     string          `json:"registryId"`
	RepositoryName string          `json:"repositoryName"`
	ImageID        imageIdentifier `json:"imageId"`
	ImageStatus    string          `json:"imageStatus"`
}

func (a *API) updateImageStorageClass(ctx context.Context, in *updateImageStorageClassInput) (*updateImageStorageClassOutput, error) {
	key, err := repoKey(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	id := registry.ImageID{Digest: in.ImageID.ImageDigest, Tag: in.ImageID.ImageTag}
	img, err := a.reg.UpdateImageStorageClass(ctx, key, id, in.TargetStorageClass)
	if err != nil {
		return nil, err
	}
	return &updateImageStorageClassOutput{
		RegistryID:     string(registry.Caller(ctx).Account),
		RepositoryName: string(key.Name),
		ImageID:        imageIdentifier{ImageDigest: string(img.Digest), ImageTag: in.ImageID.ImageTag},
		ImageStatus:    img.Status,
	}, nil
}

type putImageTagMutabilityInput struct {
	RegistryID                         string            `json:"registryId"`
	RepositoryName                     string            `json:"repositoryName"`
	ImageTagMutability                 string            `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters []exclusionFilter `json:"imageTagMutabilityExclusionFilters"`
}

type putImageTagMutabilityOutput struct {
	RegistryID                         string            `json:"registryId"`
	RepositoryName                     string            `json:"repositoryName"`
	ImageTagMutability                 string            `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters []exclusionFilter `json:"imageTagMutabilityExclusionFilters,omitempty"`
}

func (a *API) putImageTagMutability(ctx context.Context, in *putImageTagMutabilityInput) (*putImageTagMutabilityOutput, error) {
	key, err := repoKey(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	var exclusions []string
	for _, f := range in.ImageTagMutabilityExclusionFilters {
		exclusions = append(exclusions, f.Filter)
	}
	repo, err := a.reg.PutImageTagMutability(ctx, key, in.ImageTagMutability, exclusions)
	if err != nil {
		return nil, err
	}
	out := &putImageTagMutabilityOutput{RegistryID: string(repo.Registry), RepositoryName: string(repo.Name), ImageTagMutability: repo.TagMutability}
	for _, f := range repo.MutabilityExclusions {
		out.ImageTagMutabilityExclusionFilters = append(out.ImageTagMutabilityExclusionFilters, exclusionFilter{FilterType: "WILDCARD", Filter: f})
	}
	return out, nil
}
