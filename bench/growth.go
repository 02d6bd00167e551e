package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The growth benchmark (-growth) runs ecrd alone. It grows one repository
// in steps to each of -sizes images, and a registry to each of -repos
// repositories, through the real APIs, and at each size measures what
// every operation costs: a cost that climbs with the size is a query or a
// scan that does not scale, whatever its absolute figure.

// growthOptions are what a growth run needs, parsed and checked before
// anything is built.
type growthOptions struct {
	sizes, repos []int
	short        bool
	filter       *regexp.Regexp // operations to measure (case-insensitive)
	iters        iterations
	bin          string // the ecrd binary
	work         string // where the servers' data goes
	out          string // where growth.md and growth.json go
}

func newGrowthOptions(short bool, sizes, repos, only string) (growthOptions, error) {
	o := growthOptions{short: short, iters: fullIterations()}
	defSizes, defRepos := "1000,10000,100000", "1000,10000,100000"
	if short {
		defSizes, defRepos, o.iters = "100,300", "100,300", shortIterations()
	}
	var err error
	if o.sizes, err = parseSizes("-sizes", orDefault(sizes, defSizes), 100); err != nil {
		return o, err
	}
	if o.repos, err = parseSizes("-repos", orDefault(repos, defRepos), 1); err != nil {
		return o, err
	}
	if o.filter, err = regexp.Compile("(?i)" + only); err != nil {
		return o, fmt.Errorf("-run: %w", err)
	}
	return o, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// parseSizes reads a comma-separated list of increasing sizes, each a
// multiple of unit (the repository grows in whole groups of 100 images:
// every 100th image has an index and referrers).
func parseSizes(flagName, s string, unit int) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 || n%unit != 0 || (len(out) > 0 && n <= out[len(out)-1]) {
			return nil, fmt.Errorf("%s %q: want increasing positive sizes, each a multiple of %d", flagName, s, unit)
		}
		out = append(out, n)
	}
	return out, nil
}

// iterations are how many timed calls each kind of operation gets.
type iterations struct {
	Cheap int `json:"cheap"` // a blob or manifest request
	API   int `json:"api"`   // a small ECR API call or /v2/ listing
	Page  int `json:"page"`  // a page of up to 1000 images or repositories
	Write int `json:"write"` // a push-sized write (DELETE, PutImage)
	Heavy int `json:"heavy"` // 100 images deleted at once
	Puts  int `json:"puts"`  // PutImage calls of the 8-writer throughput
}

func fullIterations() iterations {
	return iterations{Cheap: 100, API: 50, Page: 20, Write: 30, Heavy: 10, Puts: 400}
}

func shortIterations() iterations {
	return iterations{Cheap: 20, API: 10, Page: 5, Write: 5, Heavy: 3, Puts: 80}
}

// runGrowth grows both dimensions (each only if one of its operations is
// asked for) and writes OUT/growth.md and OUT/growth.json.
func runGrowth(ctx context.Context, o growthOptions) error {
	rep := newGrowthReport(o)
	if anyMatch(imageOps, o.filter) {
		pts, err := growImages(ctx, o)
		if err != nil {
			return err
		}
		rep.Images = pts
	}
	if anyMatch(repoOps, o.filter) {
		pts, err := growRegistry(ctx, o)
		if err != nil {
			return err
		}
		rep.Registry = pts
	}
	var md bytes.Buffer
	rep.markdown(&md)
	fmt.Print("\n" + md.String())
	mdPath, jsonPath := filepath.Join(o.out, "growth.md"), filepath.Join(o.out, "growth.json")
	if err := os.WriteFile(mdPath, md.Bytes(), 0o644); err != nil {
		return err
	}
	if err := rep.writeJSON(jsonPath); err != nil {
		return err
	}
	fmt.Printf("\nwritten: %s, %s\n", mdPath, jsonPath)
	return nil
}

// growthOp is one row of a dimension's table and how to measure it on
// that dimension's environment E.
type growthOp[E any] struct {
	opInfo
	run func(e E, ctx context.Context) (figure, error)
}

func anyMatch[E any](ops []growthOp[E], filter *regexp.Regexp) bool {
	return slices.ContainsFunc(ops, func(op growthOp[E]) bool { return filter.MatchString(op.Name) })
}

