package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
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

// manifests GETs one manifest by tag from many connections for a while.
func (w *workbench) manifests(ctx context.Context, s *server, p profiler) (measures, error) {
	c := newClient(s.url, w.sz.manifestConns)
	if err := c.push(ctx, "manifest/app", "latest", w.small[0]); err != nil {
		return nil, err
	}
	all, d, err := w.getLoop(ctx, c, "manifest/app", "latest", p)
	if err != nil {
		return nil, err
	}
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
