package registry

import "time"

// SigningRule signs the images pushed to the repositories its filters
// match (every repository without filters) with a signing profile.
type SigningRule struct {
	ProfileARN string
	// Filters are WILDCARD_MATCH filters: anchored, '*' any run.
	Filters []string
}

// Covers tells whether the rule signs the repository's images.
func (r SigningRule) Covers(name RepositoryName) bool {
	if len(r.Filters) == 0 {
		return true
	}
	for _, f := range r.Filters {
		if WildcardMatch(f, string(name)) {
			return true
		}
	}
	return false
}

// The statuses of an image's signing with one profile.
const (
	SigningInProgress = "IN_PROGRESS"
	SigningComplete   = "COMPLETE"
	SigningFailed     = "FAILED"
)

// SigningTask is the signing of one image with one profile: what
// DescribeImageSigningStatus reports, and what a signer (internal/signing)
// works through (those IN_PROGRESS whose NextAttempt has come).
type SigningTask struct {
	Key        RepoKey
	Digest     Digest
	ProfileARN string
	Status     string
	// FailureCode and FailureReason say why a FAILED signing failed.
	FailureCode   string
	FailureReason string
	// Signature is the digest of the signature's manifest, once COMPLETE.
	Signature   Digest
	Attempts    int
	NextAttempt time.Time
	UpdatedAt   time.Time
}

// SigningTx keeps each private registry's signing configuration and its
// images' signings. Deleting an image deletes its signings.
type SigningTx interface {
	// SigningConfig returns the registry's rules, or ErrNotFound when it
	// has no configuration (which is not the same as one without rules).
	SigningConfig(reg RegistryID) ([]SigningRule, error)
	// PutSigningConfig replaces the registry's configuration.
	PutSigningConfig(reg RegistryID, rules []SigningRule) error
	// DeleteSigningConfig removes it; ErrNotFound when there is none.
	DeleteSigningConfig(reg RegistryID) error
	// PutSigningTask creates or replaces the signing of an existing image
	// with a profile; ErrNotFound when the image is gone.
	PutSigningTask(t SigningTask) error
	// SigningTasks returns an image's signings in profile order.
	SigningTasks(key RepoKey, d Digest) ([]SigningTask, error)
	// DueSigningTasks returns up to limit IN_PROGRESS signings whose
	// NextAttempt is at or before now, the longest due first.
	DueSigningTasks(now time.Time, limit int) ([]SigningTask, error)
}
