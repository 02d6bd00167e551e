package ecr

import (
	"context"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/pullthrough"
	"github.com/ecrd/ecrd/internal/registry"
)

// The pull through cache rule operations, served by internal/pullthrough.

type createRuleInput struct {
	RegistryID               string `json:"registryId"`
	EcrRepositoryPrefix      string `json:"ecrRepositoryPrefix"`
	UpstreamRegistryURL      string `json:"upstreamRegistryUrl"`
	UpstreamRegistry         string `json:"upstreamRegistry"`
	UpstreamRepositoryPrefix string `json:"upstreamRepositoryPrefix"`
	CredentialARN            string `json:"credentialArn"`
	CustomRoleARN            string `json:"customRoleArn"`
}

type ruleInput struct {
	RegistryID          string `json:"registryId"`
	EcrRepositoryPrefix string `json:"ecrRepositoryPrefix"`
}

type updateRuleInput struct {
	RegistryID          string  `json:"registryId"`
	EcrRepositoryPrefix string  `json:"ecrRepositoryPrefix"`
	CredentialARN       *string `json:"credentialArn"`
	CustomRoleARN       *string `json:"customRoleArn"`
}

type describeRulesInput struct {
	RegistryID            string   `json:"registryId"`
	EcrRepositoryPrefixes []string `json:"ecrRepositoryPrefixes"`
	NextToken             string   `json:"nextToken"`
	MaxResults            int      `json:"maxResults"`
}

// pullThroughRule is a rule as DescribePullThroughCacheRules lists it;
// the other operations answer parts of it, each its own shape.
type pullThroughRule struct {
	EcrRepositoryPrefix      string       `json:"ecrRepositoryPrefix"`
	UpstreamRegistryURL      string       `json:"upstreamRegistryUrl"`
	CreatedAt                awsjson.Time `json:"createdAt"`
	RegistryID               string       `json:"registryId"`
	CredentialARN            string       `json:"credentialArn,omitempty"`
	CustomRoleARN            string       `json:"customRoleArn,omitempty"`
	UpstreamRepositoryPrefix string       `json:"upstreamRepositoryPrefix"`
	UpstreamRegistry         string       `json:"upstreamRegistry"`
	UpdatedAt                awsjson.Time `json:"updatedAt"`
}

type createRuleOutput struct {
	EcrRepositoryPrefix      string       `json:"ecrRepositoryPrefix"`
	UpstreamRegistryURL      string       `json:"upstreamRegistryUrl"`
	CreatedAt                awsjson.Time `json:"createdAt"`
	RegistryID               string       `json:"registryId"`
	UpstreamRegistry         string       `json:"upstreamRegistry"`
	CredentialARN            string       `json:"credentialArn,omitempty"`
	CustomRoleARN            string       `json:"customRoleArn,omitempty"`
	UpstreamRepositoryPrefix string       `json:"upstreamRepositoryPrefix"`
}

type updateRuleOutput struct {
	EcrRepositoryPrefix      string       `json:"ecrRepositoryPrefix"`
	RegistryID               string       `json:"registryId"`
	UpdatedAt                awsjson.Time `json:"updatedAt"`
	CredentialARN            string       `json:"credentialArn,omitempty"`
	CustomRoleARN            string       `json:"customRoleArn,omitempty"`
	UpstreamRepositoryPrefix string       `json:"upstreamRepositoryPrefix"`
}

type deleteRuleOutput struct {
	EcrRepositoryPrefix      string       `json:"ecrRepositoryPrefix"`
	UpstreamRegistryURL      string       `json:"upstreamRegistryUrl"`
	CreatedAt                awsjson.Time `json:"createdAt"`
	RegistryID               string       `json:"registryId"`
	CredentialARN            string       `json:"credentialArn,omitempty"`
	CustomRoleARN            string       `json:"customRoleArn,omitempty"`
	UpstreamRepositoryPrefix string       `json:"upstreamRepositoryPrefix"`
}

type validateRuleOutput struct {
	EcrRepositoryPrefix      string `json:"ecrRepositoryPrefix"`
	RegistryID               string `json:"registryId"`
	UpstreamRegistryURL      string `json:"upstreamRegistryUrl"`
	CredentialARN            string `json:"credentialArn,omitempty"`
	CustomRoleARN            string `json:"customRoleArn,omitempty"`
	UpstreamRepositoryPrefix string `json:"upstreamRepositoryPrefix"`
	IsValid                  bool   `json:"isValid"`
	Failure                  string `json:"failure,omitempty"`
}

