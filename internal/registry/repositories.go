package registry

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Tag mutability settings.
const (
	MutabilityMutable                = "MUTABLE"
	MutabilityImmutable              = "IMMUTABLE"
	MutabilityImmutableWithExclusion = "IMMUTABLE_WITH_EXCLUSION"
	MutabilityMutableWithExclusion   = "MUTABLE_WITH_EXCLUSION"
)

// Encryption types.
const (
	EncryptionAES256  = "AES256"
	EncryptionKMS     = "KMS"
	EncryptionKMSDSSE = "KMS_DSSE"
)

// ECR's tag quotas: at most 50 tags, keys of 1..128 and values of 0..256
// characters, no keys in the reserved "aws:" namespace.
const (
	maxResourceTags = 50
	maxTagKeyLen    = 128
	maxTagValueLen  = 256
)

// NewRepository is what CreateRepository needs; zero values take ECR's
// defaults (MUTABLE, scan on push off, AES256).
type NewRepository struct {
	Key                  RepoKey
	TagMutability        string
	MutabilityExclusions []string
	ScanOnPush           bool
	EncryptionType       string
	KMSKey               string
	Tags                 []ResourceTag
	// Catalog is a public repository's catalog data (nil: none). Once the
	// repository is created it holds the catalog as stored (its logo's
	// digest set, the logo bytes dropped), so that the caller can answer
	// with it without a second read, which could fail after the create.
	Catalog *Catalog
}

// CreateRepository creates a repository in the caller's registry.
// Errors: RepositoryAlreadyExists, TooManyTags, InvalidTagParameter,
// InvalidParameter.
func (r *Registry) CreateRepository(ctx context.Context, in NewRepository) (Repository, error) {
	key, err := r.resolve(ctx, in.Key)
	if err != nil {
		return Repository{}, err
	}
	if err := r.authorizeCreate(ctx, key, in.Tags); err != nil {
		return Repository{}, err
	}
	repo := Repository{
		Registry:             key.Registry,
		Name:                 key.Name,
		CreatedAt:            r.now().UTC(),
		TagMutability:        in.TagMutability,
		MutabilityExclusions: in.MutabilityExclusions,
		ScanOnPush:           in.ScanOnPush,
		EncryptionType:       in.EncryptionType,
		KMSKey:               in.KMSKey,
		Tags:                 in.Tags,
	}
	if err := r.defaultSettings(&repo); err != nil {
		return Repository{}, err
	}
	if err := checkResourceTags(in.Tags); err != nil {
		return Repository{}, err
	}
	var catalog Catalog
	if in.Catalog != nil {
		catalog = *in.Catalog
		if err := checkCatalog(&catalog); err != nil {
			return Repository{}, err
		}
	}
	err = r.meta.Update(ctx, func(tx Tx) error {
		if err := tx.CreateRepository(repo); err != nil || in.Catalog == nil {
			return err
		}
		return tx.PutRepositoryCatalog(key, catalog)
	})
	if errors.Is(err, ErrExists) {
		return Repository{}, Errorf(CodeRepositoryAlreadyExists, "The repository with name '%s' already exists in the registry with id '%s'", key.Name, key.Registry.Account())
	}
	if err == nil && in.Catalog != nil {
		*in.Catalog = catalog
		in.Catalog.Logo = nil
	}
	return repo, err
}

// defaultSettings fills in ECR's defaults and refuses settings that
// contradict each other.
func (r *Registry) defaultSettings(repo *Repository) error {
	switch repo.TagMutability {
	case "":
		repo.TagMutability = MutabilityMutable
	case MutabilityMutable, MutabilityImmutable, MutabilityImmutableWithExclusion, MutabilityMutableWithExclusion:
	default:
		return Errorf(CodeInvalidParameter, "Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'must satisfy enum value set: [MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION]'")
	}
	withExclusion := strings.HasSuffix(repo.TagMutability, "_WITH_EXCLUSION")
	switch {
	case withExclusion && len(repo.MutabilityExclusions) == 0:
		return Errorf(CodeInvalidParameter, "Invalid parameter: imageTagMutabilityExclusionFilters are required when imageTagMutability is %s", repo.TagMutability)
	case !withExclusion && len(repo.MutabilityExclusions) > 0:
		return Errorf(CodeInvalidParameter, "Invalid parameter: imageTagMutabilityExclusionFilters can only be used when imageTagMutability is IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION")
	}
	switch repo.EncryptionType {
	case "":
		repo.EncryptionType = EncryptionAES256
		fallthrough
	case EncryptionAES256:
		if repo.KMSKey != "" {
			return Errorf(CodeInvalidParameter, "Invalid parameter: a kmsKey can only be given with encryptionType KMS or KMS_DSSE")
		}
	case EncryptionKMS, EncryptionKMSDSSE:
		if repo.KMSKey == "" {
			repo.KMSKey = r.managedKMSKey(repo.Registry)
		}
	default:
		return Errorf(CodeInvalidParameter, "Invalid parameter at 'encryptionConfiguration.encryptionType' failed to satisfy constraint: 'must satisfy enum value set: [AES256, KMS, KMS_DSSE]'")
	}
	return nil
}

