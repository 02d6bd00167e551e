package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// The write operations of the repository table. What they delete is
// pushed beforehand, untimed; what they add is deleted afterwards, so that
// the repository keeps its composition.

func (e *imageEnv) deleteManifest(ctx context.Context) (figure, error) {
	var digest string
	return latency(e.it.Write, func(int) error {
		g := e.cs.image(e.nextExtra(1))
		digest = g.manifest.digest
		return e.t.oci.pushImage(ctx, growthRepo, g, "")
	}, func(int) error {
		_, err := e.t.oci.call(ctx, "DELETE manifest", http.MethodDelete, e.v2("/manifests/"+digest), nil, 0, nil, http.StatusAccepted)
		return err
	})
}

// extraWithBlobs makes n images of the operation's own, with their blobs
// uploaded (untimed), for PutImage.
func (e *imageEnv) extraWithBlobs(ctx context.Context, n int) ([]growthImage, error) {
	first := e.nextExtra(n)
	imgs := make([]growthImage, n)
	for i := range imgs {
		imgs[i] = e.cs.image(first + uint64(i))
	}
	err := each(ctx, "", 0, 2*n, seedWorkers, func(ctx context.Context, i int) error {
		return e.t.oci.postBlob(ctx, growthRepo, imgs[i/2].blobs()[i%2])
	})
	return imgs, err
}

// putImage sends g's manifest with PutImage under a tag of its own and
// checks the digest ecrd computed.
func (e *imageEnv) putImage(ctx context.Context, g growthImage) error {
	out, err := e.t.api.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(growthRepo),
		ImageManifest: aws.String(string(g.manifest.data)), ImageManifestMediaType: aws.String(manifestType),
		ImageTag: aws.String("put-" + g.manifest.digest[len("sha256:"):][:16])})
	if err != nil {
		return err
	}
	if got := aws.ToString(out.Image.ImageId.ImageDigest); got != g.manifest.digest {
		return fmt.Errorf("PutImage: digest %s, want %s", got, g.manifest.digest)
	}
	return nil
}

func (e *imageEnv) putOne(ctx context.Context) (figure, error) {
	imgs, err := e.extraWithBlobs(ctx, e.it.Write+1)
	if err != nil {
		return figure{}, err
	}
	f, err := latency(e.it.Write, nil, func(i int) error { return e.putImage(ctx, imgs[i]) })
	if err != nil {
		return f, err
	}
	return f, e.deleteImages(ctx, imgs)
}

// putEight is the throughput of 8 writers sharing e.it.Puts PutImage
// calls; their latencies go to the JSON.
func (e *imageEnv) putEight(ctx context.Context) (figure, error) {
	imgs, err := e.extraWithBlobs(ctx, e.it.Puts)
	if err != nil {
		return figure{}, err
	}
	ds := make([]time.Duration, len(imgs))
	start := time.Now()
	err = each(ctx, "", 0, len(imgs), 8, func(ctx context.Context, i int) error {
		t := time.Now()
		err := e.putImage(ctx, imgs[i])
		ds[i] = time.Since(t)
		return err
	})
	f := figure{Value: float64(len(imgs)) / time.Since(start).Seconds(), P50: ms(percentile(ds, 0.5)), P99: ms(percentile(ds, 0.99))}
	if err != nil {
		return f, err
	}
	return f, e.deleteImages(ctx, imgs)
}

// deleteImages deletes images by digest, 100 a call, untimed.
func (e *imageEnv) deleteImages(ctx context.Context, imgs []growthImage) error {
	for chunk := range slices.Chunk(imgs, 100) {
		var ids []types.ImageIdentifier
		for _, g := range chunk {
			ids = append(ids, types.ImageIdentifier{ImageDigest: aws.String(g.manifest.digest)})
		}
		out, err := e.t.api.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String(growthRepo), ImageIds: ids})
		if err != nil {
			return fmt.Errorf("cleaning up: %w", err)
		}
		if len(out.Failures) > 0 {
			return fmt.Errorf("cleaning up: %d images not deleted: %s", len(out.Failures), aws.ToString(out.Failures[0].FailureReason))
		}
	}
	return nil
}

