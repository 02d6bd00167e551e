package registry

import "time"

// The scenarios a repository creation template applies to (its
// appliedFor): the repositories ECR creates itself.
const (
	AppliedForReplication      = "REPLICATION"
	AppliedForPullThroughCache = "PULL_THROUGH_CACHE"
	AppliedForCreateOnPush     = "CREATE_ON_PUSH"
)

// RootPrefix is the prefix of the template that applies to every
// repository no other template's prefix matches.
const RootPrefix = "ROOT"

// CreationTemplate is a repository creation template: the settings of the
// repositories ECR creates under its prefix for the scenarios it applies
// to. The policies are kept as validated: the lifecycle policy
// normalized, the repository policy as sent.
type CreationTemplate struct {
	Prefix      string
	Description string
	// TagMutability, MutabilityExclusions, EncryptionType and KMSKey are
	// a Repository's, defaults filled in.
	TagMutability        string
	MutabilityExclusions []string
	EncryptionType       string
	KMSKey               string
	ResourceTags         []ResourceTag
	RepositoryPolicy     string
	LifecyclePolicy      string
	// AppliedFor lists AppliedFor* values, each once.
	AppliedFor    []string
	CustomRoleARN string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// AppliesTo tells whether the template applies to scenario.
func (t CreationTemplate) AppliesTo(scenario string) bool {
	for _, a := range t.AppliedFor {
		if a == scenario {
			return true
		}
	}
	return false
}

// TemplateTx keeps each private registry's repository creation templates,
// keyed by prefix.
type TemplateTx interface {
	// CreationTemplates returns the registry's templates in prefix order.
	CreationTemplates(reg RegistryID) ([]CreationTemplate, error)
	// CreationTemplate returns one template, or ErrNotFound.
	CreationTemplate(reg RegistryID, prefix string) (CreationTemplate, error)
	// CreateCreationTemplate adds a template, or returns ErrExists when
	// its prefix has one.
	CreateCreationTemplate(reg RegistryID, t CreationTemplate) error
	// UpdateCreationTemplate replaces the template of t.Prefix, or returns
	// ErrNotFound.
	UpdateCreationTemplate(reg RegistryID, t CreationTemplate) error
	// DeleteCreationTemplate removes a template, or returns ErrNotFound.
	DeleteCreationTemplate(reg RegistryID, prefix string) error
}
