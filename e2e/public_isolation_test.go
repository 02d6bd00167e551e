package e2e

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic/types"

	"github.com/ecrd/ecrd/internal/config"
)

// publicOp is one ECR Public operation called with a minimal valid input.
type publicOp struct {
	name string
	call func(context.Context, *ecrpublic.Client) error
}

// publicOps lists every operation of the ECR Public model.
func publicOps() []publicOp {
	repo, id := aws.String("any/repo"), aws.String("0b7c7e5e-1f3a-4c1e-9d1a-2b3c4d5e6f70")
	arn := aws.String(publicRepoARN("any/repo"))
	d := digestOf([]byte("x"))
	ids := []types.ImageIdentifier{pubByTag("v1")}
	op := func(name string, f func(context.Context, *ecrpublic.Client) (any, error)) publicOp {
		return publicOp{name, func(ctx context.Context, c *ecrpublic.Client) error { _, err := f(ctx, c); return err }}
	}
	return []publicOp{
		op("BatchCheckLayerAvailability", func(x context.Context, c *ecrpublic.Client) (any, error) {
			return c.BatchCheckLayerAvailability(x, &ecrpublic.BatchCheckLayerAvailabilityInput{RepositoryName: repo, LayerDigests: []string{d}})
		}),
		op("BatchDeleteImage", func(x context.Context, c *ecrpublic.Client) (any, error) {
			return c.BatchDeleteImage(x, &ecrpublic.BatchDeleteImageInput{RepositoryName: repo, ImageIds: ids})
		}),
		op("CompleteLayerUpload", func(x context.Context, c *ecrpublic.Client) (any, error) {
			return c.CompleteLayerUpload(x, &ecrpublic.CompleteLayerUploadInput{RepositoryName: repo, UploadId: id, LayerDigests: []string{d}})
		}),
		op("CreateRepository", func(x context.Context, c *ecrpublic.Client) (any, error) {
			return c.CreateRepository(x, &ecrpublic.CreateRepositoryInput{RepositoryName: repo})
		}),
		op("DeleteRepository", func(x context.Context, c *ecrpublic.Client) (any, error) {
			return c.DeleteRepository(x, &ecrpublic.DeleteRepositoryInput{RepositoryName: repo})
		}),
		op("DeleteRepositoryPolicy", func(x context.Context, c *ecrpublic.Client) (any, error) {
			return c.DeleteRepositoryPolicy(x, &ecrpublic.DeleteRepositoryPolicyInput{RepositoryName: repo})
		}),
		op("DescribeImageTags", func(x context.Context, c *ecrpublic.Client) (any, error) {
			return c.DescribeImageTags(x, &ecrpublic.DescribeImageTagsInput{RepositoryName: repo})
		}),
		op("DescribeImages", func(x context.Context, c *ecrpublic.Client) (any, error) {
			return c.DescribeImages(x, &ecrpublic.DescribeImagesInput{RepositoryName: repo})
		}),
		op("DescribeRegistries", func(x context.Context, c *ecrpublic.Client) (any, error) {
			return c.DescribeRegistries(x, &ecrpublic.DescribeRegistriesInput{})
		}),
		op("DescribeRepositories", func(x context.Context, c *ecrpublic.Client) (any, error) {
			return c.DescribeRepositories(x, &ecrpublic.DescribeRepositoriesInput{})
		}),
		op("GetAuthorizationToken", func(x context.Context, c *ecrpublic.Client) (any, error) {
			return c.GetAuthorizationToken(x, &ecrpublic.GetAuthorizationTokenInput{})
		}),
		op("GetRegistryCatalogData", func(x context.Context, c *ecrpublic.Client) (any, error) {
			return c.GetRegistryCatalogData(x, &ecrpublic.GetRegistryCatalogDataInput{})
		}),
		op("GetRepositoryCatalogData", func(x context.Context, c *ecrpublic.Client) (any, error) {
			return c.GetRepositoryCatalogData(x, &ecrpublic.GetRepositoryCatalogDataInput{RepositoryName: repo})
		}),
		op("GetRepositoryPolicy", func(x context.Context, c *ecrpublic.Client) (any, error) {
			return c.GetRepositoryPolicy(x, &ecrpublic.GetRepositoryPolicyInput{RepositoryName: repo})
		}),
		op("InitiateLayerUpload", func(x context.Context, c *ecrpublic.Client) (any, error) {
			return c.InitiateLayerUpload(x, &ecrpublic.InitiateLayerUploadInput{RepositoryName: repo})
		}),
		op("ListTagsForResource", func(x context.Context, c *ecrpublic.Client) (any, error) {
			return c.ListTagsForResource(x, &ecrpublic.ListTagsForResourceInput{ResourceArn: arn})
		}),
		op("PutImage", func(x context.Context, c *ecrpublic.Client) (any, error) {
			return c.PutImage(x, &ecrpublic.PutImageInput{RepositoryName: repo, ImageManifest: aws.String(ociManifest(blob{Digest: d, Size: 1}, "x"))})
		}),
		op("PutRegistryCatalogData", func(x context.Context, c *ecrpublic.Client) (any, error) {
			return c.PutRegistryCatalogData(x, &ecrpublic.PutRegistryCatalogDataInput{DisplayName: aws.String("x")})
		}),
		op("PutRepositoryCatalogData", func(x context.Context, c *ecrpublic.Client) (any, error) {
			return c.PutRepositoryCatalogData(x, &ecrpublic.PutRepositoryCatalogDataInput{RepositoryName: repo, CatalogData: &types.RepositoryCatalogDataInput{}})
		}),
		op("SetRepositoryPolicy", func(x context.Context, c *ecrpublic.Client) (any, error) {
			return c.SetRepositoryPolicy(x, &ecrpublic.SetRepositoryPolicyInput{RepositoryName: repo, PolicyText: aws.String(`{"Version":"2012-10-17","Statement":[]}`)})
		}),
		op("TagResource", func(x context.Context, c *ecrpublic.Client) (any, error) {
			return c.TagResource(x, &ecrpublic.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
		}),
		op("UntagResource", func(x context.Context, c *ecrpublic.Client) (any, error) {
			return c.UntagResource(x, &ecrpublic.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"k"}})
		}),
		op("UploadLayerPart", func(x context.Context, c *ecrpublic.Client) (any, error) {
			return c.UploadLayerPart(x, &ecrpublic.UploadLayerPartInput{RepositoryName: repo, UploadId: id,
				PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(0), LayerPartBlob: []byte{1}})
		}),
	}
}

