package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"

	"github.com/ecrd/ecrd/internal/config"
)

// faultyUpstream stands between a cache and its upstream: it can be
// down, cut blob bodies short, corrupt them, and it counts the blob GETs
// per digest.
type faultyUpstream struct {
	*httptest.Server
	down, cut, corrupt atomic.Bool
	mu                 sync.Mutex
	blobGets           map[string]int
}

func newFaultyUpstream(t *testing.T, target string) *faultyUpstream {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	f := &faultyUpstream{blobGets: map[string]int{}}
	proxy := httputil.NewSingleHostReverseProxy(u)
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.down.Load() {
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
			return
		}
		i := strings.Index(r.URL.Path, "/blobs/sha256:")
		if i < 0 || r.Method != http.MethodGet {
			proxy.ServeHTTP(w, r)
			return
		}
		f.mu.Lock()
		f.blobGets[r.URL.Path[i+len("/blobs/"):]]++
		f.mu.Unlock()
		rec := httptest.NewRecorder()
		proxy.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		switch {
		case f.cut.Load() && rec.Code == http.StatusOK:
			// Half the body, then the connection drops.
			w.WriteHeader(http.StatusOK)
			w.Write(body[:len(body)/2])
			w.(http.Flusher).Flush()
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
			return
		case f.corrupt.Load() && rec.Code == http.StatusOK:
			body = bytes.Clone(body)
			body[len(body)/2] ^= 0xff
		}
		w.WriteHeader(rec.Code)
		w.Write(body)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *faultyUpstream) gets(digest string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.blobGets[digest]
}

// pullThroughPair is a second ecrd whose ECR Public registry stands for
// public.ecr.aws, behind a faultyUpstream, and a cache ecrd with the rule
// ecr-public → public.ecr.aws.
type pullThroughPair struct {
	up, cache *server
	proxy     *faultyUpstream
	auth      string // the cache's /v2/ Authorization
}

func startPullThrough(t *testing.T, opts ...func(*config.Config)) *pullThroughPair {
	p := &pullThroughPair{up: startServer(t, "")}
	p.proxy = newFaultyUpstream(t, publicURL(t, p.up))
	opts = append([]func(*config.Config){func(c *config.Config) { c.PullThrough.Upstreams = "public.ecr.aws=" + p.proxy.URL }}, opts...)
	p.cache = startServer(t, "", opts...)
	if _, err := p.cache.client().CreatePullThroughCacheRule(ctx(t), &ecr.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("ecr-public"), UpstreamRegistryUrl: aws.String("public.ecr.aws")}); err != nil {
		t.Fatal(err)
	}
	p.auth = privateBasic(t, p.cache.client())
	return p
}

// pushUpstream pushes an image of n layers to the upstream's public
// repository name (tag tag) and returns its manifest and blobs.
func (p *pullThroughPair) pushUpstream(t *testing.T, name, tag string, seed uint64, n int) (string, map[string][]byte) {
	c := p.up.publicClient()
	if _, err := c.DescribeRepositories(ctx(t), &ecrpublic.DescribeRepositoriesInput{RepositoryNames: []string{name}}); err != nil {
		createPublicRepos(t, c, name)
	}
	cfgData := fmt.Appendf(nil, `{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"},"seed":%d}`, seed)
	blobs := map[string][]byte{}
	cfg := pushPublicBlob(t, c, name, cfgData)
	blobs[cfg.Digest] = cfgData
	var layers []blob
	for i := range n {
		data := layerBytes(200<<10+i, seed*10+uint64(i))
		l := pushPublicBlob(t, c, name, data)
		blobs[l.Digest] = data
		layers = append(layers, l)
	}
	m := ociManifest(cfg, tag, layers...)
	putPublicImage(t, c, name, m, tag)
	return m, blobs
}

func (p *pullThroughPair) get(t *testing.T, path string) (*http.Response, []byte) {
	return v2Do(t, http.MethodGet, p.cache.URL+path, p.auth, "", nil)
}

