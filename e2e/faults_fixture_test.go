package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	pubtypes "github.com/aws/aws-sdk-go-v2/service/ecrpublic/types"

	"github.com/ecrd/ecrd/internal/app"
)

// faultTemplate is a data dir holding faultFixture, which every injection
// copies.
type faultTemplate struct {
	dir string
	fx  *faultFixture
	// upstream is the base URL of the static registry the pull through
	// cache rule's upstream (public.ecr.aws) is reached at.
	upstream string
}

// faultFixture is what the template holds, for the cases to name: a
// private repository "app" with layers, images (tagged, untagged, an
// index, a referrer), a policy, resource tags and uploads in progress
// through both APIs; "other", holding a layer "app" lacks (to mount);
// "doomed" (to delete); a registry policy; "lc", with images, a lifecycle
// policy and its completed preview; and a public repository "pub"
// with an image, catalog data and uploads in progress.
type faultFixture struct {
	cfg, l1, l2, loose, only blob
	v1, v2, untagged         string // manifests
	index, referrer          string
	ecrUpload, ecrFull       string // ECR uploads: empty, and holding all of full
	full                     []byte
	v2Upload                 string // /v2/ upload Location, holding chunk
	chunk, rest              []byte
	pubLayer                 blob
	pubManifest              string
	pubUpload, pubFull       string // ECR Public uploads: empty, and holding all of full
	basic, pubBasic          string // /v2/ Authorization headers
}

const (
	fxRepo      = "app"
	fxOther     = "other"
	fxDoomed    = "doomed"
	fxPub       = "pub"
	fxLifecycle = "lc"
	// fxTemplate is the prefix of a CREATE_ON_PUSH template setting both
	// policies: a push under it creates a repository in several writes.
	fxTemplate = "made"
	// fxCache is the prefix of a pull through cache rule.
	fxCache = "cache"
	// fxProfile is the signing profile the fixture's rule signs the app
	// repository's pushes with (no key: they fail, recorded).
	fxProfile = "arn:aws:signer:us-east-1:" + testAccount + ":/signing-profiles/fixture"
	// fxExcluded is a principal whose pulls leave pull times alone.
	fxExcluded = "arn:aws:iam::" + testAccount + ":user/scanner"
)

