package ecr

import (
	"context"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/api/ecrshared"
	"github.com/ecrd/ecrd/internal/registry"
	"github.com/ecrd/ecrd/internal/templates"
)

// The repository creation template operations, served by
// internal/templates. Pointers tell a field the request leaves out from
// one it empties: Update changes only what it is sent.

type templateInput struct {
	Prefix                             string             `json:"prefix"`
	Description                        *string            `json:"description"`
	EncryptionConfiguration            *encryptionConfig  `json:"encryptionConfiguration"`
	ResourceTags                       *[]ecrshared.Tag   `json:"resourceTags"`
	ImageTagMutability                 *string            `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters *[]exclusionFilter `json:"imageTagMutabilityExclusionFilters"`
	RepositoryPolicy                   *string            `json:"repositoryPolicy"`
	LifecyclePolicy                    *string            `json:"lifecyclePolicy"`
	AppliedFor                         *[]string          `json:"appliedFor"`
	CustomRoleARN                      *string            `json:"customRoleArn"`
}

func (in *templateInput) patch() templates.Patch {
	p := templates.Patch{Description: in.Description, TagMutability: in.ImageTagMutability,
		RepositoryPolicy: in.RepositoryPolicy, LifecyclePolicy: in.LifecyclePolicy, AppliedFor: in.AppliedFor,
		CustomRoleARN: in.CustomRoleARN}
	if e := in.EncryptionConfiguration; e != nil {
		p.Encryption = &templates.Encryption{Type: e.EncryptionType, KMSKey: e.KMSKey}
	}
	if in.ResourceTags != nil {
		tags := make([]registry.ResourceTag, len(*in.ResourceTags))
		for i, t := range *in.ResourceTags {
			tags[i] = registry.ResourceTag{Key: t.Key, Value: t.Value}
		}
		p.ResourceTags = &tags
	}
	if in.ImageTagMutabilityExclusionFilters != nil {
		filters := make([]string, len(*in.ImageTagMutabilityExclusionFilters))
		for i, f := range *in.ImageTagMutabilityExclusionFilters {
			filters[i] = f.Filter
		}
		p.MutabilityExclusions = &filters
	}
	return p
}

type templatePrefixInput struct {
	Prefix string `json:"prefix"`
}

type describeTemplatesInput struct {
	Prefixes   []string `json:"prefixes"`
	NextToken  string   `json:"nextToken"`
	MaxResults int      `json:"maxResults"`
}

type repositoryCreationTemplate struct {
	Prefix                             string            `json:"prefix"`
	Description                        string            `json:"description,omitempty"`
	EncryptionConfiguration            encryptionConfig  `json:"encryptionConfiguration"`
	ResourceTags                       []ecrshared.Tag   `json:"resourceTags"`
	ImageTagMutability                 string            `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters []exclusionFilter `json:"imageTagMutabilityExclusionFilters,omitempty"`
	RepositoryPolicy                   string            `json:"repositoryPolicy,omitempty"`
	LifecyclePolicy                    string            `json:"lifecyclePolicy,omitempty"`
	AppliedFor                         []string          `json:"appliedFor"`
	CustomRoleARN                      string            `json:"customRoleArn,omitempty"`
	CreatedAt                          awsjson.Time      `json:"createdAt"`
	UpdatedAt                          awsjson.Time      `json:"updatedAt"`
}

type templateOutput struct {
	RegistryID string                     `json:"registryId"`
	Template   repositoryCreationTemplate `json:"repositoryCreationTemplate"`
}

type describeTemplatesOutput struct {
	RegistryID string                       `json:"registryId"`
	Templates  []repositoryCreationTemplate `json:"repositoryCreationTemplates"`
	NextToken  string                       `json:"nextToken,omitempty"`
}

func templateShape(t registry.CreationTemplate) repositoryCreationTemplate {
	out := repositoryCreationTemplate{Prefix: t.Prefix, Description: t.Description,
		EncryptionConfiguration: encryptionConfig{EncryptionType: t.EncryptionType, KMSKey: t.KMSKey},
		ResourceTags:            ecrshared.Tags(t.ResourceTags), ImageTagMutability: t.TagMutability,
		RepositoryPolicy: t.RepositoryPolicy, LifecyclePolicy: t.LifecyclePolicy, AppliedFor: t.AppliedFor,
		CustomRoleARN: t.CustomRoleARN, CreatedAt: awsjson.Time{Time: t.CreatedAt}, UpdatedAt: awsjson.Time{Time: t.UpdatedAt}}
	for _, f := range t.MutabilityExclusions {
		out.ImageTagMutabilityExclusionFilters = append(out.ImageTagMutabilityExclusionFilters, exclusionFilter{FilterType: "WILDCARD", Filter: f})
	}
	return out
}

func templateAnswer(reg registry.RegistryID, t registry.CreationTemplate, err error) (*templateOutput, error) {
	if err != nil {
		return nil, err
	}
	return &templateOutput{RegistryID: string(reg), Template: templateShape(t)}, nil
}

func (a *API) createRepositoryCreationTemplate(ctx context.Context, in *templateInput) (*templateOutput, error) {
	return templateAnswer(a.templates.Create(ctx, in.Prefix, in.patch()))
}

func (a *API) updateRepositoryCreationTemplate(ctx context.Context, in *templateInput) (*templateOutput, error) {
	return templateAnswer(a.templates.Update(ctx, in.Prefix, in.patch()))
}

func (a *API) deleteRepositoryCreationTemplate(ctx context.Context, in *templatePrefixInput) (*templateOutput, error) {
	return templateAnswer(a.templates.Delete(ctx, in.Prefix))
}

func (a *API) describeRepositoryCreationTemplates(ctx context.Context, in *describeTemplatesInput) (*describeTemplatesOutput, error) {
	reg, ts, next, err := a.templates.Describe(ctx, in.Prefixes, registry.Page{Token: in.NextToken, Max: in.MaxResults})
	if err != nil {
		return nil, err
	}
	out := &describeTemplatesOutput{RegistryID: string(reg), Templates: make([]repositoryCreationTemplate, len(ts)), NextToken: next}
	for i, t := range ts {
		out.Templates[i] = templateShape(t)
	}
	return out, nil
}
