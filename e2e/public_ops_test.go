package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic/types"
)

// The public_*_test.go files provoke every exception of the ECR Public
// model (botocore ecr-public/2020-10-30) but two: ServerException, the
// answer to what the server did not expect, which no request can provoke
// (the private ECR tests do not cover it either), and
// ImageTagAlreadyExistsException (see TestPublicImages/PutImage).

// publicRepoARN is the ARN ECR Public gives a test-account repository: no
// region, ECR Public being global.
func publicRepoARN(name string) string {
	return "arn:aws:ecr-public::" + testAccount + ":repository/" + name
}

func TestPublicCreateRepository(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	c := s.publicClient()
	before := time.Now().Add(-time.Second)

	t.Run("Defaults", func(t *testing.T) {
		out, err := c.CreateRepository(ctx(t), &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String("team/app")})
		if err != nil {
			t.Fatal(err)
		}
		r := out.Repository
		for field, v := range map[string][2]string{
			"repositoryArn":  {aws.ToString(r.RepositoryArn), publicRepoARN("team/app")},
			"registryId":     {aws.ToString(r.RegistryId), testAccount},
			"repositoryName": {aws.ToString(r.RepositoryName), "team/app"},
			"repositoryUri":  {aws.ToString(r.RepositoryUri), publicHost(s) + "/" + publicAlias + "/team/app"},
		} {
			if v[0] != v[1] {
				t.Errorf("%s = %q, want %q", field, v[0], v[1])
			}
		}
		if r.CreatedAt == nil || r.CreatedAt.Before(before) || r.CreatedAt.After(time.Now().Add(time.Second)) {
			t.Errorf("createdAt = %v, want about now", r.CreatedAt)
		}
		if cd := out.CatalogData; cd != nil && (cd.LogoUrl != nil || aws.ToString(cd.Description) != "") {
			t.Errorf("catalogData %+v for a repository created without any", cd)
		}
	})

	t.Run("CatalogDataAndLogo", func(t *testing.T) {
		logo := pngLogo(t)
		out, err := c.CreateRepository(ctx(t), &ecrpublic.CreateRepositoryInput{
			RepositoryName: aws.String("team/logo"),
			CatalogData: &types.RepositoryCatalogDataInput{
				Description: aws.String("short"), Architectures: []string{"ARM 64", "x86-64"}, OperatingSystems: []string{"Linux"},
				LogoImageBlob: logo, AboutText: aws.String("# About"), UsageText: aws.String("docker pull it"),
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		cd := out.CatalogData
		if cd == nil || aws.ToString(cd.Description) != "short" || !slices.Equal(cd.Architectures, []string{"ARM 64", "x86-64"}) ||
			!slices.Equal(cd.OperatingSystems, []string{"Linux"}) || aws.ToString(cd.AboutText) != "# About" ||
			aws.ToString(cd.UsageText) != "docker pull it" || cd.MarketplaceCertified == nil || *cd.MarketplaceCertified {
			t.Fatalf("catalogData %+v", cd)
		}
		u := aws.ToString(cd.LogoUrl)
		if !strings.HasPrefix(u, "http://"+publicHost(s)+"/") {
			t.Fatalf("logoUrl %q, want a URL on the public listener %s", u, publicHost(s))
		}
		resp, body := v2Do(t, http.MethodGet, u, "", "", nil)
		if resp.StatusCode != 200 || !bytes.Equal(body, logo) {
			t.Fatalf("GET logoUrl without credentials: %d, %d bytes; want 200 and the logo's %d", resp.StatusCode, len(body), len(logo))
		}
		if ct, csp := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Security-Policy"); ct != "image/png" || !strings.Contains(csp, "sandbox") {
			t.Errorf("logo served as %q with CSP %q; want image/png, sandboxed", ct, csp)
		}
	})

	t.Run("LogoMustBeAnImage", func(t *testing.T) {
		// Served from the public listener, an HTML "logo" would put script
		// on the origin every public registry is pulled from.
		for name, logo := range map[string][]byte{
			"HTML":   []byte("<html><script>alert(document.domain)</script></html>"),
			"Random": layerBytes(3000, 5),
		} {
			_, err := c.CreateRepository(ctx(t), &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String("team/badlogo"),
				CatalogData: &types.RepositoryCatalogDataInput{LogoImageBlob: logo}})
			if _, ok := errors.AsType[*types.InvalidParameterException](err); !ok {
				t.Errorf("%s logo: got %v, want InvalidParameterException", name, err)
			}
		}
	})

	t.Run("AlreadyExists", func(t *testing.T) {
		_, err := c.CreateRepository(ctx(t), &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String("team/app")})
		wantAPIError[*types.RepositoryAlreadyExistsException](t, err, "")
	})

	t.Run("InvalidNames", func(t *testing.T) {
		for _, name := range []string{"Bad_Name", "a", "-x", "a//b", "x/"} {
			_, err := c.CreateRepository(ctx(t), &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String(name)})
			wantAPIError[*types.InvalidParameterException](t, err, "")
		}
	})

	t.Run("InvalidCatalogData", func(t *testing.T) {
		for name, cd := range map[string]*types.RepositoryCatalogDataInput{
			"Description":  {Description: aws.String(strings.Repeat("d", 1025))},
			"AboutText":    {AboutText: aws.String(strings.Repeat("a", 25601))},
			"Architecture": {Architectures: []string{strings.Repeat("x", 51)}},
			"Logo":         {LogoImageBlob: make([]byte, 512001)},
		} {
			_, err := c.CreateRepository(ctx(t), &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String("bad/catalog"), CatalogData: cd})
			if _, ok := errors.AsType[*types.InvalidParameterException](err); !ok {
				t.Errorf("%s: got %v, want InvalidParameterException", name, err)
			}
		}
		_, err := c.DescribeRepositories(ctx(t), &ecrpublic.DescribeRepositoriesInput{RepositoryNames: []string{"bad/catalog"}})
		wantAPIError[*types.RepositoryNotFoundException](t, err, "")
	})

	t.Run("Tags", func(t *testing.T) {
		many := make([]types.Tag, 51)
		for i := range many {
			many[i] = types.Tag{Key: aws.String(fmt.Sprintf("k%d", i)), Value: aws.String("v")}
		}
		_, err := c.CreateRepository(ctx(t), &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String("tags/many"), Tags: many})
		wantAPIError[*types.TooManyTagsException](t, err, "")
		_, err = c.CreateRepository(ctx(t), &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String("tags/aws"),
			Tags: []types.Tag{{Key: aws.String("aws:reserved"), Value: aws.String("v")}}})
		wantAPIError[*types.InvalidTagParameterException](t, err, "")
		_, err = c.DescribeRepositories(ctx(t), &ecrpublic.DescribeRepositoriesInput{RepositoryNames: []string{"tags/many"}})
		wantAPIError[*types.RepositoryNotFoundException](t, err, "")
		out, err := c.CreateRepository(ctx(t), &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String("tags/kept"),
			Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("infra")}}})
		if err != nil {
			t.Fatal(err)
		}
		tags, err := c.ListTagsForResource(ctx(t), &ecrpublic.ListTagsForResourceInput{ResourceArn: out.Repository.RepositoryArn})
		if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" || aws.ToString(tags.Tags[0].Value) != "infra" {
			t.Fatalf("tags %+v, %v; want team=infra", tags, err)
		}
	})
}

