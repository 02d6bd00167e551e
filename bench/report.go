package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// row is one line of the table: a workload's figure on each server.
// ecrdKey and distKey name the measures compared (they differ where ecrd
// answers with another operation, BatchCheckLayerAvailability against
// distribution's HEAD); distKey "" means ecrd only.
type row struct {
	Workload     string `json:"workload"`
	Unit         string `json:"unit"`
	HigherBetter bool   `json:"higher_is_better"`
	Client       string `json:"client"`
	ecrdKey      string
	distKey      string
	Ecrd         *stats  `json:"ecrd,omitempty"`
	Distribution *stats  `json:"distribution,omitempty"`
	Ratio        float64 `json:"ratio,omitempty"` // > 1: ecrd does better
	// limit names the physical limit ecrd's figure is a fraction of (see
	// report.limit): "" for none.
	limit string
	// OfLimit is ecrd's median as a fraction of that limit (of its speed,
	// for a latency: the limit's over ecrd's).
	OfLimit float64 `json:"of_limit,omitempty"`
	// Target is the ratio ecrd must reach (0: none), LimitTarget the
	// fraction of the limit, Below the bound under which ecrd's median
	// must stay (a latency, a memory); Met says whether the median did
	// all of them.
	Target      float64 `json:"target,omitempty"`
	LimitTarget float64 `json:"limit_target,omitempty"`
	Below       float64 `json:"below,omitempty"`
	Met         *bool   `json:"met,omitempty"`
}

// rows are the embedded comparison's, with the targets of issue 20
// (against distribution v3.1.2 and the machine's limits).
var rows = []row{
	{Workload: "push 8×64 MiB image, 1 client", Unit: "MB/s", HigherBetter: true, Client: "Go OCI client", ecrdKey: "push-1", distKey: "push-1", limit: "disk", Target: 1.5, LimitTarget: 0.9},
	{Workload: "pull 8×64 MiB image, 1 client", Unit: "MB/s", HigherBetter: true, Client: "Go OCI client", ecrdKey: "pull-1", distKey: "pull-1", limit: "loopback", Target: 2},
	{Workload: "push 16 images, 16 clients", Unit: "MB/s", HigherBetter: true, Client: "Go OCI client", ecrdKey: "push-n", distKey: "push-n", limit: "disk", Target: 1.5, LimitTarget: 0.9},
	{Workload: "pull 16 images, 16 clients", Unit: "MB/s", HigherBetter: true, Client: "Go OCI client", ecrdKey: "pull-n", distKey: "pull-n", limit: "loopback", Target: 2},
	{Workload: "small images (3×4 KiB) push, 1 client", Unit: "images/s", HigherBetter: true, Client: "Go OCI client", ecrdKey: "small-push", distKey: "small-push", Target: 2},
	{Workload: "small images (3×4 KiB) pull, 1 client", Unit: "images/s", HigherBetter: true, Client: "Go OCI client", ecrdKey: "small-pull", distKey: "small-pull", Target: 2},
	{Workload: "existence, 1 client: ecrd BatchCheckLayerAvailability ×100 vs HEAD", Unit: "digests/s", HigherBetter: true, Client: "AWS SDK Go v2 / Go HTTP", ecrdKey: "bcla-1", distKey: "head-1"},
	{Workload: "existence, 32 clients: ecrd BatchCheckLayerAvailability ×100 vs HEAD", Unit: "digests/s", HigherBetter: true, Client: "AWS SDK Go v2 / Go HTTP", ecrdKey: "bcla-32", distKey: "head-32", Target: 40},
	{Workload: "existence, 1 client: HEAD vs HEAD", Unit: "digests/s", HigherBetter: true, Client: "Go HTTP", ecrdKey: "head-1", distKey: "head-1", limit: "head-1", Target: 2, LimitTarget: 0.5},
	{Workload: "existence, 32 clients: HEAD vs HEAD", Unit: "digests/s", HigherBetter: true, Client: "Go HTTP", ecrdKey: "head-32", distKey: "head-32", limit: "head-n", Target: 2, LimitTarget: 0.5},
	{Workload: "BatchCheckLayerAvailability p99 of a 100-digest call, 1 client", Unit: "ms", Client: "AWS SDK Go v2", ecrdKey: "bcla-p99-1", Below: 5},
	{Workload: "BatchCheckLayerAvailability p99 of a 100-digest call, 32 clients", Unit: "ms", Client: "AWS SDK Go v2", ecrdKey: "bcla-p99-32"},
	{Workload: "manifest GET by tag, 32 connections", Unit: "req/s", HigherBetter: true, Client: "Go HTTP", ecrdKey: "manifest-rps", distKey: "manifest-rps", limit: "get-rps", Target: 2},
	{Workload: "manifest GET p50, 32 connections", Unit: "ms", Client: "Go HTTP", ecrdKey: "manifest-p50", distKey: "manifest-p50", limit: "get-p50", Target: 2},
	{Workload: "manifest GET p99, 32 connections", Unit: "ms", Client: "Go HTTP", ecrdKey: "manifest-p99", distKey: "manifest-p99", limit: "get-p99", Target: 2},
	{Workload: "peak RSS, 2 GiB single-layer push", Unit: "MiB", Client: "Go OCI client", ecrdKey: "rss-push", distKey: "rss-push", Below: 64},
	{Workload: "peak RSS, 2 GiB single-layer pull", Unit: "MiB", Client: "Go OCI client", ecrdKey: "rss-pull", distKey: "rss-pull", Below: 64},
}

