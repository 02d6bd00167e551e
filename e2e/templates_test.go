package e2e

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"

	"github.com/ecrd/ecrd/internal/config"
)

const templateLifecycle = `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}`

func createTemplate(t *testing.T, c *ecr.Client, in *ecr.CreateRepositoryCreationTemplateInput) *types.RepositoryCreationTemplate {
	t.Helper()
	out, err := c.CreateRepositoryCreationTemplate(ctx(t), in)
	if err != nil {
		t.Fatalf("CreateRepositoryCreationTemplate %s: %v", aws.ToString(in.Prefix), err)
	}
	return out.RepositoryCreationTemplate
}

func onPush(prefix string, mutability types.ImageTagMutability) *ecr.CreateRepositoryCreationTemplateInput {
	return &ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String(prefix), ImageTagMutability: mutability,
		AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush}}
}

// TestCreationTemplateOperations: the four operations, with ECR's
// defaults, limits and errors (ecr-semantics-2.md §3.3, 1 to 4).
func TestCreationTemplateOperations(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	c := s.client()
	before := time.Now().Add(-time.Second)
	prod := createTemplate(t, c, &ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("prod"), Description: aws.String("production"),
		AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForPullThroughCache}, LifecyclePolicy: aws.String(templateLifecycle)})
	if aws.ToString(prod.Prefix) != "prod" || prod.ImageTagMutability != types.ImageTagMutabilityMutable ||
		prod.EncryptionConfiguration == nil || prod.EncryptionConfiguration.EncryptionType != types.EncryptionTypeAes256 ||
		prod.CreatedAt == nil || prod.CreatedAt.Before(before) || !prod.UpdatedAt.Equal(*prod.CreatedAt) ||
		aws.ToString(prod.Description) != "production" || len(prod.AppliedFor) != 1 || aws.ToString(prod.LifecyclePolicy) == "" {
		t.Fatalf("created template: %+v", prod)
	}
	_, err := c.CreateRepositoryCreationTemplate(ctx(t), onPush("prod", ""))
	wantCode(t, err, "TemplateAlreadyExistsException", "The repository creation template already exists. Specify a unique prefix and try again.")
	createTemplate(t, c, onPush("ROOT", types.ImageTagMutabilityImmutable))
	createTemplate(t, c, onPush("prod/team", ""))

	t.Run("Refused", func(t *testing.T) {
		for name, in := range map[string]*ecr.CreateRepositoryCreationTemplateInput{
			"no appliedFor":        {Prefix: aws.String("x"), AppliedFor: []types.RCTAppliedFor{}},
			"appliedFor FOO":       {Prefix: aws.String("x"), AppliedFor: []types.RCTAppliedFor{"FOO"}},
			"prefix Prod":          {Prefix: aws.String("Prod"), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush}},
			"bad lifecycle policy": {Prefix: aws.String("x"), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush}, LifecyclePolicy: aws.String(`{"rules":[]}`)},
			"bad repository policy": {Prefix: aws.String("x"), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush},
				RepositoryPolicy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow"}]}`)},
			"exclusions without _WITH_EXCLUSION": {Prefix: aws.String("x"), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush},
				ImageTagMutability: types.ImageTagMutabilityImmutable, ImageTagMutabilityExclusionFilters: []types.ImageTagMutabilityExclusionFilter{{FilterType: "WILDCARD", Filter: aws.String("dev-*")}}},
			"kmsKey with AES256": {Prefix: aws.String("x"), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush},
				EncryptionConfiguration: &types.EncryptionConfigurationForRepositoryCreationTemplate{EncryptionType: types.EncryptionTypeAes256, KmsKey: aws.String("arn:aws:kms:us-east-1:" + testAccount + ":key/k")}},
			"another account's role": {Prefix: aws.String("x"), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush}, CustomRoleArn: aws.String("arn:aws:iam::999999999999:role/ecr")},
			"a reserved tag key": {Prefix: aws.String("x"), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush},
				ResourceTags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}},
		} {
			_, err := c.CreateRepositoryCreationTemplate(ctx(t), in)
			if err == nil {
				t.Errorf("%s: created", name)
				continue
			}
			var code string
			var ae smithy.APIError
			if errors.As(err, &ae) {
				code = ae.ErrorCode()
			}
			if code != "InvalidParameterException" && code != "ValidationException" && code != "InvalidTagParameterException" {
				t.Errorf("%s: %v; want a validation error", name, err)
			}
		}
		out, err := c.DescribeRepositoryCreationTemplates(ctx(t), &ecr.DescribeRepositoryCreationTemplatesInput{Prefixes: []string{"x"}})
		if err != nil || len(out.RepositoryCreationTemplates) != 0 {
			t.Errorf("after the refusals: %+v, %v; want no template x", out, err)
		}
	})

	t.Run("Describe", func(t *testing.T) {
		out, err := c.DescribeRepositoryCreationTemplates(ctx(t), &ecr.DescribeRepositoryCreationTemplatesInput{})
		if err != nil || aws.ToString(out.RegistryId) != testAccount || len(out.RepositoryCreationTemplates) != 3 || out.NextToken != nil {
			t.Fatalf("Describe all: %+v, %v", out, err)
		}
		for i, want := range []string{"ROOT", "prod", "prod/team"} {
			if got := aws.ToString(out.RepositoryCreationTemplates[i].Prefix); got != want {
				t.Errorf("template %d is %s, want %s", i, got, want)
			}
		}
		one, err := c.DescribeRepositoryCreationTemplates(ctx(t), &ecr.DescribeRepositoryCreationTemplatesInput{Prefixes: []string{"prod", "nosuch"}})
		if err != nil || len(one.RepositoryCreationTemplates) != 1 || aws.ToString(one.RepositoryCreationTemplates[0].Prefix) != "prod" {
			t.Fatalf("Describe prod: %+v, %v", one, err)
		}
		var prefixes []string
		p := ecr.NewDescribeRepositoryCreationTemplatesPaginator(c, &ecr.DescribeRepositoryCreationTemplatesInput{MaxResults: aws.Int32(1)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			if len(page.RepositoryCreationTemplates) != 1 {
				t.Fatalf("a page of %d", len(page.RepositoryCreationTemplates))
			}
			prefixes = append(prefixes, aws.ToString(page.RepositoryCreationTemplates[0].Prefix))
		}
		if len(prefixes) != 3 {
			t.Errorf("paged through %v", prefixes)
		}
		_, err = c.DescribeRepositoryCreationTemplates(ctx(t), &ecr.DescribeRepositoryCreationTemplatesInput{NextToken: aws.String("forged")})
		wantCode(t, err, "InvalidParameterException", "nextToken")
	})

	t.Run("Update", func(t *testing.T) {
		out, err := c.UpdateRepositoryCreationTemplate(ctx(t), &ecr.UpdateRepositoryCreationTemplateInput{Prefix: aws.String("prod"),
			ImageTagMutability:                 types.ImageTagMutabilityImmutableWithExclusion,
			ImageTagMutabilityExclusionFilters: []types.ImageTagMutabilityExclusionFilter{{FilterType: "WILDCARD", Filter: aws.String("latest")}}})
		if err != nil {
			t.Fatal(err)
		}
		u := out.RepositoryCreationTemplate
		// What the update does not name stays.
		if u.ImageTagMutability != types.ImageTagMutabilityImmutableWithExclusion || len(u.ImageTagMutabilityExclusionFilters) != 1 ||
			aws.ToString(u.Description) != "production" || aws.ToString(u.LifecyclePolicy) != aws.ToString(prod.LifecyclePolicy) ||
			!u.CreatedAt.Equal(*prod.CreatedAt) || u.UpdatedAt.Before(*u.CreatedAt) {
			t.Fatalf("updated template: %+v", u)
		}
		_, err = c.UpdateRepositoryCreationTemplate(ctx(t), &ecr.UpdateRepositoryCreationTemplateInput{Prefix: aws.String("nosuch"), Description: aws.String("x")})
		wantCode(t, err, "TemplateNotFoundException", "The specified repository creation template can't be found.")
		_, err = c.UpdateRepositoryCreationTemplate(ctx(t), &ecr.UpdateRepositoryCreationTemplateInput{Prefix: aws.String("prod"), LifecyclePolicy: aws.String("{")})
		wantCode(t, err, "InvalidParameterException", "")
	})

	t.Run("Delete", func(t *testing.T) {
		out, err := c.DeleteRepositoryCreationTemplate(ctx(t), &ecr.DeleteRepositoryCreationTemplateInput{Prefix: aws.String("prod/team")})
		if err != nil || aws.ToString(out.RepositoryCreationTemplate.Prefix) != "prod/team" || out.RepositoryCreationTemplate.AppliedFor[0] != types.RCTAppliedForCreateOnPush {
			t.Fatalf("Delete: %+v, %v", out, err)
		}
		_, err = c.DeleteRepositoryCreationTemplate(ctx(t), &ecr.DeleteRepositoryCreationTemplateInput{Prefix: aws.String("prod/team")})
		wantCode(t, err, "TemplateNotFoundException", "")
	})
}

