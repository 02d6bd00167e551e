package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// opInfo names one row of a growth table.
type opInfo struct {
	Key          string `json:"key"`
	Name         string `json:"name"`
	Unit         string `json:"unit"`
	HigherBetter bool   `json:"higher_is_better,omitempty"`
}

// growthPoint is everything measured at one size of a dimension.
type growthPoint struct {
	Size        int                `json:"size"`
	Composition composition        `json:"composition"` // zero for the registry dimension
	Seed        seeding            `json:"seed"`
	Figures     map[string]*figure `json:"figures"`
}

// seeding is how the step up to a size went.
type seeding struct {
	Added     int     `json:"added"` // images or repositories
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"per_second"`
}

// growthReport is what a growth run wrote to growth.json: enough to print
// growth.md again (-render-growth).
type growthReport struct {
	Date       string        `json:"date"`
	Machine    machine       `json:"machine"`
	Short      bool          `json:"short"`
	Filter     string        `json:"filter,omitempty"`
	Iterations iterations    `json:"iterations"`
	Budget     string        `json:"budget"`      // an operation's calls stop once this is spent...
	MinSamples int           `json:"min_samples"` // ...and they are this many
	ImageOps   []opInfo      `json:"image_operations"`
	RepoOps    []opInfo      `json:"repository_operations"`
	Images     []growthPoint `json:"images,omitempty"`
	Registry   []growthPoint `json:"registry,omitempty"`
}

func newGrowthReport(o growthOptions) *growthReport {
	r := &growthReport{Date: time.Now().UTC().Format(time.RFC3339), Machine: thisMachine(), Short: o.short,
		Filter: strings.TrimPrefix(o.filter.String(), "(?i)"), Iterations: o.iters,
		Budget: latencyBudget.String(), MinSamples: minSamples}
	for _, op := range imageOps {
		r.ImageOps = append(r.ImageOps, op.opInfo)
	}
	for _, op := range repoOps {
		r.RepoOps = append(r.RepoOps, op.opInfo)
	}
	return r
}

// latencyFigure: a figure of timed calls, shown as p50 (p99); the others
// are one value (a throughput, a memory size, a pass).
func (f *figure) latencyFigure() bool { return len(f.Samples) > 0 }

// cost is the figure the ratio compares.
func (f *figure) cost() float64 {
	if f.latencyFigure() {
		return f.P50
	}
	return f.Value
}

func (f *figure) cell() string {
	switch {
	case f == nil:
		return "—"
	case f.latencyFigure():
		return fmt.Sprintf("%s (%s)", num(f.P50), num(f.P99))
	}
	return num(f.Value)
}

// ratio is the cost at the largest size over the cost at the smallest,
// turned over for throughputs: above 1 always means slower at size.
func ratio(op opInfo, pts []growthPoint) string {
	if len(pts) < 2 {
		return ""
	}
	first, last := pts[0].Figures[op.Key], pts[len(pts)-1].Figures[op.Key]
	if first == nil || last == nil || first.cost() <= 0 || last.cost() <= 0 {
		return ""
	}
	r := last.cost() / first.cost()
	if op.HigherBetter {
		r = 1 / r
	}
	return fmt.Sprintf("%.2f×", r)
}

func (r *growthReport) markdown(w io.Writer) {
	short := ""
	if r.Short {
		short = "; SHORT sizes (the figures mean nothing, the run proves the benchmark works)"
	}
	fmt.Fprintf(w, "ecrd growth, %s; %s, %d cores, %s, Linux %s%s\n\n", r.Date, r.Machine.CPU, r.Machine.Cores, r.Machine.Go, r.Machine.Kernel, short)
	budget := ""
	if r.Budget != "" {
		budget = fmt.Sprintf("; an operation stops after %s of calls once it has made %d", r.Budget, r.MinSamples)
	}
	fmt.Fprintf(w, "ecrd alone: embedded store (SQLite + files) on the repository's disk, --auth=none, --gc-interval=0, one server per table, "+
		"grown through /v2/ and the ECR API. Latencies in ms: p50 (p99) of n calls after one warm-up "+
		"(n = %d for blob and manifest requests, %d for small API calls and /v2/ listings, %d for pages, %d for DELETE and PutImage, %d for deletes of 100 images; "+
		"8 writers share %d PutImage calls%s). largest/smallest: the cost at the largest size over the cost at the smallest (>1: slower at size).",
		r.Iterations.Cheap, r.Iterations.API, r.Iterations.Page, r.Iterations.Write, r.Iterations.Heavy, r.Iterations.Puts, budget)
	if r.Filter != "" {
		fmt.Fprintf(w, " Only the operations matching %q.", r.Filter)
	}
	fmt.Fprintln(w)
	if len(r.Images) > 0 {
		fmt.Fprintf(w, "\n### One repository (%s) of N images\n\n", growthRepo)
		fmt.Fprintf(w, "Each image: its own config and 300-byte layer on the 2 layers (16 KiB) of one of %d base images; 90%% tagged; "+
			"every 100th also in a tagged 2-image index and the subject of 3 untagged referrers (2 signatures, 1 SBOM). Seeded:\n\n", baseImages)
		for _, p := range r.Images {
			c := p.Composition
			fmt.Fprintf(w, "- %d images (%d tagged, %d untagged) + %d indexes + %d referrers = %d manifests; %d tags, %d untagged manifests; %d layers, %d blobs; "+
				"%d images added in %.0f s (%.0f images/s)\n",
				c.Images, c.Images-c.UntaggedImages, c.UntaggedImages, c.Indexes, c.Referrers, c.Manifests, c.Tags, c.Untagged, c.Layers, c.Blobs,
				p.Seed.Added, p.Seed.Seconds, p.Seed.PerSecond)
		}
		fmt.Fprintln(w)
		table(w, "images", r.ImageOps, r.Images)
	}
	if len(r.Registry) > 0 {
		fmt.Fprintf(w, "\n### A registry of N repositories (empty, on a server of their own)\n\n")
		for _, p := range r.Registry {
			fmt.Fprintf(w, "- %d repositories: %d added in %.0f s (%.0f/s)\n", p.Size, p.Seed.Added, p.Seed.Seconds, p.Seed.PerSecond)
		}
		fmt.Fprintln(w)
		table(w, "repositories", r.RepoOps, r.Registry)
	}
}

// table writes one dimension: a row per operation, a column per size.
func table(w io.Writer, what string, ops []opInfo, pts []growthPoint) {
	fmt.Fprint(w, "| operation | unit |")
	for _, p := range pts {
		fmt.Fprintf(w, " %d %s |", p.Size, what)
	}
	fmt.Fprintln(w, " largest/smallest |")
	fmt.Fprint(w, "| --- | --- |"+strings.Repeat(" --- |", len(pts)+1)+"\n")
	for _, op := range ops {
		measured := false
		var cells []string
		for _, p := range pts {
			f := p.Figures[op.Key]
			measured = measured || f != nil
			cells = append(cells, f.cell())
		}
		if !measured {
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", op.Name, op.Unit, strings.Join(cells, " | "), ratio(op, pts))
	}
}

func (r *growthReport) writeJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// renderGrowthJSON prints the tables of a growth.json as the run that
// wrote it printed them.
func renderGrowthJSON(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var r growthReport
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	r.markdown(os.Stdout)
	return nil
}
