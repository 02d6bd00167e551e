package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// ErrRunning is returned by Run while another process or replica runs the
// policies: one run at a time across the whole store.
var ErrRunning = errors.New("lifecycle: another process is running the lifecycle policies")

// runLease names the lease a run holds, renewed at every repository.
const (
	runLease    = "lifecycle"
	runLeaseTTL = 5 * time.Minute
	runPage     = 100
)

// RunStats is what one run did.
type RunStats struct {
	Repositories       int
	Expired, Archived  int
	Skipped            int // actions left because the image changed since it was evaluated
	FailedRepositories int
	LastFailure        error
}

// RunOptions say how a run goes.
type RunOptions struct {
	// At is the time the policies are evaluated as of: now, or a later
	// time to see what they will do then ("ecrd lifecycle run --at").
	// Zero means the registry's clock.
	At time.Time
	// EvaluatedBefore, when set, skips the repositories whose policy was
	// evaluated since: a periodic run resumes where an interrupted one
	// stopped.
	EvaluatedBefore time.Time
}

// Run evaluates the lifecycle policy of every repository that has one
// and applies it: expired images are deleted with their tags, transitioned
// ones archived. Each repository is read in one snapshot and acted on in
// bounded transactions, so pushes go on meanwhile; an image changed since
// its evaluation is left for the next run. A repository that fails is
// logged and the run goes on. Errors: ErrRunning, and the store's when it
// cannot list the repositories or hold its lease.
func (s *Service) Run(ctx context.Context, o RunOptions) (st RunStats, err error) {
	holder := s.reg.Holders().Self()
	if holder == "" {
		holder = fmt.Sprintf("lifecycle-%d", time.Now().UnixNano())
	}
	hold := func() error {
		return s.reg.Update(ctx, func(tx registry.Tx) error {
			ok, err := tx.TakeLease(runLease, holder, s.reg.Now(), runLeaseTTL)
			if err == nil && !ok {
				return ErrRunning
			}
			return err
		})
	}
	if err := hold(); err != nil {
		return RunStats{}, err
	}
	// A lease left behind would hold other runs off until it lapses: the
	// run says so rather than succeed.
	defer func() {
		derr := s.reg.Update(context.WithoutCancel(ctx), func(tx registry.Tx) error { return tx.DropLease(runLease, holder) })
		if derr != nil {
			err = errors.Join(err, fmt.Errorf("releasing the lifecycle lease (it lapses within %s): %w", runLeaseTTL, derr))
		}
	}()
	for after := (registry.RepoKey{}); ; {
		var keys []registry.RepoKey
		err := s.reg.View(ctx, func(tx registry.Tx) (err error) {
			keys, err = tx.LifecyclePolicies(after, runPage)
			return err
		})
		if err != nil {
			return st, err
		}
		for _, key := range keys {
			if err := hold(); err != nil {
				return st, err
			}
			if err := s.runRepository(ctx, key, o, &st); err != nil {
				if ctx.Err() != nil {
					return st, ctx.Err()
				}
				st.FailedRepositories++
				st.LastFailure = err
				s.log.Error("applying a lifecycle policy", "repository", key.Name, "registry", key.Registry, "err", err)
			}
		}
		if len(keys) < runPage {
			return st, nil
		}
		after = keys[len(keys)-1]
	}
}

// runRepository evaluates and applies one repository's policy.
func (s *Service) runRepository(ctx context.Context, key registry.RepoKey, o RunOptions, st *RunStats) error {
	var pol registry.LifecyclePolicy
	err := s.reg.ViewRepository(registry.AsCore(ctx), "GetLifecyclePolicy", key, func(tx registry.Tx) (err error) {
		pol, err = tx.LifecyclePolicy(key)
		return err
	})
	if errors.Is(err, registry.ErrNotFound) || isRepositoryNotFound(err) {
		return nil // gone since it was listed
	} else if err != nil {
		return err
	}
	if !o.EvaluatedBefore.IsZero() && !pol.EvaluatedAt.IsZero() && !pol.EvaluatedAt.Before(o.EvaluatedBefore) {
		return nil
	}
	p, _, err := Parse(pol.Text)
	if err != nil {
		return fmt.Errorf("the stored policy: %w", err)
	}
	at := o.At
	if at.IsZero() {
		at = s.reg.Now()
	}
	images, decisions, err := s.decide(ctx, key, p, at)
	if err != nil {
		return err
	}
	st.Repositories++
	tags := make(map[registry.Digest][]string, len(images))
	for _, img := range images {
		tags[img.Digest] = img.Tags
	}
	actions := make([]registry.LifecycleAction, len(decisions))
	rules := make(map[registry.Digest]Decision, len(decisions))
	for i, d := range decisions {
		actions[i] = registry.LifecycleAction{Digest: d.Digest, Expire: d.Action == ActionExpire, Tags: tags[d.Digest], Status: d.Status}
		rules[d.Digest] = d
	}
	done, err := s.reg.ApplyLifecycle(ctx, key, at, actions)
	for _, a := range done {
		d := rules[a.Digest]
		if a.Expire {
			st.Expired++
		} else {
			st.Archived++
		}
		s.onAction(d.Action)
		s.log.Info("lifecycle policy acted on an image", "action", d.Action, "repository", key.Name, "registry", key.Registry,
			"image", a.Digest, "tags", a.Tags, "rule", d.Rule)
	}
	st.Skipped += len(actions) - len(done)
	if err != nil {
		return err
	}
	// The evaluation time is the clock's, even for a run as of a later
	// time: it says when the policy was last applied.
	return s.reg.UpdateRepository(registry.AsCore(ctx), "PutLifecyclePolicy", key, func(tx registry.Tx) error {
		cur, err := tx.LifecyclePolicy(key)
		if errors.Is(err, registry.ErrNotFound) || err == nil && cur.Text != pol.Text {
			return nil // deleted or replaced meanwhile: the new one is not evaluated yet
		} else if err != nil {
			return err
		}
		cur.EvaluatedAt = s.reg.Now().UTC()
		return tx.PutLifecyclePolicy(key, cur)
	})
}