// managedKMSKey names the account's AWS-managed key for ECR (alias aws/ecr),
// which ECR reports when KMS is chosen without a key. The key ID is derived
// from the account so that it is the same on every call and replica.
func (r *Registry) managedKMSKey(account RegistryID) string {
	h := sha256.Sum256([]byte("aws/ecr:" + string(account)))
	x := fmt.Sprintf("%x", h[:16])
	return fmt.Sprintf("arn:aws:kms:%s:%s:key/%s-%s-%s-%s-%s", r.region, account, x[0:8], x[8:12], x[12:16], x[16:20], x[20:32])
}

func checkResourceTags(tags []ResourceTag) error {
	if len(tags) > maxResourceTags {
		return Errorf(CodeTooManyTags, "A repository can have at most %d tags; the request has %d", maxResourceTags, len(tags))
	}
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		switch {
		case t.Key == "" || len([]rune(t.Key)) > maxTagKeyLen:
			return Errorf(CodeInvalidTagParameter, "The tag key '%s' must have a length between 1 and %d characters", t.Key, maxTagKeyLen)
		case len([]rune(t.Value)) > maxTagValueLen:
			return Errorf(CodeInvalidTagParameter, "The value of tag '%s' must be at most %d characters long", t.Key, maxTagValueLen)
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return Errorf(CodeInvalidTagParameter, "The tag key '%s' uses the reserved prefix 'aws:'", t.Key)
		case seen[t.Key]:
			return Errorf(CodeInvalidTagParameter, "The tag key '%s' is given more than once", t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}

// authorizeCreate decides a CreateRepository of key with tags: the
// registry's policy and the caller's, with the request's tags as
// aws:RequestTag/… and aws:TagKeys; tags also need ecr:TagResource, as
// in ECR.
func (r *Registry) authorizeCreate(ctx context.Context, key RepoKey, tags []ResourceTag) error {
	var facts RepositoryAccess
	err := r.meta.View(ctx, func(tx Tx) (err error) {
		facts, err = registryFacts(tx, key.Registry)
		return err
	})
	if err != nil {
		return err
	}
	conds := requestTags(tags)
	if err := r.decide(ctx, "CreateRepository", key, facts, conds); err != nil {
		return err
	}
	if len(tags) > 0 {
		return r.decide(ctx, "TagResource", key, facts, conds)
	}
	return nil
}

// requestTags are the condition keys of a request's tags.
func requestTags(tags []ResourceTag) []condition {
	keys := make([]string, 0, len(tags))
	conds := make([]condition, 0, len(tags)+1)
	for _, t := range tags {
		keys = append(keys, t.Key)
		conds = append(conds, condition{"aws:RequestTag/" + t.Key, []string{t.Value}})
	}
	return append(conds, condition{"aws:TagKeys", keys})
}

// authorizeListing decides an action on every repository of reg (a
// listing: resource arn:…:repository/*), by the caller's policies and the
// registry's.
func (r *Registry) authorizeListing(ctx context.Context, tx Tx, action string, reg RegistryID) error {
	facts, err := registryFacts(tx, reg)
	if err != nil {
		return err
	}
	return r.decide(ctx, action, RepoKey{Registry: reg, Name: "*"}, facts, nil)
}

// DescribeRepositories returns the named repositories of reg (the caller's
// when empty), in the order asked, each once. One unknown name fails the
// whole call, as in ECR. Errors: RepositoryNotFound.
func (r *Registry) DescribeRepositories(ctx context.Context, reg RegistryID, names []RepositoryName) ([]Repository, error) {
	out := make([]Repository, 0, len(names))
	seen := make(map[RepositoryName]bool, len(names))
	err := r.meta.View(ctx, func(tx Tx) error {
		for _, n := range names {
			if seen[n] {
				continue
			}
			seen[n] = true
			key, err := r.resolve(ctx, RepoKey{Registry: reg, Name: n})
			if err != nil {
				return err
			}
			repo, err := r.access(ctx, tx, "DescribeRepositories", key)
			if err != nil {
				return err
			}
			out = append(out, repo)
		}
		return nil
	})
	return out, err
}

// DefaultPageSize is the page size when none is asked for, as in ECR.
const DefaultPageSize = 100

// Page asks for one page of a listing: Token is the opaque token a previous
// page returned ("" for the first page), Max the page size.
type Page struct {
	Token string
	Max   int
}

// ListRepositories returns one page of the repositories of reg in name
// order, and the token of the next page ("" on the last).
// Errors: InvalidParameter for a token this listing did not issue.
func (r *Registry) ListRepositories(ctx context.Context, reg RegistryID, p Page) ([]Repository, string, error) {
	key, err := r.resolve(ctx, RepoKey{Registry: reg})
	if err != nil {
		return nil, "", err
	}
	if p.Max <= 0 {
		p.Max = DefaultPageSize
	}
	after, err := decodeToken("repositories", p.Token)
	if err != nil {
		return nil, "", err
	}
	var repos []Repository
	err = r.meta.View(ctx, func(tx Tx) (err error) {
		if err := r.authorizeListing(ctx, tx, "DescribeRepositories", key.Registry); err != nil {
			return err
		}
		// One extra row tells whether another page follows.
		repos, err = tx.Repositories(key.Registry, RepositoryName(after), p.Max+1)
		return err
	})
	if err != nil || len(repos) <= p.Max {
		return repos, "", err
	}
	repos = repos[:p.Max]
	return repos, encodeToken("repositories", string(repos[len(repos)-1].Name)), nil
}

// encodeToken makes an opaque pagination token for a listing kind; binding
// the kind in means a token of one listing is refused by another.
func encodeToken(kind, after string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("ecrd1:" + kind + ":" + after))
}

func decodeToken(kind, token string) (string, error) {
	if token == "" {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	prefix := "ecrd1:" + kind + ":"
	if err != nil || !strings.HasPrefix(string(raw), prefix) {
		return "", Errorf(CodeInvalidParameter, "Invalid parameter at 'nextToken': the token was not issued by this listing")
	}
	return strings.TrimPrefix(string(raw), prefix), nil
}

// DeleteRepository deletes a repository. Without force, a repository that
// holds layers is refused; with force its layers and uploads go too.
// Errors: RepositoryNotFound, RepositoryNotEmpty.
func (r *Registry) DeleteRepository(ctx context.Context, key RepoKey, force bool) (Repository, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return Repository{}, err
	}
	var repo Repository
	var uploads []UploadID
	err = r.meta.Update(ctx, func(tx Tx) error {
		var err error
		if repo, err = r.access(ctx, tx, "DeleteRepository", key); err != nil {
			return err
		}
		if !force {
			// Archived images count as content too.
			empty, err := tx.RepositoryEmpty(key)
			if err != nil {
				return err
			}
			if !empty {
				return Errorf(CodeRepositoryNotEmpty, "The repository with name '%s' in registry with id '%s' cannot be deleted because it still contains images", key.Name, key.Registry.Account())
			}
		}
		if uploads, err = tx.RepositoryUploads(key); err != nil {
			return err
		}
		return tx.DeleteRepository(key)
	})
	if err != nil {
		return Repository{}, err
	}
	// The metadata is gone, so these bytes are unreachable; failing to
	// remove them now only wastes space.
	for _, id := range uploads {
		if err := r.blobs.DeleteUpload(ctx, id); err != nil {
			r.log.Warn("could not remove the bytes of a deleted repository's upload", "upload", id, "err", err)
		}
	}
	return repo, nil
}

// PutImageTagMutability changes a repository's tag mutability and its
// exclusion filters; tags already set are not touched.
// Errors: RepositoryNotFound, InvalidParameter, AccessDenied.
func (r *Registry) PutImageTagMutability(ctx context.Context, key RepoKey, mutability string, exclusions []string) (Repository, error) {
	return r.changeRepository(ctx, key, "PutImageTagMutability", func(repo *Repository) error {
		repo.TagMutability, repo.MutabilityExclusions = mutability, exclusions
		return r.defaultSettings(repo)
	})
}

// PutImageScanningConfiguration records whether images are to be scanned
// on push: the deprecated repository setting, which ScanningConfig.Frequency
// reads while the registry has no scanning rules.
// Errors: RepositoryNotFound, AccessDenied.
func (r *Registry) PutImageScanningConfiguration(ctx context.Context, key RepoKey, scanOnPush bool) (Repository, error) {
	return r.changeRepository(ctx, key, "PutImageScanningConfiguration", func(repo *Repository) error {
		repo.ScanOnPush = scanOnPush
		return nil
	})
}

// changeRepository applies change to a repository's record in one write
// transaction, once the caller may take action on it; an error from change
// leaves the record as it was. It returns the record as stored.
func (r *Registry) changeRepository(ctx context.Context, key RepoKey, action string, change func(*Repository) error, extra ...condition) (Repository, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return Repository{}, err
	}
	var repo Repository
	err = r.meta.Update(ctx, func(tx Tx) error {
		var err error
		if repo, err = r.access(ctx, tx, action, key, extra...); err != nil {
			return err
		}
		if err := change(&repo); err != nil {
			return err
		}
		return tx.UpdateRepository(repo)
	})
	return repo, err
}
