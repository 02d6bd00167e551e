package ecr

import (
	"context"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/registry"
)

// The pull-time update exclusion operations.

type exclusionInput struct {
	PrincipalARN string `json:"principalArn"`
}

type registerExclusionOutput struct {
	PrincipalARN string       `json:"principalArn"`
	CreatedAt    awsjson.Time `json:"createdAt"`
}

type deregisterExclusionOutput struct {
	PrincipalARN string `json:"principalArn"`
}

type listExclusionsInput struct {
	MaxResults int    `json:"maxResults"`
	NextToken  string `json:"nextToken"`
}

type listExclusionsOutput struct {
	PullTimeUpdateExclusions []string `json:"pullTimeUpdateExclusions"`
	NextToken                string   `json:"nextToken,omitempty"`
}

func (a *API) registerPullTimeUpdateExclusion(ctx context.Context, in *exclusionInput) (*registerExclusionOutput, error) {
	e, err := a.reg.RegisterPullTimeExclusion(ctx, in.PrincipalARN)
	if err != nil {
		return nil, err
	}
	return &registerExclusionOutput{PrincipalARN: e.PrincipalARN, CreatedAt: awsjson.Time{Time: e.CreatedAt}}, nil
}

func (a *API) deregisterPullTimeUpdateExclusion(ctx context.Context, in *exclusionInput) (*deregisterExclusionOutput, error) {
	if err := a.reg.DeregisterPullTimeExclusion(ctx, in.PrincipalARN); err != nil {
		return nil, err
	}
	return &deregisterExclusionOutput{PrincipalARN: in.PrincipalARN}, nil
}

func (a *API) listPullTimeUpdateExclusions(ctx context.Context, in *listExclusionsInput) (*listExclusionsOutput, error) {
	arns, next, err := a.reg.PullTimeExclusions(ctx, registry.Page{Token: in.NextToken, Max: in.MaxResults})
	if err != nil {
		return nil, err
	}
	return &listExclusionsOutput{PullTimeUpdateExclusions: arns, NextToken: next}, nil
}
