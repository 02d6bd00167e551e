package registry

import "time"

// PullThroughRule is a pull through cache rule: repositories under Prefix
// (ROOT: every repository no other rule's prefix covers) are caches of
// the upstream registry's repositories under UpstreamPrefix.
type PullThroughRule struct {
	Prefix string
	// UpstreamURL is the upstream registry's URL as the rule names it
	// (registry-1.docker.io); UpstreamRegistry its kind (docker-hub).
	UpstreamURL      string
	UpstreamRegistry string
	// UpstreamPrefix is ROOT unless the rule maps its prefix to another.
	UpstreamPrefix string
	// CredentialARN names the secret holding the upstream's credentials;
	// CustomRoleARN the role ECR would act as upstream. Either may be "".
	CredentialARN string
	CustomRoleARN string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// PullThroughTx keeps each private registry's pull through cache rules,
// keyed by prefix.
type PullThroughTx interface {
	// PullThroughRules returns the registry's rules in prefix order.
	PullThroughRules(reg RegistryID) ([]PullThroughRule, error)
	// CreatePullThroughRule adds a rule, or returns ErrExists when its
	// prefix has one.
	CreatePullThroughRule(reg RegistryID, r PullThroughRule) error
	// UpdatePullThroughRule replaces the rule of r.Prefix, or returns
	// ErrNotFound.
	UpdatePullThroughRule(reg RegistryID, r PullThroughRule) error
	// DeletePullThroughRule removes a rule, or returns ErrNotFound.
	DeletePullThroughRule(reg RegistryID, prefix string) error
	// PullThroughCheck returns when a cache repository's tag was last
	// fetched or checked upstream, or ErrNotFound. Deleting the
	// repository deletes its checks.
	PullThroughCheck(key RepoKey, tag string) (time.Time, error)
	// PutPullThroughCheck records a check of an existing repository's tag.
	PutPullThroughCheck(key RepoKey, tag string, at time.Time) error
}
