package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"

	"github.com/ecrd/ecrd/internal/iam"
)

// ECR Public's catalog data limits (RepositoryCatalogDataInput).
const (
	maxDescription   = 1024
	maxCatalogText   = 25600
	maxCatalogList   = 50
	maxCatalogItem   = 50
	maxLogoSize      = 512000
	maxPolicyTextLen = 10240
)

// checkCatalog enforces the model's limits on catalog data, which arrive
// through CreateRepository and PutRepositoryCatalogData alike, and sets
// the logo's digest.
func checkCatalog(c *Catalog) error {
	tooLong := func(field string, max int) error {
		return Errorf(CodeInvalidParameter, "Invalid parameter at 'catalogData.%s' failed to satisfy constraint: 'must have length less than or equal to %d'", field, max)
	}
	switch {
	case len([]rune(c.Description)) > maxDescription:
		return tooLong("description", maxDescription)
	case len([]rune(c.AboutText)) > maxCatalogText:
		return tooLong("aboutText", maxCatalogText)
	case len([]rune(c.UsageText)) > maxCatalogText:
		return tooLong("usageText", maxCatalogText)
	case len(c.Architectures) > maxCatalogList:
		return tooLong("architectures", maxCatalogList)
	case len(c.OperatingSystems) > maxCatalogList:
		return tooLong("operatingSystems", maxCatalogList)
	case len(c.Logo) > maxLogoSize:
		return tooLong("logoImageBlob", maxLogoSize)
	}
	for _, list := range []struct {
		field string
		items []string
	}{{"architectures", c.Architectures}, {"operatingSystems", c.OperatingSystems}} {
		for _, it := range list.items {
			if n := len([]rune(it)); n < 1 || n > maxCatalogItem {
				return Errorf(CodeInvalidParameter, "Invalid parameter at 'catalogData.%s' failed to satisfy constraint: 'Member must have length between 1 and %d'", list.field, maxCatalogItem)
			}
		}
	}
	c.LogoDigest = ""
	if len(c.Logo) > 0 && LogoType(c.Logo) == "" {
		// AWS takes .png and .jpg logos; anything else served from the
		// public listener could be a page with script on its origin.
		return Errorf(CodeInvalidParameter, "Invalid parameter at 'catalogData.logoImageBlob': the logo must be a PNG or JPEG image")
	}
	if len(c.Logo) > 0 {
		sum := sha256.Sum256(c.Logo)
		c.LogoDigest = Digest("sha256:" + hex.EncodeToString(sum[:]))
	}
	return nil
}

// LogoType is the media type of a logo, image/png or image/jpeg by its
// signature, or "" for anything else.
func LogoType(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff}):
		return "image/jpeg"
	}
	return ""
}

// RepositoryCatalog returns a public repository's catalog data.
// Errors: RepositoryNotFound, RepositoryCatalogDataNotFound.
func (r *Registry) RepositoryCatalog(ctx context.Context, key RepoKey) (Catalog, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return Catalog{}, err
	}
	var c Catalog
	err = r.meta.View(ctx, func(tx Tx) error {
		if _, err := r.access(ctx, tx, "GetRepositoryCatalogData", key); err != nil {
			return err
		}
		c, err = tx.RepositoryCatalog(key)
		if errors.Is(err, ErrNotFound) {
			return Errorf(CodeRepositoryCatalogDataNotFound, "The repository with name '%s' in registry with id '%s' has no catalog data", key.Name, key.Registry.Account())
		}
		return err
	})
	return c, err
}

// PutRepositoryCatalog replaces a public repository's catalog data, logo
// included, and returns it as stored. Errors: RepositoryNotFound,
// InvalidParameter, AccessDenied.
func (r *Registry) PutRepositoryCatalog(ctx context.Context, key RepoKey, c Catalog) (Catalog, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return Catalog{}, err
	}
	if err := checkCatalog(&c); err != nil {
		return Catalog{}, err
	}
	err = r.meta.Update(ctx, func(tx Tx) error {
		if _, err := r.access(ctx, tx, "PutRepositoryCatalogData", key); err != nil {
			return err
		}
		return tx.PutRepositoryCatalog(key, c)
	})
	c.Logo = nil
	return c, err
}

