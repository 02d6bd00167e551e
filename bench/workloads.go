package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
)

// sizes scale the workloads: the figures, or small ones for CI.
type sizes struct {
	bigLayers     int   // layers of a large image
	bigLayerSize  int64 // bytes per large layer
	bigClients    int   // concurrent pushers/pullers of large images
	smallImages   int   // small images pushed and pulled
	smallLayers   int
	smallLayer    int64
	existDigests  int           // digests checked, half present
	existClients  int           // the many-clients case
	minDuration   time.Duration // a request-rate measure repeats at least this long
	manifestConns int
	manifestTime  time.Duration
	rssLayer      int64 // the single layer pushed and pulled for peak RSS
	limitBytes    int64 // bytes hashed and copied for the physical limits
}

func fullSizes() sizes {
	return sizes{bigLayers: 8, bigLayerSize: 64 << 20, bigClients: 16, smallImages: 200, smallLayers: 3, smallLayer: 4 << 10,
		existDigests: 10000, existClients: 32, minDuration: 3 * time.Second, manifestConns: 32, manifestTime: 10 * time.Second,
		rssLayer: 2 << 30, limitBytes: 2 << 30}
}

func shortSizes() sizes {
	return sizes{bigLayers: 8, bigLayerSize: 256 << 10, bigClients: 16, smallImages: 20, smallLayers: 3, smallLayer: 4 << 10,
		existDigests: 1000, existClients: 32, minDuration: 0, manifestConns: 32, manifestTime: time.Second,
		rssLayer: 64 << 20, limitBytes: 64 << 20}
}

// measures are one server's figures from one run of a workload, by key.
type measures map[string]float64

// workload is run against each server in turn; ecrdOnly keys have no
// distribution counterpart.
type workload struct {
	name string
	run  func(w *workbench, ctx context.Context, s *server, p profiler) (measures, error)
}

// workbench holds what the workloads share across servers and runs: the
// generated images (their digests cost a hash of every byte, so they are
// computed once).
type workbench struct {
	sz    sizes
	big   []image // bigClients+1 images; [0] is the single-client one
	small []image
	rss   image
}

func newWorkbench(sz sizes) *workbench {
	w := &workbench{sz: sz}
	w.big = make([]image, sz.bigClients+1)
	w.small = make([]image, sz.smallImages)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	gen := func(dst *image, seed uint64, layers int, size int64) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			*dst = newImage(seed, layers, size)
		}()
	}
	for i := range w.big {
		gen(&w.big[i], uint64(i+1), sz.bigLayers, sz.bigLayerSize)
	}
	for i := range w.small {
		gen(&w.small[i], uint64(100000+i), sz.smallLayers, sz.smallLayer)
	}
	gen(&w.rss, 999, 1, sz.rssLayer)
	wg.Wait()
	return w
}

var workloads = []workload{
	{"large images", (*workbench).large},
	{"small images", (*workbench).smallImages},
	{"existence checks", (*workbench).existence},
	{"manifest GET", (*workbench).manifests},
	{"peak RSS", (*workbench).peakRSS},
}

// timed runs fn under the profiler as workload phase name and returns
// how long it took.
func timed(ctx context.Context, p profiler, name string, fn func() error) (time.Duration, error) {
	if err := p.start(ctx); err != nil {
		return 0, err
	}
	start := time.Now()
	err := fn()
	d := time.Since(start)
	if perr := p.stop(ctx, name); err == nil {
		err = perr
	}
	return d, err
}