// TestPublicOnlyInUSEast1: ECR Public exists in us-east-1 only; every
// operation signed for another region is unsupported, and changes nothing.
func TestPublicOnlyInUSEast1(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	west := s.publicClientAs("test", "test", "us-west-2")
	ops := publicOps()
	if len(ops) != 23 {
		t.Fatalf("%d operations listed, the model has 23", len(ops))
	}
	for _, op := range ops {
		wantAPIError[*types.UnsupportedCommandException](t, op.call(ctx(t), west), op.name+" command is only supported in us-east-1.")
	}
	out, err := s.publicClient().DescribeRepositories(ctx(t), &ecrpublic.DescribeRepositoriesInput{})
	if err != nil || len(out.Repositories) != 0 {
		t.Fatalf("after the refused calls: %+v, %v; want no repositories", out, err)
	}
}

// TestPublicOff: with --public-listen=off there is no public listener and
// every ECR Public operation is unsupported, while private ECR serves on.
func TestPublicOff(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", func(c *config.Config) { c.Public.Listen = config.PublicOff })
	if h := publicHost(s); h != "" {
		t.Fatalf("public listener on %s with ECR Public off", h)
	}
	c := s.publicClient()
	for _, op := range publicOps() {
		wantAPIError[*types.UnsupportedCommandException](t, op.call(ctx(t), c), "off")
	}
	createRepos(t, s.client(), "still/private")
}

