package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// Media types the image tests build manifests with.
const (
	dockerManifestType = "application/vnd.docker.distribution.manifest.v2+json"
	dockerListType     = "application/vnd.docker.distribution.manifest.list.v2+json"
	dockerConfigType   = "application/vnd.docker.container.image.v1+json"
	dockerLayerType    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	ociManifestType    = "application/vnd.oci.image.manifest.v1+json"
	ociIndexType       = "application/vnd.oci.image.index.v1+json"
	ociConfigType      = "application/vnd.oci.image.config.v1+json"
	ociLayerType       = "application/vnd.oci.image.layer.v1.tar+gzip"
)

// blob is a blob pushed to a repository, as a descriptor names it.
type blob struct {
	Digest string
	Size   int
}

func (b blob) descriptor(mediaType string) string {
	return fmt.Sprintf(`{"mediaType":%q,"digest":%q,"size":%d}`, mediaType, b.Digest, b.Size)
}

// pushBlob uploads data to the repository and returns its descriptor.
func pushBlob(t *testing.T, c *ecr.Client, repo string, data []byte) blob {
	t.Helper()
	return blob{Digest: pushLayer(t, c, repo, data), Size: len(data)}
}

// pushConfig uploads a small image config, distinct per seed.
func pushConfig(t *testing.T, c *ecr.Client, repo string, seed int) blob {
	t.Helper()
	return pushBlob(t, c, repo, fmt.Appendf(nil, `{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"},"seed":%d}`, seed))
}

// dockerManifest is a Docker schema 2 image manifest.
func dockerManifest(config blob, layers ...blob) string {
	ls := make([]string, len(layers))
	for i, l := range layers {
		ls[i] = l.descriptor(dockerLayerType)
	}
	return fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":%s,"layers":[%s]}`,
		dockerManifestType, config.descriptor(dockerConfigType), strings.Join(ls, ","))
}

// ociManifest is an OCI image manifest; annotation makes otherwise equal
// manifests distinct.
func ociManifest(config blob, annotation string, layers ...blob) string {
	ls := make([]string, len(layers))
	for i, l := range layers {
		ls[i] = l.descriptor(ociLayerType)
	}
	return fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":%s,"layers":[%s],"annotations":{"n":%q}}`,
		ociManifestType, config.descriptor(ociConfigType), strings.Join(ls, ","), annotation)
}

