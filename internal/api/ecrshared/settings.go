package ecrshared

import (
	"context"

	"github.com/ecrd/ecrd/internal/registry"
)

// The repository policy and resource tag operations, whose shapes both
// models share; only how a resourceArn names a repository differs (Ops.ARNKey).

type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type RepositoryPolicyInput struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
}

type SetRepositoryPolicyInput struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
	PolicyText     string `json:"policyText"`
	Force          bool   `json:"force"`
}

type RepositoryPolicyOutput struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
	PolicyText     string `json:"policyText"`
}

type TagResourceInput struct {
	ResourceArn string `json:"resourceArn"`
	Tags        []Tag  `json:"tags"`
}

type UntagResourceInput struct {
	ResourceArn string   `json:"resourceArn"`
	TagKeys     []string `json:"tagKeys"`
}

type ListTagsForResourceInput struct {
	ResourceArn string `json:"resourceArn"`
}

type ListTagsForResourceOutput struct {
	Tags []Tag `json:"tags"`
}

// EmptyOutput is the answer of the operations that return nothing.
type EmptyOutput struct{}

func (o *Ops) GetRepositoryPolicy(ctx context.Context, in *RepositoryPolicyInput) (*RepositoryPolicyOutput, error) {
	key, err := o.Key(ctx, in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	key, text, err := o.Reg.RepositoryPolicy(ctx, key)
	if err != nil {
		return nil, err
	}
	return policyOutput(ctx, key, text), nil
}

// SetRepositoryPolicy stores the policy; force sets one that would lock
// the caller out of setting it again.
func (o *Ops) SetRepositoryPolicy(ctx context.Context, in *SetRepositoryPolicyInput) (*RepositoryPolicyOutput, error) {
	key, err := o.Key(ctx, in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	if key, err = o.Reg.SetRepositoryPolicy(ctx, key, in.PolicyText, in.Force); err != nil {
		return nil, err
	}
	return policyOutput(ctx, key, in.PolicyText), nil
}

func (o *Ops) DeleteRepositoryPolicy(ctx context.Context, in *RepositoryPolicyInput) (*RepositoryPolicyOutput, error) {
	key, err := o.Key(ctx, in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	key, text, err := o.Reg.DeleteRepositoryPolicy(ctx, key)
	if err != nil {
		return nil, err
	}
	return policyOutput(ctx, key, text), nil
}

func policyOutput(ctx context.Context, key registry.RepoKey, text string) *RepositoryPolicyOutput {
	return &RepositoryPolicyOutput{RegistryID: registryID(ctx, key), RepositoryName: string(key.Name), PolicyText: text}
}

func (o *Ops) TagResource(ctx context.Context, in *TagResourceInput) (*EmptyOutput, error) {
	key, err := o.ARNKey(ctx, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	tags := make([]registry.ResourceTag, len(in.Tags))
	for i, t := range in.Tags {
		tags[i] = registry.ResourceTag{Key: t.Key, Value: t.Value}
	}
	return &EmptyOutput{}, o.Reg.TagRepository(ctx, key, tags)
}

func (o *Ops) UntagResource(ctx context.Context, in *UntagResourceInput) (*EmptyOutput, error) {
	key, err := o.ARNKey(ctx, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	return &EmptyOutput{}, o.Reg.UntagRepository(ctx, key, in.TagKeys)
}

func (o *Ops) ListTagsForResource(ctx context.Context, in *ListTagsForResourceInput) (*ListTagsForResourceOutput, error) {
	key, err := o.ARNKey(ctx, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	tags, err := o.Reg.RepositoryTags(ctx, key)
	if err != nil {
		return nil, err
	}
	return &ListTagsForResourceOutput{Tags: Tags(tags)}, nil
}

// Tags renders a repository's tags; never null.
func Tags(tags []registry.ResourceTag) []Tag {
	out := make([]Tag, len(tags))
	for i, t := range tags {
		out[i] = Tag{Key: t.Key, Value: t.Value}
	}
	return out
}
