package lifecycle

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// Options configure a Service.
type Options struct {
	Logger *slog.Logger
	// PreviewRetention is how long a completed preview's results stay
	// readable before the preview is EXPIRED; 24 hours when zero.
	PreviewRetention time.Duration
	// PreviewTimeout bounds the computation of one preview; 10 minutes
	// when zero.
	PreviewTimeout time.Duration
	// OnAction, when set, is told of every action a run takes
	// ("expire" or "transition").
	OnAction func(action string)
}

// Service serves the lifecycle policy operations and runs policies, over
// the core.
type Service struct {
	reg       *registry.Registry
	log       *slog.Logger
	retention time.Duration
	timeout   time.Duration
	onAction  func(string)
	// previews counts the previews this process is computing; base is
	// their context, which Close cancels.
	previews sync.WaitGroup
	base     context.Context
	cancel   context.CancelFunc
}

// New returns the lifecycle service over the core.
func New(reg *registry.Registry, o Options) *Service {
	s := &Service{reg: reg, log: o.Logger, retention: o.PreviewRetention, timeout: o.PreviewTimeout, onAction: o.OnAction}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.retention <= 0 {
		s.retention = 24 * time.Hour
	}
	if s.timeout <= 0 {
		s.timeout = 10 * time.Minute
	}
	if s.onAction == nil {
		s.onAction = func(string) {}
	}
	s.base, s.cancel = context.WithCancel(context.Background())
	return s
}

// Close stops the previews being computed and waits for them: each ends
// FAILED, or, when even that cannot be written, stays in progress under
// this process's name, which readers then see is gone (FAILED too).
func (s *Service) Close() {
	s.cancel()
	s.previews.Wait()
}

func policyNotFound(key registry.RepoKey) error {
	return registry.Errorf(registry.CodeLifecyclePolicyNotFound,
		"Lifecycle policy does not exist for the repository with name '%s' in the registry with id '%s'", key.Name, key.Registry.Account())
}

// PutPolicy validates a policy and sets it as the repository's, replacing
// any, and returns the normalized text it stored.
// Errors: InvalidParameter, RepositoryNotFound, AccessDenied.
func (s *Service) PutPolicy(ctx context.Context, key registry.RepoKey, text string) (registry.RepoKey, string, error) {
	key, err := s.reg.Resolve(ctx, key)
	if err != nil {
		return key, "", err
	}
	_, norm, err := Parse(text)
	if err != nil {
		return key, "", err
	}
	return key, norm, s.reg.UpdateRepository(ctx, "PutLifecyclePolicy", key, func(tx registry.Tx) error {
		return tx.PutLifecyclePolicy(key, registry.LifecyclePolicy{Text: norm})
	})
}

// Policy returns the repository's policy.
// Errors: RepositoryNotFound, LifecyclePolicyNotFound.
func (s *Service) Policy(ctx context.Context, key registry.RepoKey) (registry.RepoKey, registry.LifecyclePolicy, error) {
	key, err := s.reg.Resolve(ctx, key)
	if err != nil {
		return key, registry.LifecyclePolicy{}, err
	}
	var p registry.LifecyclePolicy
	err = s.reg.ViewRepository(ctx, "GetLifecyclePolicy", key, func(tx registry.Tx) error {
		p, err = tx.LifecyclePolicy(key)
		if errors.Is(err, registry.ErrNotFound) {
			return policyNotFound(key)
		}
		return err
	})
	return key, p, err
}

// DeletePolicy removes the repository's policy and returns it.
// Errors: RepositoryNotFound, LifecyclePolicyNotFound, AccessDenied.
func (s *Service) DeletePolicy(ctx context.Context, key registry.RepoKey) (registry.RepoKey, registry.LifecyclePolicy, error) {
	key, err := s.reg.Resolve(ctx, key)
	if err != nil {
		return key, registry.LifecyclePolicy{}, err
	}
	var p registry.LifecyclePolicy
	err = s.reg.UpdateRepository(ctx, "DeleteLifecyclePolicy", key, func(tx registry.Tx) error {
		p, err = tx.LifecyclePolicy(key)
		if errors.Is(err, registry.ErrNotFound) {
			return policyNotFound(key)
		} else if err != nil {
			return err
		}
		return tx.DeleteLifecyclePolicy(key)
	})
	return key, p, err
}