// TestPullThrough: a pull of ecr-public/<alias>/<repo> through the cache
// creates the repository, fetches the image from upstream and serves it,
// by tag and digest, through /v2/ and the API; a second pull is served
// from the cache, even with the upstream down.
func TestPullThrough(t *testing.T) {
	t.Parallel()
	p := startPullThrough(t)
	m, blobs := p.pushUpstream(t, "tools/app", "v1", 1, 2)
	name := "ecr-public/" + publicAlias + "/tools/app"
	// The cache repository is made from the PULL_THROUGH_CACHE template
	// whose prefix is the rule's.
	createTemplate(t, p.cache.client(), &ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("ecr-public"),
		AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForPullThroughCache}, ImageTagMutability: types.ImageTagMutabilityImmutable,
		ResourceTags: []types.Tag{{Key: aws.String("cache"), Value: aws.String("ecr-public")}}, CustomRoleArn: aws.String("arn:aws:iam::" + testAccount + ":role/ecr")})

	resp, body := p.get(t, "/v2/"+name+"/manifests/v1")
	if resp.StatusCode != http.StatusOK || string(body) != m || resp.Header.Get("Docker-Content-Digest") != digestOf([]byte(m)) {
		t.Fatalf("pull through the cache: %d %s", resp.StatusCode, body)
	}
	for d, data := range blobs {
		resp, body := p.get(t, "/v2/"+name+"/blobs/"+d)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
			t.Fatalf("blob %s: %d, %d bytes", d, resp.StatusCode, len(body))
		}
	}
	c := p.cache.client()
	repos, err := c.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{name}})
	if err != nil || repos.Repositories[0].ImageTagMutability != types.ImageTagMutabilityImmutable {
		t.Fatalf("the cache repository is not its template's: %+v, %v", repos, err)
	}
	if tags, err := c.ListTagsForResource(ctx(t), &ecr.ListTagsForResourceInput{ResourceArn: repos.Repositories[0].RepositoryArn}); err != nil ||
		len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "cache" {
		t.Errorf("the cache repository's resource tags: %+v, %v", tags, err)
	}
	img := describe(t, c, name, byTag("v1"))
	if aws.ToString(img.ImageDigest) != digestOf([]byte(m)) {
		t.Errorf("DescribeImages: %+v", img)
	}

	// Served from the cache with the upstream down: by tag (checked
	// upstream at most daily) and by digest.
	p.proxy.down.Store(true)
	for _, ref := range []string{"v1", digestOf([]byte(m))} {
		if resp, body := p.get(t, "/v2/"+name+"/manifests/"+ref); resp.StatusCode != http.StatusOK || string(body) != m {
			t.Errorf("cached %s with the upstream down: %d %s", ref, resp.StatusCode, body)
		}
	}
	// What is not cached is a clear error.
	resp, body = p.get(t, "/v2/"+name+"/manifests/v2")
	wantV2Error(t, "an uncached tag with the upstream down", resp, body, http.StatusServiceUnavailable, "UNAVAILABLE")
	if !strings.Contains(string(body), "public.ecr.aws") {
		t.Errorf("the error does not name the upstream: %s", body)
	}
	p.proxy.down.Store(false)

	// Not upstream: 404, and the repository stays.
	resp, body = p.get(t, "/v2/"+name+"/manifests/nosuch")
	wantV2Error(t, "a tag upstream lacks", resp, body, http.StatusNotFound, "MANIFEST_UNKNOWN")
	// Outside every rule: an ordinary missing repository.
	resp, body = p.get(t, "/v2/elsewhere/app/manifests/v1")
	wantV2Error(t, "outside every rule", resp, body, http.StatusNotFound, "NAME_UNKNOWN")

	// The API imports too: BatchGetImage of a tag only upstream has.
	m3, _ := p.pushUpstream(t, "tools/app", "v3", 4, 1)
	got, err := c.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RepositoryName: aws.String(name), ImageIds: []types.ImageIdentifier{byTag("v3")}})
	if err != nil || len(got.Images) != 1 || aws.ToString(got.Images[0].ImageManifest) != m3 {
		t.Fatalf("BatchGetImage through the cache: %+v, %v", got, err)
	}
	p.proxy.down.Store(true)
	got, err = c.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RepositoryName: aws.String(name), ImageIds: []types.ImageIdentifier{byTag("v4"), byTag("v1")}})
	if err != nil || len(got.Images) != 1 || len(got.Failures) != 1 || got.Failures[0].FailureCode != types.ImageFailureCodeUpstreamUnavailable {
		t.Fatalf("BatchGetImage with the upstream down: %+v, %v; want v1 and an UpstreamUnavailable failure", got, err)
	}
	p.proxy.down.Store(false)

	// An index pulls through with its children.
	c1, _ := p.pushUpstream(t, "tools/app", "amd64", 11, 1)
	c2, _ := p.pushUpstream(t, "tools/app", "arm64", 12, 1)
	idx := indexManifest(ociIndexType, ociManifestType, c1, c2)
	putPublicImage(t, p.up.publicClient(), "tools/app", idx, "multi")
	if resp, body := p.get(t, "/v2/"+name+"/manifests/multi"); resp.StatusCode != http.StatusOK || string(body) != idx {
		t.Fatalf("pull of an index: %d %s", resp.StatusCode, body)
	}
	p.proxy.down.Store(true) // the children came with the index
	for _, child := range []string{c1, c2} {
		if resp, body := p.get(t, "/v2/"+name+"/manifests/"+digestOf([]byte(child))); resp.StatusCode != http.StatusOK || string(body) != child {
			t.Errorf("the index's child: %d %s", resp.StatusCode, body)
		}
	}
	p.proxy.down.Store(false)

	// A pull by digest of an image pushed upstream later.
	m2, _ := p.pushUpstream(t, "tools/app", "v2", 2, 1)
	if resp, body := p.get(t, "/v2/"+name+"/manifests/"+digestOf([]byte(m2))); resp.StatusCode != http.StatusOK || string(body) != m2 {
		t.Fatalf("pull by digest: %d %s", resp.StatusCode, body)
	}
}

