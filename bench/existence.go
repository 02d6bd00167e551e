package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/ecrd/ecrd/internal/sdkhttp"
)

// existence asks whether a repository has each of N digests, half of
// which it has: HEAD per digest on both servers, and ecrd's
// BatchCheckLayerAvailability 100 digests a call.
func (w *workbench) existence(ctx context.Context, s *server, p profiler) (measures, error) {
	const repo = "exists/app"
	c := newClient(s.url, w.sz.existClients)
	digests := make([]string, w.sz.existDigests)
	err := parallel(8, func(g int) error {
		for i := g; i < len(digests); i += 8 {
			if i%2 == 0 {
				d, err := c.pushSmallBlob(ctx, repo, []byte(fmt.Sprintf("present blob %d", i)))
				if err != nil {
					return err
				}
				digests[i] = d
			} else {
				sum := sha256.Sum256([]byte(fmt.Sprintf("absent blob %d", i)))
				digests[i] = "sha256:" + hex.EncodeToString(sum[:])
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(digests), func(i, j int) { digests[i], digests[j] = digests[j], digests[i] })
	want := (len(digests) + 1) / 2
	m := measures{}
	for _, clients := range []int{1, w.sz.existClients} {
		rate, err := w.repeat(ctx, p, fmt.Sprintf("head-%d", clients), func() error {
			return w.headAll(ctx, c, repo, digests, clients, want)
		})
		if err != nil {
			return nil, err
		}
		m[fmt.Sprintf("head-%d", clients)] = rate
	}
	if s.name != "ecrd" {
		return m, nil
	}
	api := ecr.New(ecr.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:  sdkhttp.Client(2 * w.sz.existClients)})
	for _, clients := range []int{1, w.sz.existClients} {
		var mu sync.Mutex
		var lat []time.Duration
		rate, err := w.repeat(ctx, p, fmt.Sprintf("bcla-%d", clients), func() error {
			return w.checkAll(ctx, api, repo, digests, clients, want, func(d time.Duration) {
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			})
		})
		if err != nil {
			return nil, err
		}
		m[fmt.Sprintf("bcla-%d", clients)] = rate
		m[fmt.Sprintf("bcla-p99-%d", clients)] = ms(percentile(lat, 0.99))
	}
	return m, nil
}

// repeat runs one pass over the digests until minDuration has passed
// (once at least) and returns digests per second.
func (w *workbench) repeat(ctx context.Context, p profiler, name string, pass func() error) (float64, error) {
	passes := 0
	d, err := timed(ctx, p, name, func() error {
		start := time.Now()
		for passes == 0 || time.Since(start) < w.sz.minDuration {
			if err := pass(); err != nil {
				return err
			}
			passes++
		}
		return nil
	})
	return float64(passes*w.sz.existDigests) / d.Seconds(), err
}

func (w *workbench) headAll(ctx context.Context, c *client, repo string, digests []string, clients, want int) error {
	found := make([]int, clients)
	err := parallel(clients, func(g int) error {
		for i := g; i < len(digests); i += clients {
			ok, err := c.headBlob(ctx, repo, digests[i])
			if err != nil {
				return err
			}
			if ok {
				found[g]++
			}
		}
		return nil
	})
	if n := sum(found); err == nil && n != want {
		err = fmt.Errorf("HEAD found %d of the %d present blobs", n, want)
	}
	return err
}

func (w *workbench) checkAll(ctx context.Context, api *ecr.Client, repo string, digests []string, clients, want int, record func(time.Duration)) error {
	var batches [][]string
	for b := range slices.Chunk(digests, 100) {
		batches = append(batches, b)
	}
	found := make([]int, clients)
	err := parallel(clients, func(g int) error {
		for i := g; i < len(batches); i += clients {
			start := time.Now()
			out, err := api.BatchCheckLayerAvailability(ctx, &ecr.BatchCheckLayerAvailabilityInput{
				RepositoryName: aws.String(repo), LayerDigests: batches[i]})
			if err != nil {
				return err
			}
			record(time.Since(start))
			found[g] += len(out.Layers)
		}
		return nil
	})
	if n := sum(found); err == nil && n != want {
		err = fmt.Errorf("BatchCheckLayerAvailability found %d of the %d present blobs", n, want)
	}
	return err
}