// RepositoryLogo returns a public repository's logo, which anyone may
// fetch, as the gallery shows it to anyone. Errors: RepositoryNotFound
// (also when the repository has no logo).
func (r *Registry) RepositoryLogo(ctx context.Context, key RepoKey) ([]byte, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return nil, err
	}
	if !key.Registry.IsPublic() {
		return nil, repositoryNotFound(key)
	}
	var logo []byte
	err = r.meta.View(ctx, func(tx Tx) error {
		logo, err = tx.RepositoryLogo(key)
		if errors.Is(err, ErrNotFound) {
			return repositoryNotFound(key)
		}
		return err
	})
	return logo, err
}

// RepositoryPolicy returns a repository's policy text.
// Errors: RepositoryNotFound, RepositoryPolicyNotFound.
func (r *Registry) RepositoryPolicy(ctx context.Context, key RepoKey) (RepoKey, string, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return key, "", err
	}
	var text string
	err = r.meta.View(ctx, func(tx Tx) error {
		if _, err := r.access(ctx, tx, "GetRepositoryPolicy", key); err != nil {
			return err
		}
		text, err = tx.RepositoryPolicy(key)
		if errors.Is(err, ErrNotFound) {
			return policyNotFound(key)
		}
		return err
	})
	return key, text, err
}

func policyNotFound(key RepoKey) *Error {
	return Errorf(CodeRepositoryPolicyNotFound, "Repository policy does not exist for the repository with name '%s' in the registry with id '%s'", key.Name, key.Registry.Account())
}

// SetRepositoryPolicy stores a repository's policy after checking it as
// ECR does (iam.Parse). Unless forced, a policy that would leave the
// caller unable to set the repository's policy again is refused, as
// ECR's lock-out guard does: the new policy is evaluated for the caller
// and ecr:SetRepositoryPolicy before it is stored.
// Errors: RepositoryNotFound, InvalidParameter, AccessDenied.
func (r *Registry) SetRepositoryPolicy(ctx context.Context, key RepoKey, text string, force bool) (RepoKey, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return key, err
	}
	service := "ecr"
	if key.Registry.IsPublic() {
		service = "ecr-public"
	}
	if err := r.checkPolicy("repository", service, text); err != nil {
		return key, err
	}
	return key, r.meta.Update(ctx, func(tx Tx) error {
		facts, err := tx.RepositoryAccess(key)
		if err != nil {
			return err
		}
		if _, err := r.decideAccess(ctx, "SetRepositoryPolicy", key, facts); err != nil {
			return err
		}
		if !force {
			facts.Policy = text
			if err := r.decide(asHypothetical(ctx), "SetRepositoryPolicy", key, facts, nil); IsCode(err, CodeAccessDenied) {
				return Errorf(CodeInvalidParameter, "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'The repository policy would prevent the caller from setting the repository policy in the future; set it with force to override this check'")
			} else if err != nil {
				return err
			}
		}
		return tx.PutRepositoryPolicy(key, text)
	})
}

// DeleteRepositoryPolicy removes a repository's policy and returns it.
// Errors: RepositoryNotFound, RepositoryPolicyNotFound, AccessDenied.
func (r *Registry) DeleteRepositoryPolicy(ctx context.Context, key RepoKey) (RepoKey, string, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return key, "", err
	}
	var text string
	err = r.meta.Update(ctx, func(tx Tx) error {
		if _, err := r.access(ctx, tx, "DeleteRepositoryPolicy", key); err != nil {
			return err
		}
		text, err = tx.RepositoryPolicy(key)
		if errors.Is(err, ErrNotFound) {
			return policyNotFound(key)
		} else if err != nil {
			return err
		}
		return tx.DeleteRepositoryPolicy(key)
	})
	return key, text, err
}