// TestPullThroughFaults: an upstream that drops a blob mid-body, or
// answers other bytes than its digest, fails the pull and caches nothing
// of it; 16 concurrent pulls of one uncached image fetch each blob once.
func TestPullThroughFaults(t *testing.T) {
	t.Parallel()
	p := startPullThrough(t)
	m, blobs := p.pushUpstream(t, "lib/base", "v1", 3, 3)
	name := "ecr-public/" + publicAlias + "/lib/base"
	c := p.cache.client()
	noImages := func(what string) {
		t.Helper()
		out, err := c.ListImages(ctx(t), &ecr.ListImagesInput{RepositoryName: aws.String(name)})
		if err == nil && len(out.ImageIds) > 0 {
			t.Errorf("%s: the cache holds %+v", what, out.ImageIds)
		}
		for d := range blobs {
			l, err := c.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String(name), LayerDigests: []string{d}})
			if err == nil && len(l.Layers) == 1 && l.Layers[0].LayerAvailability == types.LayerAvailabilityAvailable {
				t.Errorf("%s: blob %s is cached", what, d)
			}
		}
	}

	p.proxy.cut.Store(true)
	resp, body := p.get(t, "/v2/"+name+"/manifests/v1")
	if resp.StatusCode < 500 {
		t.Errorf("the upstream dropped a blob mid-body: %d %s", resp.StatusCode, body)
	}
	p.proxy.cut.Store(false)
	noImages("after a cut")

	p.proxy.corrupt.Store(true)
	resp, body = p.get(t, "/v2/"+name+"/manifests/v1")
	wantV2Error(t, "a corrupted blob", resp, body, http.StatusServiceUnavailable, "UNAVAILABLE")
	if !strings.Contains(string(body), "other bytes") {
		t.Errorf("the refusal does not say why: %s", body)
	}
	p.proxy.corrupt.Store(false)
	noImages("after a corrupted blob")

	before := map[string]int{}
	for d := range blobs {
		before[d] = p.proxy.gets(d)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for range 16 {
		wg.Go(func() {
			resp, body := v2Do(t, http.MethodGet, p.cache.URL+"/v2/"+name+"/manifests/v1", p.auth, "", nil)
			if resp.StatusCode != http.StatusOK || string(body) != m {
				errs <- fmt.Sprintf("%d %s", resp.StatusCode, body)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("a concurrent pull: %s", e)
	}
	for d := range blobs {
		if n := p.proxy.gets(d) - before[d]; n != 1 {
			t.Errorf("blob %s was fetched %d times by 16 pulls, want once", d, n)
		}
	}
}

// TestPullThroughRefresh: a cached tag is checked upstream once it is a
// day old, and follows the upstream when it moved; within the day it is
// served without asking.
func TestPullThroughRefresh(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Now()}
	p := &pullThroughPair{up: startServer(t, "")}
	p.proxy = newFaultyUpstream(t, publicURL(t, p.up))
	p.cache = startClocked(t, clk, func(c *config.Config) { c.PullThrough.Upstreams = "public.ecr.aws=" + p.proxy.URL })
	if _, err := p.cache.client().CreatePullThroughCacheRule(ctx(t), &ecr.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("ecr-public"), UpstreamRegistryUrl: aws.String("public.ecr.aws")}); err != nil {
		t.Fatal(err)
	}
	p.auth = privateBasic(t, p.cache.client())
	m1, _ := p.pushUpstream(t, "app", "latest", 5, 1)
	name := "ecr-public/" + publicAlias + "/app"
	if resp, body := p.get(t, "/v2/"+name+"/manifests/latest"); string(body) != m1 {
		t.Fatalf("first pull: %d %s", resp.StatusCode, body)
	}
	m2, _ := p.pushUpstream(t, "app", "latest", 6, 1) // the tag moves upstream
	clk.Set(clk.Now().Add(23 * time.Hour))
	if _, body := p.get(t, "/v2/"+name+"/manifests/latest"); string(body) != m1 {
		t.Errorf("within a day the cached tag is served: got %s", body)
	}
	clk.Set(clk.Now().Add(2 * time.Hour))
	if _, body := p.get(t, "/v2/"+name+"/manifests/latest"); string(body) != m2 {
		t.Errorf("after a day the tag follows upstream: got %s, want %s", body, m2)
	}
	// A day later with the upstream down: the cached tag is served.
	p.proxy.down.Store(true)
	clk.Set(clk.Now().Add(25 * time.Hour))
	if resp, body := p.get(t, "/v2/"+name+"/manifests/latest"); resp.StatusCode != http.StatusOK || string(body) != m2 {
		t.Errorf("a stale tag with the upstream down: %d %s", resp.StatusCode, body)
	}
}

// TestPullThroughAuthorized: a pull that creates the cache repository
// needs ecr:CreateRepository, and one that imports needs
// ecr:BatchImportUpstreamImage; without them docker hears what ECR says
// (ecr-semantics-2.md §2.4, 11 and 12), and nothing is cached.
func TestPullThroughAuthorized(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "credentials.json")
	read := `"ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"`
	policy := func(actions string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[` + actions + `],"Resource":"*"}]}`
	}
	file := `{"credentials": [{"accountId": "` + testAccount + `", "accessKeyId": "test", "secretAccessKey": "test"}],
	 "users": [
		{"accountId": "` + testAccount + `", "name": "reader", "policies": [` + policy(read) + `], "accessKeys": [{"accessKeyId": "AKIDREAD", "secretAccessKey": "s"}]},
		{"accountId": "` + testAccount + `", "name": "creator", "policies": [` + policy(read+`,"ecr:CreateRepository"`) + `], "accessKeys": [{"accessKeyId": "AKIDMAKE", "secretAccessKey": "s"}]},
		{"accountId": "` + testAccount + `", "name": "importer", "policies": [` + policy(read+`,"ecr:CreateRepository","ecr:BatchImportUpstreamImage"`) + `], "accessKeys": [{"accessKeyId": "AKIDIMPORT", "secretAccessKey": "s"}]}]}`
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startPullThrough(t, func(c *config.Config) { c.Auth.CredentialsFile = path })
	m, _ := p.pushUpstream(t, "foo/bar", "1", 7, 1)
	name := "ecr-public/" + publicAlias + "/foo/bar"
	as := func(key string) string { return privateBasic(t, p.cache.clientAs(key, "s", "us-east-1")) }

	resp, body := v2Do(t, http.MethodGet, p.cache.URL+"/v2/"+name+"/manifests/1", as("AKIDREAD"), "", nil)
	wantV2Error(t, "a reader's pull of an uncached repository", resp, body, http.StatusNotFound, "NAME_UNKNOWN")
	if want := "The repository with name '" + name + "' does not exist in the registry with id '" + testAccount + "'"; !strings.Contains(string(body), want) {
		t.Errorf("the refusal %s does not say %q", body, want)
	}
	resp, body = v2Do(t, http.MethodGet, p.cache.URL+"/v2/"+name+"/manifests/1", as("AKIDMAKE"), "", nil)
	wantV2Error(t, "a pull without BatchImportUpstreamImage", resp, body, http.StatusNotFound, "MANIFEST_UNKNOWN")
	if !strings.Contains(string(body), "Requested image not found") {
		t.Errorf("the refusal %s does not say 'Requested image not found'", body)
	}
	out, err := p.cache.client().ListImages(ctx(t), &ecr.ListImagesInput{RepositoryName: aws.String(name)})
	if err != nil || len(out.ImageIds) != 0 {
		t.Fatalf("after the refusals the repository holds %+v, %v; want it created (by the creator) and empty", out, err)
	}
	if resp, body := v2Do(t, http.MethodGet, p.cache.URL+"/v2/"+name+"/manifests/1", as("AKIDIMPORT"), "", nil); string(body) != m {
		t.Fatalf("the importer's pull: %d %s", resp.StatusCode, body)
	}
	// Once cached, a reader pulls it.
	if resp, body := v2Do(t, http.MethodGet, p.cache.URL+"/v2/"+name+"/manifests/1", as("AKIDREAD"), "", nil); string(body) != m {
		t.Errorf("the reader's pull of the cached image: %d %s", resp.StatusCode, body)
	}
}

// TestPullThroughFromECR: a second ecrd, in us-west-2, is the upstream
// ECR registry of a rule; the cache logs in to it as the rule's role
// (its keys in the secrets file), with GetAuthorizationToken, as ECR does.
func TestPullThroughFromECR(t *testing.T) {
	t.Parallel()
	up := startServer(t, "", func(c *config.Config) { c.Identity.Region = "us-west-2" })
	upc := up.clientAs("test", "test", "us-west-2")
	createRepos(t, upc, "team/app")
	cfg := pushConfig(t, upc, "team/app", 1)
	l := pushBlob(t, upc, "team/app", layerBytes(9000, 91))
	m := ociManifest(cfg, "from-ecr", l)
	putImage(t, upc, "team/app", m, "v1")

	upURL := testAccount + ".dkr.ecr.us-west-2.amazonaws.com"
	role := "arn:aws:iam::" + testAccount + ":role/cache"
	secrets := filepath.Join(t.TempDir(), "secrets.json")
	if err := os.WriteFile(secrets, []byte(`{"`+role+`": {"accessKeyId": "test", "secretAccessKey": "test"},
		"arn:aws:iam::`+testAccount+`:role/wrong": {"accessKeyId": "test", "secretAccessKey": "nope"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cache := startServer(t, "", func(c *config.Config) {
		c.PullThrough.Upstreams = upURL + "=" + up.URL
		c.PullThrough.SecretsFile = secrets
	})
	c := cache.client()
	for prefix, r := range map[string]string{"west": role, "wrong": "arn:aws:iam::" + testAccount + ":role/wrong"} {
		if _, err := c.CreatePullThroughCacheRule(ctx(t), &ecr.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String(prefix),
			UpstreamRegistryUrl: aws.String(upURL), CustomRoleArn: aws.String(r)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.CreatePullThroughCacheRule(ctx(t), &ecr.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("other"),
		UpstreamRegistryUrl: aws.String("999999999999.dkr.ecr.us-west-2.amazonaws.com")})
	wantCode(t, err, "InvalidParameterException", "customRoleArn")

	v, err := c.ValidatePullThroughCacheRule(ctx(t), &ecr.ValidatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("west")})
	if err != nil || !v.IsValid {
		t.Fatalf("validate west: %+v, %v", v, err)
	}
	auth := privateBasic(t, c)
	resp, body := v2Do(t, http.MethodGet, cache.URL+"/v2/west/team/app/manifests/v1", auth, "", nil)
	if resp.StatusCode != http.StatusOK || string(body) != m {
		t.Fatalf("pull from the upstream ECR: %d %s", resp.StatusCode, body)
	}
	if resp, body := v2Do(t, http.MethodGet, cache.URL+"/v2/west/team/app/blobs/"+l.Digest, auth, "", nil); resp.StatusCode != http.StatusOK || digestOf(body) != l.Digest {
		t.Fatalf("the layer: %d", resp.StatusCode)
	}
	resp, body = v2Do(t, http.MethodGet, cache.URL+"/v2/wrong/team/app/manifests/v1", auth, "", nil)
	wantV2Error(t, "a role whose keys the upstream refuses", resp, body, http.StatusForbidden, "DENIED")
}
