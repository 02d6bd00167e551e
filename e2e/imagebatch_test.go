package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

func TestBatchGetImage(t *testing.T) {
	s := startServer(t, "")
	c := s.client()
	const repo = "img/get"
	createRepos(t, c, repo)
	cfg := pushConfig(t, c, repo, 1)
	l := pushBlob(t, c, repo, layerBytes(2000, 1))
	docker, oci := dockerManifest(cfg, l), ociManifest(cfg, "other", l)
	putImage(t, c, repo, docker, "v1")
	putImage(t, c, repo, oci, "")
	get := func(t *testing.T, accepted []string, ids ...types.ImageIdentifier) *ecr.BatchGetImageOutput {
		t.Helper()
		out, err := c.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RepositoryName: aws.String(repo), ImageIds: ids, AcceptedMediaTypes: accepted})
		if err != nil {
			t.Fatalf("BatchGetImage: %v", err)
		}
		return out
	}

	t.Run("ByTagAndDigest", func(t *testing.T) {
		out := get(t, nil, byTag("v1"), byDigest(digestOf([]byte(oci))))
		if len(out.Images) != 2 || len(out.Failures) != 0 {
			t.Fatalf("images %d failures %+v", len(out.Images), out.Failures)
		}
		if got := out.Images[0]; aws.ToString(got.ImageManifest) != docker || aws.ToString(got.ImageId.ImageDigest) != digestOf([]byte(docker)) ||
			aws.ToString(got.ImageId.ImageTag) != "v1" || aws.ToString(got.ImageManifestMediaType) != dockerManifestType || aws.ToString(got.RegistryId) != testAccount {
			t.Errorf("by tag: %+v", got)
		}
		if got := out.Images[1]; aws.ToString(got.ImageManifest) != oci || got.ImageId.ImageTag != nil || aws.ToString(got.ImageManifestMediaType) != ociManifestType {
			t.Errorf("by digest: %+v", got)
		}
	})

	t.Run("Failures", func(t *testing.T) {
		out := get(t, nil,
			byTag("nope"),
			types.ImageIdentifier{},
			byDigest("bad"),
			types.ImageIdentifier{ImageTag: aws.String("v1"), ImageDigest: aws.String(digestOf([]byte(oci)))},
			byTag("bad tag"),
		)
		if len(out.Images) != 0 {
			t.Errorf("images %+v, want none", out.Images)
		}
		want := []types.ImageFailureCode{
			types.ImageFailureCodeImageNotFound, types.ImageFailureCodeMissingDigestAndTag,
			types.ImageFailureCodeInvalidImageDigest, types.ImageFailureCodeImageTagDoesNotMatchDigest,
			types.ImageFailureCodeInvalidImageTag,
		}
		if len(out.Failures) != len(want) {
			t.Fatalf("failures %+v, want codes %v", out.Failures, want)
		}
		for i, f := range out.Failures {
			if f.FailureCode != want[i] || aws.ToString(f.FailureReason) == "" {
				t.Errorf("failure %d: %s %q, want %s", i, f.FailureCode, aws.ToString(f.FailureReason), want[i])
			}
		}
		if aws.ToString(out.Failures[0].ImageId.ImageTag) != "nope" || aws.ToString(out.Failures[2].ImageId.ImageDigest) != "bad" {
			t.Errorf("failures do not echo the IDs asked for: %+v %+v", out.Failures[0].ImageId, out.Failures[2].ImageId)
		}
	})

	t.Run("ConvertedByTag", func(t *testing.T) {
		out := get(t, []string{ociManifestType}, byTag("v1"))
		if len(out.Images) != 1 {
			t.Fatalf("images %d failures %+v", len(out.Images), out.Failures)
		}
		img := out.Images[0]
		m := aws.ToString(img.ImageManifest)
		if aws.ToString(img.ImageManifestMediaType) != ociManifestType {
			t.Errorf("imageManifestMediaType = %q, want %q", aws.ToString(img.ImageManifestMediaType), ociManifestType)
		}
		if d := aws.ToString(img.ImageId.ImageDigest); d == digestOf([]byte(docker)) || d != digestOf([]byte(m)) {
			t.Errorf("converted digest %s: want sha256 of the served manifest %s, not the stored %s", d, digestOf([]byte(m)), digestOf([]byte(docker)))
		}
		for _, want := range []string{ociManifestType, ociConfigType, ociLayerType, cfg.Digest, l.Digest} {
			if !strings.Contains(m, want) {
				t.Errorf("converted manifest %s lacks %s", m, want)
			}
		}
		if strings.Contains(m, "vnd.docker") {
			t.Errorf("converted manifest %s still has Docker media types", m)
		}
	})

	t.Run("NotConvertedByDigest", func(t *testing.T) {
		out := get(t, []string{ociManifestType}, byDigest(digestOf([]byte(docker))))
		if len(out.Images) != 0 || len(out.Failures) != 1 || aws.ToString(out.Failures[0].ImageId.ImageDigest) != digestOf([]byte(docker)) {
			t.Fatalf("images %+v failures %+v, want one failure", out.Images, out.Failures)
		}
		t.Logf("failure %s: %s", out.Failures[0].FailureCode, aws.ToString(out.Failures[0].FailureReason))
	})

	t.Run("LastRecordedPullTime", func(t *testing.T) {
		before := time.Now().Add(-time.Second)
		if d := describe(t, c, repo, byDigest(digestOf([]byte(oci)))); d.LastRecordedPullTime != nil && d.LastRecordedPullTime.Before(before) {
			t.Fatalf("lastRecordedPullTime %v before any pull in this subtest", d.LastRecordedPullTime)
		}
		get(t, nil, byDigest(digestOf([]byte(oci))))
		d := describe(t, c, repo, byDigest(digestOf([]byte(oci))))
		if d.LastRecordedPullTime == nil || d.LastRecordedPullTime.Before(before) || d.LastRecordedPullTime.After(time.Now().Add(time.Second)) {
			t.Errorf("lastRecordedPullTime = %v, want about now", d.LastRecordedPullTime)
		}
	})

	t.Run("UnknownRepository", func(t *testing.T) {
		_, err := c.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RepositoryName: aws.String("no/such"), ImageIds: []types.ImageIdentifier{byTag("v1")}})
		wantAPIError[*types.RepositoryNotFoundException](t, err, "no/such")
	})
}