// batchDelete deletes 100 freshly pushed images by their only tag.
func (e *imageEnv) batchDelete(ctx context.Context) (figure, error) {
	var ids []types.ImageIdentifier
	return latency(e.it.Heavy, func(int) error {
		first := e.nextExtra(100)
		tag := func(i int) string { return fmt.Sprintf("bd%d", first+uint64(i)) }
		ids = nil
		for i := range 100 {
			ids = append(ids, types.ImageIdentifier{ImageTag: aws.String(tag(i))})
		}
		return pushExtra(ctx, e.t.oci, e.cs, growthRepo, first, 100, tag)
	}, func(int) error {
		out, err := e.t.api.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String(growthRepo), ImageIds: ids})
		if err != nil {
			return err
		}
		if len(out.ImageIds) != len(ids) || len(out.Failures) > 0 {
			return fmt.Errorf("%d images deleted and %d failures, want %d deleted", len(out.ImageIds), len(out.Failures), len(ids))
		}
		return nil
	})
}

// deleteRepository force-deletes a fresh repository of 100 images built
// on the same base layers as the grown one.
func (e *imageEnv) deleteRepository(ctx context.Context) (figure, error) {
	var repo string
	return latency(e.it.Heavy, func(int) error {
		e.drops++
		repo = fmt.Sprintf("growth/drop-%d", e.drops)
		if err := seedRepository(ctx, e.t, e.cs, repo); err != nil {
			return err
		}
		return pushExtra(ctx, e.t.oci, e.cs, repo, e.nextExtra(100), 100, func(i int) string { return fmt.Sprintf("v%d", i) })
	}, func(int) error {
		out, err := e.t.api.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String(repo), Force: true})
		if err != nil {
			return err
		}
		if got := aws.ToString(out.Repository.RepositoryName); got != repo {
			return fmt.Errorf("DeleteRepository answered for %q, want %q", got, repo)
		}
		return nil
	})
}

// gcIdle is a pass with the default grace: everything is younger than a
// day, so it must remove nothing.
func (e *imageEnv) gcIdle(ctx context.Context) (figure, error) { return e.gc(ctx, 0) }

// gcCollect is a pass with no grace after the write operations: it must
// remove the config and the layer of every image they pushed and deleted
// since the last such pass, and nothing else.
func (e *imageEnv) gcCollect(ctx context.Context) (figure, error) {
	f, err := e.gc(ctx, int(2*(e.extra-e.collected)), "--gc-grace=0")
	e.collected = e.extra
	return f, err
}

// gc runs one `ecrd gc` beside the server, times it, checks it removed
// wantBlobs blobs, and then that the repository lost nothing it uses: 100
// of its layers and an image's blobs.
func (e *imageEnv) gc(ctx context.Context, wantBlobs int, args ...string) (figure, error) {
	cmd := exec.CommandContext(ctx, e.t.bin, append([]string{"gc", "--data-dir", e.t.data}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	f := figure{Value: ms(time.Since(start)), Note: strings.TrimSpace(stdout.String())}
	if err != nil {
		return f, fmt.Errorf("ecrd gc: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var layers, blobs int
	if _, err := fmt.Sscanf(f.Note, "removed %d unused layer records and %d blobs", &layers, &blobs); err != nil {
		return f, fmt.Errorf("ecrd gc printed %q: %w", f.Note, err)
	}
	if blobs != wantBlobs {
		return f, fmt.Errorf("ecrd gc removed %d blobs, want %d (the configs and layers of the images deleted since the last pass)", blobs, wantBlobs)
	}
	digests := []string{e.cs.empty.digest}
	for _, b := range e.cs.baseLayers() {
		digests = append(digests, b.digest)
	}
	for _, i := range e.distinctImages(100-len(digests), false) {
		g := e.cs.image(uint64(i))
		digests = append(digests, g.app.digest, g.config.digest)
	}
	if err := e.checkLayers(ctx, digests[:100]); err != nil {
		return f, fmt.Errorf("after the collection: %w", err)
	}
	g := e.cs.image(uint64(e.anyImage()))
	for _, b := range append(g.blobs(), e.cs.base[g.base][:]...) {
		if _, body, err := e.t.oci.fetch(ctx, http.MethodGet, e.v2("/blobs/"+b.digest), ""); err != nil || newContent(body).digest != b.digest {
			return f, fmt.Errorf("after the collection, blob %s: %v", b.digest, err)
		}
	}
	return f, nil
}
