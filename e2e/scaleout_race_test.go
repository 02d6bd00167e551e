package e2e

import (
	"fmt"
	"log/slog"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/ecrd/ecrd/internal/syncbuf"
)

// TestConcurrentPushesOneRepository: many clients pushing different
// layers and images into one repository at once, through two replicas,
// all succeed. Every one of these writes is a serializable transaction
// on the same few index pages; PostgreSQL aborts some of them to keep
// them serializable, and the store must retry them into success rather
// than hand a client a 500 (as an earlier build did, under this load).
func TestConcurrentPushesOneRepository(t *testing.T) {
	stores := scaleOut(t)
	var logs syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	replicas := []*server{startServerLogging(t, "", log, stores), startServerLogging(t, "", log, stores)}
	defer func() {
		if t.Failed() {
			t.Logf("the replicas' warnings and errors:\n%s", logs.String())
		}
	}()
	clients := []*ecr.Client{replicas[0].client(), replicas[1].client()}
	const repo, workers, each = "race/app", 32, 8
	createRepos(t, clients[0], repo)

	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// Alternate replicas between the steps of one push.
				c, d := clients[(w+i)%2], clients[(w+i+1)%2]
				if err := pushOneLayerImage(t, c, d, repo, w, i); err != nil {
					errs <- fmt.Errorf("worker %d, push %d: %w", w, i, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	out, err := clients[1].DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: aws.String(repo),
		MaxResults: aws.Int32(1000)})
	if err != nil || len(out.ImageDetails) != workers*each {
		t.Fatalf("DescribeImages: %d images, %v; want %d", len(out.ImageDetails), err, workers*each)
	}
}

// pushOneLayerImage pushes an image of one small layer and a config,
// each its own bytes: parts on c, completes on d, the manifest on c.
func pushOneLayerImage(t *testing.T, c, d *ecr.Client, repo string, w, i int) error {
	layer := layerBytes(2048, uint64(1000*w+i+1))
	cfg := fmt.Appendf(nil, `{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"},"seed":"%d-%d"}`, w, i)
	for _, b := range [][]byte{layer, cfg} {
		up, err := c.InitiateLayerUpload(ctx(t), &ecr.InitiateLayerUploadInput{RepositoryName: aws.String(repo)})
		if err != nil {
			return fmt.Errorf("initiate: %w", err)
		}
		if _, err := c.UploadLayerPart(ctx(t), &ecr.UploadLayerPartInput{RepositoryName: aws.String(repo),
			UploadId: up.UploadId, PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(int64(len(b) - 1)),
			LayerPartBlob: b}); err != nil {
			return fmt.Errorf("part: %w", err)
		}
		if _, err := d.CompleteLayerUpload(ctx(t), &ecr.CompleteLayerUploadInput{RepositoryName: aws.String(repo),
			UploadId: up.UploadId, LayerDigests: []string{digestOf(b)}}); err != nil {
			return fmt.Errorf("complete: %w", err)
		}
	}
	manifest := ociManifest(blob{digestOf(cfg), len(cfg)}, "", blob{digestOf(layer), len(layer)})
	if _, err := c.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String(repo),
		ImageManifest: aws.String(manifest), ImageTag: aws.String(fmt.Sprintf("w%d-%d", w, i))}); err != nil {
		return fmt.Errorf("put image: %w", err)
	}
	avail, err := d.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{
		RepositoryName: aws.String(repo), LayerDigests: []string{digestOf(layer), digestOf(cfg)}})
	if err != nil || len(avail.Layers) != 2 || len(avail.Failures) != 0 {
		return fmt.Errorf("availability: %+v, %v", avail, err)
	}
	for _, l := range avail.Layers {
		if l.LayerAvailability != types.LayerAvailabilityAvailable {
			return fmt.Errorf("availability of %s: %s", aws.ToString(l.LayerDigest), l.LayerAvailability)
		}
	}
	return nil
}
