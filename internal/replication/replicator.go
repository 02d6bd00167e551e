// Package replication copies the images pushed to a registry to the
// destinations of its replication rules: other accounts of this ecrd, and
// other regions served by other ecrd instances. The core records each
// image's replication in the push's transaction (registry.ReplicationTask);
// a Replicator, in any process over the store, works through them.
package replication

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// Options configure a Replicator.
type Options struct {
	// Region is this ecrd's region: a destination in it is one of its
	// registries.
	Region string
	// Regions are the other regions' ecrd instances (ParseRegions).
	Regions Regions
	// Interval is how often the due replications are looked for; 1s when
	// zero.
	Interval time.Duration
	// MaxAttempts is how many attempts a replication gets before it is
	// FAILED; 10 when zero. A destination's refusal fails it at once.
	MaxAttempts int
	Logger      *slog.Logger
}

// Replicator works through the due replications.
type Replicator struct {
	reg *registry.Registry
	o   Options
	log *slog.Logger
}

// New returns a replicator over the core.
func New(reg *registry.Registry, o Options) *Replicator {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Replicator{reg: reg, o: o, log: o.Logger}
}

// lease bounds one attempt: a replicator that dies mid-attempt leaves the
// task to another once it lapses.
const lease = 10 * time.Minute

// Failure codes of a FAILED (or retried) replication.
const (
	FailureAccessDenied       = "REPLICATION_ACCESS_DENIED"
	FailureDestinationUnknown = "DESTINATION_REGION_NOT_CONFIGURED"
	FailureUnavailable        = "DESTINATION_UNAVAILABLE"
	FailureSourceImage        = "SOURCE_IMAGE_NOT_FOUND"
	FailureSourceUnavailable  = "SOURCE_UNAVAILABLE"
)

