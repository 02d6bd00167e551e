package registry

import (
	"strings"
	"time"
)

// ReplicationDestination is where a replication rule copies images: a
// registry of a region (this ecrd's, or another's).
type ReplicationDestination struct {
	Region   string
	Registry RegistryID
}

// ReplicationRule copies every image pushed to a repository it covers to
// each destination.
type ReplicationRule struct {
	Destinations []ReplicationDestination
	// Filters are repository name prefixes (PREFIX_MATCH); none covers
	// every repository.
	Filters []string
}

// Covers tells whether the rule replicates the repository name: a plain
// prefix match, with no implied '/', as ECR's PREFIX_MATCH.
func (r ReplicationRule) Covers(name RepositoryName) bool {
	if len(r.Filters) == 0 {
		return true
	}
	for _, f := range r.Filters {
		if strings.HasPrefix(string(name), f) {
			return true
		}
	}
	return false
}

// The statuses of an image's replication to one destination.
const (
	ReplicationInProgress = "IN_PROGRESS"
	ReplicationComplete   = "COMPLETE"
	ReplicationFailed     = "FAILED"
)

// ReplicationTask is the replication of one image to one destination:
// what DescribeImageReplicationStatus reports, and what the replicator
// works through (those IN_PROGRESS whose NextAttempt has come).
type ReplicationTask struct {
	Source      RepoKey
	Digest      Digest
	Destination ReplicationDestination
	Status      string
	// FailureCode says why a FAILED task failed, or why the last attempt
	// of one still IN_PROGRESS did.
	FailureCode string
	Attempts    int
	NextAttempt time.Time
	UpdatedAt   time.Time
}

// ReplicationTx keeps each private registry's replication configuration
// and the replication of its images. Deleting a repository deletes its
// images' tasks.
type ReplicationTx interface {
	// ReplicationConfig returns the registry's rules; none when it has
	// no configuration.
	ReplicationConfig(reg RegistryID) ([]ReplicationRule, error)
	// PutReplicationConfig replaces the registry's rules (none clears
	// them).
	PutReplicationConfig(reg RegistryID, rules []ReplicationRule) error
	// PutReplicationTask creates or replaces the task of an image of an
	// existing repository for a destination.
	PutReplicationTask(t ReplicationTask) error
	// ReplicationTasks returns an image's tasks in destination order.
	ReplicationTasks(key RepoKey, digest Digest) ([]ReplicationTask, error)
	// DueReplicationTasks returns up to limit IN_PROGRESS tasks whose
	// NextAttempt is at or before now, the longest due first.
	DueReplicationTasks(now time.Time, limit int) ([]ReplicationTask, error)
}