type describeRulesOutput struct {
	PullThroughCacheRules []pullThroughRule `json:"pullThroughCacheRules"`
	NextToken             string            `json:"nextToken,omitempty"`
}

func ruleShape(reg registry.RegistryID, r registry.PullThroughRule) pullThroughRule {
	return pullThroughRule{EcrRepositoryPrefix: r.Prefix, UpstreamRegistryURL: r.UpstreamURL, CreatedAt: awsjson.Time{Time: r.CreatedAt},
		RegistryID: string(reg), CredentialARN: r.CredentialARN, CustomRoleARN: r.CustomRoleARN,
		UpstreamRepositoryPrefix: r.UpstreamPrefix, UpstreamRegistry: r.UpstreamRegistry, UpdatedAt: awsjson.Time{Time: r.UpdatedAt}}
}

func (a *API) createPullThroughCacheRule(ctx context.Context, in *createRuleInput) (*createRuleOutput, error) {
	reg, r, err := a.pullThrough.Create(ctx, in.RegistryID, pullthrough.NewRule{Prefix: in.EcrRepositoryPrefix,
		UpstreamURL: in.UpstreamRegistryURL, UpstreamRegistry: in.UpstreamRegistry, UpstreamPrefix: in.UpstreamRepositoryPrefix,
		CredentialARN: in.CredentialARN, CustomRoleARN: in.CustomRoleARN})
	if err != nil {
		return nil, err
	}
	return &createRuleOutput{EcrRepositoryPrefix: r.Prefix, UpstreamRegistryURL: r.UpstreamURL, CreatedAt: awsjson.Time{Time: r.CreatedAt},
		RegistryID: string(reg), UpstreamRegistry: r.UpstreamRegistry, CredentialARN: r.CredentialARN, CustomRoleARN: r.CustomRoleARN,
		UpstreamRepositoryPrefix: r.UpstreamPrefix}, nil
}

func (a *API) describePullThroughCacheRules(ctx context.Context, in *describeRulesInput) (*describeRulesOutput, error) {
	reg, rules, next, err := a.pullThrough.Describe(ctx, in.RegistryID, in.EcrRepositoryPrefixes, registry.Page{Token: in.NextToken, Max: in.MaxResults})
	if err != nil {
		return nil, err
	}
	out := &describeRulesOutput{PullThroughCacheRules: make([]pullThroughRule, len(rules)), NextToken: next}
	for i, r := range rules {
		out.PullThroughCacheRules[i] = ruleShape(reg, r)
	}
	return out, nil
}

func (a *API) updatePullThroughCacheRule(ctx context.Context, in *updateRuleInput) (*updateRuleOutput, error) {
	reg, r, err := a.pullThrough.Update(ctx, in.RegistryID, in.EcrRepositoryPrefix, in.CredentialARN, in.CustomRoleARN)
	if err != nil {
		return nil, err
	}
	return &updateRuleOutput{EcrRepositoryPrefix: r.Prefix, RegistryID: string(reg), UpdatedAt: awsjson.Time{Time: r.UpdatedAt},
		CredentialARN: r.CredentialARN, CustomRoleARN: r.CustomRoleARN, UpstreamRepositoryPrefix: r.UpstreamPrefix}, nil
}

func (a *API) deletePullThroughCacheRule(ctx context.Context, in *ruleInput) (*deleteRuleOutput, error) {
	reg, r, err := a.pullThrough.Delete(ctx, in.RegistryID, in.EcrRepositoryPrefix)
	if err != nil {
		return nil, err
	}
	return &deleteRuleOutput{EcrRepositoryPrefix: r.Prefix, UpstreamRegistryURL: r.UpstreamURL, CreatedAt: awsjson.Time{Time: r.CreatedAt},
		RegistryID: string(reg), CredentialARN: r.CredentialARN, CustomRoleARN: r.CustomRoleARN, UpstreamRepositoryPrefix: r.UpstreamPrefix}, nil
}

func (a *API) validatePullThroughCacheRule(ctx context.Context, in *ruleInput) (*validateRuleOutput, error) {
	reg, r, v, err := a.pullThrough.Validate(ctx, in.RegistryID, in.EcrRepositoryPrefix)
	if err != nil {
		return nil, err
	}
	return &validateRuleOutput{EcrRepositoryPrefix: r.Prefix, RegistryID: string(reg), UpstreamRegistryURL: r.UpstreamURL,
		CredentialARN: r.CredentialARN, CustomRoleARN: r.CustomRoleARN, UpstreamRepositoryPrefix: r.UpstreamPrefix,
		IsValid: v.Valid, Failure: v.Failure}, nil
}