// TestPublicPrivateIsolation: a private and a public repository of the
// same name in one account share nothing.
func TestPublicPrivateIsolation(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	priv, pub := s.client(), s.publicClient()
	const name = "same/name"
	createRepos(t, priv, name, "private/only")
	createPublicRepos(t, pub, name, "public/only")
	privLayer, pubLayer := layerBytes(1500, 41), layerBytes(1600, 42)
	pl := pushLayer(t, priv, name, privLayer)
	ul := pushPublicLayer(t, pub, name, pubLayer)

	t.Run("Layers", func(t *testing.T) {
		out, err := pub.BatchCheckLayerAvailability(ctx(t), &ecrpublic.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String(name), LayerDigests: []string{pl}})
		if err != nil || len(out.Layers) != 0 || len(out.Failures) != 1 || out.Failures[0].FailureCode != types.LayerFailureCodeMissingLayerDigest {
			t.Errorf("private layer seen in the public repository: %+v, %v", out, err)
		}
		pout, err := priv.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String(name), LayerDigests: []string{ul}})
		if err != nil || len(pout.Layers) != 0 || len(pout.Failures) != 1 || pout.Failures[0].FailureCode != ecrtypes.LayerFailureCodeMissingLayerDigest {
			t.Errorf("public layer seen in the private repository: %+v, %v", pout, err)
		}
	})

	t.Run("Images", func(t *testing.T) {
		putImage(t, priv, name, ociManifest(pushConfig(t, priv, name, 1), "priv", blob{Digest: pl, Size: len(privLayer)}), "priv")
		putPublicImage(t, pub, name, ociManifest(pushPublicConfig(t, pub, name, 2), "pub", blob{Digest: ul, Size: len(pubLayer)}), "pub")
		_, err := priv.DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: aws.String(name), ImageIds: []ecrtypes.ImageIdentifier{byTag("pub")}})
		wantAPIError[*ecrtypes.ImageNotFoundException](t, err, "")
		_, err = pub.DescribeImages(ctx(t), &ecrpublic.DescribeImagesInput{RepositoryName: aws.String(name), ImageIds: []types.ImageIdentifier{pubByTag("priv")}})
		wantAPIError[*types.ImageNotFoundException](t, err, "")
	})

	t.Run("Listings", func(t *testing.T) {
		var privNames, pubNames []string
		po, err := priv.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range po.Repositories {
			privNames = append(privNames, aws.ToString(r.RepositoryName))
		}
		uo, err := pub.DescribeRepositories(ctx(t), &ecrpublic.DescribeRepositoriesInput{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range uo.Repositories {
			pubNames = append(pubNames, aws.ToString(r.RepositoryName))
		}
		slices.Sort(privNames)
		slices.Sort(pubNames)
		if !slices.Equal(privNames, []string{"private/only", name}) || !slices.Equal(pubNames, []string{"public/only", name}) {
			t.Errorf("ECR lists %v, ECR Public %v; want each only its own", privNames, pubNames)
		}
		_, err = pub.DescribeRepositories(ctx(t), &ecrpublic.DescribeRepositoriesInput{RepositoryNames: []string{"private/only"}})
		wantAPIError[*types.RepositoryNotFoundException](t, err, "")
	})

	t.Run("Deletion", func(t *testing.T) {
		if _, err := pub.DeleteRepository(ctx(t), &ecrpublic.DeleteRepositoryInput{RepositoryName: aws.String(name), Force: true}); err != nil {
			t.Fatal(err)
		}
		out, err := priv.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String(name), LayerDigests: []string{pl}})
		if err != nil || len(out.Layers) != 1 {
			t.Fatalf("private layer after deleting the public repository: %+v, %v", out, err)
		}
		describe(t, priv, name, byTag("priv"))
		_, err = pub.DescribeRepositories(ctx(t), &ecrpublic.DescribeRepositoriesInput{RepositoryNames: []string{name}})
		wantAPIError[*types.RepositoryNotFoundException](t, err, "")
	})
}

