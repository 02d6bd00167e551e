package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/ecrd/ecrd/internal/config"
)

// uploadTolerant uploads data, treating LayerAlreadyExists as success.
func uploadTolerant(c *ecr.Client, repo string, data []byte) error {
	ctx := context.Background()
	up, err := c.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RepositoryName: aws.String(repo)})
	if err != nil {
		return err
	}
	if _, err := c.UploadLayerPart(ctx, &ecr.UploadLayerPartInput{RepositoryName: aws.String(repo), UploadId: up.UploadId,
		PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(int64(len(data)) - 1), LayerPartBlob: data}); err != nil {
		return err
	}
	_, err = c.CompleteLayerUpload(ctx, &ecr.CompleteLayerUploadInput{RepositoryName: aws.String(repo), UploadId: up.UploadId, LayerDigests: []string{digestOf(data)}})
	var exists *types.LayerAlreadyExistsException
	if errors.As(err, &exists) {
		return nil
	}
	return err
}

// TestGCConcurrentWithPushes: 50 pushers put images sharing layers while a
// deleter removes images and collections run back to back with a short
// grace period. Configs repeat across rounds, so bytes a collection is
// deleting are uploaded again at the same time. Afterwards every remaining
// image's blobs are present and hash to their digests. A layer can still
// be collected between its upload and its manifest when a push is slower
// than the grace period; the pusher then uploads again, as a client does
// on LayersNotFoundException. The grace is 3 s, not 1: under the race
// detector on a loaded 2-core machine one push attempt took longer than a
// second, and every attempt lost the race.
func TestGCConcurrentWithPushes(t *testing.T) {
	const grace = 3 * time.Second
	s := startServer(t, "", func(c *config.Config) { c.Images.GCGrace = grace; c.Images.GCInterval = 0 })
	c := s.client()
	const repo = "gc/race"
	createRepos(t, c, repo)
	shared := make([][]byte, 4)
	for i := range shared {
		shared[i] = layerBytes(2048+i, uint64(900+i))
	}
	pushers, rounds := 50, 4
	if testing.Short() {
		pushers = 10
	}
	var pushed, collected atomic.Int64
	stop := make(chan struct{})
	var bg sync.WaitGroup
	bg.Add(2)
	go func() { // collector
		defer bg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			st, err := s.app.CollectGarbage(context.Background())
			if err != nil {
				t.Errorf("gc: %v", err)
				return
			}
			collected.Add(int64(st.Blobs))
		}
	}()
	go func() { // deleter: removes every third image it finds
		defer bg.Done()
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			out, err := c.ListImages(context.Background(), &ecr.ListImagesInput{RepositoryName: aws.String(repo), MaxResults: aws.Int32(20)})
			if err != nil || len(out.ImageIds) == 0 {
				continue
			}
			id := out.ImageIds[n%len(out.ImageIds)]
			if n%3 == 0 {
				_, _ = c.BatchDeleteImage(context.Background(), &ecr.BatchDeleteImageInput{RepositoryName: aws.String(repo), ImageIds: []types.ImageIdentifier{id}})
			}
		}
	}()
	var wg sync.WaitGroup
	for p := 0; p < pushers; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				cfgData := fmt.Appendf(nil, `{"pusher":%d,"round":%d}`, p, r%2)
				layers := []blob{{digestOf(shared[p%4]), len(shared[p%4])}, {digestOf(shared[(p+1)%4]), len(shared[(p+1)%4])}}
				manifest := ociManifest(blob{digestOf(cfgData), len(cfgData)}, fmt.Sprint(p, r), layers...)
				for attempt := 0; ; attempt++ {
					if attempt == 20 {
						t.Errorf("pusher %d round %d: gave up", p, r)
						return
					}
					if err := errors.Join(uploadTolerant(c, repo, cfgData), uploadTolerant(c, repo, shared[p%4]), uploadTolerant(c, repo, shared[(p+1)%4])); err != nil {
						t.Errorf("pusher %d: upload: %v", p, err)
						return
					}
					_, err := c.PutImage(context.Background(), &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(manifest), ImageTag: aws.String(fmt.Sprintf("p%d-r%d", p, r))})
					var gone *types.LayersNotFoundException
					if errors.As(err, &gone) {
						continue // collected between upload and manifest: upload again
					}
					if err != nil {
						t.Errorf("pusher %d: PutImage: %v", p, err)
						return
					}
					pushed.Add(1)
					break
				}
			}
		}(p)
	}
	wg.Wait()
	close(stop)
	bg.Wait()
	time.Sleep(grace + 100*time.Millisecond) // past the grace of the last deletions
	st, err := s.app.CollectGarbage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	collected.Add(int64(st.Blobs))

	// Every remaining image: its blobs exist and hash to their digests.
	p := ecr.NewDescribeImagesPaginator(c, &ecr.DescribeImagesInput{RepositoryName: aws.String(repo)})
	images, checked := 0, 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page.ImageDetails {
			images++
			got, err := c.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RepositoryName: aws.String(repo), ImageIds: []types.ImageIdentifier{{ImageDigest: d.ImageDigest}}})
			if err != nil || len(got.Images) != 1 {
				t.Fatalf("BatchGetImage %s: %+v, %v", aws.ToString(d.ImageDigest), got, err)
			}
			for _, b := range manifestBlobs(t, aws.ToString(got.Images[0].ImageManifest)) {
				data, err := os.ReadFile(filepath.Join(s.DataDir, "blobs", "sha256", b[7:9], b[7:]))
				if err != nil {
					t.Fatalf("image %s: blob %s: %v", aws.ToString(d.ImageDigest), b, err)
				}
				if fmt.Sprintf("sha256:%x", sha256.Sum256(data)) != b {
					t.Fatalf("blob %s does not hash to its digest", b)
				}
				checked++
			}
		}
	}
	t.Logf("%d images pushed, %d remain, %d blobs verified, %d blobs collected", pushed.Load(), images, checked, collected.Load())
	if collected.Load() == 0 {
		t.Fatal("no blob was collected: the test did not race deletion with pushes")
	}
	if images == 0 || int64(images) > pushed.Load() {
		t.Fatalf("%d images remain of %d pushed", images, pushed.Load())
	}
}

// manifestBlobs returns the config and layer digests of an image manifest.
func manifestBlobs(t *testing.T, manifest string) []string {
	t.Helper()
	var m struct {
		Config struct{ Digest string }   `json:"config"`
		Layers []struct{ Digest string } `json:"layers"`
	}
	if err := json.Unmarshal([]byte(manifest), &m); err != nil {
		t.Fatal(err)
	}
	out := []string{m.Config.Digest}
	for _, l := range m.Layers {
		out = append(out, l.Digest)
	}
	return out
}
