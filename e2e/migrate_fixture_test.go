package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	pubtypes "github.com/aws/aws-sdk-go-v2/service/ecrpublic/types"
	"github.com/aws/smithy-go"
)

// migrated is a registry populated through the API for the migration
// tests: what was pushed, to check every byte arrives.
type migrated struct {
	// blobs are every layer and config pushed, by digest, and where one
	// of each may be pulled: "A:repo", "B:repo" (a private repository of
	// account A or B) or "public:repo" (account A's public one).
	blobs map[string][]byte
	where map[string]string
	// uploadID is an upload left in progress in account A's app/api.
	uploadID string
	// archived is the config of an archived image: the one blob /v2/
	// does not serve.
	archived string
}

// populate fills a server started withPublicCredentials: two accounts
// with private repositories of every setting (tag mutability with
// exclusions, scan on push, KMS encryption, resource tags, a policy, a
// lifecycle policy), a registry policy, images sharing layers across repositories and
// accounts, an index, an archived image, a layer no image names, an
// upload in progress, and account A's public registry with catalog data, a
// logo, a policy and an image.
func populate(t *testing.T, s *server) migrated {
	t.Helper()
	m := migrated{blobs: map[string][]byte{}, where: map[string]string{}}
	a, b := s.clientAs("AKIAONE", "s1", "us-east-1"), s.clientAs("AKIATWO", "s2", "us-east-1")
	push := func(c *ecr.Client, repo string, data []byte) blob {
		bl := pushBlob(t, c, repo, data)
		if _, ok := m.where[bl.Digest]; !ok {
			acct := "A:"
			if c == b {
				acct = "B:"
			}
			m.blobs[bl.Digest], m.where[bl.Digest] = data, acct+repo
		}
		return bl
	}
	config := func(c *ecr.Client, repo string, seed int) blob {
		return push(c, repo, fmt.Appendf(nil, `{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"},"seed":%d}`, seed))
	}

	mustDo(t, "CreateRepository app/web")(a.CreateRepository(ctx(t), &ecr.CreateRepositoryInput{
		RepositoryName:             aws.String("app/web"),
		ImageTagMutability:         types.ImageTagMutabilityImmutableWithExclusion,
		ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: true},
		EncryptionConfiguration:    &types.EncryptionConfiguration{EncryptionType: types.EncryptionTypeAes256},
		Tags:                       []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}, {Key: aws.String("cost"), Value: aws.String("42")}},
		ImageTagMutabilityExclusionFilters: []types.ImageTagMutabilityExclusionFilter{
			{FilterType: types.ImageTagMutabilityExclusionFilterTypeWildcard, Filter: aws.String("dev-*")}},
	}))
	mustDo(t, "CreateRepository app/api")(a.CreateRepository(ctx(t), &ecr.CreateRepositoryInput{
		RepositoryName: aws.String("app/api"),
		EncryptionConfiguration: &types.EncryptionConfiguration{EncryptionType: types.EncryptionTypeKms,
			KmsKey: aws.String("arn:aws:kms:us-east-1:" + accountA + ":key/0b7f6c1e-7a3d-4b8e-9f2a-1c2d3e4f5a6b")},
	}))
	createRepos(t, a, "empty")
	createRepos(t, b, "b/only")

	shared := layerBytes(300<<10+3, 101)
	webLayer := layerBytes(1<<20+5, 102)
	sharedWeb, sharedAPI := push(a, "app/web", shared), push(a, "app/api", shared)
	web := push(a, "app/web", webLayer)
	v1 := ociManifest(config(a, "app/web", 1), "v1", sharedWeb, web)
	putImage(t, a, "app/web", v1, "v1")
	child := ociManifest(config(a, "app/web", 2), "arm", sharedWeb)
	putImage(t, a, "app/web", child, "")
	putImage(t, a, "app/web", indexManifest(ociIndexType, ociManifestType, v1, child), "multi")
	putImage(t, a, "app/web", dockerManifest(config(a, "app/web", 3), web), "dev-1")

	putImage(t, a, "app/api", ociManifest(config(a, "app/api", 4), "stable", sharedAPI), "stable")
	oldConfig := config(a, "app/api", 5)
	m.archived = oldConfig.Digest
	old := putImage(t, a, "app/api", ociManifest(oldConfig, "old", sharedAPI), "")
	if _, err := a.UpdateImageStorageClass(ctx(t), &ecr.UpdateImageStorageClassInput{RepositoryName: aws.String("app/api"),
		ImageId: old.ImageId, TargetStorageClass: types.TargetStorageClassArchive}); err != nil {
		t.Fatalf("archiving an image: %v", err)
	}
	push(a, "app/api", layerBytes(70<<10, 103)) // held by the repository, named by no image
	m.uploadID = initiate(t, a, "app/api")
	uploadPart(t, a, "app/api", m.uploadID, 0, layerBytes(6<<20, 104))

	policy := `{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + accountB + `:root"},"Action":["ecr:BatchGetImage"]}]}`
	mustDo(t, "SetRepositoryPolicy")(a.SetRepositoryPolicy(ctx(t), &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("app/web"), PolicyText: aws.String(policy)}))
	mustDo(t, "PutImageScanningConfiguration")(a.PutImageScanningConfiguration(ctx(t), &ecr.PutImageScanningConfigurationInput{
		RepositoryName: aws.String("app/api"), ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: true}}))
	mustDo(t, "PutImageTagMutability")(a.PutImageTagMutability(ctx(t), &ecr.PutImageTagMutabilityInput{
		RepositoryName: aws.String("app/api"), ImageTagMutability: types.ImageTagMutabilityImmutable}))
	registryPolicy := `{"Version":"2012-10-17","Statement":[{"Sid":"repl","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + accountB + `:root"},"Action":["ecr:CreateRepository","ecr:ReplicateImage"],"Resource":"arn:aws:ecr:us-east-1:` + accountA + `:repository/*"}]}`
	mustDo(t, "PutRegistryPolicy")(a.PutRegistryPolicy(ctx(t), &ecr.PutRegistryPolicyInput{PolicyText: aws.String(registryPolicy)}))
	mustDo(t, "PutLifecyclePolicy")(a.PutLifecyclePolicy(ctx(t), &ecr.PutLifecyclePolicyInput{RepositoryName: aws.String("app/web"),
		LifecyclePolicyText: aws.String(lifecycleText(lcRule(1, `"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14`, lcExpire)))}))
	mustDo(t, "CreateRepositoryCreationTemplate")(a.CreateRepositoryCreationTemplate(ctx(t), &ecr.CreateRepositoryCreationTemplateInput{
		Prefix: aws.String("app"), Description: aws.String("app's"), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush, types.RCTAppliedForReplication},
		ImageTagMutability:                 types.ImageTagMutabilityMutableWithExclusion,
		ImageTagMutabilityExclusionFilters: []types.ImageTagMutabilityExclusionFilter{{FilterType: "WILDCARD", Filter: aws.String("release-*")}},
		ResourceTags:                       []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}, CustomRoleArn: aws.String("arn:aws:iam::" + accountA + ":role/templates"),
		RepositoryPolicy: aws.String(policy)}))
	mustDo(t, "PutReplicationConfiguration")(a.PutReplicationConfiguration(ctx(t), &ecr.PutReplicationConfigurationInput{
		ReplicationConfiguration: &types.ReplicationConfiguration{Rules: []types.ReplicationRule{{
			Destinations:      []types.ReplicationDestination{{Region: aws.String("eu-west-1"), RegistryId: aws.String(accountA)}},
			RepositoryFilters: []types.RepositoryFilter{{Filter: aws.String("app/"), FilterType: types.RepositoryFilterTypePrefixMatch}}}}}}))
	mustDo(t, "RegisterPullTimeUpdateExclusion")(a.RegisterPullTimeUpdateExclusion(ctx(t), &ecr.RegisterPullTimeUpdateExclusionInput{
		PrincipalArn: aws.String("arn:aws:iam::" + accountA + ":role/scanner")}))
	mustDo(t, "PutSigningConfiguration")(a.PutSigningConfiguration(ctx(t), &ecr.PutSigningConfigurationInput{
		SigningConfiguration: &types.SigningConfiguration{Rules: []types.SigningRule{{
			SigningProfileArn: aws.String("arn:aws:signer:us-east-1:" + accountA + ":/signing-profiles/release"),
			RepositoryFilters: []types.SigningRepositoryFilter{{Filter: aws.String("app/*"), FilterType: types.SigningRepositoryFilterTypeWildcardMatch}}}}}}))
	mustDo(t, "PutRegistryScanningConfiguration")(a.PutRegistryScanningConfiguration(ctx(t), &ecr.PutRegistryScanningConfigurationInput{
		ScanType: types.ScanTypeBasic, Rules: []types.RegistryScanningRule{{ScanFrequency: types.ScanFrequencyScanOnPush,
			RepositoryFilters: []types.ScanningRepositoryFilter{{Filter: aws.String("web"), FilterType: types.ScanningRepositoryFilterTypeWildcard}}}}}))
	mustDo(t, "CreatePullThroughCacheRule")(a.CreatePullThroughCacheRule(ctx(t), &ecr.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("k8s"), UpstreamRegistryUrl: aws.String("registry.k8s.io"), UpstreamRepositoryPrefix: aws.String("pause"),
		CustomRoleArn: aws.String("arn:aws:iam::" + accountA + ":role/cache")}))

	// Account B: the shared layer again (its bytes are stored once).
	putImage(t, b, "b/only", dockerManifest(config(b, "b/only", 6), push(b, "b/only", shared)), "latest")

	// Account A's public registry.
	p := s.publicClientAs("AKIAONE", "s1", "us-east-1")
	mustDo(t, "public CreateRepository")(p.CreateRepository(ctx(t), &ecrpublic.CreateRepositoryInput{
		RepositoryName: aws.String("pub/tool"),
		CatalogData: &pubtypes.RepositoryCatalogDataInput{Description: aws.String("a tool"), Architectures: []string{"ARM 64", "x86-64"},
			OperatingSystems: []string{"Linux"}, LogoImageBlob: pngLogo(t), AboutText: aws.String("# About"), UsageText: aws.String("docker pull it")},
		Tags: []pubtypes.Tag{{Key: aws.String("visibility"), Value: aws.String("public")}},
	}))
	mustDo(t, "PutRegistryCatalogData")(p.PutRegistryCatalogData(ctx(t), &ecrpublic.PutRegistryCatalogDataInput{DisplayName: aws.String("Team A")}))
	publicPolicy := `{"Version":"2012-10-17","Statement":[{"Sid":"push","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + accountB + `:root"},"Action":["ecr-public:InitiateLayerUpload","ecr-public:PutImage"]}]}`
	mustDo(t, "public SetRepositoryPolicy")(p.SetRepositoryPolicy(ctx(t), &ecrpublic.SetRepositoryPolicyInput{RepositoryName: aws.String("pub/tool"), PolicyText: aws.String(publicPolicy)}))
	pubLayer := layerBytes(200<<10+1, 105)
	pl := pushPublicBlob(t, p, "pub/tool", pubLayer)
	pc := pushPublicConfig(t, p, "pub/tool", 7)
	m.blobs[pl.Digest], m.where[pl.Digest] = pubLayer, "public:pub/tool"
	m.blobs[pc.Digest], m.where[pc.Digest] = nil, "public:pub/tool" // bytes unknown here: checked by digest
	putPublicImage(t, p, "pub/tool", ociManifest(pc, "pub", pl), "1.0")
	return m
}

// mustDo fails the test when an API call that sets the fixture up fails.
func mustDo(t *testing.T, what string) func(any, error) {
	return func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
}

// answers records every read API's answer, by call, as JSON: the answer's
// output, or the error's code and message.
type answers map[string]string

func (as answers) add(name string, out any, err error) {
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) {
			as[name] = "error " + api.ErrorCode() + ": " + api.ErrorMessage()
		} else {
			as[name] = "error " + err.Error()
		}
		return
	}
	b, jerr := json.Marshal(out)
	if jerr != nil {
		b = []byte(jerr.Error())
	}
	as[name] = string(b)
}

// snapshot asks every read API of both accounts about everything m
// pushed, and pulls every blob through /v2/ (pullBlobs).
func snapshot(t *testing.T, s *server, m migrated, auth map[string]string) answers {
	t.Helper()
	as := answers{}
	alias := ""
	var digests []string
	for d := range m.blobs {
		digests = append(digests, d)
	}
	slices.Sort(digests)
	digests = append(digests, digestOf([]byte("never pushed")))
	for _, acct := range []struct{ name, key, secret string }{{"A", "AKIAONE", "s1"}, {"B", "AKIATWO", "s2"}} {
		c := s.clientAs(acct.key, acct.secret, "us-east-1")
		pre := acct.name + " "
		out, err := c.DescribeRegistry(ctx(t), &ecr.DescribeRegistryInput{})
		as.add(pre+"DescribeRegistry", out, err)
		pol, err := c.GetRegistryPolicy(ctx(t), &ecr.GetRegistryPolicyInput{})
		as.add(pre+"GetRegistryPolicy", pol, err)
		tmpl, err := c.DescribeRepositoryCreationTemplates(ctx(t), &ecr.DescribeRepositoryCreationTemplatesInput{})
		as.add(pre+"DescribeRepositoryCreationTemplates", tmpl, err)
		rules, err := c.DescribePullThroughCacheRules(ctx(t), &ecr.DescribePullThroughCacheRulesInput{})
		as.add(pre+"DescribePullThroughCacheRules", rules, err)
		excl, err := c.ListPullTimeUpdateExclusions(ctx(t), &ecr.ListPullTimeUpdateExclusionsInput{})
		as.add(pre+"ListPullTimeUpdateExclusions", excl, err)
		scanning, err := c.GetRegistryScanningConfiguration(ctx(t), &ecr.GetRegistryScanningConfigurationInput{})
		as.add(pre+"GetRegistryScanningConfiguration", scanning, err)
		signingCfg, err := c.GetSigningConfiguration(ctx(t), &ecr.GetSigningConfigurationInput{})
		as.add(pre+"GetSigningConfiguration", signingCfg, err)
		repos, err := c.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{MaxResults: aws.Int32(1000)})
		as.add(pre+"DescribeRepositories", repos, err)
		if err != nil {
			continue
		}
		for _, r := range repos.Repositories {
			rp := pre + aws.ToString(r.RepositoryName) + " "
			tags, err := c.ListTagsForResource(ctx(t), &ecr.ListTagsForResourceInput{ResourceArn: r.RepositoryArn})
			as.add(rp+"ListTagsForResource", tags, err)
			rpol, err := c.GetRepositoryPolicy(ctx(t), &ecr.GetRepositoryPolicyInput{RepositoryName: r.RepositoryName})
			as.add(rp+"GetRepositoryPolicy", rpol, err)
			lpol, err := c.GetLifecyclePolicy(ctx(t), &ecr.GetLifecyclePolicyInput{RepositoryName: r.RepositoryName})
			as.add(rp+"GetLifecyclePolicy", lpol, err)
			imgs, err := c.DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: r.RepositoryName, MaxResults: aws.Int32(1000)})
			as.add(rp+"DescribeImages", imgs, err)
			list, err := c.ListImages(ctx(t), &ecr.ListImagesInput{RepositoryName: r.RepositoryName, MaxResults: aws.Int32(1000)})
			as.add(rp+"ListImages", list, err)
			if err == nil && len(list.ImageIds) > 0 {
				got, err := c.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RepositoryName: r.RepositoryName, ImageIds: list.ImageIds})
				as.add(rp+"BatchGetImage", got, err)
			}
			bcla, err := c.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: r.RepositoryName, LayerDigests: digests})
			as.add(rp+"BatchCheckLayerAvailability", bcla, err)
		}
		p := s.publicClientAs(acct.key, acct.secret, "us-east-1")
		regs, err := p.DescribeRegistries(ctx(t), &ecrpublic.DescribeRegistriesInput{})
		as.add(pre+"public DescribeRegistries", regs, err)
		if err == nil && acct.name == "A" && len(regs.Registries) == 1 && len(regs.Registries[0].Aliases) > 0 {
			alias = aws.ToString(regs.Registries[0].Aliases[0].Name)
		}
		cat, err := p.GetRegistryCatalogData(ctx(t), &ecrpublic.GetRegistryCatalogDataInput{})
		as.add(pre+"public GetRegistryCatalogData", cat, err)
		prepos, err := p.DescribeRepositories(ctx(t), &ecrpublic.DescribeRepositoriesInput{})
		as.add(pre+"public DescribeRepositories", prepos, err)
		if err != nil {
			continue
		}
		for _, r := range prepos.Repositories {
			rp := pre + "public " + aws.ToString(r.RepositoryName) + " "
			rc, err := p.GetRepositoryCatalogData(ctx(t), &ecrpublic.GetRepositoryCatalogDataInput{RepositoryName: r.RepositoryName})
			as.add(rp+"GetRepositoryCatalogData", rc, err)
			rpol, err := p.GetRepositoryPolicy(ctx(t), &ecrpublic.GetRepositoryPolicyInput{RepositoryName: r.RepositoryName})
			as.add(rp+"GetRepositoryPolicy", rpol, err)
			tags, err := p.ListTagsForResource(ctx(t), &ecrpublic.ListTagsForResourceInput{ResourceArn: r.RepositoryArn})
			as.add(rp+"ListTagsForResource", tags, err)
			imgs, err := p.DescribeImages(ctx(t), &ecrpublic.DescribeImagesInput{RepositoryName: r.RepositoryName})
			as.add(rp+"DescribeImages", imgs, err)
			itags, err := p.DescribeImageTags(ctx(t), &ecrpublic.DescribeImageTagsInput{RepositoryName: r.RepositoryName})
			as.add(rp+"DescribeImageTags", itags, err)
			bcla, err := p.BatchCheckLayerAvailability(ctx(t), &ecrpublic.BatchCheckLayerAvailabilityInput{RepositoryName: r.RepositoryName, LayerDigests: digests})
			as.add(rp+"BatchCheckLayerAvailability", bcla, err)
		}
	}
	pullBlobs(t, s, auth, alias, m, as)
	return as
}

// pullBlobs pulls every blob m pushed through /v2/, recording each
// answer's status and the digest of its body: from a private repository
// with the docker login of its account (auth, by "A" and "B"), from the
// public one anonymously on the public listener, under alias. Every blob
// but the archived image's config must pull.
func pullBlobs(t *testing.T, s *server, auth map[string]string, alias string, m migrated, as answers) {
	t.Helper()
	for d := range m.blobs {
		acct, repo, _ := strings.Cut(m.where[d], ":")
		u, authorization := s.URL+"/v2/"+repo+"/blobs/"+d, auth[acct]
		if acct == "public" {
			u, authorization = publicURL(t, s)+"/v2/"+alias+"/"+repo+"/blobs/"+d, ""
		}
		resp, body := v2Do(t, http.MethodGet, u, authorization, "", nil)
		as["GET "+m.where[d]+" "+d] = fmt.Sprintf("%d %s", resp.StatusCode, digestOf(body))
		if ok := resp.StatusCode == http.StatusOK && digestOf(body) == d; ok == (d == m.archived) {
			t.Errorf("GET %s: %d, %d bytes (%s)", u, resp.StatusCode, len(body), digestOf(body))
		}
	}
}