func TestBatchDeleteImage(t *testing.T) {
	s := startServer(t, "")
	c := s.client()
	const repo = "img/delete"
	createRepos(t, c, repo)
	cfg := pushConfig(t, c, repo, 1)
	l := pushBlob(t, c, repo, layerBytes(2000, 1))
	del := func(t *testing.T, ids ...types.ImageIdentifier) *ecr.BatchDeleteImageOutput {
		t.Helper()
		out, err := c.BatchDeleteImage(ctx(t), &ecr.BatchDeleteImageInput{RepositoryName: aws.String(repo), ImageIds: ids})
		if err != nil {
			t.Fatalf("BatchDeleteImage: %v", err)
		}
		return out
	}

	t.Run("ByTag", func(t *testing.T) {
		m := ociManifest(cfg, "by-tag", l)
		putImage(t, c, repo, m, "a")
		putImage(t, c, repo, m, "b")
		out := del(t, byTag("a"))
		if len(out.Failures) != 0 || len(out.ImageIds) != 1 || aws.ToString(out.ImageIds[0].ImageTag) != "a" || aws.ToString(out.ImageIds[0].ImageDigest) != digestOf([]byte(m)) {
			t.Fatalf("imageIds %+v failures %+v", out.ImageIds, out.Failures)
		}
		d := describe(t, c, repo, byDigest(digestOf([]byte(m))))
		if len(d.ImageTags) != 1 || d.ImageTags[0] != "b" {
			t.Errorf("tags left %q, want [b]", d.ImageTags)
		}
	})

	t.Run("ByDigest", func(t *testing.T) {
		m := ociManifest(cfg, "by-digest", l)
		for _, tag := range []string{"x", "y", "z"} {
			putImage(t, c, repo, m, tag)
		}
		out := del(t, byDigest(digestOf([]byte(m))))
		if len(out.Failures) != 0 || len(out.ImageIds) != 3 {
			t.Fatalf("imageIds %+v failures %+v, want one per tag", out.ImageIds, out.Failures)
		}
		for i, tag := range []string{"x", "y", "z"} {
			if id := out.ImageIds[i]; aws.ToString(id.ImageTag) != tag || aws.ToString(id.ImageDigest) != digestOf([]byte(m)) {
				t.Errorf("imageIds[%d] = %+v, want tag %s", i, id, tag)
			}
		}
		_, err := c.DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: aws.String(repo), ImageIds: []types.ImageIdentifier{byTag("x")}})
		wantAPIError[*types.ImageNotFoundException](t, err, "'x'")
	})

	t.Run("Unknown", func(t *testing.T) {
		absent := digestOf([]byte("absent"))
		out := del(t, byDigest(absent), byTag("absent"))
		if len(out.ImageIds) != 0 || len(out.Failures) != 2 {
			t.Fatalf("imageIds %+v failures %+v", out.ImageIds, out.Failures)
		}
		for _, f := range out.Failures {
			if f.FailureCode != types.ImageFailureCodeImageNotFound || !strings.Contains(aws.ToString(f.FailureReason), "Requested image not found") {
				t.Errorf("failure %s %q", f.FailureCode, aws.ToString(f.FailureReason))
			}
		}
		if aws.ToString(out.Failures[0].ImageId.ImageDigest) != absent {
			t.Errorf("failure does not echo the digest: %+v", out.Failures[0].ImageId)
		}
	})

	t.Run("ReferencedByIndex", func(t *testing.T) {
		amd, arm := ociManifest(cfg, "amd64", l), ociManifest(cfg, "arm64", l)
		putImage(t, c, repo, amd, "")
		putImage(t, c, repo, arm, "")
		idx := indexManifest(ociIndexType, ociManifestType, amd, arm)
		putImage(t, c, repo, idx, "multi")
		out := del(t, byDigest(digestOf([]byte(arm))))
		if len(out.ImageIds) != 0 || len(out.Failures) != 1 || out.Failures[0].FailureCode != types.ImageFailureCodeImageReferencedByManifestList {
			t.Fatalf("imageIds %+v failures %+v, want ImageReferencedByManifestList", out.ImageIds, out.Failures)
		}
		describe(t, c, repo, byDigest(digestOf([]byte(arm))))
		// Once the index is gone, the child can go.
		if out := del(t, byTag("multi")); len(out.Failures) != 0 {
			t.Fatalf("deleting the index: %+v", out.Failures)
		}
		if out := del(t, byDigest(digestOf([]byte(arm)))); len(out.Failures) != 0 || len(out.ImageIds) != 1 || out.ImageIds[0].ImageTag != nil {
			t.Fatalf("deleting the child: imageIds %+v failures %+v", out.ImageIds, out.Failures)
		}
	})
}
