package registry

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// Managed signing: a registry's rules name signing profiles; an image
// pushed to a repository a rule covers is signed with each profile the
// rules name, as the pusher (who needs signer:SignPayload on the profile).
// The push records each signing in its own transaction; a signer
// (internal/signing), in whichever process, makes the signature and pushes
// it into the repository as a referrer of the image.

// SigningConfig returns the caller's registry's signing rules.
// Errors: SigningConfigNotFound, AccessDenied.
func (r *Registry) SigningConfig(ctx context.Context) (RegistryID, []SigningRule, error) {
	reg := Caller(ctx).Account
	if err := r.authorizeRegistry(ctx, "GetSigningConfiguration"); err != nil {
		return reg, nil, err
	}
	var rules []SigningRule
	err := r.meta.View(ctx, func(tx Tx) (err error) {
		rules, err = signingConfig(tx, reg)
		return err
	})
	return reg, rules, err
}

func signingConfig(tx Tx, reg RegistryID) ([]SigningRule, error) {
	rules, err := tx.SigningConfig(reg)
	if errors.Is(err, ErrNotFound) {
		return nil, Errorf(CodeSigningConfigNotFound, "The signing configuration does not exist in the registry with id '%s'", reg.Account())
	}
	return rules, err
}

// PutSigningConfig replaces the caller's registry's signing rules. A
// profile must be of this region, as in ECR.
// Errors: InvalidParameter, AccessDenied.
func (r *Registry) PutSigningConfig(ctx context.Context, rules []SigningRule) (RegistryID, error) {
	reg := Caller(ctx).Account
	for _, rule := range rules {
		if parts := strings.SplitN(rule.ProfileARN, ":", 6); len(parts) < 6 || parts[3] != r.region {
			return reg, Errorf(CodeInvalidParameter, "Invalid parameter at 'signingProfileArn' failed to satisfy constraint: 'The signing profile %s must be in the registry's region, %s'", rule.ProfileARN, r.region)
		}
	}
	if err := r.authorizeRegistry(ctx, "PutSigningConfiguration"); err != nil {
		return reg, err
	}
	return reg, r.meta.Update(ctx, func(tx Tx) error { return tx.PutSigningConfig(reg, rules) })
}

// DeleteSigningConfig removes the caller's registry's signing rules and
// returns them; the signatures made stay.
// Errors: SigningConfigNotFound, AccessDenied.
func (r *Registry) DeleteSigningConfig(ctx context.Context) (RegistryID, []SigningRule, error) {
	reg := Caller(ctx).Account
	if err := r.authorizeRegistry(ctx, "DeleteSigningConfiguration"); err != nil {
		return reg, nil, err
	}
	var rules []SigningRule
	err := r.meta.Update(ctx, func(tx Tx) (err error) {
		if rules, err = signingConfig(tx, reg); err != nil {
			return err
		}
		return tx.DeleteSigningConfig(reg)
	})
	return reg, rules, err
}

// SigningStatus returns an image's signings, one per profile the rules
// named when it was pushed (none when no rule covered it).
// Errors: RepositoryNotFound, ImageNotFound, AccessDenied.
func (r *Registry) SigningStatus(ctx context.Context, key RepoKey, id ImageID) (RepoKey, ImageID, []SigningTask, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return key, id, nil, err
	}
	var tasks []SigningTask
	err = r.meta.View(ctx, func(tx Tx) error {
		if _, err := r.access(ctx, tx, "DescribeImageSigningStatus", key); err != nil {
			return err
		}
		d, err := r.lookupImage(tx, key, id)
		if err != nil {
			return err
		}
		id.Digest = string(d)
		tasks, err = tx.SigningTasks(key, d)
		return err
	})
	return key, id, tasks, err
}

// The failure code of a signing the pusher may not make.
const SigningAccessDenied = "SIGNING_ACCESS_DENIED"

// enqueueSigning records, in a push's transaction, the signing of a new
// image with each profile of the rules covering its repository: one the
// pusher may not sign with (signer:SignPayload) is FAILED at once. What
// is not a caller's own push (a replication, an import through the cache,
// a signature) and a referrer (a signature, an attestation) are not
// signed.
func (r *Registry) enqueueSigning(ctx context.Context, tx Tx, key RepoKey, img Image) error {
	if key.Registry.IsPublic() || replicating(ctx) || isCore(ctx) || img.Subject != "" {
		return nil
	}
	rules, err := tx.SigningConfig(key.Registry)
	if errors.Is(err, ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	now := r.now().UTC().Truncate(time.Microsecond)
	var done []string
	for _, rule := range rules {
		if !rule.Covers(key.Name) || slices.Contains(done, rule.ProfileARN) {
			continue
		}
		done = append(done, rule.ProfileARN)
		t := SigningTask{Key: key, Digest: img.Digest, ProfileARN: rule.ProfileARN, Status: SigningInProgress, NextAttempt: now, UpdatedAt: now}
		if err := r.evaluate(ctx, "signer", "SignPayload", rule.ProfileARN, Caller(ctx).Account, nil, "", "", nil); IsCode(err, CodeAccessDenied) {
			t.Status, t.FailureCode, t.FailureReason = SigningFailed, SigningAccessDenied, err.(*Error).Message
		} else if err != nil {
			return err
		}
		if err := tx.PutSigningTask(t); err != nil {
			return err
		}
	}
	return nil
}

// DueSignings returns up to limit signings whose attempt is due.
func (r *Registry) DueSignings(ctx context.Context, limit int) ([]SigningTask, error) {
	var tasks []SigningTask
	err := r.meta.View(ctx, func(tx Tx) (err error) {
		tasks, err = tx.DueSigningTasks(r.now().UTC(), limit)
		return err
	})
	return tasks, err
}

// currentSigning reads t's signing as the store has it now.
func currentSigning(tx Tx, t SigningTask) (SigningTask, bool, error) {
	tasks, err := tx.SigningTasks(t.Key, t.Digest)
	i := slices.IndexFunc(tasks, func(c SigningTask) bool { return c.ProfileARN == t.ProfileARN })
	if err != nil || i < 0 {
		return SigningTask{}, false, err
	}
	return tasks[i], true, nil
}

// ClaimSigning takes a due signing for at most lease. It returns the
// signing as claimed, or false when it changed since it was read.
func (r *Registry) ClaimSigning(ctx context.Context, t SigningTask, lease time.Duration) (SigningTask, bool, error) {
	claimed := false
	err := r.meta.Update(ctx, func(tx Tx) error {
		cur, ok, err := currentSigning(tx, t)
		if err != nil || !ok || !cur.UpdatedAt.Equal(t.UpdatedAt) || cur.Status != SigningInProgress {
			claimed = false
			return err
		}
		now := r.now().UTC().Truncate(time.Microsecond)
		cur.NextAttempt, cur.UpdatedAt = now.Add(lease), now
		t, claimed = cur, true
		return tx.PutSigningTask(cur)
	})
	return t, claimed, err
}

// RecordSigning stores the outcome of an attempt at claimed, unless the
// signing changed since or its image is gone.
func (r *Registry) RecordSigning(ctx context.Context, claimed, outcome SigningTask) error {
	return r.meta.Update(ctx, func(tx Tx) error {
		cur, ok, err := currentSigning(tx, claimed)
		if err != nil || !ok || !cur.UpdatedAt.Equal(claimed.UpdatedAt) {
			return err
		}
		outcome.UpdatedAt = r.now().UTC().Truncate(time.Microsecond)
		if err := tx.PutSigningTask(outcome); !errors.Is(err, ErrNotFound) {
			return err
		}
		return nil
	})
}
