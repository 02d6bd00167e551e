package pullthrough

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/ecrd/ecrd/internal/registry"
)

// RefreshAfter is how long a cached tag is served before a pull checks
// it upstream again (ECR: 24 hours). Pulls by digest never check.
const RefreshAfter = 24 * time.Hour

// blobStall is how long an upstream blob may send nothing before the
// import gives up on it.
const blobStall = 60 * time.Second

// maxManifest bounds an upstream manifest, as ECR bounds a pushed one.
const maxManifest = 4 << 20

// manifestTypes are the media types a pull accepts from upstream.
var manifestTypes = []string{
	"application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.docker.distribution.manifest.v2+json",
}

// ErrNoRule is Pull's answer for a repository no rule covers: not a
// cache, it is served as any other.
var ErrNoRule = errors.New("no pull through cache rule covers the repository")

// matchRule returns the rule covering a repository name: the one of the
// registry.LongestPrefix.
func matchRule(rules []registry.PullThroughRule, name registry.RepositoryName) (registry.PullThroughRule, bool) {
	prefixes := make([]string, len(rules))
	for i, r := range rules {
		prefixes[i] = r.Prefix
	}
	if i := registry.LongestPrefix(prefixes, name); i >= 0 {
		return rules[i], true
	}
	return registry.PullThroughRule{}, false
}

// upstreamName is the upstream repository a cache repository mirrors:
// the name without the rule's prefix, under the rule's upstream prefix.
func upstreamName(r registry.PullThroughRule, name registry.RepositoryName) string {
	rest := string(name)
	if r.Prefix != registry.RootPrefix {
		rest = strings.TrimPrefix(rest, strings.TrimSuffix(r.Prefix, "/")+"/")
	}
	if r.UpstreamPrefix != "" && r.UpstreamPrefix != registry.RootPrefix {
		return strings.TrimSuffix(r.UpstreamPrefix, "/") + "/" + rest
	}
	return rest
}

// puller imports one pull's images; its flights make concurrent pulls of
// the same image, and of the same blob, fetch it once.
type flights struct{ manifests, blobs singleflight.Group }

// Pull makes sure the image ref (a tag or a digest) of the repository of
// key is in the cache: when the repository is under a rule and the image
// is missing (cached false), or is a tag last checked more than
// RefreshAfter ago, it is fetched from upstream, its blobs streamed into
// the store and verified, and then put, as the caller, who must be
// allowed ecr:BatchImportUpstreamImage (and ecr:CreateRepository for a
// repository the pull creates, from the PULL_THROUGH_CACHE template that
// applies or with ECR's defaults). A tag whose check fails upstream is
// served as cached. Errors: ErrNoRule, RepositoryNotFound (the caller may
// not create it), ImageNotFound (not upstream, or not the caller's to
// import), AccessDenied (the upstream refused the credentials),
// UpstreamUnavailable, ImageDigestDoesNotMatch (upstream answered other
// bytes than asked for).
func (s *Service) Pull(ctx context.Context, key registry.RepoKey, ref string, cached bool) error {
	key, err := s.reg.Resolve(ctx, key)
	if err != nil || key.Registry.IsPublic() {
		return errors.Join(ErrNoRule, err)
	}
	if cached {
		return s.refresh(ctx, key, ref)
	}
	return s.fill(ctx, key, ref)
}

// refreshRetry is how long a tag whose check failed upstream is served
// before a pull checks it again.
const refreshRetry = 5 * time.Minute

// refreshTimeout bounds a check of a cached tag: the pull waits for it.
const refreshTimeout = 10 * time.Second