// TestCreateOnPush: a push to a missing repository creates it from the
// CREATE_ON_PUSH template with the longest matching prefix (ROOT last),
// through /v2/ and the API alike, with the template's settings and
// policies; nothing else creates (ecr-semantics-2.md §3.3, 5 to 9).
func TestCreateOnPush(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	c := s.client()
	policy := `{"Version":"2012-10-17","Statement":[{"Sid":"Pull","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}]}`
	prod := onPush("prod", types.ImageTagMutabilityImmutable)
	prod.RepositoryPolicy, prod.LifecyclePolicy = aws.String(policy), aws.String(templateLifecycle)
	createTemplate(t, c, prod)
	createTemplate(t, c, onPush("prod/team", types.ImageTagMutabilityMutable))
	createTemplate(t, c, &ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("cache"),
		AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForPullThroughCache, types.RCTAppliedForReplication}})
	tagged := onPush("tagged", "")
	tagged.ResourceTags = []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}
	createTemplate(t, c, tagged)
	roled := onPush("roled", "")
	roled.ResourceTags, roled.CustomRoleArn = tagged.ResourceTags, aws.String("arn:aws:iam::"+testAccount+":role/ecr-templates")
	createTemplate(t, c, roled)

	base, auth := s.URL, privateBasic(t, c)
	cfgData := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}}`)
	pushV2 := func(name string) (*http.Response, []byte) {
		resp, body := v2Do(t, http.MethodPost, base+"/v2/"+name+"/blobs/uploads/", auth, "", nil)
		if resp.StatusCode != http.StatusAccepted {
			return resp, body
		}
		cfg := v2PushBlob(t, base, auth, name, cfgData)
		v2PutManifest(t, base, auth, name, "v1", ociManifestType, ociManifest(cfg, name))
		return resp, body
	}
	repo := func(name string) (types.Repository, bool) {
		out, err := c.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{name}})
		if err != nil {
			wantCode(t, err, "RepositoryNotFoundException", "")
			return types.Repository{}, false
		}
		return out.Repositories[0], true
	}

	// The longest prefix wins; /v2/ and the API both create.
	if resp, body := pushV2("prod/team/app"); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("push to prod/team/app: %d %s", resp.StatusCode, body)
	}
	if r, ok := repo("prod/team/app"); !ok || r.ImageTagMutability != types.ImageTagMutabilityMutable {
		t.Errorf("prod/team/app: %+v, %v; want MUTABLE from prod/team", r, ok)
	}
	cfg := pushConfig(t, c, "prod/x", 3)
	putImage(t, c, "prod/x", ociManifest(cfg, "api"), "v1")
	if r, ok := repo("prod/x"); !ok || r.ImageTagMutability != types.ImageTagMutabilityImmutable {
		t.Errorf("prod/x: %+v, %v; want IMMUTABLE from prod", r, ok)
	}
	// The template's policies are the new repository's.
	pol, err := c.GetRepositoryPolicy(ctx(t), &ecr.GetRepositoryPolicyInput{RepositoryName: aws.String("prod/x")})
	if err != nil || aws.ToString(pol.PolicyText) != policy {
		t.Errorf("prod/x's repository policy: %+v, %v", pol, err)
	}
	lc, err := c.GetLifecyclePolicy(ctx(t), &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String("prod/x")})
	if err != nil || aws.ToString(lc.LifecyclePolicyText) == "" {
		t.Errorf("prod/x's lifecycle policy: %+v, %v", lc, err)
	}
	// "prod" has an implied '/': a repository named production is not
	// under it, and with no ROOT template nothing creates it.
	for _, name := range []string{"production/x", "other/x", "cache/x"} {
		resp, body := pushV2(name)
		wantV2Error(t, "push to "+name, resp, body, http.StatusNotFound, "NAME_UNKNOWN")
		_, err := c.InitiateLayerUpload(ctx(t), &ecr.InitiateLayerUploadInput{RepositoryName: aws.String(name)})
		wantCode(t, err, "RepositoryNotFoundException", "")
		if _, ok := repo(name); ok {
			t.Errorf("%s was created", name)
		}
	}
	// Reads never create.
	resp, body := v2Do(t, http.MethodGet, base+"/v2/prod/read/manifests/v1", auth, "", nil)
	wantV2Error(t, "GET under prod", resp, body, http.StatusNotFound, "NAME_UNKNOWN")
	_, err = c.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String("prod/read"), LayerDigests: []string{cfg.Digest}})
	wantCode(t, err, "RepositoryNotFoundException", "")
	if _, ok := repo("prod/read"); ok {
		t.Error("a read created prod/read")
	}
	// Tags need a customRoleArn to apply them with.
	resp, body = pushV2("tagged/app")
	wantV2Error(t, "push under a template with tags and no role", resp, body, http.StatusForbidden, "DENIED")
	_, err = c.InitiateLayerUpload(ctx(t), &ecr.InitiateLayerUploadInput{RepositoryName: aws.String("tagged/app")})
	wantCode(t, err, "AccessDeniedException", "need its customRoleArn")
	if _, ok := repo("tagged/app"); ok {
		t.Error("tagged/app was created without a role")
	}
	if resp, body := pushV2("roled/app"); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("push to roled/app: %d %s", resp.StatusCode, body)
	}
	r, _ := repo("roled/app")
	tags, err := c.ListTagsForResource(ctx(t), &ecr.ListTagsForResourceInput{ResourceArn: r.RepositoryArn})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" {
		t.Errorf("roled/app's tags: %+v, %v", tags, err)
	}
	// A template changed later changes no repository made from it.
	if _, err := c.DeleteRepositoryCreationTemplate(ctx(t), &ecr.DeleteRepositoryCreationTemplateInput{Prefix: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	if r, ok := repo("prod/x"); !ok || r.ImageTagMutability != types.ImageTagMutabilityImmutable {
		t.Errorf("prod/x after its template went: %+v, %v", r, ok)
	}
}

// TestCreateOnPushFlag: --create-on-push is a default ROOT template for
// pushes: any push creates its repository with ECR's defaults, and a
// stored template that applies takes precedence.
func TestCreateOnPushFlag(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", func(c *config.Config) { c.Images.CreateOnPush = true })
	c := s.client()
	createTemplate(t, c, onPush("locked", types.ImageTagMutabilityImmutable))
	for name, want := range map[string]types.ImageTagMutability{"any/repo": types.ImageTagMutabilityMutable, "locked/repo": types.ImageTagMutabilityImmutable} {
		cfg := pushConfig(t, c, name, 1)
		putImage(t, c, name, ociManifest(cfg, name), "v1")
		out, err := c.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{name}})
		if err != nil || out.Repositories[0].ImageTagMutability != want {
			t.Errorf("%s: %+v, %v; want %s", name, out, err, want)
		}
	}
}

// TestCreateOnPushAuthorized: creating on push is a CreateRepository by
// the pusher, decided by the policies as CreateRepository is: a user who
// may push but not create is refused with ecr:CreateRepository's denial,
// and nothing is created.
func TestCreateOnPushAuthorized(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "credentials.json")
	push := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:InitiateLayerUpload","ecr:UploadLayerPart",
		"ecr:CompleteLayerUpload","ecr:PutImage","ecr:BatchCheckLayerAvailability"],"Resource":"*"}]}`
	body := `{"credentials": [{"accountId": "` + accountA + `", "accessKeyId": "AKIDA", "secretAccessKey": "secretA"}],
	 "users": [{"accountId": "` + accountA + `", "name": "pusher", "policies": [` + push + `], "accessKeys": [{"accessKeyId": "AKIDPUSH", "secretAccessKey": "s"}]}]}`
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "", func(c *config.Config) { c.Auth.CredentialsFile = path })
	admin, pusher := s.clientAs("AKIDA", "secretA", "us-east-1"), s.clientAs("AKIDPUSH", "s", "us-east-1")
	createTemplate(t, admin, onPush("ROOT", ""))
	_, err := pusher.InitiateLayerUpload(ctx(t), &ecr.InitiateLayerUploadInput{RepositoryName: aws.String("new/app")})
	wantDenied(t, err, denial(userARN(accountA, "pusher"), "ecr:CreateRepository", "arn:aws:ecr:us-east-1:"+accountA+":repository/new/app",
		noIdentityAllows("ecr:CreateRepository")))
	resp, _ := v2Do(t, http.MethodPost, s.URL+"/v2/new/app/blobs/uploads/", privateBasic(t, pusher), "", nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("/v2/ push by a user who may not create: %d, want 403", resp.StatusCode)
	}
	if _, err := admin.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"new/app"}}); err == nil {
		t.Fatal("new/app was created")
	}
	// The administrator's push creates it; then the user pushes into it.
	if _, err := admin.InitiateLayerUpload(ctx(t), &ecr.InitiateLayerUploadInput{RepositoryName: aws.String("new/app")}); err != nil {
		t.Fatal(err)
	}
	if _, err := pusher.InitiateLayerUpload(ctx(t), &ecr.InitiateLayerUploadInput{RepositoryName: aws.String("new/app")}); err != nil {
		t.Fatalf("the user's push once the repository exists: %v", err)
	}
}
