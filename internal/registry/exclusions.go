package registry

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// A registry's pull-time update exclusions are principals whose pulls do
// not refresh an image's lastRecordedPullTime (scanners, CI), so that
// they do not keep images alive under sinceImagePulled lifecycle rules.

// MaxPullTimeExclusions is how many exclusions a registry may have.
const MaxPullTimeExclusions = 100

// PullTimeExclusion is a principal (a user's or a role's IAM ARN) whose
// pulls do not refresh pull times.
type PullTimeExclusion struct {
	PrincipalARN string
	CreatedAt    time.Time
}

// ExclusionTx keeps each private registry's pull-time update exclusions.
type ExclusionTx interface {
	// PullTimeExclusions returns the registry's exclusions by ARN.
	PullTimeExclusions(reg RegistryID) ([]PullTimeExclusion, error)
	// CreatePullTimeExclusion adds one, or returns ErrExists.
	CreatePullTimeExclusion(reg RegistryID, e PullTimeExclusion) error
	// DeletePullTimeExclusion removes one, or returns ErrNotFound.
	DeletePullTimeExclusion(reg RegistryID, principalARN string) error
}

// RegisterPullTimeExclusion excludes a principal's pulls in the caller's
// registry. Errors: ExclusionAlreadyExists, LimitExceeded, AccessDenied.
func (r *Registry) RegisterPullTimeExclusion(ctx context.Context, arn string) (PullTimeExclusion, error) {
	reg := Caller(ctx).Account
	if err := r.authorizeRegistry(ctx, "RegisterPullTimeUpdateExclusion"); err != nil {
		return PullTimeExclusion{}, err
	}
	e := PullTimeExclusion{PrincipalARN: arn, CreatedAt: r.now().UTC()}
	err := r.meta.Update(ctx, func(tx Tx) error {
		have, err := tx.PullTimeExclusions(reg)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(have, func(h PullTimeExclusion) bool { return h.PrincipalARN == arn }) {
			return Errorf(CodeExclusionAlreadyExists, "The pull time update exclusion for the principal '%s' already exists in the registry with id '%s'", arn, reg)
		}
		if len(have) >= MaxPullTimeExclusions {
			return Errorf(CodeLimitExceeded, "The registry %s has %d pull time update exclusions, the most it may have", reg, MaxPullTimeExclusions)
		}
		return tx.CreatePullTimeExclusion(reg, e)
	})
	if errors.Is(err, ErrExists) {
		err = Errorf(CodeExclusionAlreadyExists, "The pull time update exclusion for the principal '%s' already exists in the registry with id '%s'", arn, reg)
	}
	return e, err
}

// DeregisterPullTimeExclusion removes a principal's exclusion from the
// caller's registry. Errors: ExclusionNotFound, AccessDenied.
func (r *Registry) DeregisterPullTimeExclusion(ctx context.Context, arn string) error {
	reg := Caller(ctx).Account
	if err := r.authorizeRegistry(ctx, "DeregisterPullTimeUpdateExclusion"); err != nil {
		return err
	}
	err := r.meta.Update(ctx, func(tx Tx) error { return tx.DeletePullTimeExclusion(reg, arn) })
	if errors.Is(err, ErrNotFound) {
		err = Errorf(CodeExclusionNotFound, "The pull time update exclusion for the principal '%s' does not exist in the registry with id '%s'", arn, reg)
	}
	return err
}

// PullTimeExclusions returns a page of the caller's registry's excluded
// principals in ARN order, and the next page's token.
// Errors: InvalidParameter for a token this listing did not issue.
func (r *Registry) PullTimeExclusions(ctx context.Context, p Page) ([]string, string, error) {
	reg := Caller(ctx).Account
	if err := r.authorizeRegistry(ctx, "ListPullTimeUpdateExclusions"); err != nil {
		return nil, "", err
	}
	after, err := decodeToken("pull-time-exclusions", p.Token)
	if err != nil {
		return nil, "", err
	}
	if p.Max <= 0 {
		p.Max = DefaultPageSize
	}
	var all []PullTimeExclusion
	if err := r.meta.View(ctx, func(tx Tx) (err error) { all, err = tx.PullTimeExclusions(reg); return err }); err != nil {
		return nil, "", err
	}
	out := []string{}
	for _, e := range all {
		if e.PrincipalARN <= after {
			continue
		}
		if len(out) == p.Max {
			return out, encodeToken("pull-time-exclusions", out[len(out)-1]), nil
		}
		out = append(out, e.PrincipalARN)
	}
	return out, "", nil
}

// excludedFromPullTimes tells whether p's pulls leave pull times alone:
// its user ARN is excluded, or the role a session is of (by the role's
// ARN, or by account and role name, a session's ARN having no path).
func excludedFromPullTimes(p Principal, exclusions []PullTimeExclusion) bool {
	for _, e := range exclusions {
		x := e.PrincipalARN
		switch {
		case x == p.ARN(), p.RoleARN != "" && x == p.RoleARN:
			return true
		case p.RoleARN != "" && strings.Contains(x, ":iam::"+string(p.Account)+":role/"):
			name := p.RoleARN[strings.LastIndex(p.RoleARN, "/")+1:]
			if x[strings.LastIndex(x, "/")+1:] == name {
				return true
			}
		}
	}
	return false
}
