// Package templates serves ECR's repository creation template operations
// over the core: it validates templates with the code that validates the
// settings and policies of repositories (the core's, and
// internal/lifecycle's), and keeps them in the core's store. The core
// applies them when it creates a repository itself
// (registry.CreateFromTemplate).
package templates

import (
	"context"
	"errors"
	"regexp"
	"slices"

	"github.com/ecrd/ecrd/internal/lifecycle"
	"github.com/ecrd/ecrd/internal/registry"
)

// MaxTemplates is how many templates a registry may have (ECR's quota).
const MaxTemplates = 100

// DefaultPageSize is the page DescribeRepositoryCreationTemplates returns
// without maxResults.
const DefaultPageSize = 100

// Service serves the template operations.
type Service struct{ reg *registry.Registry }

// New returns the service over the core.
func New(reg *registry.Registry) *Service { return &Service{reg: reg} }

// Encryption is a template's encryption configuration.
type Encryption struct{ Type, KMSKey string }

// Patch is the fields of a Create or Update request; nil is a field the
// request does not set. An Update changes only what it sets (replacing a
// list whole), so a client that sends every field, as Terraform does,
// replaces the template.
type Patch struct {
	Description          *string
	Encryption           *Encryption
	ResourceTags         *[]registry.ResourceTag
	TagMutability        *string
	MutabilityExclusions *[]string
	RepositoryPolicy     *string
	LifecyclePolicy      *string
	AppliedFor           *[]string
	CustomRoleARN        *string
}

// apply sets p's fields on t. A mutability set without exclusion filters
// drops the old ones, which would contradict it.
func (p Patch) apply(t *registry.CreationTemplate) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&t.Description, p.Description)
	set(&t.RepositoryPolicy, p.RepositoryPolicy)
	set(&t.LifecyclePolicy, p.LifecyclePolicy)
	set(&t.CustomRoleARN, p.CustomRoleARN)
	if p.Encryption != nil {
		t.EncryptionType, t.KMSKey = p.Encryption.Type, p.Encryption.KMSKey
	}
	if p.ResourceTags != nil {
		t.ResourceTags = *p.ResourceTags
	}
	if p.TagMutability != nil {
		t.TagMutability, t.MutabilityExclusions = *p.TagMutability, nil
	}
	if p.MutabilityExclusions != nil {
		t.MutabilityExclusions = *p.MutabilityExclusions
	}
	if p.AppliedFor != nil {
		t.AppliedFor = *p.AppliedFor
	}
}

// existing reads the template of prefix: TemplateNotFound when there is
// none.
func existing(tx registry.Tx, reg registry.RegistryID, prefix string) (registry.CreationTemplate, error) {
	t, err := tx.CreationTemplate(reg, prefix)
	if errors.Is(err, registry.ErrNotFound) {
		err = registry.Errorf(registry.CodeTemplateNotFound,
			"The specified repository creation template can't be found. Verify the registry ID and prefix and try again. Prefix: '%s'", prefix)
	}
	return t, err
}

// roleARN is an IAM role's ARN, its account captured.
var roleARN = regexp.MustCompile(`^arn:aws[a-z0-9-]*:iam::([0-9]{12}):role/[\w+=,.@/-]{1,512}$`)

// check validates t, in reg, as ECR does and fills in its defaults; the
// lifecycle policy is stored normalized, as PutLifecyclePolicy stores it.
func (s *Service) check(reg registry.RegistryID, t *registry.CreationTemplate) error {
	if len(t.AppliedFor) == 0 {
		return registry.Errorf(registry.CodeInvalidParameter,
			"Invalid parameter at 'appliedFor' failed to satisfy constraint: 'Member must have length greater than or equal to 1'")
	}
	var seen []string
	for _, a := range t.AppliedFor {
		if !slices.Contains(seen, a) {
			seen = append(seen, a)
		}
	}
	t.AppliedFor = seen
	if t.CustomRoleARN != "" {
		m := roleARN.FindStringSubmatch(t.CustomRoleARN)
		if m == nil || m[1] != string(reg) {
			return registry.Errorf(registry.CodeInvalidParameter,
				"Invalid parameter at 'customRoleArn': '%s' is not the ARN of an IAM role of account %s", t.CustomRoleARN, reg)
		}
	}
	if t.LifecyclePolicy != "" {
		_, norm, err := lifecycle.Parse(t.LifecyclePolicy)
		if err != nil {
			return err
		}
		t.LifecyclePolicy = norm
	}
	return s.reg.CheckTemplate(reg, t)
}