func buildFaultTemplate(t *testing.T) *faultTemplate {
	t.Helper()
	dir := t.TempDir()
	upstream := staticUpstream(t)
	a, err := app.New(faultConfig(dir, upstream), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	defer func() { cancel(); <-done }()
	s := &server{URL: "http://" + a.Addr().String(), DataDir: dir, app: a}
	c, pc := s.client(), s.publicClient()
	fx := &faultFixture{}

	createRepos(t, c, fxRepo, fxOther, fxDoomed)
	fx.cfg = pushConfig(t, c, fxRepo, 1)
	fx.l1 = pushBlob(t, c, fxRepo, layerBytes(3000, 1))
	fx.l2 = pushBlob(t, c, fxRepo, layerBytes(4000, 2))
	fx.loose = pushBlob(t, c, fxRepo, layerBytes(1500, 3)) // no image refers to it
	fx.v1 = dockerManifest(fx.cfg, fx.l1, fx.l2)
	fx.v2 = ociManifest(fx.cfg, "v2", fx.l2)
	fx.untagged = ociManifest(fx.cfg, "untagged", fx.l1)
	putImage(t, c, fxRepo, fx.v1, "v1")
	putImage(t, c, fxRepo, fx.v2, "v2")
	putImage(t, c, fxRepo, fx.untagged, "")
	fx.index = indexManifest(ociIndexType, ociManifestType, fx.v2)
	putImage(t, c, fxRepo, fx.index, "multi")
	fx.referrer = fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"artifactType":"application/vnd.example.sig","config":%s,"layers":[%s],"subject":{"mediaType":%q,"digest":%q,"size":%d}}`,
		ociManifestType, fx.cfg.descriptor(ociConfigType), fx.l1.descriptor(ociLayerType), ociManifestType, digestOf([]byte(fx.v2)), len(fx.v2))
	putImage(t, c, fxRepo, fx.referrer, "")
	if _, err := c.SetRepositoryPolicy(ctx(t), &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String(fxRepo), PolicyText: aws.String(faultPolicy)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TagResource(ctx(t), &ecr.TagResourceInput{ResourceArn: aws.String(repoARN(testAccount, fxRepo)), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutRegistryPolicy(ctx(t), &ecr.PutRegistryPolicyInput{PolicyText: aws.String(faultRegistryPolicy)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateRepositoryCreationTemplate(ctx(t), &ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String(fxTemplate),
		AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush}, ImageTagMutability: types.ImageTagMutabilityImmutable,
		RepositoryPolicy: aws.String(faultPolicy), LifecyclePolicy: aws.String(faultLifecyclePolicy)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreatePullThroughCacheRule(ctx(t), &ecr.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String(fxCache),
		UpstreamRegistryUrl: aws.String("public.ecr.aws")}); err != nil {
		t.Fatal(err)
	}
	// The Mount case mounts: on, as ECR needs it.
	if _, err := c.PutAccountSetting(ctx(t), &ecr.PutAccountSettingInput{Name: aws.String("BLOB_MOUNTING"), Value: aws.String("ENABLED")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterPullTimeUpdateExclusion(ctx(t), &ecr.RegisterPullTimeUpdateExclusionInput{PrincipalArn: aws.String(fxExcluded)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutSigningConfiguration(ctx(t), &ecr.PutSigningConfigurationInput{SigningConfiguration: &types.SigningConfiguration{
		Rules: []types.SigningRule{{SigningProfileArn: aws.String(fxProfile),
			RepositoryFilters: []types.SigningRepositoryFilter{{Filter: aws.String(fxRepo), FilterType: types.SigningRepositoryFilterTypeWildcardMatch}}}}}}); err != nil {
		t.Fatal(err)
	}
	// v1 has a scan (in progress: no scanner runs here), and a rule scans
	// the pushes to the app repository.
	if _, err := c.StartImageScan(ctx(t), &ecr.StartImageScanInput{RepositoryName: aws.String(fxRepo), ImageId: &types.ImageIdentifier{ImageTag: aws.String("v1")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutRegistryScanningConfiguration(ctx(t), &ecr.PutRegistryScanningConfigurationInput{ScanType: types.ScanTypeBasic,
		Rules: []types.RegistryScanningRule{{ScanFrequency: types.ScanFrequencyScanOnPush,
			RepositoryFilters: []types.ScanningRepositoryFilter{{Filter: aws.String(fxRepo), FilterType: types.ScanningRepositoryFilterTypeWildcard}}}}}); err != nil {
		t.Fatal(err)
	}
	// "lc" keeps one untagged image and one tagged v*: a run archives v1
	// and expires the older untagged image.
	createRepos(t, c, fxLifecycle)
	lcLayer := pushBlob(t, c, fxLifecycle, layerBytes(500, 10))
	for i, tag := range []string{"v1", "", "v2", ""} {
		pushTagged(t, c, fxLifecycle, 20+i, lcLayer, tag)
	}
	putPolicy(t, c, fxLifecycle, faultLifecyclePolicy)
	previewOf(t, c, fxLifecycle, "")
	fx.only = pushBlob(t, c, fxOther, layerBytes(2500, 4))
	putImage(t, c, fxDoomed, dockerManifest(pushConfig(t, c, fxDoomed, 9), pushBlob(t, c, fxDoomed, layerBytes(1000, 9))), "gone")

	fx.ecrUpload = initiate(t, c, fxRepo)
	fx.full = layerBytes(6000, 5)
	fx.ecrFull = initiate(t, c, fxRepo)
	uploadPart(t, c, fxRepo, fx.ecrFull, 0, fx.full)

	fx.basic = privateBasic(t, c)
	fx.chunk, fx.rest = layerBytes(2000, 6), layerBytes(1000, 7)
	resp, body := v2Do(t, http.MethodPost, s.URL+"/v2/"+fxRepo+"/blobs/uploads/", fx.basic, "", nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST uploads: %d %s", resp.StatusCode, body)
	}
	fx.v2Upload = resp.Header.Get("Location")
	resp, body = v2Do(t, http.MethodPatch, s.URL+fx.v2Upload, fx.basic, "application/octet-stream", fx.chunk)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("PATCH: %d %s", resp.StatusCode, body)
	}

	createPublicRepos(t, pc, fxPub)
	if _, err := pc.PutRepositoryCatalogData(ctx(t), &ecrpublic.PutRepositoryCatalogDataInput{RepositoryName: aws.String(fxPub),
		CatalogData: &pubtypes.RepositoryCatalogDataInput{Description: aws.String("a test"), AboutText: aws.String("about")}}); err != nil {
		t.Fatal(err)
	}
	pcfg := pushPublicConfig(t, pc, fxPub, 1)
	fx.pubLayer = pushPublicBlob(t, pc, fxPub, layerBytes(3500, 8))
	fx.pubManifest = dockerManifest(pcfg, fx.pubLayer)
	putPublicImage(t, pc, fxPub, fx.pubManifest, "v1")
	fx.pubUpload = pubInitiate(t, pc, fxPub)
	fx.pubFull = pubInitiate(t, pc, fxPub)
	pubUploadPart(t, pc, fxPub, fx.pubFull, 0, fx.full)
	fx.pubBasic = publicBasic(t, pc)
	// Every push from here on records its replication to the app
	// repository's destination (the replicator is off in these servers).
	if _, err := c.PutReplicationConfiguration(ctx(t), &ecr.PutReplicationConfigurationInput{ReplicationConfiguration: &types.ReplicationConfiguration{
		Rules: []types.ReplicationRule{{Destinations: []types.ReplicationDestination{{Region: aws.String("us-west-2"), RegistryId: aws.String(testAccount)}},
			RepositoryFilters: []types.RepositoryFilter{{Filter: aws.String(fxRepo), FilterType: types.RepositoryFilterTypePrefixMatch}}}}}}); err != nil {
		t.Fatal(err)
	}
	return &faultTemplate{dir: dir, fx: fx, upstream: upstream}
}

const faultLifecyclePolicy = `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["v"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"transition","targetStorageClass":"archive"}},` +
	`{"rulePriority":2,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`

const faultPublicPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"push","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":["ecr-public:PutImage"]}]}`

const faultPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":["ecr:BatchGetImage"]}]}`

const faultRegistryPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"rep","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":["ecr:ReplicateImage"],"Resource":"*"}]}`

func pubRepoARN(name string) string {
	return "arn:aws:ecr-public::" + testAccount + ":repository/" + name
}

// staticUpstream serves one image, lib/app:v1 (a config and a layer), as
// an upstream registry without authentication does: what the fault
// cases pull through the cache.
func staticUpstream(t *testing.T) string {
	cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"},"upstream":true}`)
	layer := layerBytes(3000, 77)
	manifest := ociManifest(blob{Digest: digestOf(cfg), Size: len(cfg)}, "upstream", blob{Digest: digestOf(layer), Size: len(layer)})
	content := map[string][]byte{"/v2/lib/app/manifests/v1": []byte(manifest), "/v2/lib/app/blobs/" + digestOf(cfg): cfg,
		"/v2/lib/app/blobs/" + digestOf(layer): layer}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := content[r.URL.Path]
		switch {
		case r.URL.Path == "/v2/":
			return
		case !ok:
			http.NotFound(w, r)
			return
		case strings.Contains(r.URL.Path, "/manifests/"):
			w.Header().Set("Content-Type", ociManifestType)
			w.Header().Set("Docker-Content-Digest", digestOf(body))
		}
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