// checkPolicy accepts what ECR accepts as a repository or registry
// policy (iam.Parse) for service "ecr" or "ecr-public", refusing the rest
// with ECR's one message; the reason goes to the log.
func (r *Registry) checkPolicy(kind, service, text string) error {
	if len(text) > maxPolicyTextLen {
		return Errorf(CodeInvalidParameter, "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'must have length less than or equal to %d'", maxPolicyTextLen)
	}
	p, err := iam.Parse(text, service)
	if err != nil {
		r.log.Info("refused a "+kind+" policy", "reason", err)
		return Errorf(CodeInvalidParameter, "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid %s policy provided'", kind)
	}
	if r.principals == nil {
		return nil
	}
	// As IAM: a principal of an account ecrd serves must exist.
	for _, s := range p.Statements {
		for _, ps := range []*iam.Principals{s.Principal, s.NotPrincipal} {
			if ps == nil {
				continue
			}
			for _, v := range ps.ByType["AWS"] {
				if !strings.HasPrefix(v, "arn:") {
					continue
				}
				if exists, known := r.principals.Exists(v); known && !exists {
					r.log.Info("refused a "+kind+" policy", "reason", "no such principal", "principal", v)
					return Errorf(CodeInvalidParameter, "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Principal not found'")
				}
			}
		}
	}
	return nil
}

// TagRepository adds tags to a repository, replacing the values of keys it
// has. Errors: RepositoryNotFound, TooManyTags, InvalidTagParameter,
// AccessDenied.
func (r *Registry) TagRepository(ctx context.Context, key RepoKey, tags []ResourceTag) error {
	return r.retag(ctx, key, "TagResource", requestTags(tags), func(have []ResourceTag) ([]ResourceTag, error) {
		if err := checkResourceTags(tags); err != nil {
			return nil, err
		}
		for _, t := range tags {
			i := slices.IndexFunc(have, func(h ResourceTag) bool { return h.Key == t.Key })
			if i < 0 {
				have = append(have, t)
			} else {
				have[i] = t
			}
		}
		return have, checkResourceTags(have)
	})
}

// UntagRepository removes the tags with the keys from a repository; keys
// it does not have are ignored, as in AWS. Errors: RepositoryNotFound,
// InvalidTagParameter, AccessDenied.
func (r *Registry) UntagRepository(ctx context.Context, key RepoKey, keys []string) error {
	return r.retag(ctx, key, "UntagResource", []condition{{"aws:TagKeys", keys}}, func(have []ResourceTag) ([]ResourceTag, error) {
		for _, k := range keys {
			if k == "" || len([]rune(k)) > maxTagKeyLen || strings.HasPrefix(strings.ToLower(k), "aws:") {
				return nil, Errorf(CodeInvalidTagParameter, "The tag key '%s' cannot be removed: keys have 1 to %d characters and the 'aws:' prefix is reserved", k, maxTagKeyLen)
			}
		}
		kept := have[:0]
		for _, t := range have {
			if !slices.Contains(keys, t.Key) {
				kept = append(kept, t)
			}
		}
		return kept, nil
	})
}

func (r *Registry) retag(ctx context.Context, key RepoKey, action string, conds []condition, change func([]ResourceTag) ([]ResourceTag, error)) error {
	_, err := r.changeRepository(ctx, key, action, func(repo *Repository) error {
		tags, err := change(append([]ResourceTag(nil), repo.Tags...))
		repo.Tags = tags
		return err
	}, conds...)
	return err
}

// RepositoryTags returns a repository's resource tags.
// Errors: RepositoryNotFound, AccessDenied.
func (r *Registry) RepositoryTags(ctx context.Context, key RepoKey) ([]ResourceTag, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return nil, err
	}
	var repo Repository
	err = r.meta.View(ctx, func(tx Tx) (err error) {
		repo, err = r.access(ctx, tx, "ListTagsForResource", key)
		return err
	})
	return repo.Tags, err
}