// indexManifest is an OCI index or Docker manifest list of children, each
// a manifest of childType.
func indexManifest(mediaType, childType string, children ...string) string {
	ds := make([]string, len(children))
	archs := []string{"amd64", "arm64", "s390x", "ppc64le"}
	for i, m := range children {
		ds[i] = fmt.Sprintf(`{"mediaType":%q,"digest":%q,"size":%d,"platform":{"architecture":%q,"os":"linux"}}`,
			childType, digestOf([]byte(m)), len(m), archs[i%len(archs)])
	}
	return fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"manifests":[%s]}`, mediaType, strings.Join(ds, ","))
}

// putImage puts a manifest (with tag, unless "") and returns the image.
func putImage(t *testing.T, c *ecr.Client, repo, manifest, tag string) *types.Image {
	t.Helper()
	in := &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(manifest)}
	if tag != "" {
		in.ImageTag = aws.String(tag)
	}
	out, err := c.PutImage(ctx(t), in)
	if err != nil {
		t.Fatalf("PutImage tag %q: %v", tag, err)
	}
	return out.Image
}

// describe returns the one image detail of id.
func describe(t *testing.T, c *ecr.Client, repo string, id types.ImageIdentifier) types.ImageDetail {
	t.Helper()
	out, err := c.DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: aws.String(repo), ImageIds: []types.ImageIdentifier{id}})
	if err != nil {
		t.Fatalf("DescribeImages %+v: %v", id, err)
	}
	if len(out.ImageDetails) != 1 {
		t.Fatalf("DescribeImages %+v: %d details, want 1", id, len(out.ImageDetails))
	}
	return out.ImageDetails[0]
}

// byDigest and byTag are image IDs with one part.
func byDigest(d string) types.ImageIdentifier {
	return types.ImageIdentifier{ImageDigest: aws.String(d)}
}

func byTag(tag string) types.ImageIdentifier {
	return types.ImageIdentifier{ImageTag: aws.String(tag)}
}

func TestPutImage(t *testing.T) {
	s := startServer(t, "")
	c := s.client()
	const repo = "img/put"
	createRepos(t, c, repo)
	cfg := pushConfig(t, c, repo, 1)
	l1 := pushBlob(t, c, repo, layerBytes(3000, 1))
	l2 := pushBlob(t, c, repo, layerBytes(5000, 2))

	t.Run("DigestOfExactBytes", func(t *testing.T) {
		m := dockerManifest(cfg, l1, l2)
		spaced := strings.Replace(m, `"schemaVersion":2`, `"schemaVersion": 2`, 1) + "\n"
		for _, body := range []string{m, spaced} {
			img := putImage(t, c, repo, body, "")
			if got, want := aws.ToString(img.ImageId.ImageDigest), digestOf([]byte(body)); got != want {
				t.Errorf("imageDigest = %s, want sha256 of the exact bytes %s", got, want)
			}
			if aws.ToString(img.ImageManifest) != body {
				t.Errorf("imageManifest = %q, want the bytes put %q", aws.ToString(img.ImageManifest), body)
			}
			if aws.ToString(img.ImageManifestMediaType) != dockerManifestType || aws.ToString(img.RegistryId) != testAccount || aws.ToString(img.RepositoryName) != repo {
				t.Errorf("image %+v", img)
			}
		}
		if digestOf([]byte(m)) == digestOf([]byte(spaced)) {
			t.Fatal("test manifests do not differ")
		}
	})

	t.Run("LayerMediaTypes", func(t *testing.T) {
		out, err := c.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{
			RepositoryName: aws.String(repo), LayerDigests: []string{cfg.Digest, l1.Digest},
		})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{cfg.Digest: dockerConfigType, l1.Digest: dockerLayerType}
		if len(out.Layers) != 2 {
			t.Fatalf("layers %+v failures %+v", out.Layers, out.Failures)
		}
		for _, l := range out.Layers {
			if got := aws.ToString(l.MediaType); got != want[aws.ToString(l.LayerDigest)] {
				t.Errorf("layer %s mediaType %q, want %q", aws.ToString(l.LayerDigest), got, want[aws.ToString(l.LayerDigest)])
			}
		}
	})

	t.Run("MissingLayer", func(t *testing.T) {
		absent := blob{Digest: digestOf([]byte("not pushed")), Size: 10}
		_, err := c.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(dockerManifest(cfg, l1, absent))})
		wantAPIError[*types.LayersNotFoundException](t, err, absent.Digest)
		wrongSize := blob{Digest: l1.Digest, Size: l1.Size + 1}
		_, err = c.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(dockerManifest(cfg, wrongSize))})
		wantAPIError[*types.LayersNotFoundException](t, err, "could not be found")
	})

	t.Run("IndexMissingChild", func(t *testing.T) {
		present := dockerManifest(cfg, l1)
		putImage(t, c, repo, present, "")
		missing := dockerManifest(cfg, l2, l1)
		idx := indexManifest(dockerListType, dockerManifestType, present, missing)
		_, err := c.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(idx)})
		wantAPIError[*types.ReferencedImagesNotFoundException](t, err, digestOf([]byte(missing)))
	})

	t.Run("DigestMismatch", func(t *testing.T) {
		m := dockerManifest(cfg, l2)
		_, err := c.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(m),
			ImageDigest: aws.String(digestOf([]byte(m + " ")))})
		wantAPIError[*types.ImageDigestDoesNotMatchException](t, err, digestOf([]byte(m)))
		out, err := c.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(m),
			ImageDigest: aws.String(digestOf([]byte(m)))})
		if err != nil || aws.ToString(out.Image.ImageId.ImageDigest) != digestOf([]byte(m)) {
			t.Fatalf("PutImage with the right imageDigest: %v", err)
		}
	})

	t.Run("MediaType", func(t *testing.T) {
		bare := fmt.Sprintf(`{"schemaVersion":2,"config":%s,"layers":[%s]}`, cfg.descriptor(ociConfigType), l1.descriptor(ociLayerType))
		_, err := c.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(bare)})
		wantAPIError[*types.InvalidParameterException](t, err, "mediaType")
		out, err := c.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(bare),
			ImageManifestMediaType: aws.String(ociManifestType), ImageTag: aws.String("bare")})
		if err != nil {
			t.Fatalf("PutImage with imageManifestMediaType: %v", err)
		}
		if got := aws.ToString(out.Image.ImageManifestMediaType); got != ociManifestType {
			t.Errorf("imageManifestMediaType = %q, want %q", got, ociManifestType)
		}
		if d := describe(t, c, repo, byTag("bare")); aws.ToString(d.ImageManifestMediaType) != ociManifestType || aws.ToString(d.ArtifactMediaType) != ociConfigType {
			t.Errorf("described media types %q, %q", aws.ToString(d.ImageManifestMediaType), aws.ToString(d.ArtifactMediaType))
		}
	})

	t.Run("InvalidManifest", func(t *testing.T) {
		for name, m := range map[string]string{
			"NotJSON":          `{"schemaVersion":2,`,
			"UnknownMediaType": `{"schemaVersion":2,"mediaType":"application/x-nope","config":` + cfg.descriptor(dockerConfigType) + `,"layers":[]}`,
		} {
			_, err := c.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(m)})
			wantAPIError[*types.InvalidParameterException](t, err, "")
			t.Logf("%s: %v", name, err)
		}
	})

	t.Run("TagsOnOneImage", func(t *testing.T) {
		m := dockerManifest(cfg, l1, l2)
		putImage(t, c, repo, m, "v1")
		_, err := c.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(m), ImageTag: aws.String("v1")})
		wantAPIError[*types.ImageAlreadyExistsException](t, err, "already exists")
		_, err = c.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(m)})
		wantAPIError[*types.ImageAlreadyExistsException](t, err, digestOf([]byte(m)))
		img := putImage(t, c, repo, m, "v1.0")
		if aws.ToString(img.ImageId.ImageTag) != "v1.0" {
			t.Errorf("imageTag = %q", aws.ToString(img.ImageId.ImageTag))
		}
		d := describe(t, c, repo, byDigest(digestOf([]byte(m))))
		if !slices.Equal(d.ImageTags, []string{"v1", "v1.0"}) {
			t.Errorf("imageTags = %q, want [v1 v1.0]", d.ImageTags)
		}
		if aws.ToInt64(d.ImageSizeInBytes) != int64(l1.Size+l2.Size) {
			t.Errorf("imageSizeInBytes = %d, want the layers' sum %d (config excluded)", aws.ToInt64(d.ImageSizeInBytes), l1.Size+l2.Size)
		}
	})

	t.Run("MutableTagMoves", func(t *testing.T) {
		a, b := dockerManifest(cfg, l2, l2), ociManifest(cfg, "b", l2)
		putImage(t, c, repo, a, "moving")
		putImage(t, c, repo, b, "moving")
		if d := describe(t, c, repo, byTag("moving")); aws.ToString(d.ImageDigest) != digestOf([]byte(b)) {
			t.Fatalf("tag names %s, want the new image %s", aws.ToString(d.ImageDigest), digestOf([]byte(b)))
		}
		if d := describe(t, c, repo, byDigest(digestOf([]byte(a)))); len(d.ImageTags) != 0 {
			t.Errorf("old image tags %q, want none", d.ImageTags)
		}
		out, err := c.ListImages(ctx(t), &ecr.ListImagesInput{RepositoryName: aws.String(repo), Filter: &types.ListImagesFilter{TagStatus: types.TagStatusUntagged}})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(out.ImageIds, func(id types.ImageIdentifier) bool {
			return aws.ToString(id.ImageDigest) == digestOf([]byte(a)) && id.ImageTag == nil
		}) {
			t.Errorf("ListImages UNTAGGED %+v lacks the old image %s", out.ImageIds, digestOf([]byte(a)))
		}
	})
}

func TestPutImageTagImmutability(t *testing.T) {
	s := startServer(t, "")
	c := s.client()
	for _, r := range []*ecr.CreateRepositoryInput{
		{RepositoryName: aws.String("img/immutable"), ImageTagMutability: types.ImageTagMutabilityImmutable},
		{RepositoryName: aws.String("img/excl"), ImageTagMutability: types.ImageTagMutabilityImmutableWithExclusion,
			ImageTagMutabilityExclusionFilters: []types.ImageTagMutabilityExclusionFilter{{FilterType: types.ImageTagMutabilityExclusionFilterTypeWildcard, Filter: aws.String("dev-*")}}},
	} {
		if _, err := c.CreateRepository(ctx(t), r); err != nil {
			t.Fatal(err)
		}
	}
	manifests := func(repo string) (string, string) {
		cfg := pushConfig(t, c, repo, 7)
		l := pushBlob(t, c, repo, layerBytes(100, 7))
		return dockerManifest(cfg, l), ociManifest(cfg, "b", l)
	}

	t.Run("Immutable", func(t *testing.T) {
		a, b := manifests("img/immutable")
		putImage(t, c, "img/immutable", a, "v1")
		_, err := c.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String("img/immutable"), ImageManifest: aws.String(b), ImageTag: aws.String("v1")})
		wantAPIError[*types.ImageTagAlreadyExistsException](t, err, "'v1'")
		_, err = c.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String("img/immutable"), ImageManifest: aws.String(a), ImageTag: aws.String("v1")})
		wantAPIError[*types.ImageAlreadyExistsException](t, err, "already exists")
		putImage(t, c, "img/immutable", b, "v2")
	})

	t.Run("ImmutableWithExclusion", func(t *testing.T) {
		a, b := manifests("img/excl")
		putImage(t, c, "img/excl", a, "dev-1")
		putImage(t, c, "img/excl", b, "dev-1")
		if d := describe(t, c, "img/excl", byTag("dev-1")); aws.ToString(d.ImageDigest) != digestOf([]byte(b)) {
			t.Errorf("dev-1 names %s, want %s", aws.ToString(d.ImageDigest), digestOf([]byte(b)))
		}
		putImage(t, c, "img/excl", a, "release-1")
		_, err := c.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String("img/excl"), ImageManifest: aws.String(b), ImageTag: aws.String("release-1")})
		wantAPIError[*types.ImageTagAlreadyExistsException](t, err, "'release-1'")
	})
}
