package e2e

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// TestImageErrors: the remaining per-image failure codes of
// BatchDeleteImage and the request-level errors of the image operations.
func TestImageErrors(t *testing.T) {
	s := startServer(t, "")
	c := s.client()
	const repo = "img/errors"
	createRepos(t, c, repo)
	cfg := pushConfig(t, c, repo, 31)
	a := putImage(t, c, repo, ociManifest(cfg, "a"), "a")
	putImage(t, c, repo, ociManifest(cfg, "b"), "b")

	out, err := c.BatchDeleteImage(ctx(t), &ecr.BatchDeleteImageInput{RepositoryName: aws.String(repo), ImageIds: []types.ImageIdentifier{
		{}, byDigest("sha256:short"), {ImageTag: aws.String("b"), ImageDigest: a.ImageId.ImageDigest}, byTag("bad tag"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []types.ImageFailureCode{types.ImageFailureCodeMissingDigestAndTag, types.ImageFailureCodeInvalidImageDigest,
		types.ImageFailureCodeImageTagDoesNotMatchDigest, types.ImageFailureCodeInvalidImageTag}
	if len(out.ImageIds) != 0 || len(out.Failures) != len(want) {
		t.Fatalf("imageIds %+v failures %+v", out.ImageIds, out.Failures)
	}
	for i, f := range out.Failures {
		if f.FailureCode != want[i] || aws.ToString(f.FailureReason) == "" {
			t.Errorf("failure %d: %s %q, want %s", i, f.FailureCode, aws.ToString(f.FailureReason), want[i])
		}
	}
	// Nothing was deleted by the refused IDs.
	describe(t, c, repo, byTag("a"))
	describe(t, c, repo, byTag("b"))

	_, err = c.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String("no/such"), ImageManifest: aws.String(ociManifest(cfg, "c"))})
	wantAPIError[*types.RepositoryNotFoundException](t, err, "no/such")
	_, err = c.ListImages(ctx(t), &ecr.ListImagesInput{RepositoryName: aws.String(repo), NextToken: aws.String("forged")})
	wantAPIError[*types.InvalidParameterException](t, err, "nextToken")
	_, err = c.DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: aws.String(repo), NextToken: aws.String("forged")})
	wantAPIError[*types.InvalidParameterException](t, err, "nextToken")
	_, err = c.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(ociManifest(cfg, "d")), ImageTag: aws.String("sha256:" + cfg.Digest[7:])})
	wantAPIError[*types.InvalidParameterException](t, err, "imageTag")
}
