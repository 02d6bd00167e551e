package ecr

import (
	"context"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/api/ecrshared"
	"github.com/ecrd/ecrd/internal/lifecycle"
	"github.com/ecrd/ecrd/internal/registry"
)

// The lifecycle policy operations, served by internal/lifecycle.

type lifecyclePolicyInput struct {
	RegistryID          string `json:"registryId"`
	RepositoryName      string `json:"repositoryName"`
	LifecyclePolicyText string `json:"lifecyclePolicyText"`
}

type lifecycleRepoInput struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
}

type putLifecyclePolicyOutput struct {
	RegistryID          string `json:"registryId"`
	RepositoryName      string `json:"repositoryName"`
	LifecyclePolicyText string `json:"lifecyclePolicyText"`
}

type lifecyclePolicyOutput struct {
	RegistryID          string       `json:"registryId"`
	RepositoryName      string       `json:"repositoryName"`
	LifecyclePolicyText string       `json:"lifecyclePolicyText"`
	LastEvaluatedAt     awsjson.Time `json:"lastEvaluatedAt,omitzero"`
}

type startPreviewOutput struct {
	RegistryID          string `json:"registryId"`
	RepositoryName      string `json:"repositoryName"`
	LifecyclePolicyText string `json:"lifecyclePolicyText"`
	Status              string `json:"status"`
}

type getPreviewInput struct {
	RegistryID     string                      `json:"registryId"`
	RepositoryName string                      `json:"repositoryName"`
	ImageIDs       []ecrshared.ImageIdentifier `json:"imageIds"`
	NextToken      string                      `json:"nextToken"`
	MaxResults     int                         `json:"maxResults"`
	Filter         struct {
		TagStatus string `json:"tagStatus"`
	} `json:"filter"`
}

type getPreviewOutput struct {
	RegistryID          string          `json:"registryId"`
	RepositoryName      string          `json:"repositoryName"`
	LifecyclePolicyText string          `json:"lifecyclePolicyText"`
	Status              string          `json:"status"`
	NextToken           string          `json:"nextToken,omitempty"`
	PreviewResults      []previewResult `json:"previewResults"`
	Summary             *previewSummary `json:"summary,omitempty"`
}

type previewResult struct {
	ImageTags           []string      `json:"imageTags"`
	ImageDigest         string        `json:"imageDigest"`
	ImagePushedAt       awsjson.Time  `json:"imagePushedAt"`
	Action              previewAction `json:"action"`
	AppliedRulePriority int           `json:"appliedRulePriority"`
	StorageClass        string        `json:"storageClass"`
}

type previewAction struct {
	Type               string `json:"type"`
	TargetStorageClass string `json:"targetStorageClass,omitempty"`
}

type previewSummary struct {
	ExpiringImageTotalCount       int                  `json:"expiringImageTotalCount"`
	TransitioningImageTotalCounts []transitioningCount `json:"transitioningImageTotalCounts,omitempty"`
}

type transitioningCount struct {
	TargetStorageClass string `json:"targetStorageClass"`
	ImageTotalCount    int    `json:"imageTotalCount"`
}

func policyOutput(key registry.RepoKey, p registry.LifecyclePolicy) *lifecyclePolicyOutput {
	return &lifecyclePolicyOutput{RegistryID: string(key.Registry), RepositoryName: string(key.Name),
		LifecyclePolicyText: p.Text, LastEvaluatedAt: awsjson.Time{Time: p.EvaluatedAt}}
}

func (a *API) putLifecyclePolicy(ctx context.Context, in *lifecyclePolicyInput) (*putLifecyclePolicyOutput, error) {
	key, err := repoKey(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	key, text, err := a.lifecycle.PutPolicy(ctx, key, in.LifecyclePolicyText)
	if err != nil {
		return nil, err
	}
	return &putLifecyclePolicyOutput{RegistryID: string(key.Registry), RepositoryName: string(key.Name), LifecyclePolicyText: text}, nil
}

func (a *API) getLifecyclePolicy(ctx context.Context, in *lifecycleRepoInput) (*lifecyclePolicyOutput, error) {
	key, err := repoKey(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	key, p, err := a.lifecycle.Policy(ctx, key)
	if err != nil {
		return nil, err
	}
	return policyOutput(key, p), nil
}

func (a *API) deleteLifecyclePolicy(ctx context.Context, in *lifecycleRepoInput) (*lifecyclePolicyOutput, error) {
	key, err := repoKey(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	key, p, err := a.lifecycle.DeletePolicy(ctx, key)
	if err != nil {
		return nil, err
	}
	return policyOutput(key, p), nil
}

func (a *API) startLifecyclePolicyPreview(ctx context.Context, in *lifecyclePolicyInput) (*startPreviewOutput, error) {
	key, err := repoKey(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	key, text, err := a.lifecycle.StartPreview(ctx, key, in.LifecyclePolicyText)
	if err != nil {
		return nil, err
	}
	return &startPreviewOutput{RegistryID: string(key.Registry), RepositoryName: string(key.Name),
		LifecyclePolicyText: text, Status: registry.PreviewInProgress}, nil
}

func (a *API) getLifecyclePolicyPreview(ctx context.Context, in *getPreviewInput) (*getPreviewOutput, error) {
	key, err := repoKey(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	key, ans, err := a.lifecycle.Preview(ctx, key, lifecycle.PreviewQuery{IDs: ecrshared.ImageIDs(in.ImageIDs),
		Page: registry.Page{Token: in.NextToken, Max: in.MaxResults}, TagStatus: in.Filter.TagStatus})
	if err != nil {
		return nil, err
	}
	p := ans.Preview
	out := &getPreviewOutput{RegistryID: string(key.Registry), RepositoryName: string(key.Name),
		LifecyclePolicyText: p.Text, Status: p.Status, NextToken: ans.Next, PreviewResults: []previewResult{}}
	if p.Status != registry.PreviewComplete {
		return out, nil
	}
	for _, r := range ans.Results {
		res := previewResult{ImageTags: r.Tags, ImageDigest: string(r.Digest), ImagePushedAt: awsjson.Time{Time: r.PushedAt},
			Action: previewAction{Type: r.Action}, AppliedRulePriority: r.Rule, StorageClass: r.StorageClass}
		if res.ImageTags == nil {
			res.ImageTags = []string{}
		}
		if r.Action == registry.PreviewTransition {
			res.Action.TargetStorageClass = registry.StorageClassArchive
		}
		out.PreviewResults = append(out.PreviewResults, res)
	}
	out.Summary = &previewSummary{ExpiringImageTotalCount: p.Expiring}
	if p.Transitioning > 0 {
		out.Summary.TransitioningImageTotalCounts = []transitioningCount{{TargetStorageClass: registry.StorageClassArchive, ImageTotalCount: p.Transitioning}}
	}
	return out, nil
}