// measure runs the asked-for operations in order (the last ones restart
// the server) and returns their figures by key.
// growSteps takes a dimension to each of sizes in turn and measures ops
// at each: grow adds what takes it from the size before (0 first) to the
// next and returns the point's composition; noun names a unit of size.
func growSteps[E any](ctx context.Context, t *target, sizes []int, noun string, e E, ops []growthOp[E], filter *regexp.Regexp,
	grow func(ctx context.Context, from, to int) (composition, error)) ([]growthPoint, error) {
	var pts []growthPoint
	from := 0
	for _, n := range sizes {
		step(fmt.Sprintf("growing from %d to %d %s", from, n, noun))
		start := time.Now()
		comp, err := grow(ctx, from, n)
		if err != nil {
			return nil, t.failed(err)
		}
		d := time.Since(start)
		pt := growthPoint{Size: n, Composition: comp,
			Seed: seeding{Added: n - from, Seconds: d.Seconds(), PerSecond: float64(n-from) / d.Seconds()}}
		step(fmt.Sprintf("measuring at %d %s", n, noun))
		if pt.Figures, err = measure(ctx, e, ops, filter); err != nil {
			return nil, t.failed(err)
		}
		pts, from = append(pts, pt), n
	}
	return pts, nil
}

func measure[E any](ctx context.Context, e E, ops []growthOp[E], filter *regexp.Regexp) (map[string]*figure, error) {
	figs := map[string]*figure{}
	for _, op := range ops {
		if !filter.MatchString(op.Name) {
			continue
		}
		start := time.Now()
		f, err := op.run(e, ctx)
		if err != nil {
			return figs, fmt.Errorf("%s: %w", op.Name, err)
		}
		step(fmt.Sprintf("  %-62s %s  (%.1fs)", op.Name, f.cell(), time.Since(start).Seconds()))
		figs[op.Key] = &f
	}
	return figs, nil
}

// figure is an operation's cost at one size: p50 and p99 of timed calls,
// or one value (a throughput, a memory size, a one-off pass).
type figure struct {
	P50     float64   `json:"p50,omitempty"`
	P99     float64   `json:"p99,omitempty"`
	Value   float64   `json:"value,omitempty"`
	Samples []float64 `json:"samples_ms,omitempty"`
	Note    string    `json:"note,omitempty"`
}

// latencyBudget bounds the timed calls of one operation at one size: a
// call that has become slow at size stops after minSamples calls once
// the budget is spent, so that the largest sizes still finish.
const (
	latencyBudget = 20 * time.Second
	minSamples    = 10
)

// latency times call(i) for i in 1..n after an untimed warm-up call(0)
// (new connections, cold caches). prepare(i), untimed, readies each call:
// it pushes what the call deletes, picks what it asks for. call checks
// its answer; a wrong one fails the run.
func latency(n int, prepare, call func(i int) error) (figure, error) {
	var ds []time.Duration
	var spent time.Duration
	for i := 0; i <= n && (spent < latencyBudget || len(ds) < minSamples); i++ {
		if prepare != nil {
			if err := prepare(i); err != nil {
				return figure{}, fmt.Errorf("preparing call %d: %w", i, err)
			}
		}
		start := time.Now()
		if err := call(i); err != nil {
			return figure{}, fmt.Errorf("call %d: %w", i, err)
		}
		if i > 0 {
			ds = append(ds, time.Since(start))
			spent += ds[len(ds)-1]
		}
	}
	f := figure{P50: ms(percentile(ds, 0.50)), P99: ms(percentile(ds, 0.99))}
	for _, d := range ds {
		f.Samples = append(f.Samples, ms(d))
	}
	return f, nil
}

// newRand is the run's source of random choices, seeded so that two runs
// ask for the same images.
func newRand() *rand.Rand { return rand.New(rand.NewPCG(7, 11)) }

// serverRSS is the server's resident memory now (VmRSS), in MiB.
func serverRSS(t *target) (figure, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", t.s.pid))
	if err != nil {
		return figure{}, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return figure{Value: float64(kb) / 1024}, err
		}
	}
	return figure{}, fmt.Errorf("no VmRSS in /proc/%d/status", t.s.pid)
}

// startup stops the server and starts it again over the same data dir;
// how long the stop took goes to the JSON.
func startup(t *target) (figure, error) {
	begin := time.Now()
	if err := t.s.stop(); err != nil {
		return figure{}, fmt.Errorf("stopping: %w", err)
	}
	stopped := time.Since(begin)
	d, err := t.start()
	return figure{Value: ms(d), Note: fmt.Sprintf("stopped in %.0f ms", ms(stopped))}, err
}