// Run works until ctx ends.
func (p *Replicator) Run(ctx context.Context) {
	t := time.NewTicker(p.o.Interval)
	defer t.Stop()
	for {
		p.RunOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce attempts every replication due now, and returns how many it
// attempted.
func (p *Replicator) RunOnce(ctx context.Context) int {
	core := registry.AsCore(ctx)
	tasks, err := p.reg.DueReplications(core, 64)
	if err != nil {
		p.log.Warn("replication: reading the due replications failed", "err", err)
		return 0
	}
	n := 0
	for _, t := range tasks {
		if ctx.Err() != nil {
			break
		}
		claimed, ok, err := p.reg.ClaimReplication(core, t, lease)
		if err != nil || !ok {
			continue
		}
		n++
		outcome := claimed
		code, permanent, err := p.attempt(ctx, claimed)
		outcome.Attempts++
		switch {
		case err == nil:
			outcome.Status, outcome.FailureCode, outcome.NextAttempt = registry.ReplicationComplete, "", time.Time{}
		case permanent || outcome.Attempts >= p.o.MaxAttempts:
			outcome.Status, outcome.FailureCode, outcome.NextAttempt = registry.ReplicationFailed, code, time.Time{}
		default:
			outcome.FailureCode, outcome.NextAttempt = code, p.reg.Now().UTC().Add(backoff(outcome.Attempts))
		}
		if err != nil {
			p.log.Warn("replication: an attempt failed", "image", string(t.Source.Registry)+"/"+string(t.Source.Name)+"@"+string(t.Digest),
				"destination", t.Destination.Region+"/"+string(t.Destination.Registry), "attempt", outcome.Attempts, "status", outcome.Status, "err", err)
		}
		if err := p.reg.RecordReplication(core, claimed, outcome); err != nil {
			p.log.Warn("replication: recording an attempt failed", "err", err)
		}
	}
	return n
}

// source is ctx for reading the task's source: the core's own work, for
// the source account.
func source(ctx context.Context, t registry.ReplicationTask) context.Context {
	return registry.AsCore(registry.WithCaller(ctx, registry.AccountAdmin(t.Source.Registry, "")))
}

// backoff is the wait before attempt n+1: 1s doubling to 5 minutes.
func backoff(n int) time.Duration {
	d := time.Second << min(n-1, 9)
	return min(d, 5*time.Minute)
}

// destination is where a replication pushes: this ecrd's core, or
// another region's ecrd.
type destination interface {
	hasBlob(ctx context.Context, digest string) (bool, error)
	pushBlob(ctx context.Context, digest string, size int64, body io.Reader) error
	putImage(ctx context.Context, manifest []byte, mediaType, tag string) error
}

// attempt copies the task's image to its destination; on failure it says
// with what code, and whether trying again cannot help.
func (p *Replicator) attempt(ctx context.Context, t registry.ReplicationTask) (string, bool, error) {
	var dst destination
	if t.Destination.Region == p.o.Region {
		dst = p.local(ctx, t)
	} else if d, ok := p.o.Regions.destination(t); ok {
		dst = d
	} else {
		return FailureDestinationUnknown, true, fmt.Errorf("no ecrd is configured for the region %s (--replication-regions)", t.Destination.Region)
	}
	core := source(ctx, t)
	found, _, err := p.reg.BatchGetImage(core, t.Source, []registry.ImageID{{Digest: string(t.Digest)}}, nil)
	switch {
	case err != nil && !registry.IsCode(err, registry.CodeRepositoryNotFound):
		return FailureSourceUnavailable, false, fmt.Errorf("reading the source image: %w", err) // the store's failure: try again
	case err != nil || len(found) == 0:
		return FailureSourceImage, true, fmt.Errorf("the source image %s is gone", t.Digest)
	}
	details, _, err := p.reg.DescribeImages(core, t.Source, []registry.ImageID{{Digest: string(t.Digest)}}, registry.ImageFilter{ImageStatus: "ANY"}, registry.Page{})
	if err != nil {
		return FailureSourceUnavailable, false, err
	}
	var tags []string
	if len(details) == 1 {
		tags = details[0].Tags
	}
	err = p.copyImage(ctx, dst, t, found[0].Image, tags)
	switch {
	case err == nil:
		return "", false, nil
	case registry.IsCode(err, registry.CodeAccessDenied):
		return FailureAccessDenied, true, err
	}
	return FailureUnavailable, false, err
}

// copyImage pushes an image, what it refers to first: an index's
// children, an image's config and layers; then the manifest, with each
// tag (a tag an immutable destination holds for another image is left
// out, as ECR leaves it).
func (p *Replicator) copyImage(ctx context.Context, dst destination, t registry.ReplicationTask, img registry.Image, tags []string) error {
	core, src := source(ctx, t), t.Source
	blobs, children, err := registry.ManifestReferences(img.Manifest, img.MediaType)
	if err != nil {
		return fmt.Errorf("the source manifest %s: %w", img.Digest, err)
	}
	for _, child := range children {
		found, _, err := p.reg.BatchGetImage(core, src, []registry.ImageID{{Digest: string(child)}}, nil)
		if err != nil || len(found) == 0 {
			return fmt.Errorf("the index's child %s: %v", child, err)
		}
		if err := p.copyImage(ctx, dst, t, found[0].Image, nil); err != nil {
			return err
		}
	}
	for _, b := range blobs {
		has, err := dst.hasBlob(ctx, string(b.Digest))
		if err != nil {
			return err
		}
		if has {
			continue
		}
		l, rc, err := p.reg.OpenBlob(core, src, string(b.Digest), 0)
		if err != nil {
			return fmt.Errorf("the source blob %s: %w", b.Digest, err)
		}
		err = dst.pushBlob(ctx, string(b.Digest), l.Size, rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	if len(tags) == 0 {
		tags = []string{""}
	}
	for _, tag := range tags {
		err := dst.putImage(ctx, img.Manifest, img.MediaType, tag)
		if err != nil && !registry.IsCode(err, registry.CodeImageAlreadyExists, registry.CodeImageTagAlreadyExists) {
			return err
		}
	}
	return nil
}

// Regions are the ecrd instances of other regions, by region.
type Regions map[string]*url.URL

// ParseRegions reads --replication-regions: comma-separated
// <region>=<URL> pairs, the URL http(s)://ACCESS_KEY:SECRET@host[:port],
// the keys being the source account's on that ecrd.
func ParseRegions(s string) (Regions, error) {
	out := Regions{}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		region, raw, ok := strings.Cut(pair, "=")
		u, err := url.Parse(raw)
		switch {
		case !ok || region == "":
			return nil, fmt.Errorf("%q: want <region>=<URL>", pair)
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			return nil, fmt.Errorf("%q: the URL must be http(s)://ACCESS_KEY:SECRET@host[:port]", pair)
		case u.User == nil || u.User.Username() == "":
			return nil, fmt.Errorf("%q: the URL must carry the access key and secret the replication signs with (ACCESS_KEY:SECRET@)", pair)
		}
		out[region] = u
	}
	return out, nil
}
