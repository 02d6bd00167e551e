package e2e

import (
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/ecrd/ecrd/internal/config"
)

// availabilityOf returns layerAvailability (or failure code) and mediaType
// per digest.
func availabilityOf(t *testing.T, c *ecr.Client, repo string, digests ...string) map[string][2]string {
	t.Helper()
	out, err := c.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String(repo), LayerDigests: digests})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]string{}
	for _, l := range out.Layers {
		got[aws.ToString(l.LayerDigest)] = [2]string{string(l.LayerAvailability), aws.ToString(l.MediaType)}
	}
	for _, f := range out.Failures {
		got[aws.ToString(f.LayerDigest)] = [2]string{string(f.FailureCode), ""}
	}
	return got
}

func storageClass(t *testing.T, c *ecr.Client, repo string, id types.ImageIdentifier, target types.TargetStorageClass) (types.ImageStatus, error) {
	t.Helper()
	out, err := c.UpdateImageStorageClass(ctx(t), &ecr.UpdateImageStorageClassInput{RepositoryName: aws.String(repo), ImageId: &id, TargetStorageClass: target})
	if err != nil {
		return "", err
	}
	return out.ImageStatus, nil
}

// TestArchiveCycle: push -> AVAILABLE; archive -> ARCHIVED in BatchCheck
// and DescribeImages, pull refused, a layer shared with an active image
// stays AVAILABLE; restore -> ACTIVATING -> ACTIVE -> AVAILABLE.
func TestArchiveCycle(t *testing.T) {
	const delay = 3 * time.Second
	s := startServer(t, "", func(c *config.Config) { c.Images.RestoreDelay = delay })
	c := s.client()
	const repo = "arch/ive"
	createRepos(t, c, repo)
	shared := pushBlob(t, c, repo, layerBytes(3000, 70))
	only := pushBlob(t, c, repo, layerBytes(2000, 71))
	cfgA, cfgB := pushConfig(t, c, repo, 1), pushConfig(t, c, repo, 2)
	a := putImage(t, c, repo, dockerManifest(cfgA, shared, only), "a")
	putImage(t, c, repo, ociManifest(cfgB, "b", shared), "b")

	got := availabilityOf(t, c, repo, cfgA.Digest, shared.Digest, only.Digest)
	if got[cfgA.Digest] != [2]string{"AVAILABLE", dockerConfigType} || got[only.Digest] != [2]string{"AVAILABLE", dockerLayerType} || got[shared.Digest][0] != "AVAILABLE" {
		t.Fatalf("after push: %v", got)
	}

	status, err := storageClass(t, c, repo, byTag("a"), types.TargetStorageClassArchive)
	if err != nil || status != types.ImageStatusArchived {
		t.Fatalf("archive: %v, %v", status, err)
	}
	got = availabilityOf(t, c, repo, cfgA.Digest, shared.Digest, only.Digest)
	if got[only.Digest][0] != "ARCHIVED" || got[cfgA.Digest][0] != "ARCHIVED" || got[shared.Digest][0] != "AVAILABLE" {
		t.Fatalf("after archive: %v; want the exclusive layers ARCHIVED, the shared one AVAILABLE", got)
	}
	list, err := c.DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: aws.String(repo)})
	if err != nil || len(list.ImageDetails) != 1 {
		t.Fatalf("DescribeImages default filter: %+v, %v; want only the active image", list, err)
	}
	archived, err := c.DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: aws.String(repo), Filter: &types.DescribeImagesFilter{ImageStatus: types.ImageStatusFilterArchived}})
	if err != nil || len(archived.ImageDetails) != 1 || archived.ImageDetails[0].ImageStatus != types.ImageStatusArchived || archived.ImageDetails[0].LastArchivedAt == nil {
		t.Fatalf("DescribeImages ARCHIVED: %+v, %v", archived, err)
	}
	pull, err := c.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RepositoryName: aws.String(repo), ImageIds: []types.ImageIdentifier{byTag("a")}})
	if err != nil || len(pull.Images) != 0 || len(pull.Failures) != 1 {
		t.Fatalf("pulling an archived image: %+v, %v", pull, err)
	}
	_, err = c.GetDownloadUrlForLayer(ctx(t), &ecr.GetDownloadUrlForLayerInput{RepositoryName: aws.String(repo), LayerDigest: aws.String(only.Digest)})
	wantAPIError[*types.LayerInaccessibleException](t, err, "archived")
	_, err = storageClass(t, c, repo, byTag("a"), types.TargetStorageClassArchive)
	wantAPIError[*types.ImageStorageClassUpdateNotSupportedException](t, err, "ARCHIVED")

	status, err = storageClass(t, c, repo, byDigest(aws.ToString(a.ImageId.ImageDigest)), types.TargetStorageClassStandard)
	if err != nil || status != types.ImageStatusActivating {
		t.Fatalf("restore: %v, %v; want ACTIVATING", status, err)
	}
	if got := availabilityOf(t, c, repo, only.Digest); got[only.Digest][0] != "UNAVAILABLE" {
		t.Fatalf("while restoring: %v; want UNAVAILABLE", got)
	}
	if d := describe(t, c, repo, byTag("a")); d.ImageStatus != types.ImageStatusActivating {
		t.Fatalf("while restoring: status %s", d.ImageStatus)
	}
	_, err = storageClass(t, c, repo, byTag("a"), types.TargetStorageClassStandard)
	wantAPIError[*types.ImageStorageClassUpdateNotSupportedException](t, err, "")

	time.Sleep(delay + 200*time.Millisecond)
	d := describe(t, c, repo, byTag("a"))
	if d.ImageStatus != types.ImageStatusActive || d.LastActivatedAt == nil {
		t.Fatalf("after the restore delay: %+v", d)
	}
	if got := availabilityOf(t, c, repo, only.Digest); got[only.Digest][0] != "AVAILABLE" {
		t.Fatalf("after restore: %v", got)
	}
	pull, err = c.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RepositoryName: aws.String(repo), ImageIds: []types.ImageIdentifier{byTag("a")}})
	if err != nil || len(pull.Images) != 1 {
		t.Fatalf("pull after restore: %+v, %v", pull, err)
	}
	_, err = storageClass(t, c, repo, byTag("a"), types.TargetStorageClassStandard)
	wantAPIError[*types.ImageStorageClassUpdateNotSupportedException](t, err, "ACTIVE")
	_, err = storageClass(t, c, repo, byTag("nope"), types.TargetStorageClassArchive)
	wantAPIError[*types.ImageNotFoundException](t, err, "'nope'")

	// Pushing an archived image again restores it at once.
	if _, err := storageClass(t, c, repo, byTag("b"), types.TargetStorageClassArchive); err != nil {
		t.Fatal(err)
	}
	putImage(t, c, repo, ociManifest(cfgB, "b", shared), "b")
	if d := describe(t, c, repo, byTag("b")); d.ImageStatus != types.ImageStatusActive {
		t.Fatalf("re-pushed archived image is %s, want ACTIVE", d.ImageStatus)
	}
}