// Create adds a template to the caller's registry and returns it as kept.
// Errors: TemplateAlreadyExists, LimitExceeded, InvalidParameter and the
// settings' own (InvalidTagParameter, TooManyTags), AccessDenied.
func (s *Service) Create(ctx context.Context, prefix string, p Patch) (registry.RegistryID, registry.CreationTemplate, error) {
	reg := registry.Caller(ctx).Account
	if err := s.reg.AuthorizeService(ctx, "ecr", "CreateRepositoryCreationTemplate"); err != nil {
		return reg, registry.CreationTemplate{}, err
	}
	now := s.reg.Now().UTC()
	t := registry.CreationTemplate{Prefix: prefix, CreatedAt: now, UpdatedAt: now}
	p.apply(&t)
	if err := s.check(reg, &t); err != nil {
		return reg, registry.CreationTemplate{}, err
	}
	err := s.reg.Update(ctx, func(tx registry.Tx) error {
		ts, err := tx.CreationTemplates(reg)
		if err != nil {
			return err
		}
		if len(ts) >= MaxTemplates {
			return registry.Errorf(registry.CodeLimitExceeded,
				"The registry %s has %d repository creation templates, the most it may have", reg, MaxTemplates)
		}
		return tx.CreateCreationTemplate(reg, t)
	})
	if errors.Is(err, registry.ErrExists) {
		err = registry.Errorf(registry.CodeTemplateAlreadyExists,
			"The repository creation template already exists. Specify a unique prefix and try again. Prefix: '%s'", prefix)
	}
	return reg, t, err
}

// Update changes what p sets of the caller's template of prefix and
// returns it as kept. Errors: TemplateNotFound, those of Create.
func (s *Service) Update(ctx context.Context, prefix string, p Patch) (registry.RegistryID, registry.CreationTemplate, error) {
	reg := registry.Caller(ctx).Account
	if err := s.reg.AuthorizeService(ctx, "ecr", "UpdateRepositoryCreationTemplate"); err != nil {
		return reg, registry.CreationTemplate{}, err
	}
	var t registry.CreationTemplate
	err := s.reg.Update(ctx, func(tx registry.Tx) (err error) {
		if t, err = existing(tx, reg, prefix); err != nil {
			return err
		}
		p.apply(&t)
		if err := s.check(reg, &t); err != nil {
			return err
		}
		t.UpdatedAt = s.reg.Now().UTC()
		return tx.UpdateCreationTemplate(reg, t)
	})
	return reg, t, err
}

// Delete removes the caller's template of prefix and returns it.
// Errors: TemplateNotFound, AccessDenied.
func (s *Service) Delete(ctx context.Context, prefix string) (registry.RegistryID, registry.CreationTemplate, error) {
	reg := registry.Caller(ctx).Account
	if err := s.reg.AuthorizeService(ctx, "ecr", "DeleteRepositoryCreationTemplate"); err != nil {
		return reg, registry.CreationTemplate{}, err
	}
	var t registry.CreationTemplate
	err := s.reg.Update(ctx, func(tx registry.Tx) (err error) {
		if t, err = existing(tx, reg, prefix); err != nil {
			return err
		}
		return tx.DeleteCreationTemplate(reg, prefix)
	})
	return reg, t, err
}

// Describe returns a page of the caller's templates in prefix order, of
// the given prefixes only when any are given (those without a template
// are absent, not an error), and the next page's token.
// Errors: InvalidParameter for a token this listing did not issue,
// AccessDenied.
func (s *Service) Describe(ctx context.Context, prefixes []string, page registry.Page) (registry.RegistryID, []registry.CreationTemplate, string, error) {
	reg := registry.Caller(ctx).Account
	if err := s.reg.AuthorizeService(ctx, "ecr", "DescribeRepositoryCreationTemplates"); err != nil {
		return reg, nil, "", err
	}
	after, err := registry.DecodePageToken("creation-templates", page.Token)
	if err != nil {
		return reg, nil, "", err
	}
	if page.Max <= 0 {
		page.Max = DefaultPageSize
	}
	var ts []registry.CreationTemplate
	err = s.reg.View(ctx, func(tx registry.Tx) (err error) {
		ts, err = tx.CreationTemplates(reg)
		return err
	})
	if err != nil {
		return reg, nil, "", err
	}
	out := make([]registry.CreationTemplate, 0, min(len(ts), page.Max))
	for _, t := range ts {
		if (after != "" && t.Prefix <= after) || (len(prefixes) > 0 && !slices.Contains(prefixes, t.Prefix)) {
			continue
		}
		if len(out) == page.Max {
			return reg, out, registry.EncodePageToken("creation-templates", out[len(out)-1].Prefix), nil
		}
		out = append(out, t)
	}
	return reg, out, "", nil
}
