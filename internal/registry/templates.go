package registry

import (
	"context"
	"errors"
	"strings"
)

// Repository creation templates hold the settings of the repositories ECR
// creates itself: on a push to a missing repository (CREATE_ON_PUSH), for
// a pull through cache, for replication. Their operations are served by
// internal/templates; the core applies them, here, because creating a
// repository is the core's.

// CheckTemplate fills in a template's defaults (MUTABLE, AES256, the
// managed KMS key) and refuses the settings a repository could not have,
// with the errors CreateRepository and SetRepositoryPolicy answer; the
// lifecycle policy is its caller's to check. reg is the template's
// registry. Errors: InvalidParameter, InvalidTagParameter, TooManyTags.
func (r *Registry) CheckTemplate(reg RegistryID, t *CreationTemplate) error {
	repo := Repository{Registry: reg, TagMutability: t.TagMutability, MutabilityExclusions: t.MutabilityExclusions,
		EncryptionType: t.EncryptionType, KMSKey: t.KMSKey}
	if err := r.defaultSettings(&repo); err != nil {
		return err
	}
	t.TagMutability, t.EncryptionType, t.KMSKey = repo.TagMutability, repo.EncryptionType, repo.KMSKey
	if err := checkResourceTags(t.ResourceTags); err != nil {
		return err
	}
	if t.RepositoryPolicy != "" {
		return r.checkPolicy("repository", "ecr", t.RepositoryPolicy)
	}
	return nil
}

// LongestPrefix returns the index of the prefix a repository name is
// under that is longest, as ECR matches creation templates and pull
// through cache rules: a prefix has an implied trailing '/' ("prod"
// covers "prod/app", not "production" nor "prod" itself), and ROOT covers
// whatever no other prefix does. -1: none.
func LongestPrefix(prefixes []string, name RepositoryName) int {
	best, root := -1, -1
	for i, p := range prefixes {
		switch {
		case p == RootPrefix:
			root = i
		case strings.HasPrefix(string(name), strings.TrimSuffix(p, "/")+"/") && (best < 0 || len(p) > len(prefixes[best])):
			best = i
		}
	}
	if best < 0 {
		return root
	}
	return best
}

// MatchTemplate returns the template among ts that applies to a
// repository name created for scenario: of those for the scenario, the
// one of the LongestPrefix.
func MatchTemplate(ts []CreationTemplate, name RepositoryName, scenario string) (CreationTemplate, bool) {
	var candidates []CreationTemplate
	var prefixes []string
	for _, t := range ts {
		if t.AppliesTo(scenario) {
			candidates, prefixes = append(candidates, t), append(prefixes, t.Prefix)
		}
	}
	if i := LongestPrefix(prefixes, name); i >= 0 {
		return candidates[i], true
	}
	return CreationTemplate{}, false
}

// defaultTemplate is ECR's default settings, what a repository ECR
// creates without a template gets (and what --create-on-push stands for).
var defaultTemplate = CreationTemplate{Prefix: RootPrefix, TagMutability: MutabilityMutable, EncryptionType: EncryptionAES256}

// CreateFromTemplate creates the repository of key, missing, as ECR
// creates it for scenario: with the settings of the template that applies
// (MatchTemplate), its repository and lifecycle policies set in the same
// transaction. A repository someone else created meanwhile is returned as
// it is. The caller must be allowed ecr:CreateRepository (and
// ecr:TagResource for tags) by the registry's policies and its own, as
// for CreateRepository; the core's own work (AsCore) is not asked.
// Errors: RepositoryNotFound when no template applies to a push, AccessDenied
// (also when the template sets tags or KMS without a customRoleArn to
// apply them).
func (r *Registry) CreateFromTemplate(ctx context.Context, key RepoKey, scenario string) (Repository, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return Repository{}, err
	}
	if key.Registry.IsPublic() {
		return Repository{}, repositoryNotFound(key) // templates are private registries'
	}
	var (
		ts    []CreationTemplate
		facts RepositoryAccess
	)
	err = r.meta.View(ctx, func(tx Tx) (err error) {
		if ts, err = tx.CreationTemplates(key.Registry); err != nil {
			return err
		}
		facts, err = registryFacts(tx, key.Registry)
		return err
	})
	if err != nil {
		return Repository{}, err
	}
	// Without a template, a push creates nothing (unless --create-on-push
	// stands for one); the pull through cache and replication create with
	// ECR's defaults.
	t, ok := MatchTemplate(ts, key.Name, scenario)
	if !ok && (scenario != AppliedForCreateOnPush || r.createOnPush) {
		t, ok = defaultTemplate, true
	}
	if !ok {
		return Repository{}, repositoryNotFound(key)
	}
	if !isCore(ctx) {
		conds := requestTags(t.ResourceTags)
		if err := r.decide(ctx, "CreateRepository", key, facts, conds); err != nil {
			return Repository{}, err
		}
		if len(t.ResourceTags) > 0 {
			if err := r.decide(ctx, "TagResource", key, facts, conds); err != nil {
				return Repository{}, err
			}
		}
	}
	if t.CustomRoleARN == "" && (len(t.ResourceTags) > 0 || t.EncryptionType != EncryptionAES256) {
		// ECR applies these with the template's role, and without one it
		// may not: the creation is refused as ECR's own access would be.
		return Repository{}, Errorf(CodeAccessDenied,
			"The repository creation template for prefix '%s' sets resource tags or KMS encryption, which need its customRoleArn to apply them; repository '%s' was not created",
			t.Prefix, key.Name)
	}
	repo := Repository{Registry: key.Registry, Name: key.Name, CreatedAt: r.now().UTC(),
		TagMutability: t.TagMutability, MutabilityExclusions: t.MutabilityExclusions,
		EncryptionType: t.EncryptionType, KMSKey: t.KMSKey, Tags: t.ResourceTags}
	err = r.meta.Update(ctx, func(tx Tx) error {
		if err := tx.CreateRepository(repo); errors.Is(err, ErrExists) {
			existing, err := tx.RepositoryAccess(key)
			repo = existing.Repository
			return err
		} else if err != nil {
			return err
		}
		if t.RepositoryPolicy != "" {
			if err := tx.PutRepositoryPolicy(key, t.RepositoryPolicy); err != nil {
				return err
			}
		}
		if t.LifecyclePolicy != "" {
			return tx.PutLifecyclePolicy(key, LifecyclePolicy{Text: t.LifecyclePolicy})
		}
		return nil
	})
	if err != nil {
		return Repository{}, err
	}
	r.log.Info("created a repository from a template", "repository", string(key.Registry)+"/"+string(key.Name),
		"template", t.Prefix, "for", scenario)
	return repo, nil
}

// CreatingOnPush runs step, a push's write to the repository of key; when
// the repository is missing it is created from the CREATE_ON_PUSH
// template that applies, if any, and step runs again. Reads never create:
// only the front ends' push steps come here. Without a template the push
// fails as step did, the repository missing.
func (r *Registry) CreatingOnPush(ctx context.Context, key RepoKey, step func() error) error {
	err := step()
	if !IsCode(err, CodeRepositoryNotFound) {
		return err
	}
	scenario := AppliedForCreateOnPush
	if replicating(ctx) {
		scenario = AppliedForReplication
	}
	if _, cerr := r.CreateFromTemplate(ctx, key, scenario); IsCode(cerr, CodeRepositoryNotFound) {
		return err
	} else if cerr != nil {
		return cerr
	}
	return step()
}