func TestGetDownloadUrlForLayer(t *testing.T) {
	s := startServer(t, "")
	c := s.client()
	const repo = "down/load"
	createRepos(t, c, repo)
	data := layerBytes(100_000, 80)
	layer := pushBlob(t, c, repo, data)
	loose := pushBlob(t, c, repo, layerBytes(500, 81))
	putImage(t, c, repo, dockerManifest(pushConfig(t, c, repo, 3), layer), "v1")

	out, err := c.GetDownloadUrlForLayer(ctx(t), &ecr.GetDownloadUrlForLayerInput{RepositoryName: aws.String(repo), LayerDigest: aws.String(layer.Digest)})
	if err != nil || aws.ToString(out.LayerDigest) != layer.Digest {
		t.Fatalf("GetDownloadUrlForLayer: %+v, %v", out, err)
	}
	url := aws.ToString(out.DownloadUrl)
	get := func(t *testing.T, method, url, rng string) (int, []byte, http.Header) {
		req, _ := http.NewRequest(method, url, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b, resp.Header
	}
	status, body, _ := get(t, "GET", url, "")
	if status != 200 || fmt.Sprintf("sha256:%x", sha256.Sum256(body)) != layer.Digest {
		t.Fatalf("GET: %d, %d bytes", status, len(body))
	}
	status, body, h := get(t, "GET", url, "bytes=10-19")
	if status != http.StatusPartialContent || string(body) != string(data[10:20]) || h.Get("Content-Range") != "bytes 10-19/100000" {
		t.Fatalf("Range: %d %q %q", status, body, h.Get("Content-Range"))
	}
	status, _, h = get(t, "HEAD", url, "")
	if status != 200 || h.Get("Content-Length") != "100000" {
		t.Fatalf("HEAD: %d, Content-Length %q", status, h.Get("Content-Length"))
	}
	tampered := url[:len(url)-1] + "0"
	if url[len(url)-1] == '0' {
		tampered = url[:len(url)-1] + "1"
	}
	if status, _, _ = get(t, "GET", tampered, ""); status != http.StatusForbidden {
		t.Fatalf("tampered signature: %d, want 403", status)
	}

	_, err = c.GetDownloadUrlForLayer(ctx(t), &ecr.GetDownloadUrlForLayerInput{RepositoryName: aws.String(repo), LayerDigest: aws.String(loose.Digest)})
	wantAPIError[*types.LayerInaccessibleException](t, err, "not associated with an image")
	_, err = c.GetDownloadUrlForLayer(ctx(t), &ecr.GetDownloadUrlForLayerInput{RepositoryName: aws.String(repo), LayerDigest: aws.String(digestOf([]byte("absent")))})
	wantAPIError[*types.LayersNotFoundException](t, err, "")
	_, err = c.GetDownloadUrlForLayer(ctx(t), &ecr.GetDownloadUrlForLayerInput{RepositoryName: aws.String(repo), LayerDigest: aws.String("sha256:xyz")})
	wantAPIError[*types.InvalidParameterException](t, err, "layerDigest")
}

func TestPutImageTagMutability(t *testing.T) {
	s := startServer(t, "")
	c := s.client()
	const repo = "mut/able"
	createRepos(t, c, repo)
	cfg := pushConfig(t, c, repo, 9)
	putImage(t, c, repo, ociManifest(cfg, "one"), "v1")
	out, err := c.PutImageTagMutability(ctx(t), &ecr.PutImageTagMutabilityInput{RepositoryName: aws.String(repo), ImageTagMutability: types.ImageTagMutabilityImmutable})
	if err != nil || out.ImageTagMutability != types.ImageTagMutabilityImmutable {
		t.Fatalf("PutImageTagMutability: %+v, %v", out, err)
	}
	_, err = c.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(ociManifest(cfg, "two")), ImageTag: aws.String("v1")})
	wantAPIError[*types.ImageTagAlreadyExistsException](t, err, "v1")
	if _, err := c.PutImageTagMutability(ctx(t), &ecr.PutImageTagMutabilityInput{RepositoryName: aws.String(repo), ImageTagMutability: types.ImageTagMutabilityMutable}); err != nil {
		t.Fatal(err)
	}
	putImage(t, c, repo, ociManifest(cfg, "two"), "v1")
	_, err = c.PutImageTagMutability(ctx(t), &ecr.PutImageTagMutabilityInput{RepositoryName: aws.String("no/such"), ImageTagMutability: types.ImageTagMutabilityMutable})
	wantAPIError[*types.RepositoryNotFoundException](t, err, "")
}

