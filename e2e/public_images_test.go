package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic/types"
)

func TestPublicImages(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	c := s.publicClient()
	const repo = "img/put"
	createPublicRepos(t, c, repo)
	cfg := pushPublicConfig(t, c, repo, 1)
	l1, l2 := pushPublicBlob(t, c, repo, layerBytes(3000, 1)), pushPublicBlob(t, c, repo, layerBytes(5000, 2))
	m := dockerManifest(cfg, l1, l2)
	put := func(manifest, tag, digest string) error {
		in := &ecrpublic.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(manifest)}
		if tag != "" {
			in.ImageTag = aws.String(tag)
		}
		if digest != "" {
			in.ImageDigest = aws.String(digest)
		}
		_, err := c.PutImage(ctx(t), in)
		return err
	}

	t.Run("PutImage", func(t *testing.T) {
		img := putPublicImage(t, c, repo, m, "v1")
		if aws.ToString(img.RegistryId) != testAccount || aws.ToString(img.RepositoryName) != repo ||
			aws.ToString(img.ImageId.ImageDigest) != digestOf([]byte(m)) || aws.ToString(img.ImageId.ImageTag) != "v1" ||
			aws.ToString(img.ImageManifest) != m || aws.ToString(img.ImageManifestMediaType) != dockerManifestType {
			t.Fatalf("image %+v", img)
		}
		wantAPIError[*types.ImageAlreadyExistsException](t, put(m, "v1", ""), "")
		// ImageTagAlreadyExistsException is in the model, but ECR Public's
		// API has no tag immutability to provoke it: tags always move.
	})

	t.Run("Refused", func(t *testing.T) {
		absent := blob{Digest: digestOf([]byte("not pushed")), Size: 10}
		wantAPIError[*types.LayersNotFoundException](t, put(dockerManifest(cfg, l1, absent), "", ""), "")
		missing := dockerManifest(cfg, l2, l1)
		wantAPIError[*types.ReferencedImagesNotFoundException](t, put(indexManifest(dockerListType, dockerManifestType, m, missing), "", ""), "")
		other := ociManifest(cfg, "other", l1)
		wantAPIError[*types.ImageDigestDoesNotMatchException](t, put(other, "", digestOf([]byte(other+" "))), "")
		wantAPIError[*types.RepositoryNotFoundException](t, func() error {
			_, err := c.PutImage(ctx(t), &ecrpublic.PutImageInput{RepositoryName: aws.String("no/such"), ImageManifest: aws.String(m)})
			return err
		}(), "")
	})

	// More images for the queries: tags in an order that is not byte order.
	tags := []string{"b", "a", "B", "a1", "Z"}
	for _, tag := range tags {
		putPublicImage(t, c, repo, ociManifest(cfg, tag, l1), tag)
	}

	t.Run("DescribeImages", func(t *testing.T) {
		out, err := c.DescribeImages(ctx(t), &ecrpublic.DescribeImagesInput{RepositoryName: aws.String(repo), ImageIds: []types.ImageIdentifier{pubByTag("v1")}})
		if err != nil || len(out.ImageDetails) != 1 {
			t.Fatalf("DescribeImages v1: %+v, %v", out, err)
		}
		d := out.ImageDetails[0]
		if aws.ToString(d.ImageDigest) != digestOf([]byte(m)) || !slices.Equal(d.ImageTags, []string{"v1"}) || aws.ToString(d.RegistryId) != testAccount ||
			aws.ToString(d.RepositoryName) != repo || aws.ToInt64(d.ImageSizeInBytes) != int64(l1.Size+l2.Size) || d.ImagePushedAt == nil ||
			aws.ToString(d.ImageManifestMediaType) != dockerManifestType || aws.ToString(d.ArtifactMediaType) != dockerConfigType {
			t.Errorf("detail %+v", d)
		}
		_, err = c.DescribeImages(ctx(t), &ecrpublic.DescribeImagesInput{RepositoryName: aws.String(repo), ImageIds: []types.ImageIdentifier{pubByTag("nope")}})
		wantAPIError[*types.ImageNotFoundException](t, err, "")
		seen := map[string]bool{}
		p := ecrpublic.NewDescribeImagesPaginator(c, &ecrpublic.DescribeImagesInput{RepositoryName: aws.String(repo), MaxResults: aws.Int32(2)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx(t))
			if err != nil || len(page.ImageDetails) > 2 {
				t.Fatalf("page %+v, %v", page, err)
			}
			for _, d := range page.ImageDetails {
				seen[aws.ToString(d.ImageDigest)] = true
			}
		}
		if len(seen) != 1+len(tags) {
			t.Errorf("paging saw %d images, want %d", len(seen), 1+len(tags))
		}
	})

	t.Run("DescribeImageTags", func(t *testing.T) {
		var got []string
		p := ecrpublic.NewDescribeImageTagsPaginator(c, &ecrpublic.DescribeImageTagsInput{RepositoryName: aws.String(repo), MaxResults: aws.Int32(2)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx(t))
			if err != nil || len(page.ImageTagDetails) > 2 {
				t.Fatalf("page %+v, %v", page, err)
			}
			for _, td := range page.ImageTagDetails {
				tag, d := aws.ToString(td.ImageTag), td.ImageDetail
				got = append(got, tag)
				want := digestOf([]byte(ociManifest(cfg, tag, l1)))
				if tag == "v1" {
					want = digestOf([]byte(m))
				}
				if td.CreatedAt == nil || d == nil || aws.ToString(d.ImageDigest) != want || d.ImagePushedAt == nil ||
					aws.ToInt64(d.ImageSizeInBytes) <= 0 || aws.ToString(d.ImageManifestMediaType) == "" || aws.ToString(d.ArtifactMediaType) == "" {
					t.Errorf("tag %s detail %+v / %+v, want digest %s", tag, td, d, want)
				}
			}
		}
		if want := "B Z a a1 b v1"; strings.Join(got, " ") != want {
			t.Errorf("tags %v, want in byte order %s", got, want)
		}
	})

	t.Run("BatchDeleteImage", func(t *testing.T) {
		aDigest := digestOf([]byte(ociManifest(cfg, "a", l1)))
		out, err := c.BatchDeleteImage(ctx(t), &ecrpublic.BatchDeleteImageInput{RepositoryName: aws.String(repo), ImageIds: []types.ImageIdentifier{
			pubByTag("Z"), pubByTag("nope"), {}, pubByDigest("sha256:short"), {ImageTag: aws.String("b"), ImageDigest: aws.String(aDigest)},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.ImageIds) != 1 || aws.ToString(out.ImageIds[0].ImageTag) != "Z" || aws.ToString(out.ImageIds[0].ImageDigest) != digestOf([]byte(ociManifest(cfg, "Z", l1))) {
			t.Errorf("deleted %+v, want Z", out.ImageIds)
		}
		want := []types.ImageFailureCode{types.ImageFailureCodeImageNotFound, types.ImageFailureCodeMissingDigestAndTag,
			types.ImageFailureCodeInvalidImageDigest, types.ImageFailureCodeImageTagDoesNotMatchDigest}
		if len(out.Failures) != len(want) {
			t.Fatalf("failures %+v, want codes %v", out.Failures, want)
		}
		for i, f := range out.Failures {
			if f.FailureCode != want[i] || aws.ToString(f.FailureReason) == "" {
				t.Errorf("failure %d: %s %q, want %s", i, f.FailureCode, aws.ToString(f.FailureReason), want[i])
			}
		}
		_, err = c.DescribeImages(ctx(t), &ecrpublic.DescribeImagesInput{RepositoryName: aws.String(repo), ImageIds: []types.ImageIdentifier{pubByTag("Z")}})
		wantAPIError[*types.ImageNotFoundException](t, err, "")
		// An image an index refers to stays while the index does.
		putPublicImage(t, c, repo, indexManifest(ociIndexType, ociManifestType, ociManifest(cfg, "a", l1)), "index")
		out, err = c.BatchDeleteImage(ctx(t), &ecrpublic.BatchDeleteImageInput{RepositoryName: aws.String(repo), ImageIds: []types.ImageIdentifier{pubByDigest(aDigest)}})
		if err != nil || len(out.ImageIds) != 0 || len(out.Failures) != 1 || out.Failures[0].FailureCode != types.ImageFailureCodeImageReferencedByManifestList {
			t.Errorf("deleting an index's child: %+v, %v; want ImageReferencedByManifestList", out, err)
		}
	})

	t.Run("UnknownRepository", func(t *testing.T) {
		no := aws.String("no/such")
		_, err := c.DescribeImages(ctx(t), &ecrpublic.DescribeImagesInput{RepositoryName: no})
		wantAPIError[*types.RepositoryNotFoundException](t, err, "")
		_, err = c.DescribeImageTags(ctx(t), &ecrpublic.DescribeImageTagsInput{RepositoryName: no})
		wantAPIError[*types.RepositoryNotFoundException](t, err, "")
		_, err = c.BatchDeleteImage(ctx(t), &ecrpublic.BatchDeleteImageInput{RepositoryName: no, ImageIds: []types.ImageIdentifier{pubByTag("v1")}})
		wantAPIError[*types.RepositoryNotFoundException](t, err, "")
	})
}
