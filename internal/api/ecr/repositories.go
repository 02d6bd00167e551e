package ecr

import (
	"context"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/registry"
)

func (a *API) createRepository(ctx context.Context, in *createRepositoryInput) (*createRepositoryOutput, error) {
	key, err := repoKey(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	nr := registry.NewRepository{Key: key, TagMutability: in.ImageTagMutability}
	for _, f := range in.ImageTagMutabilityExclusionFilters {
		nr.MutabilityExclusions = append(nr.MutabilityExclusions, f.Filter)
	}
	if c := in.ImageScanningConfiguration; c != nil {
		nr.ScanOnPush = c.ScanOnPush
	}
	if c := in.EncryptionConfiguration; c != nil {
		nr.EncryptionType, nr.KMSKey = c.EncryptionType, c.KMSKey
	}
	for _, t := range in.Tags {
		nr.Tags = append(nr.Tags, registry.ResourceTag{Key: t.Key, Value: t.Value})
	}
	repo, err := a.reg.CreateRepository(ctx, nr)
	if err != nil {
		return nil, err
	}
	return &createRepositoryOutput{Repository: a.repository(repo)}, nil
}

func (a *API) describeRepositories(ctx context.Context, in *describeRepositoriesInput) (*describeRepositoriesOutput, error) {
	var reg registry.RegistryID
	if in.RegistryID != "" {
		id, err := registry.ParseRegistryID(in.RegistryID)
		if err != nil {
			return nil, err
		}
		reg = id
	}
	out := &describeRepositoriesOutput{Repositories: []repository{}}
	if in.RepositoryNames != nil {
		if in.NextToken != nil || in.MaxResults != nil {
			return nil, registry.Errorf(registry.CodeInvalidParameter, "Invalid parameter: nextToken and maxResults cannot be used when repositoryNames are given")
		}
		names := make([]registry.RepositoryName, len(in.RepositoryNames))
		for i, s := range in.RepositoryNames {
			n, err := registry.ParseRepositoryName(s)
			if err != nil {
				return nil, err
			}
			names[i] = n
		}
		repos, err := a.reg.DescribeRepositories(ctx, reg, names)
		if err != nil {
			return nil, err
		}
		for _, r := range repos {
			out.Repositories = append(out.Repositories, a.repository(r))
		}
		return out, nil
	}
	var page registry.Page
	if in.MaxResults != nil {
		page.Max = *in.MaxResults
	}
	if in.NextToken != nil {
		page.Token = *in.NextToken
	}
	repos, next, err := a.reg.ListRepositories(ctx, reg, page)
	if err != nil {
		return nil, err
	}
	for _, r := range repos {
		out.Repositories = append(out.Repositories, a.repository(r))
	}
	out.NextToken = next
	return out, nil
}

func (a *API) deleteRepository(ctx context.Context, in *deleteRepositoryInput) (*deleteRepositoryOutput, error) {
	key, err := repoKey(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	repo, err := a.reg.DeleteRepository(ctx, key, in.Force)
	if err != nil {
		return nil, err
	}
	return &deleteRepositoryOutput{Repository: a.repository(repo)}, nil
}

// repository renders a repository as ECR describes it.
func (a *API) repository(r registry.Repository) repository {
	out := repository{
		RepositoryArn:              a.repositoryARN(r),
		RegistryID:                 string(r.Registry),
		RepositoryName:             string(r.Name),
		RepositoryURI:              a.hostOf(r.Registry) + "/" + string(r.Name),
		CreatedAt:                  awsjson.Time{Time: r.CreatedAt},
		ImageTagMutability:         r.TagMutability,
		ImageScanningConfiguration: scanningConfig{ScanOnPush: r.ScanOnPush},
		EncryptionConfiguration:    encryptionConfig{EncryptionType: r.EncryptionType, KMSKey: r.KMSKey},
	}
	for _, f := range r.MutabilityExclusions {
		out.ImageTagMutabilityExclusionFilters = append(out.ImageTagMutabilityExclusionFilters, exclusionFilter{FilterType: "WILDCARD", Filter: f})
	}
	return out
}