func TestPublicDescribeRepositories(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	c := s.publicClient()
	names := []string{"a/one", "b/two", "c/three", "d/four", "e/five"}
	createPublicRepos(t, c, names...)

	t.Run("ByName", func(t *testing.T) {
		out, err := c.DescribeRepositories(ctx(t), &ecrpublic.DescribeRepositoriesInput{RepositoryNames: []string{"c/three", "a/one"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Repositories) != 2 || aws.ToString(out.Repositories[0].RepositoryName) != "c/three" || out.NextToken != nil {
			t.Fatalf("got %+v", out)
		}
		r := out.Repositories[1]
		if aws.ToString(r.RepositoryArn) != publicRepoARN("a/one") || aws.ToString(r.RepositoryUri) != publicHost(s)+"/ecrd/a/one" || aws.ToString(r.RegistryId) != testAccount {
			t.Errorf("repository %+v", r)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		_, err := c.DescribeRepositories(ctx(t), &ecrpublic.DescribeRepositoriesInput{RepositoryNames: []string{"a/one", "nope"}})
		wantAPIError[*types.RepositoryNotFoundException](t, err, "")
	})

	t.Run("Paginated", func(t *testing.T) {
		var got []string
		pages := 0
		p := ecrpublic.NewDescribeRepositoriesPaginator(c, &ecrpublic.DescribeRepositoriesInput{MaxResults: aws.Int32(2)})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if len(out.Repositories) > 2 {
				t.Fatalf("page of %d repositories, want at most 2", len(out.Repositories))
			}
			for _, r := range out.Repositories {
				got = append(got, aws.ToString(r.RepositoryName))
			}
		}
		if pages != 3 || strings.Join(got, ",") != strings.Join(names, ",") {
			t.Fatalf("got %v in %d pages, want %v in 3", got, pages, names)
		}
	})

	t.Run("NamesWithToken", func(t *testing.T) {
		first, err := c.DescribeRepositories(ctx(t), &ecrpublic.DescribeRepositoriesInput{MaxResults: aws.Int32(1)})
		if err != nil || first.NextToken == nil {
			t.Fatalf("first page: %+v, %v", first, err)
		}
		_, err = c.DescribeRepositories(ctx(t), &ecrpublic.DescribeRepositoriesInput{RepositoryNames: []string{"a/one"}, NextToken: first.NextToken})
		wantAPIError[*types.InvalidParameterException](t, err, "")
	})
}

func TestPublicDeleteRepository(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	c := s.publicClient()
	createPublicRepos(t, c, "empty/repo", "full/repo")
	cfg := pushPublicConfig(t, c, "full/repo", 1)
	putPublicImage(t, c, "full/repo", ociManifest(cfg, "x"), "v1")

	out, err := c.DeleteRepository(ctx(t), &ecrpublic.DeleteRepositoryInput{RepositoryName: aws.String("empty/repo")})
	if err != nil || aws.ToString(out.Repository.RepositoryName) != "empty/repo" || aws.ToString(out.Repository.RepositoryArn) != publicRepoARN("empty/repo") {
		t.Fatalf("DeleteRepository empty/repo: %+v, %v", out, err)
	}
	_, err = c.DescribeRepositories(ctx(t), &ecrpublic.DescribeRepositoriesInput{RepositoryNames: []string{"empty/repo"}})
	wantAPIError[*types.RepositoryNotFoundException](t, err, "")
	_, err = c.DeleteRepository(ctx(t), &ecrpublic.DeleteRepositoryInput{RepositoryName: aws.String("full/repo")})
	wantAPIError[*types.RepositoryNotEmptyException](t, err, "")
	if _, err := c.DeleteRepository(ctx(t), &ecrpublic.DeleteRepositoryInput{RepositoryName: aws.String("full/repo"), Force: true}); err != nil {
		t.Fatalf("forced delete: %v", err)
	}
	_, err = c.DescribeImages(ctx(t), &ecrpublic.DescribeImagesInput{RepositoryName: aws.String("full/repo")})
	wantAPIError[*types.RepositoryNotFoundException](t, err, "")
	_, err = c.DeleteRepository(ctx(t), &ecrpublic.DeleteRepositoryInput{RepositoryName: aws.String("never/was")})
	wantAPIError[*types.RepositoryNotFoundException](t, err, "")
}

func TestPublicRegistries(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	c := s.publicClient()

	out, err := c.DescribeRegistries(ctx(t), &ecrpublic.DescribeRegistriesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Registries) != 1 {
		t.Fatalf("registries %+v, want the caller's one", out.Registries)
	}
	r := out.Registries[0]
	if aws.ToString(r.RegistryId) != testAccount || aws.ToString(r.RegistryArn) != "arn:aws:ecr-public::"+testAccount+":registry/"+testAccount ||
		aws.ToString(r.RegistryUri) != publicHost(s)+"/"+publicAlias || r.Verified == nil || *r.Verified {
		t.Errorf("registry %+v", r)
	}
	want := types.RegistryAlias{Name: aws.String(publicAlias), Status: types.RegistryAliasStatusActive, PrimaryRegistryAlias: true, DefaultRegistryAlias: true}
	if len(r.Aliases) != 1 || aws.ToString(r.Aliases[0].Name) != aws.ToString(want.Name) || r.Aliases[0].Status != want.Status ||
		!r.Aliases[0].PrimaryRegistryAlias || !r.Aliases[0].DefaultRegistryAlias {
		t.Errorf("aliases %+v, want [%+v]", r.Aliases, want)
	}

	get, err := c.GetRegistryCatalogData(ctx(t), &ecrpublic.GetRegistryCatalogDataInput{})
	if err != nil || get.RegistryCatalogData == nil || aws.ToString(get.RegistryCatalogData.DisplayName) != "" {
		t.Fatalf("initial registry catalog data: %+v, %v; want displayName \"\"", get, err)
	}
	put, err := c.PutRegistryCatalogData(ctx(t), &ecrpublic.PutRegistryCatalogDataInput{DisplayName: aws.String("My Registry")})
	if err != nil || aws.ToString(put.RegistryCatalogData.DisplayName) != "My Registry" {
		t.Fatalf("PutRegistryCatalogData: %+v, %v", put, err)
	}
	get, err = c.GetRegistryCatalogData(ctx(t), &ecrpublic.GetRegistryCatalogDataInput{})
	if err != nil || aws.ToString(get.RegistryCatalogData.DisplayName) != "My Registry" {
		t.Fatalf("registry catalog data after put: %+v, %v", get, err)
	}
	_, err = c.PutRegistryCatalogData(ctx(t), &ecrpublic.PutRegistryCatalogDataInput{DisplayName: aws.String(strings.Repeat("n", 101))})
	wantAPIError[*types.InvalidParameterException](t, err, "")
}

func TestPublicRepositoryCatalogData(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	c := s.publicClient()
	createPublicRepos(t, c, "cat/repo")
	repo := aws.String("cat/repo")

	_, err := c.GetRepositoryCatalogData(ctx(t), &ecrpublic.GetRepositoryCatalogDataInput{RepositoryName: repo})
	wantAPIError[*types.RepositoryCatalogDataNotFoundException](t, err, "")
	first := &types.RepositoryCatalogDataInput{Description: aws.String("first"), Architectures: []string{"ARM"}, UsageText: aws.String("use"), LogoImageBlob: jpegLogo(t)}
	put, err := c.PutRepositoryCatalogData(ctx(t), &ecrpublic.PutRepositoryCatalogDataInput{RepositoryName: repo, CatalogData: first})
	if err != nil || aws.ToString(put.CatalogData.Description) != "first" || put.CatalogData.LogoUrl == nil {
		t.Fatalf("PutRepositoryCatalogData: %+v, %v; want the data with a logoUrl", put, err)
	}
	// A put replaces all of it: fields it leaves out are gone.
	second := &types.RepositoryCatalogDataInput{Description: aws.String("second"), OperatingSystems: []string{"Windows"}}
	put, err = c.PutRepositoryCatalogData(ctx(t), &ecrpublic.PutRepositoryCatalogDataInput{RepositoryName: repo, CatalogData: second})
	if err != nil || aws.ToString(put.CatalogData.Description) != "second" {
		t.Fatalf("PutRepositoryCatalogData: %+v, %v", put, err)
	}
	get, err := c.GetRepositoryCatalogData(ctx(t), &ecrpublic.GetRepositoryCatalogDataInput{RepositoryName: repo})
	if err != nil {
		t.Fatal(err)
	}
	cd := get.CatalogData
	if aws.ToString(cd.Description) != "second" || !slices.Equal(cd.OperatingSystems, []string{"Windows"}) ||
		len(cd.Architectures) != 0 || aws.ToString(cd.UsageText) != "" || cd.LogoUrl != nil {
		t.Errorf("catalogData %+v, want exactly the second put", cd)
	}
	_, err = c.PutRepositoryCatalogData(ctx(t), &ecrpublic.PutRepositoryCatalogDataInput{RepositoryName: repo,
		CatalogData: &types.RepositoryCatalogDataInput{Description: aws.String(strings.Repeat("d", 1025))}})
	wantAPIError[*types.InvalidParameterException](t, err, "")
	_, err = c.GetRepositoryCatalogData(ctx(t), &ecrpublic.GetRepositoryCatalogDataInput{RepositoryName: aws.String("no/such")})
	wantAPIError[*types.RepositoryNotFoundException](t, err, "")
	_, err = c.PutRepositoryCatalogData(ctx(t), &ecrpublic.PutRepositoryCatalogDataInput{RepositoryName: aws.String("no/such"), CatalogData: first})
	wantAPIError[*types.RepositoryNotFoundException](t, err, "")
}

func TestPublicRepositoryPolicy(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	c := s.publicClient()
	createPublicRepos(t, c, "pol/repo")
	repo := aws.String("pol/repo")
	const policy = `{"Version":"2012-10-17","Statement":[{"Sid":"x","Effect":"Allow","Principal":"*","Action":"ecr-public:BatchCheckLayerAvailability"}]}`

	_, err := c.GetRepositoryPolicy(ctx(t), &ecrpublic.GetRepositoryPolicyInput{RepositoryName: repo})
	wantAPIError[*types.RepositoryPolicyNotFoundException](t, err, "")
	set, err := c.SetRepositoryPolicy(ctx(t), &ecrpublic.SetRepositoryPolicyInput{RepositoryName: repo, PolicyText: aws.String(policy)})
	if err != nil || aws.ToString(set.RegistryId) != testAccount || aws.ToString(set.RepositoryName) != "pol/repo" || aws.ToString(set.PolicyText) != policy {
		t.Fatalf("SetRepositoryPolicy: %+v, %v", set, err)
	}
	get, err := c.GetRepositoryPolicy(ctx(t), &ecrpublic.GetRepositoryPolicyInput{RepositoryName: repo})
	if err != nil || aws.ToString(get.PolicyText) != policy || aws.ToString(get.RepositoryName) != "pol/repo" {
		t.Fatalf("GetRepositoryPolicy: %+v, %v", get, err)
	}
	for _, bad := range []string{`not json`, `{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Principal":"*","Action":"ecr-public:*"}]}`} {
		_, err := c.SetRepositoryPolicy(ctx(t), &ecrpublic.SetRepositoryPolicyInput{RepositoryName: repo, PolicyText: aws.String(bad)})
		wantAPIError[*types.InvalidParameterException](t, err, "")
	}
	del, err := c.DeleteRepositoryPolicy(ctx(t), &ecrpublic.DeleteRepositoryPolicyInput{RepositoryName: repo})
	if err != nil || aws.ToString(del.PolicyText) != policy {
		t.Fatalf("DeleteRepositoryPolicy: %+v, %v; want the deleted text", del, err)
	}
	_, err = c.DeleteRepositoryPolicy(ctx(t), &ecrpublic.DeleteRepositoryPolicyInput{RepositoryName: repo})
	wantAPIError[*types.RepositoryPolicyNotFoundException](t, err, "")
	_, err = c.GetRepositoryPolicy(ctx(t), &ecrpublic.GetRepositoryPolicyInput{RepositoryName: repo})
	wantAPIError[*types.RepositoryPolicyNotFoundException](t, err, "")
	_, err = c.SetRepositoryPolicy(ctx(t), &ecrpublic.SetRepositoryPolicyInput{RepositoryName: aws.String("no/such"), PolicyText: aws.String(policy)})
	wantAPIError[*types.RepositoryNotFoundException](t, err, "")
}

// pngLogo and jpegLogo are small real images, as logos must be.
func pngLogo(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, logoImage()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegLogo(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, logoImage(), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func logoImage() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for x := range 16 {
		img.Set(x, x, color.RGBA{R: 200, A: 255})
	}
	return img
}
