package registry

import "time"

// Statuses of a lifecycle policy preview, as GetLifecyclePolicyPreview
// reports them.
const (
	PreviewInProgress = "IN_PROGRESS"
	PreviewComplete   = "COMPLETE"
	PreviewExpired    = "EXPIRED"
	PreviewFailed     = "FAILED"
)

// LifecyclePolicy is a repository's lifecycle policy as stored: the text
// as normalized when it was put.
type LifecyclePolicy struct {
	Text string
	// EvaluatedAt is when a run last evaluated the policy; zero if never.
	EvaluatedAt time.Time
}

// LifecyclePreview is the latest lifecycle policy preview of a
// repository; its results are kept apart (LifecyclePreviewResults).
type LifecyclePreview struct {
	// Status is PreviewInProgress, PreviewComplete or PreviewFailed (an
	// expired preview is a complete one gone stale: the reader decides).
	Status string
	Text   string
	// Holder is the process computing an in-progress preview
	// (Holders.Self).
	Holder    string
	StartedAt time.Time
	// DoneAt is when it completed or failed; Failure says why it failed.
	DoneAt  time.Time
	Failure string
	// Expiring and Transitioning count the results of each action.
	Expiring, Transitioning int
}

// The actions of a preview's results, as GetLifecyclePolicyPreview names
// them.
const (
	PreviewExpire     = "EXPIRE"
	PreviewTransition = "TRANSITION" // to ARCHIVE
)

// PreviewResult is one image a preview would act on.
type PreviewResult struct {
	Digest   Digest
	Tags     []string
	PushedAt time.Time
	// Action is PreviewExpire or PreviewTransition; Rule the priority of the rule that takes it.
	Action string
	Rule   int
	// StorageClass is the image's, STANDARD or ARCHIVE.
	StorageClass string
}

// PreviewQuery selects a page of a preview's results, in digest order.
type PreviewQuery struct {
	After Digest
	Limit int
	// Tagged, when set, keeps only tagged (true) or untagged (false)
	// results.
	Tagged *bool
	// Digests, when set, keeps only the results for these images.
	Digests []Digest
}

// LifecycleTx keeps lifecycle policies and their previews. Every method's
// RepoKey names an existing repository unless said otherwise; deleting a
// repository deletes its policy and preview.
type LifecycleTx interface {
	// LifecyclePolicy returns the repository's policy, or ErrNotFound.
	LifecyclePolicy(key RepoKey) (LifecyclePolicy, error)
	// PutLifecyclePolicy creates or replaces the repository's policy.
	PutLifecyclePolicy(key RepoKey, p LifecyclePolicy) error
	// DeleteLifecyclePolicy removes the repository's policy, or returns
	// ErrNotFound.
	DeleteLifecyclePolicy(key RepoKey) error
	// LifecyclePolicies returns up to limit repositories, of every
	// registry, that have a policy and come after after (by registry, then
	// name, in byte order; the zero RepoKey comes first).
	LifecyclePolicies(after RepoKey, limit int) ([]RepoKey, error)

	// LifecyclePreview returns the repository's latest preview, or
	// ErrNotFound.
	LifecyclePreview(key RepoKey) (LifecyclePreview, error)
	// PutLifecyclePreview creates or replaces the repository's preview,
	// leaving its results as they are.
	PutLifecyclePreview(key RepoKey, p LifecyclePreview) error
	// AddLifecyclePreviewResults records results of the repository's
	// preview; a digest recorded already is replaced.
	AddLifecyclePreviewResults(key RepoKey, results []PreviewResult) error
	// DeleteLifecyclePreviewResults removes every result of the
	// repository's preview.
	DeleteLifecyclePreviewResults(key RepoKey) error
	// LifecyclePreviewResults returns the page of results q selects.
	LifecyclePreviewResults(key RepoKey, q PreviewQuery) ([]PreviewResult, error)
}
