package ecr

import (
	"context"

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

// replicationConfiguration is a registry's replication: ecrd replicates
// nothing, so its rules are always empty, as those of an ECR registry no
// one configured replication for.
type replicationConfiguration struct {
	Rules []replicationRule `json:"rules"`
}

type replicationRule struct{}

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
	return &describeRegistryOutput{RegistryID: string(registry.Caller(ctx).Account),
		ReplicationConfiguration: replicationConfiguration{Rules: []replicationRule{}}}, nil
}
