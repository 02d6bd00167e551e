package registry

import (
	"context"
	"errors"
	"slices"
	"time"
)

// Replication copies each image pushed to a repository a registry's rules
// cover to their destinations. The core records the work, in the push's
// own transaction, so that a push that succeeded is replicated whichever
// process then runs the replicator (internal/replication); the replicator
// pushes into a destination of this ecrd through the core, as the source
// account replicating (AsReplicating).

// maxReplicationDestinations is ECR's bound on a configuration's distinct
// destinations.
const maxReplicationDestinations = 25

type replicatingKey struct{}

// AsReplicating marks ctx as a replication into the repository its pushes
// name: the caller is the source account, and the destination decides
// ecr:ReplicateImage where a push would decide its own actions (and
// ecr:CreateRepository for a repository it creates, from the REPLICATION
// template that applies or with ECR's defaults). What it pushes is not
// replicated again: replication is one hop.
func AsReplicating(ctx context.Context) context.Context {
	return context.WithValue(ctx, replicatingKey{}, true)
}

func replicating(ctx context.Context) bool { v, _ := ctx.Value(replicatingKey{}).(bool); return v }

// replicatedActions are the actions a replication's pushes take, each
// decided as ecr:ReplicateImage.
var replicatedActions = map[string]bool{
	"InitiateLayerUpload": true, "UploadLayerPart": true, "CompleteLayerUpload": true, "PutImage": true,
	"BatchCheckLayerAvailability": true,
}

// ReplicationConfig returns the caller's registry and its rules.
func (r *Registry) ReplicationConfig(ctx context.Context) (RegistryID, []ReplicationRule, error) {
	reg := Caller(ctx).Account
	if err := r.authorizeRegistry(ctx, "DescribeRegistry"); err != nil {
		return reg, nil, err
	}
	var rules []ReplicationRule
	err := r.meta.View(ctx, func(tx Tx) (err error) {
		rules, err = tx.ReplicationConfig(reg)
		return err
	})
	return reg, rules, err
}

// PutReplicationConfig replaces the caller's registry's rules; none
// stops replication (what is in progress still completes).
// Errors: InvalidParameter, AccessDenied.
func (r *Registry) PutReplicationConfig(ctx context.Context, rules []ReplicationRule) (RegistryID, error) {
	reg := Caller(ctx).Account
	if err := r.authorizeRegistry(ctx, "PutReplicationConfiguration"); err != nil {
		return reg, err
	}
	var distinct []ReplicationDestination
	for _, rule := range rules {
		for _, d := range rule.Destinations {
			if d.Region == r.region && d.Registry == reg {
				return reg, Errorf(CodeInvalidParameter,
					"Invalid parameter at 'replicationConfiguration' failed to satisfy constraint: 'Replication destination cannot be the same as the source registry'")
			}
			if !slices.Contains(distinct, d) {
				distinct = append(distinct, d)
			}
		}
	}
	if len(distinct) > maxReplicationDestinations {
		return reg, Errorf(CodeInvalidParameter,
			"Invalid parameter at 'replicationConfiguration' failed to satisfy constraint: 'A replication configuration can have at most %d unique destinations'", maxReplicationDestinations)
	}
	return reg, r.meta.Update(ctx, func(tx Tx) error { return tx.PutReplicationConfig(reg, rules) })
}

// ReplicationStatus returns the replication of an image of a repository
// to each destination: none when it was pushed before the registry
// replicated, or to a repository no rule covers.
// Errors: RepositoryNotFound, ImageNotFound, AccessDenied.
func (r *Registry) ReplicationStatus(ctx context.Context, key RepoKey, id ImageID) (RepoKey, ImageID, []ReplicationTask, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return key, id, nil, err
	}
	var tasks []ReplicationTask
	err = r.meta.View(ctx, func(tx Tx) error {
		if _, err := r.access(ctx, tx, "DescribeImageReplicationStatus", key); err != nil {
			return err
		}
		d, err := r.lookupImage(tx, key, id)
		if err != nil {
			return err
		}
		id.Digest = string(d)
		tasks, err = tx.ReplicationTasks(key, d)
		return err
	})
	return key, id, tasks, err
}