// TestArchiveSurvivesRestart: archive and restore states are stored, not
// kept in memory: they hold across a restart on the same data dir.
func TestArchiveSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	fast := func(c *config.Config) { c.Images.RestoreDelay = time.Second }
	s := startServer(t, dir, fast)
	c := s.client()
	const repo = "arch/restart"
	createRepos(t, c, repo)
	layer := pushBlob(t, c, repo, layerBytes(1000, 90))
	putImage(t, c, repo, ociManifest(pushConfig(t, c, repo, 90), "x", layer), "old")
	putImage(t, c, repo, ociManifest(pushConfig(t, c, repo, 91), "y", layer), "restoring")
	if _, err := storageClass(t, c, repo, byTag("old"), types.TargetStorageClassArchive); err != nil {
		t.Fatal(err)
	}
	if _, err := storageClass(t, c, repo, byTag("restoring"), types.TargetStorageClassArchive); err != nil {
		t.Fatal(err)
	}
	if _, err := storageClass(t, c, repo, byTag("restoring"), types.TargetStorageClassStandard); err != nil {
		t.Fatal(err)
	}
	s.stop()

	s = startServer(t, dir, fast)
	c = s.client()
	if d := describe(t, c, repo, byTag("old")); d.ImageStatus != types.ImageStatusArchived || d.LastArchivedAt == nil {
		t.Fatalf("after restart: %s, lastArchivedAt %v; want ARCHIVED", d.ImageStatus, d.LastArchivedAt)
	}
	time.Sleep(time.Second + 100*time.Millisecond)
	if d := describe(t, c, repo, byTag("restoring")); d.ImageStatus != types.ImageStatusActive {
		t.Fatalf("a restore begun before the restart is %s after its delay, want ACTIVE", d.ImageStatus)
	}
	if got := availabilityOf(t, c, repo, layer.Digest); got[layer.Digest][0] != "AVAILABLE" {
		t.Fatalf("layer %v", got)
	}
}
