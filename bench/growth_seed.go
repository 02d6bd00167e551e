package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
)

// Seeding goes through the real APIs, as a user's pushes would: blobs by
// monolithic POST (the whole body with ?digest=, one request, which ecrd
// answers 201), manifests by PUT, repositories by CreateRepository,
// seedWorkers at a time.

// each runs fn(i) for every i in [from, to) on workers goroutines and
// stops at the first error. With what set it prints its progress every
// ten seconds and its rate at the end: a million images take an hour.
func each(ctx context.Context, what string, from, to, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next, done atomic.Int64
	next.Store(int64(from))
	start := time.Now()
	report := func() {
		n := done.Load()
		step(fmt.Sprintf("  %s: %d/%d in %.0fs, %.0f/s", what, n, to-from, time.Since(start).Seconds(), float64(n)/time.Since(start).Seconds()))
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	if what != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(10 * time.Second)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					report()
				}
			}
		}()
	}
	err := parallel(workers, func(int) error {
		for ctx.Err() == nil {
			i := int(next.Add(1) - 1)
			if i >= to {
				return nil
			}
			if err := fn(ctx, i); err != nil {
				cancel(err)
				return err
			}
			done.Add(1)
		}
		return nil
	})
	close(stop)
	wg.Wait()
	if err != nil || ctx.Err() != nil {
		// The first failure, not a worker's "context canceled" after it.
		return context.Cause(ctx)
	}
	if what != "" {
		report()
	}
	return nil
}

// postBlob uploads a blob in one request.
func (c *client) postBlob(ctx context.Context, repo string, b content) error {
	_, err := c.call(ctx, "POST blob", http.MethodPost, c.base+"/v2/"+repo+"/blobs/uploads/?digest="+b.digest,
		bytes.NewReader(b.data), int64(len(b.data)), map[string]string{"Content-Type": "application/octet-stream"}, http.StatusCreated)
	return err
}

// putManifest pushes a manifest under ref (a tag, or its digest) and
// checks the digest the registry computed.
func (c *client) putManifest(ctx context.Context, repo, ref, mediaType string, m content) error {
	resp, err := c.call(ctx, "PUT manifest", http.MethodPut, c.base+"/v2/"+repo+"/manifests/"+ref,
		bytes.NewReader(m.data), int64(len(m.data)), map[string]string{"Content-Type": mediaType}, http.StatusCreated)
	if err == nil && resp.Header.Get("Docker-Content-Digest") != m.digest {
		err = fmt.Errorf("PUT manifest %s: Docker-Content-Digest %q, want %s", ref, resp.Header.Get("Docker-Content-Digest"), m.digest)
	}
	return err
}

// pushImage uploads an image's own blobs and then its manifest under ref
// ("" for its digest); the base layers are in the repository already.
func (c *client) pushImage(ctx context.Context, repo string, g growthImage, ref string) error {
	for _, b := range g.blobs() {
		if err := c.postBlob(ctx, repo, b); err != nil {
			return err
		}
	}
	if ref == "" {
		ref = g.manifest.digest
	}
	return c.putManifest(ctx, repo, ref, manifestType, g.manifest)
}

// seedRepository creates repo and uploads what its images share: the
// base layers and the referrers' empty config.
func seedRepository(ctx context.Context, t *target, cs *contentSet, repo string) error {
	if _, err := t.api.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo)}); err != nil {
		return fmt.Errorf("CreateRepository %s: %w", repo, err)
	}
	shared := append(cs.baseLayers(), cs.empty)
	return each(ctx, "", 0, len(shared), seedWorkers, func(ctx context.Context, i int) error {
		return t.oci.postBlob(ctx, repo, shared[i])
	})
}

// seedImages grows repo from images [0, from) to [0, to): first the
// images, 90% of them tagged, then for every 100th image an index of it
// and the next one (tagged) and its 3 referrers (untagged), which need
// both images in place.
func seedImages(ctx context.Context, c *client, cs *contentSet, repo string, from, to int) error {
	err := each(ctx, fmt.Sprintf("images %d-%d", from, to), from, to, seedWorkers, func(ctx context.Context, i int) error {
		ref := ""
		if tagged(i) {
			ref = imageTag(i)
		}
		return c.pushImage(ctx, repo, cs.image(uint64(i)), ref)
	})
	if err != nil {
		return err
	}
	return each(ctx, "indexes and referrers", from/100, to/100, seedWorkers, func(ctx context.Context, k int) error {
		i := k * 100
		if err := c.putManifest(ctx, repo, indexTag(i), indexType, cs.index(i)); err != nil {
			return err
		}
		for j := range referrersPerImage {
			layer, m := cs.referrer(i, j)
			if err := c.postBlob(ctx, repo, layer); err != nil {
				return err
			}
			if err := c.putManifest(ctx, repo, m.digest, manifestType, m); err != nil {
				return err
			}
		}
		return nil
	})
}

// pushExtra pushes count images numbered from first, each under the tag
// tag(i) ("" for none), for an operation that deletes them.
func pushExtra(ctx context.Context, c *client, cs *contentSet, repo string, first uint64, count int, tag func(i int) string) error {
	return each(ctx, "", 0, count, seedWorkers, func(ctx context.Context, i int) error {
		return c.pushImage(ctx, repo, cs.image(first+uint64(i)), tag(i))
	})
}
