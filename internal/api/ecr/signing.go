package ecr

import (
	"context"

	"github.com/ecrd/ecrd/internal/api/ecrshared"
	"github.com/ecrd/ecrd/internal/registry"
)

// The managed signing operations: the registry's rules, and the signing
// of an image (made by internal/signing).

type signingFilter struct {
	Filter     string `json:"filter"`
	FilterType string `json:"filterType"`
}

type signingRule struct {
	SigningProfileArn string          `json:"signingProfileArn"`
	RepositoryFilters []signingFilter `json:"repositoryFilters,omitempty"`
}

type signingConfiguration struct {
	Rules []signingRule `json:"rules"`
}

type putSigningConfigurationInput struct {
	SigningConfiguration signingConfiguration `json:"signingConfiguration"`
}

type putSigningConfigurationOutput struct {
	SigningConfiguration signingConfiguration `json:"signingConfiguration"`
}

// The outputs of Get and Delete, one shape each in the model.
type getSigningConfigurationOutput struct {
	RegistryID           string               `json:"registryId"`
	SigningConfiguration signingConfiguration `json:"signingConfiguration"`
}

type deleteSigningConfigurationOutput struct {
	RegistryID           string               `json:"registryId"`
	SigningConfiguration signingConfiguration `json:"signingConfiguration"`
}

func wireSigning(rules []registry.SigningRule) signingConfiguration {
	out := signingConfiguration{Rules: []signingRule{}}
	for _, r := range rules {
		rule := signingRule{SigningProfileArn: r.ProfileARN}
		for _, f := range r.Filters {
			rule.RepositoryFilters = append(rule.RepositoryFilters, signingFilter{Filter: f, FilterType: "WILDCARD_MATCH"})
		}
		out.Rules = append(out.Rules, rule)
	}
	return out
}

func (a *API) putSigningConfiguration(ctx context.Context, in *putSigningConfigurationInput) (*putSigningConfigurationOutput, error) {
	var rules []registry.SigningRule
	for _, r := range in.SigningConfiguration.Rules {
		rule := registry.SigningRule{ProfileARN: r.SigningProfileArn}
		for _, f := range r.RepositoryFilters {
			rule.Filters = append(rule.Filters, f.Filter)
		}
		rules = append(rules, rule)
	}
	if _, err := a.reg.PutSigningConfig(ctx, rules); err != nil {
		return nil, err
	}
	return &putSigningConfigurationOutput{SigningConfiguration: wireSigning(rules)}, nil
}

func (a *API) getSigningConfiguration(ctx context.Context, _ *emptyInput) (*getSigningConfigurationOutput, error) {
	reg, rules, err := a.reg.SigningConfig(ctx)
	if err != nil {
		return nil, err
	}
	return &getSigningConfigurationOutput{RegistryID: string(reg), SigningConfiguration: wireSigning(rules)}, nil
}

func (a *API) deleteSigningConfiguration(ctx context.Context, _ *emptyInput) (*deleteSigningConfigurationOutput, error) {
	reg, rules, err := a.reg.DeleteSigningConfig(ctx)
	if err != nil {
		return nil, err
	}
	return &deleteSigningConfigurationOutput{RegistryID: string(reg), SigningConfiguration: wireSigning(rules)}, nil
}

type describeImageSigningStatusInput struct {
	RepositoryName string                    `json:"repositoryName"`
	ImageID        ecrshared.ImageIdentifier `json:"imageId"`
	RegistryID     string                    `json:"registryId"`
}

type imageSigningStatus struct {
	SigningProfileArn string `json:"signingProfileArn"`
	FailureCode       string `json:"failureCode,omitempty"`
	FailureReason     string `json:"failureReason,omitempty"`
	Status            string `json:"status"`
}

type describeImageSigningStatusOutput struct {
	RepositoryName  string                    `json:"repositoryName"`
	ImageID         ecrshared.ImageIdentifier `json:"imageId"`
	RegistryID      string                    `json:"registryId"`
	SigningStatuses []imageSigningStatus      `json:"signingStatuses"`
}

func (a *API) describeImageSigningStatus(ctx context.Context, in *describeImageSigningStatusInput) (*describeImageSigningStatusOutput, error) {
	key, err := repoKey(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	key, id, tasks, err := a.reg.SigningStatus(ctx, key, ecrshared.ImageIDs([]ecrshared.ImageIdentifier{in.ImageID})[0])
	if err != nil {
		return nil, err
	}
	out := &describeImageSigningStatusOutput{RepositoryName: string(key.Name), RegistryID: string(key.Registry.Account()),
		ImageID: ecrshared.ImageIdentifier{ImageDigest: id.Digest, ImageTag: id.Tag}, SigningStatuses: []imageSigningStatus{}}
	for _, t := range tasks {
		st := imageSigningStatus{SigningProfileArn: t.ProfileARN, Status: t.Status}
		if t.Status == registry.SigningFailed {
			st.FailureCode, st.FailureReason = t.FailureCode, t.FailureReason
		}
		out.SigningStatuses = append(out.SigningStatuses, st)
	}
	return out, nil
}
