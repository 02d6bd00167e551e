package ecr

import (
	"context"

	"github.com/ecrd/ecrd/internal/api/ecrshared"
	"github.com/ecrd/ecrd/internal/registry"
)

// The operations on the caller's private registry itself.

type emptyInput struct{}

type registryPolicyOutput struct {
	RegistryID string `json:"registryId"`
	PolicyText string `json:"policyText"`
}

type putRegistryPolicyInput struct {
	PolicyText string `json:"policyText"`
}

type describeRegistryOutput struct {
	RegistryID               string                   `json:"registryId"`
	ReplicationConfiguration replicationConfiguration `json:"replicationConfiguration"`
}

// replicationConfiguration is a registry's replication rules; a registry
// no one configured has none ("rules": []).
type replicationConfiguration struct {
	Rules []replicationRule `json:"rules"`
}

type replicationRule struct {
	Destinations      []replicationDestination `json:"destinations"`
	RepositoryFilters []repositoryFilter       `json:"repositoryFilters,omitempty"`
}

type replicationDestination struct {
	Region     string `json:"region"`
	RegistryID string `json:"registryId"`
}

type repositoryFilter struct {
	Filter     string `json:"filter"`
	FilterType string `json:"filterType"`
}

type putReplicationConfigurationInput struct {
	ReplicationConfiguration replicationConfiguration `json:"replicationConfiguration"`
}

type putReplicationConfigurationOutput struct {
	ReplicationConfiguration replicationConfiguration `json:"replicationConfiguration"`
}

type describeImageReplicationStatusInput struct {
	RegistryID     string                    `json:"registryId"`
	RepositoryName string                    `json:"repositoryName"`
	ImageID        ecrshared.ImageIdentifier `json:"imageId"`
}

type describeImageReplicationStatusOutput struct {
	RepositoryName      string                    `json:"repositoryName"`
	ImageID             ecrshared.ImageIdentifier `json:"imageId"`
	ReplicationStatuses []imageReplicationStatus  `json:"replicationStatuses"`
}

type imageReplicationStatus struct {
	Region      string `json:"region"`
	RegistryID  string `json:"registryId"`
	Status      string `json:"status"`
	FailureCode string `json:"failureCode,omitempty"`
}

func configShape(rules []registry.ReplicationRule) replicationConfiguration {
	out := replicationConfiguration{Rules: []replicationRule{}}
	for _, r := range rules {
		rule := replicationRule{Destinations: []replicationDestination{}}
		for _, d := range r.Destinations {
			rule.Destinations = append(rule.Destinations, replicationDestination{Region: d.Region, RegistryID: string(d.Registry)})
		}
		for _, f := range r.Filters {
			rule.RepositoryFilters = append(rule.RepositoryFilters, repositoryFilter{Filter: f, FilterType: "PREFIX_MATCH"})
		}
		out.Rules = append(out.Rules, rule)
	}
	return out
}

func (a *API) putReplicationConfiguration(ctx context.Context, in *putReplicationConfigurationInput) (*putReplicationConfigurationOutput, error) {
	var rules []registry.ReplicationRule
	for _, r := range in.ReplicationConfiguration.Rules {
		var rule registry.ReplicationRule
		for _, d := range r.Destinations {
			rule.Destinations = append(rule.Destinations, registry.ReplicationDestination{Region: d.Region, Registry: registry.RegistryID(d.RegistryID)})
		}
		for _, f := range r.RepositoryFilters {
			rule.Filters = append(rule.Filters, f.Filter)
		}
		rules = append(rules, rule)
	}
	if _, err := a.reg.PutReplicationConfig(ctx, rules); err != nil {
		return nil, err
	}
	return &putReplicationConfigurationOutput{ReplicationConfiguration: configShape(rules)}, nil
}

func (a *API) describeImageReplicationStatus(ctx context.Context, in *describeImageReplicationStatusInput) (*describeImageReplicationStatusOutput, error) {
	key, err := repoKey(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	id := ecrshared.ImageIDs([]ecrshared.ImageIdentifier{in.ImageID})[0]
	key, id, tasks, err := a.reg.ReplicationStatus(ctx, key, id)
	if err != nil {
		return nil, err
	}
	out := &describeImageReplicationStatusOutput{RepositoryName: string(key.Name), ImageID: in.ImageID, ReplicationStatuses: []imageReplicationStatus{}}
	out.ImageID.ImageDigest = id.Digest
	for _, t := range tasks {
		out.ReplicationStatuses = append(out.ReplicationStatuses, imageReplicationStatus{Region: t.Destination.Region,
			RegistryID: string(t.Destination.Registry), Status: t.Status, FailureCode: t.FailureCode})
	}
	return out, nil
}

func (a *API) getRegistryPolicy(ctx context.Context, _ *emptyInput) (*registryPolicyOutput, error) {
	reg, text, err := a.reg.RegistryPolicy(ctx)
	if err != nil {
		return nil, err
	}
	return &registryPolicyOutput{RegistryID: string(reg), PolicyText: text}, nil
}

func (a *API) putRegistryPolicy(ctx context.Context, in *putRegistryPolicyInput) (*registryPolicyOutput, error) {
	reg, err := a.reg.PutRegistryPolicy(ctx, in.PolicyText)
	if err != nil {
		return nil, err
	}
	return &registryPolicyOutput{RegistryID: string(reg), PolicyText: in.PolicyText}, nil
}

func (a *API) deleteRegistryPolicy(ctx context.Context, _ *emptyInput) (*registryPolicyOutput, error) {
	reg, text, err := a.reg.DeleteRegistryPolicy(ctx)
	if err != nil {
		return nil, err
	}
	return &registryPolicyOutput{RegistryID: string(reg), PolicyText: text}, nil
}

func (a *API) describeRegistry(ctx context.Context, _ *emptyInput) (*describeRegistryOutput, error) {
	reg, rules, err := a.reg.ReplicationConfig(ctx)
	if err != nil {
		return nil, err
	}
	return &describeRegistryOutput{RegistryID: string(reg), ReplicationConfiguration: configShape(rules)}, nil
}

type accountSettingInput struct {
	Name string `json:"name"`
}

type putAccountSettingInput struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type accountSettingOutput struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func (a *API) getAccountSetting(ctx context.Context, in *accountSettingInput) (*accountSettingOutput, error) {
	v, err := a.reg.AccountSetting(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	return &accountSettingOutput{Name: in.Name, Value: v}, nil
}

func (a *API) putAccountSetting(ctx context.Context, in *putAccountSettingInput) (*accountSettingOutput, error) {
	if err := a.reg.PutAccountSetting(ctx, in.Name, in.Value); err != nil {
		return nil, err
	}
	return &accountSettingOutput{Name: in.Name, Value: in.Value}, nil
}