// parallel runs fn(i) for i in [0,n) at once and returns the first error.
func parallel(n int, fn func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = fn(i) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func mbps(bytes int64, d time.Duration) float64 { return float64(bytes) / 1e6 / d.Seconds() }

// large pushes and pulls images of 8 large layers: one client, then many
// clients with an image each.
func (w *workbench) large(ctx context.Context, s *server, p profiler) (measures, error) {
	c := newClient(s.url, w.sz.bigClients)
	m := measures{}
	one := w.big[0]
	d, err := timed(ctx, p, "push-1", func() error { return c.push(ctx, "big/one", "v1", one) })
	if err != nil {
		return nil, err
	}
	m["push-1"] = mbps(one.size(), d)
	d, err = timed(ctx, p, "pull-1", func() error { _, err := c.pull(ctx, "big/one", "v1", 3); return err })
	if err != nil {
		return nil, err
	}
	m["pull-1"] = mbps(one.size(), d)

	n := w.sz.bigClients
	var total int64
	for _, img := range w.big[1:] {
		total += img.size()
	}
	d, err = timed(ctx, p, "push-n", func() error {
		return parallel(n, func(i int) error { return c.push(ctx, fmt.Sprintf("big/c%d", i), "v1", w.big[i+1]) })
	})
	if err != nil {
		return nil, err
	}
	m["push-n"] = mbps(total, d)
	d, err = timed(ctx, p, "pull-n", func() error {
		return parallel(n, func(i int) error { _, err := c.pull(ctx, fmt.Sprintf("big/c%d", i), "v1", 3); return err })
	})
	if err != nil {
		return nil, err
	}
	m["pull-n"] = mbps(total, d)
	return m, nil
}

// smallImages pushes, then pulls, many images of a few 4 KiB layers, one
// at a time: every request's latency counts.
func (w *workbench) smallImages(ctx context.Context, s *server, p profiler) (measures, error) {
	c := newClient(s.url, 4)
	m := measures{}
	d, err := timed(ctx, p, "small-push", func() error {
		for i, img := range w.small {
			if err := c.push(ctx, "small/app", fmt.Sprintf("v%d", i), img); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	m["small-push"] = float64(len(w.small)) / d.Seconds()
	d, err = timed(ctx, p, "small-pull", func() error {
		for i := range w.small {
			if _, err := c.pull(ctx, "small/app", fmt.Sprintf("v%d", i), 3); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	m["small-pull"] = float64(len(w.small)) / d.Seconds()
	return m, nil
}

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
		HTTPClient:  &http.Client{Transport: ownBodies{&http.Transport{MaxIdleConnsPerHost: 2 * w.sz.existClients}}}})
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

// ownBodies hands net/http a copy of each request body. The SDK's own body
// races with the transport: when the answer arrives before the transport's
// final read of the body (its check that the body ends at Content-Length),
// the SDK's handling of its stream can fail that read, and the transport
// then closes the connection under the response being read ("use of closed
// network connection", aws/aws-sdk-go-v2#1825, #2737). It struck about one
// call in a hundred here, against any server; a copy cannot race.
type ownBodies struct{ t http.RoundTripper }

func (o ownBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	return o.t.RoundTrip(req)
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

// manifests GETs one manifest by tag from many connections for a while.
func (w *workbench) manifests(ctx context.Context, s *server, p profiler) (measures, error) {
	c := newClient(s.url, w.sz.manifestConns)
	if err := c.push(ctx, "manifest/app", "latest", w.small[0]); err != nil {
		return nil, err
	}
	lat := make([][]time.Duration, w.sz.manifestConns)
	d, err := timed(ctx, p, "manifest-get", func() error {
		stop := time.Now().Add(w.sz.manifestTime)
		return parallel(w.sz.manifestConns, func(g int) error {
			for time.Now().Before(stop) {
				start := time.Now()
				if err := c.getManifest(ctx, "manifest/app", "latest"); err != nil {
					return err
				}
				lat[g] = append(lat[g], time.Since(start))
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	all := slices.Concat(lat...)
	return measures{
		"manifest-rps": float64(len(all)) / d.Seconds(),
		"manifest-p50": ms(percentile(all, 0.50)),
		"manifest-p99": ms(percentile(all, 0.99)),
	}, nil
}

// peakRSS pushes then pulls one image of a single very large layer and
// reports the server's peak resident memory during each.
func (w *workbench) peakRSS(ctx context.Context, s *server, p profiler) (measures, error) {
	c := newClient(s.url, 2)
	m := measures{}
	for _, step := range []struct {
		key string
		fn  func() error
	}{
		{"rss-push", func() error { return c.push(ctx, "rss/app", "v1", w.rss) }},
		{"rss-pull", func() error { _, err := c.pull(ctx, "rss/app", "v1", 3); return err }},
	} {
		if err := resetPeakRSS(s.pid); err != nil {
			return nil, err
		}
		if _, err := timed(ctx, p, step.key, step.fn); err != nil {
			return nil, err
		}
		rss, err := peakRSS(s.pid)
		if err != nil {
			return nil, err
		}
		m[step.key] = float64(rss) / (1 << 20)
	}
	return m, nil
}

func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}
