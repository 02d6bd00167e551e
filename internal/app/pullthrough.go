package app

import (
	"context"
	"errors"

	"github.com/ecrd/ecrd/internal/pullthrough"
	"github.com/ecrd/ecrd/internal/replication"
)

// newPullThrough is the pull through cache over the core, reaching the
// upstreams where --pull-through-upstreams says (validated with the
// rest of the configuration) with the credentials of
// --pull-through-secrets.
func (a *App) newPullThrough() (*pullthrough.Service, error) {
	ups, err := pullthrough.ParseUpstreams(a.cfg.PullThrough.Upstreams)
	if err != nil {
		return nil, err
	}
	return pullthrough.New(a.reg, pullthrough.Options{Upstreams: ups, Logger: a.log,
		Secrets: pullthrough.Secrets{Path: a.cfg.PullThrough.SecretsFile, Region: a.cfg.Identity.Region}}), nil
}

// newReplicator is the replicator over the core, reaching the other
// regions where --replication-regions says.
func (a *App) newReplicator() (*replication.Replicator, error) {
	regions, err := replication.ParseRegions(a.cfg.Replication.Regions)
	if err != nil {
		return nil, err
	}
	return replication.New(a.reg, replication.Options{Region: a.cfg.Identity.Region, Regions: regions,
		Interval: a.cfg.Replication.Interval, Logger: a.log}), nil
}

// replicate works through the due replications every replication
// interval (never when it is 0).
func (a *App) replicate(ctx context.Context) {
	a.every(ctx, a.cfg.Replication.Interval, "replicating", errNeverSkipped, func() error {
		a.replicator.RunOnce(ctx) // it logs its failures itself
		return nil
	})
}

// errNeverSkipped is the skip error of a task no other process's run
// makes this one skip: replicators share the work by claims instead.
var errNeverSkipped = errors.New("never skipped")

// Replicate attempts every replication due now (tests call it rather
// than wait for the interval) and returns how many it attempted.
func (a *App) Replicate(ctx context.Context) int { return a.replicator.RunOnce(ctx) }