// lookupImage finds an image by digest or tag: ImageNotFound as
// DescribeImages says it.
func (r *Registry) lookupImage(tx Tx, key RepoKey, id ImageID) (Digest, error) {
	notFound := Errorf(CodeImageNotFound, "The image with imageId {imageDigest:'%s', imageTag:'%s'} does not exist within the repository with name '%s' in the registry with id '%s'",
		id.Digest, id.Tag, key.Name, key.Registry.Account())
	d := Digest(id.Digest)
	if id.Tag != "" {
		tagged, err := tx.Tag(key, id.Tag)
		if errors.Is(err, ErrNotFound) || (err == nil && d != "" && tagged != d) {
			return "", notFound
		} else if err != nil {
			return "", err
		}
		d = tagged
	}
	if _, err := tx.Image(key, d); errors.Is(err, ErrNotFound) {
		return "", notFound
	} else if err != nil {
		return "", err
	}
	return d, nil
}

// enqueueReplication records, in a push's transaction, the replication
// of the image to every destination of the rules covering its
// repository; an image already replicated somewhere starts again (its
// tags may have changed).
func (r *Registry) enqueueReplication(ctx context.Context, tx Tx, key RepoKey, d Digest) error {
	if replicating(ctx) || key.Registry.IsPublic() {
		return nil
	}
	rules, err := tx.ReplicationConfig(key.Registry)
	if err != nil || len(rules) == 0 {
		return err
	}
	now := r.now().UTC().Truncate(time.Microsecond)
	var done []ReplicationDestination
	for _, rule := range rules {
		if !rule.Covers(key.Name) {
			continue
		}
		for _, dest := range rule.Destinations {
			if slices.Contains(done, dest) {
				continue
			}
			done = append(done, dest)
			t := ReplicationTask{Source: key, Digest: d, Destination: dest, Status: ReplicationInProgress, NextAttempt: now, UpdatedAt: now}
			if err := tx.PutReplicationTask(t); err != nil {
				return err
			}
		}
	}
	return nil
}

// DueReplications returns up to limit replications whose attempt is due.
func (r *Registry) DueReplications(ctx context.Context, limit int) ([]ReplicationTask, error) {
	var tasks []ReplicationTask
	err := r.meta.View(ctx, func(tx Tx) (err error) {
		tasks, err = tx.DueReplicationTasks(r.now().UTC(), limit)
		return err
	})
	return tasks, err
}

// ClaimReplication takes a due task for an attempt lasting at most
// lease: its next attempt moves past the lease, so that no other
// replicator takes it meanwhile. It returns the task as claimed, or false
// when it changed since it was read (another replicator claimed it, or a
// push restarted it).
func (r *Registry) ClaimReplication(ctx context.Context, t ReplicationTask, lease time.Duration) (ReplicationTask, bool, error) {
	claimed := false
	err := r.meta.Update(ctx, func(tx Tx) error {
		cur, ok, err := currentTask(tx, t)
		if err != nil || !ok || !cur.UpdatedAt.Equal(t.UpdatedAt) || cur.Status != ReplicationInProgress {
			claimed = false
			return err
		}
		// Stores keep microseconds: the claim is compared as stored.
		now := r.now().UTC().Truncate(time.Microsecond)
		cur.NextAttempt, cur.UpdatedAt = now.Add(lease), now
		t, claimed = cur, true
		return tx.PutReplicationTask(cur)
	})
	return t, claimed, err
}

// RecordReplication stores the outcome of an attempt at claimed (as
// ClaimReplication returned it), unless the task changed since: a push
// that restarted it meanwhile wins, its tags yet to be replicated.
func (r *Registry) RecordReplication(ctx context.Context, claimed, outcome ReplicationTask) error {
	return r.meta.Update(ctx, func(tx Tx) error {
		cur, ok, err := currentTask(tx, claimed)
		if err != nil || !ok || !cur.UpdatedAt.Equal(claimed.UpdatedAt) {
			return err
		}
		outcome.UpdatedAt = r.now().UTC().Truncate(time.Microsecond)
		return tx.PutReplicationTask(outcome)
	})
}

// currentTask reads t's task as the store has it now.
func currentTask(tx Tx, t ReplicationTask) (ReplicationTask, bool, error) {
	tasks, err := tx.ReplicationTasks(t.Source, t.Digest)
	if err != nil {
		return ReplicationTask{}, false, err
	}
	i := slices.IndexFunc(tasks, func(c ReplicationTask) bool { return c.Destination == t.Destination })
	if i < 0 {
		return ReplicationTask{}, false, nil
	}
	return tasks[i], true, nil
}