// stats summarise one figure over the runs.
type stats struct {
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	Values []float64 `json:"values"`
}

func summarize(vs []float64) *stats {
	if len(vs) == 0 {
		return nil
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return &stats{Median: med, Min: s[0], Max: s[len(s)-1], Values: vs}
}

// report is everything a run produced.
type report struct {
	// Title and Setup head the table (the embedded comparison's when
	// empty, as in results.json files written before -scaleout).
	Title   string  `json:"title,omitempty"`
	Setup   string  `json:"setup,omitempty"`
	Date    string  `json:"date"`
	Machine machine `json:"machine"`
	Short   bool    `json:"short"`
	Runs    int     `json:"runs"`
	Limits  struct {
		SHA256OneCore float64 `json:"sha256_one_core_mb_s"`
		Loopback      float64 `json:"loopback_io_copy_mb_s"`
		Disk          float64 `json:"disk_write_fsync_mb_s"`
		// HTTP is the trivial handler's floor (floor.go); zero in reports
		// without it (-scaleout, results.json written before it).
		HTTP *floor `json:"http_floor,omitempty"`
	} `json:"limits"`
	Rows []row `json:"rows"`
}

type machine struct {
	CPU    string `json:"cpu"`
	Cores  int    `json:"cores"`
	Go     string `json:"go"`
	Kernel string `json:"kernel"`
}

func thisMachine() machine {
	m := machine{Cores: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

func newReport(short bool, runs int) *report {
	return &report{Date: time.Now().UTC().Format(time.RFC3339), Machine: thisMachine(), Short: short, Runs: runs}
}

// fill summarises the collected measures into the rows.
func (r *report) fill(rows []row, ecrdRuns, distRuns []measures) {
	collect := func(runs []measures, key string) []float64 {
		var vs []float64
		for _, m := range runs {
			if v, ok := m[key]; ok {
				vs = append(vs, v)
			}
		}
		return vs
	}
	for _, rw := range rows {
		rw.Ecrd = summarize(collect(ecrdRuns, rw.ecrdKey))
		if rw.distKey != "" {
			rw.Distribution = summarize(collect(distRuns, rw.distKey))
		}
		if rw.Ecrd != nil && rw.Distribution != nil && rw.Ecrd.Median > 0 && rw.Distribution.Median > 0 {
			rw.Ratio = rw.Ecrd.Median / rw.Distribution.Median
			if !rw.HigherBetter {
				rw.Ratio = 1 / rw.Ratio
			}
		}
		if l := r.limit(rw.limit); l > 0 && rw.Ecrd != nil && rw.Ecrd.Median > 0 {
			rw.OfLimit = rw.Ecrd.Median / l
			if !rw.HigherBetter {
				rw.OfLimit = 1 / rw.OfLimit
			}
		}
		rw.Met = met(rw)
		r.Rows = append(r.Rows, rw)
	}
}

// limit is the physical limit a row's limit names, 0 if not measured.
func (r *report) limit(name string) float64 {
	switch name {
	case "disk":
		return r.Limits.Disk
	case "loopback":
		return r.Limits.Loopback
	}
	f := r.Limits.HTTP
	if f == nil {
		return 0
	}
	return map[string]float64{"head-1": f.Head1, "head-n": f.HeadN, "get-rps": f.GetRPS, "get-p50": f.GetP50, "get-p99": f.GetP99}[name]
}

// met says whether a row's median meets all its targets: nil when it has
// none, or when one of them was not measured (-run).
func met(rw row) *bool {
	if rw.Target == 0 && rw.LimitTarget == 0 && rw.Below == 0 {
		return nil
	}
	ok := true
	for _, t := range []struct{ want, got float64 }{{rw.Target, rw.Ratio}, {rw.LimitTarget, rw.OfLimit}} {
		switch {
		case t.want == 0:
		case t.got == 0:
			return nil
		case t.got < t.want:
			ok = false
		}
	}
	if rw.Below > 0 {
		if rw.Ecrd == nil {
			return nil
		}
		ok = ok && rw.Ecrd.Median < rw.Below
	}
	return &ok
}

func cell(s *stats) string {
	switch {
	case s == nil:
		return "—"
	case len(s.Values) == 1:
		return num(s.Median)
	}
	return fmt.Sprintf("%s (%s–%s)", num(s.Median), num(s.Min), num(s.Max))
}

func num(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// markdown writes the table: medians with the range over the runs, the
// ratio oriented so that above 1 means ecrd does better, ecrd's share of
// the machine's limit where a row has one, and the targets.
func (r *report) markdown(w io.Writer) {
	title, setup := r.Title, r.Setup
	if title == "" {
		title = "ecrd vs CNCF distribution (docker-registry 2.8)"
		setup = "ecrd: embedded store (SQLite + files), --auth=none so that one client serves both (the AWS SDK signs anyway); " +
			"distribution: filesystem storage, no auth. Both on the same disk, fresh for every workload, one at a time."
	}
	fmt.Fprintf(w, "%s, %s; %s, %d cores, %s, Linux %s; %d run(s)%s; median (min–max)\n\n",
		title, r.Date, r.Machine.CPU, r.Machine.Cores, r.Machine.Go, r.Machine.Kernel, r.Runs, map[bool]string{true: ", SHORT sizes", false: ""}[r.Short])
	fmt.Fprintln(w, setup)
	fmt.Fprintln(w)
	// The optional columns only where some row fills them: older tables
	// keep their shape.
	targets := slices.ContainsFunc(r.Rows, func(rw row) bool { return met(rw) != nil || rw.Target > 0 || rw.LimitTarget > 0 || rw.Below > 0 })
	limits := slices.ContainsFunc(r.Rows, func(rw row) bool { return rw.OfLimit > 0 })
	head, sep, blank := "", "", " | |"
	if limits {
		head, sep, blank = head+" of limit |", sep+" --- |", blank+" |"
	}
	if targets {
		head, sep, blank = head+" target |", sep+" --- |", blank+" |"
	}
	fmt.Fprintln(w, "| workload | unit | ecrd | distribution | ratio (>1: ecrd better) |"+head+" client |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- |"+sep+" --- |")
	lim := func(name, unit string, v float64, client string) {
		fmt.Fprintf(w, "| physical limit: %s | %s | %s |%s %s |\n", name, unit, num(v), blank, client)
	}
	lim("sha256, one core", "MB/s", r.Limits.SHA256OneCore, "Go crypto/sha256")
	lim("loopback TCP io.Copy", "MB/s", r.Limits.Loopback, "Go net")
	lim("disk, sequential write + fsync", "MB/s", r.Limits.Disk, "Go os")
	if f := r.Limits.HTTP; f != nil {
		lim("trivial Go handler, HEAD, 1 client", "req/s", f.Head1, "Go HTTP")
		lim("trivial Go handler, HEAD, 32 clients", "req/s", f.HeadN, "Go HTTP")
		lim("trivial Go handler, GET 4 KiB, 32 connections", "req/s", f.GetRPS, "Go HTTP")
		lim("trivial Go handler, GET 4 KiB p50, 32 connections", "ms", f.GetP50, "Go HTTP")
		lim("trivial Go handler, GET 4 KiB p99, 32 connections", "ms", f.GetP99, "Go HTTP")
	}
	for _, rw := range r.Rows {
		ratio := ""
		if rw.Ratio > 0 {
			ratio = fmt.Sprintf("%.2f×", rw.Ratio)
		}
		extra := ""
		if limits {
			of := ""
			if rw.OfLimit > 0 {
				of = fmt.Sprintf("%.0f%%", 100*rw.OfLimit)
			}
			extra += " " + of + " |"
		}
		if targets {
			extra += " " + targetCell(rw) + " |"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |%s %s |\n", rw.Workload, rw.Unit, cell(rw.Ecrd), cell(rw.Distribution), ratio, extra, rw.Client)
	}
}

// targetCell is the row's targets ("≥ 2×, ≥ 50% of limit", "< 5 ms"),
// then ": met" or ": MISSED" once measured; "" for a row without one.
func targetCell(rw row) string {
	var parts []string
	if rw.Target > 0 {
		parts = append(parts, fmt.Sprintf("≥ %g×", rw.Target))
	}
	if rw.LimitTarget > 0 {
		parts = append(parts, fmt.Sprintf("≥ %g%% of limit", 100*rw.LimitTarget))
	}
	if rw.Below > 0 {
		parts = append(parts, fmt.Sprintf("< %g %s", rw.Below, rw.Unit))
	}
	s := strings.Join(parts, ", ")
	switch {
	case s == "" || rw.Met == nil:
		return s
	case *rw.Met:
		return s + ": met"
	}
	return s + ": MISSED"
}

// write prints the table and writes it to OUT/BASE.md and OUT/BASE.json.
func (r *report) write(out, base string) error {
	var md bytes.Buffer
	r.markdown(&md)
	fmt.Print("\n" + md.String())
	mdPath, jsonPath := filepath.Join(out, base+".md"), filepath.Join(out, base+".json")
	if err := os.WriteFile(mdPath, md.Bytes(), 0o644); err != nil {
		return err
	}
	if err := r.writeJSON(jsonPath); err != nil {
		return err
	}
	fmt.Printf("\nwritten: %s, %s\n", mdPath, jsonPath)
	return nil
}

func (r *report) writeJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