// refresh checks a cached tag upstream when its last check is a day old,
// and fetches what it points to now. Whatever goes wrong, the cached
// image is served, as ECR serves it, and the tag is checked again
// refreshRetry later.
func (s *Service) refresh(ctx context.Context, key registry.RepoKey, ref string) error {
	// The rules may be seconds old (rulesCache): a pull by digest, or of
	// a repository no rule covers, costs no store read.
	rules, err := s.rulesCache.get(ctx, s.reg, key.Registry)
	if err != nil {
		return err
	}
	if _, ok := matchRule(rules, key.Name); !ok {
		return ErrNoRule
	}
	if strings.HasPrefix(ref, "sha256:") {
		return nil
	}
	checked, err := s.lastCheck(ctx, key, ref)
	if err != nil || s.reg.Now().Sub(checked) < RefreshAfter {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	if err := s.fill(rctx, key, ref); err != nil && ctx.Err() == nil {
		s.log.Warn("pull through cache: serving a cached tag its upstream could not refresh",
			"repository", string(key.Registry)+"/"+string(key.Name), "tag", ref, "err", err)
		retry := s.reg.Now().UTC().Add(refreshRetry - RefreshAfter)
		if err := s.reg.Update(registry.AsCore(ctx), func(tx registry.Tx) error { return tx.PutPullThroughCheck(key, ref, retry) }); err != nil {
			s.log.Warn("pull through cache: recording a failed check", "err", err)
		}
	}
	return ctx.Err()
}

// fill fetches an image the cache lacks (or a tag due a check), creating
// the repository first, once the caller is allowed to.
func (s *Service) fill(ctx context.Context, key registry.RepoKey, ref string) error {
	var rules []registry.PullThroughRule
	var facts registry.RepositoryAccess
	err := s.reg.View(ctx, func(tx registry.Tx) (err error) {
		if rules, err = tx.PullThroughRules(key.Registry); err != nil {
			return err
		}
		facts, err = tx.RepositoryAccess(key)
		return err
	})
	if err != nil {
		return err
	}
	s.rulesCache.put(key.Registry, rules)
	rule, ok := matchRule(rules, key.Name)
	if !ok {
		return ErrNoRule
	}
	if !facts.Exists {
		if _, err := s.reg.CreateFromTemplate(ctx, key, registry.AppliedForPullThroughCache); err != nil {
			if registry.IsCode(err, registry.CodeAccessDenied) {
				return registry.Errorf(registry.CodeRepositoryNotFound,
					"The repository with name '%s' does not exist in the registry with id '%s'", key.Name, key.Registry)
			}
			return err
		}
	}
	if err := s.reg.Authorize(ctx, "BatchImportUpstreamImage", key); err != nil {
		if registry.IsCode(err, registry.CodeAccessDenied) {
			return registry.Errorf(registry.CodeImageNotFound, "Requested image not found")
		}
		return err
	}
	// The import outlives a caller who leaves: others may be waiting for it.
	ch := s.flights.manifests.DoChan(string(key.Registry)+"/"+string(key.Name)+":"+ref, func() (any, error) {
		return nil, s.importImage(registry.AsCore(context.WithoutCancel(ctx)), key, rule, ref)
	})
	select {
	case r := <-ch:
		return r.Err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// lastCheck is when a cached tag was last fetched or checked upstream;
// zero if never.
func (s *Service) lastCheck(ctx context.Context, key registry.RepoKey, tag string) (time.Time, error) {
	var at time.Time
	err := s.reg.View(ctx, func(tx registry.Tx) (err error) {
		at, err = tx.PullThroughCheck(key, tag)
		if errors.Is(err, registry.ErrNotFound) {
			at, err = time.Time{}, nil
		}
		return err
	})
	return at, err
}

func upstreamError(r registry.PullThroughRule, what string, err error) error {
	if errors.Is(err, errAuth) {
		return registry.Errorf(registry.CodeAccessDenied,
			"The authentication to the upstream registry failed. Verify that the credentials provided in the pull through cache rule are correct, and try again.")
	}
	return registry.Errorf(registry.CodeUpstreamUnavailable, "The upstream registry %s could not give %s: %v", r.UpstreamURL, what, err)
}

// importImage fetches ref's manifest from upstream, then what it refers
// to (an index's children, an image's config and layers), then puts it
// (with its tag) and records the check. ctx is the core's.
func (s *Service) importImage(ctx context.Context, key registry.RepoKey, rule registry.PullThroughRule, ref string) error {
	c, err := s.client(ctx, key.Registry, rule)
	if err != nil {
		return upstreamError(rule, "a login", err)
	}
	up := upstreamName(rule, key.Name)
	body, mediaType, err := s.fetchManifest(ctx, c, rule, up, ref)
	if err != nil {
		return err
	}
	blobs, children, err := registry.ManifestReferences(body, mediaType)
	if err != nil {
		return registry.Errorf(registry.CodeUpstreamUnavailable, "The upstream registry %s answered a manifest ecrd cannot store: %v", rule.UpstreamURL, err)
	}
	for _, child := range children {
		if err := s.importChild(ctx, key, rule, string(child)); err != nil {
			return err
		}
	}
	for _, b := range blobs {
		if err := s.importBlob(ctx, c, key, rule, up, b); err != nil {
			return err
		}
	}
	in := registry.NewImage{Key: key, Manifest: body, MediaType: mediaType}
	if !strings.HasPrefix(ref, "sha256:") {
		in.Tag = ref
	}
	if _, err := s.reg.PutImage(ctx, in); err != nil && !registry.IsCode(err, registry.CodeImageAlreadyExists) {
		return err
	}
	if in.Tag == "" {
		return nil
	}
	return s.reg.Update(ctx, func(tx registry.Tx) error { return tx.PutPullThroughCheck(key, in.Tag, s.reg.Now().UTC()) })
}

// importChild imports an index's child by digest, unless the cache has it.
func (s *Service) importChild(ctx context.Context, key registry.RepoKey, rule registry.PullThroughRule, digest string) error {
	found, _, err := s.reg.BatchGetImage(ctx, key, []registry.ImageID{{Digest: digest}}, nil)
	if err == nil && len(found) == 1 {
		return nil
	}
	return s.importImage(ctx, key, rule, digest)
}

// fetchManifest GETs a manifest from upstream and checks that its bytes
// are what was asked for: a digest ref's digest, and the digest the
// upstream says it sent.
func (s *Service) fetchManifest(ctx context.Context, c *client, rule registry.PullThroughRule, up, ref string) ([]byte, string, error) {
	resp, err := c.do(ctx, http.MethodGet, "/v2/"+up+"/manifests/"+ref, "repository:"+up+":pull",
		http.Header{"Accept": {strings.Join(manifestTypes, ", ")}})
	if err != nil {
		return nil, "", upstreamError(rule, "the manifest "+up+":"+ref, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, "", registry.Errorf(registry.CodeImageNotFound, "Requested image not found")
	case resp.StatusCode == http.StatusForbidden:
		return nil, "", upstreamError(rule, "the manifest "+up+":"+ref, errAuth)
	case resp.StatusCode != http.StatusOK:
		return nil, "", upstreamError(rule, "the manifest "+up+":"+ref, fmt.Errorf("it answered %s", resp.Status))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxManifest+1))
	if err != nil {
		return nil, "", upstreamError(rule, "the manifest "+up+":"+ref, err)
	}
	if len(body) > maxManifest {
		return nil, "", registry.Errorf(registry.CodeUpstreamUnavailable, "The upstream registry %s answered a manifest of more than %d bytes", rule.UpstreamURL, maxManifest)
	}
	got := fmt.Sprintf("sha256:%x", sha256.Sum256(body))
	for _, want := range []string{resp.Header.Get("Docker-Content-Digest"), ref} {
		if strings.HasPrefix(want, "sha256:") && want != got {
			return nil, "", registry.Errorf(registry.CodeImageDigestDoesNotMatch,
				"The upstream registry %s answered a manifest of digest %s for %s: refused, nothing was cached", rule.UpstreamURL, got, want)
		}
	}
	mt, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
	return body, strings.TrimSpace(mt), nil
}

// importBlob streams a blob from upstream into the cache repository,
// unless it is there; the upload is verified against the digest when it
// completes, and dropped when anything fails, so a blob is cached whole
// and right or not at all.
func (s *Service) importBlob(ctx context.Context, c *client, key registry.RepoKey, rule registry.PullThroughRule, up string, b registry.ImageBlob) error {
	d := string(b.Digest)
	if _, err := s.reg.StatBlob(ctx, key, d); err == nil {
		return nil
	}
	_, err, _ := s.flights.blobs.Do(string(key.Registry)+"/"+string(key.Name)+"@"+d, func() (any, error) {
		// An upstream that stops sending without closing is cut after
		// blobStall without a byte.
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stall := time.AfterFunc(blobStall, cancel)
		defer stall.Stop()
		resp, err := c.do(ctx, http.MethodGet, "/v2/"+up+"/blobs/"+d, "repository:"+up+":pull", nil)
		if err != nil {
			return nil, upstreamError(rule, "the blob "+d, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, upstreamError(rule, "the blob "+d, fmt.Errorf("it answered %s", resp.Status))
		}
		u, err := s.reg.InitiateLayerUpload(ctx, key)
		if err != nil {
			return nil, err
		}
		body := &upstreamBody{r: resp.Body, progress: func() { stall.Reset(blobStall) }}
		if b.Size > 0 {
			body.r = io.LimitReader(resp.Body, b.Size+1) // a longer blob fails its digest
		}
		_, err = s.reg.AppendUpload(ctx, key, u.ID, 0, -1, body)
		if err == nil {
			_, err = s.reg.FinishUpload(ctx, key, u.ID, d)
		}
		if err != nil {
			if cerr := s.reg.CancelUpload(ctx, key, u.ID); cerr != nil {
				s.log.Warn("pull through cache: could not drop a failed import's upload", "err", cerr)
			}
			switch {
			case registry.IsCode(err, registry.CodeInvalidLayer):
				return nil, registry.Errorf(registry.CodeUpstreamUnavailable,
					"The upstream registry %s answered other bytes than the blob %s: refused, nothing was cached", rule.UpstreamURL, d)
			case body.err != nil:
				return nil, upstreamError(rule, "the blob "+d, body.err)
			}
			return nil, err // the store's failure, not the upstream's
		}
		return nil, nil
	})
	return err
}

// upstreamBody is an upstream's response body that remembers how reading
// it failed, telling the upstream's failures from the store's.
type upstreamBody struct {
	r        io.Reader
	err      error
	progress func()
}

func (b *upstreamBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		b.progress()
	}
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}