// TestPublicAccountIsolation: another account's public repositories are
// refused to the API like private ones, yet anyone may pull them.
func TestPublicAccountIsolation(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", withPublicCredentials(t))
	a := s.publicClientAs("AKIAONE", "s1", "us-east-1")
	b := s.publicClientAs("AKIATWO", "s2", "us-east-1")
	out, err := a.CreateRepository(ctx(t), &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String("a/repo")})
	if err != nil {
		t.Fatal(err)
	}
	aliasA := "ecrd-" + accountA
	if got, want := aws.ToString(out.Repository.RepositoryUri), publicHost(s)+"/"+aliasA+"/a/repo"; got != want {
		t.Errorf("repositoryUri %q, want %q", got, want)
	}
	layer := layerBytes(2048, 51)
	cfg := pushPublicConfig(t, a, "a/repo", 5)
	l := pushPublicBlob(t, a, "a/repo", layer)
	m := ociManifest(cfg, "a", l)
	putPublicImage(t, a, "a/repo", m, "v1")
	repo := aws.String("a/repo")

	deniedB := func(action string) string {
		return "User: arn:aws:iam::" + accountB + ":user/AKIATWO is not authorized to perform: ecr-public:" + action + " on resource: " +
			aws.ToString(out.Repository.RepositoryArn) + " because no resource-based policy allows the ecr-public:" + action + " action"
	}
	for _, reg := range []string{accountA, aliasA} {
		// What anyone may pull, anyone may see is there.
		check, err := b.BatchCheckLayerAvailability(ctx(t), &ecrpublic.BatchCheckLayerAvailabilityInput{RegistryId: aws.String(reg), RepositoryName: repo, LayerDigests: []string{l.Digest}})
		if err != nil || len(check.Layers) != 1 {
			t.Errorf("B checking a layer of A's public repository: %+v, %v", check, err)
		}
		_, err = b.InitiateLayerUpload(ctx(t), &ecrpublic.InitiateLayerUploadInput{RegistryId: aws.String(reg), RepositoryName: repo})
		wantCode(t, err, "AccessDeniedException", deniedB("InitiateLayerUpload"))
		_, err = b.PutImage(ctx(t), &ecrpublic.PutImageInput{RegistryId: aws.String(reg), RepositoryName: repo, ImageManifest: aws.String(ociManifest(cfg, "b", l)), ImageTag: aws.String("b")})
		wantCode(t, err, "AccessDeniedException", deniedB("PutImage"))
	}
	_, err = b.DescribeRepositories(ctx(t), &ecrpublic.DescribeRepositoriesInput{RegistryId: aws.String(accountA), RepositoryNames: []string{"a/repo"}})
	wantCode(t, err, "AccessDeniedException", deniedB("DescribeRepositories"))
	_, err = b.DeleteRepository(ctx(t), &ecrpublic.DeleteRepositoryInput{RegistryId: aws.String(accountA), RepositoryName: repo, Force: true})
	wantCode(t, err, "AccessDeniedException", deniedB("DeleteRepository"))
	_, err = b.ListTagsForResource(ctx(t), &ecrpublic.ListTagsForResourceInput{ResourceArn: out.Repository.RepositoryArn})
	wantCode(t, err, "AccessDeniedException", deniedB("ListTagsForResource"))
	if own, err := b.DescribeRepositories(ctx(t), &ecrpublic.DescribeRepositoriesInput{}); err != nil || len(own.Repositories) != 0 {
		t.Errorf("B's own listing: %+v, %v; want empty", own, err)
	}
	regs, err := b.DescribeRegistries(ctx(t), &ecrpublic.DescribeRegistriesInput{})
	if err != nil || len(regs.Registries) != 1 || aws.ToString(regs.Registries[0].RegistryId) != accountB ||
		len(regs.Registries[0].Aliases) != 1 || aws.ToString(regs.Registries[0].Aliases[0].Name) != "ecrd-"+accountB {
		t.Errorf("B's registries: %+v, %v; want only its own, alias ecrd-%s", regs, err, accountB)
	}

	// B's token does not push into A's namespace on the public listener.
	base := publicURL(t, s)
	if resp, body := v2Do(t, http.MethodPost, base+"/v2/"+aliasA+"/a/repo/blobs/uploads/", publicBasic(t, b), "", nil); resp.StatusCode == http.StatusAccepted {
		t.Errorf("B started an upload in A's repository: %d %s", resp.StatusCode, body)
	}
	// Anyone pulls A's image.
	resp, body := v2Do(t, http.MethodGet, base+"/v2/"+aliasA+"/a/repo/manifests/v1", "", "", nil)
	if resp.StatusCode != 200 || string(body) != m {
		t.Fatalf("anonymous pull of A's manifest: %d %s", resp.StatusCode, body)
	}
	resp, body = v2Do(t, http.MethodGet, base+"/v2/"+aliasA+"/a/repo/blobs/"+l.Digest, "", "", nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, layer) {
		t.Fatalf("anonymous pull of A's layer: %d, %d bytes", resp.StatusCode, len(body))
	}
	// So does B, with its own token.
	if resp, _ := v2Do(t, http.MethodGet, base+"/v2/"+aliasA+"/a/repo/manifests/v1", publicBasic(t, b), "", nil); resp.StatusCode != 200 {
		t.Fatalf("B's pull of A's manifest: %d", resp.StatusCode)
	}
}
