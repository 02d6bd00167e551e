package app

import (
	"github.com/ecrd/ecrd/internal/pullthrough"
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
