// Command bench runs ecrd and CNCF distribution v3.1.2 (installed by
// scripts/install-tools.sh) side by side on this machine, drives both with
// the same client code through each workload in alternation, repeats it,
// and prints one table: workload, ecrd, distribution, ratio, ecrd's share
// of the machine's limit (sha256, loopback, disk, and the HTTP floor: a
// trivial Go handler answering the same client), and the targets. It
// writes the table as Markdown and JSON too, and with -profile ecrd's CPU
// and heap profiles per workload.
//
//	go run ./bench                        # the sizes, 5 runs (about 20 minutes)
//	go run ./bench -short                 # small sizes, 1 run: what CI runs
//	go run ./bench -peer docker-registry  # against Debian's distribution 2.8 instead
//
// With -growth it runs ecrd alone (no peer registry): it grows one
// repository to each of -sizes images and a registry to each of -repos
// repositories, measures every operation at each size, and writes
// growth.md and growth.json (see growth.go).
//
//	go run ./bench -growth                 # 1k, 10k, 100k images and repositories
//	go run ./bench -growth -sizes 1000,10000,100000,1000000 -repos 1000,10000,100000
//	go run ./bench -growth -short          # 100 and 300: what CI runs
//	go run ./bench -growth -run 'BatchCheck|referrers' -ecrd /path/to/ecrd
//
// With -scaleout it compares the scale-out stores instead: ecrd on
// PostgreSQL and S3 against CNCF distribution v3 with its S3 driver, both
// on one versitygw, and writes scaleout.md and scaleout.json with the
// issue's targets checked (see scaleout.go).
//
//	go run ./bench -scaleout                # starts PostgreSQL and versitygw if not given
//	go run ./bench -scaleout -short
//	go run ./bench -scaleout -postgres-dsn postgres://u:p@host/db -s3-endpoint http://host:9000
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) == 3 && os.Args[1] == floorFlag {
		return serveFloor(os.Args[2])
	}
	short := flag.Bool("short", false, "small sizes and one run (CI): the figures mean nothing, the run proves the benchmark works")
	runs := flag.Int("runs", 0, "runs of each workload (default 5, or 1 with -short)")
	out := flag.String("out", "bench/results", "directory for results.md, results.json and profiles/ (growth.md and growth.json with -growth)")
	profile := flag.Bool("profile", false, "write ecrd's CPU and heap profile of each workload (first run) to OUT/profiles")
	only := flag.String("run", "", "run only the workloads whose name matches this regexp")
	work := flag.String("work", "", "directory for the servers' data (default: a temporary directory on the same disk as the repository)")
	render := flag.String("render", "", "only print the Markdown table of an earlier run's results.json")
	prebuilt := flag.String("ecrd", "", "run this ecrd binary instead of building ./cmd/ecrd")
	growth := flag.Bool("growth", false, "ecrd alone: measure each operation as a repository and a registry grow (OUT/growth.md, OUT/growth.json)")
	growSizes := flag.String("sizes", "", "with -growth: images of the grown repository, increasing multiples of 100 (default 1000,10000,100000; 100,300 with -short)")
	growRepos := flag.String("repos", "", "with -growth: repositories of the grown registry (default 1000,10000,100000; 100,300 with -short)")
	renderGrowth := flag.String("render-growth", "", "only print the Markdown tables of an earlier run's growth.json")
	scale := flag.Bool("scaleout", false, "ecrd on PostgreSQL + S3 against distribution v3 on the same S3 (OUT/scaleout.md, OUT/scaleout.json)")
	var sb backendFlags
	flag.StringVar(&sb.dsn, "postgres-dsn", "", "with -scaleout: a PostgreSQL server whose role may create databases (default: scripts/start-postgres.sh)")
	flag.StringVar(&sb.endpoint, "s3-endpoint", "", "with -scaleout: an S3 endpoint, path-style (default: versitygw started by scripts/run-s3.sh under /var/tmp)")
	flag.StringVar(&sb.accessKey, "s3-access-key", "test", "with -scaleout: the S3 access key")
	flag.StringVar(&sb.secretKey, "s3-secret-key", "testsecret", "with -scaleout: the S3 secret key")
	peer := flag.String("peer", "distribution", "the peer registry: distribution (CNCF distribution v3.1.2) or docker-registry (Debian's, 2.8)")
	flag.Parse()
	if *peer != "distribution" && *peer != "docker-registry" {
		return fmt.Errorf("-peer must be distribution or docker-registry, not %q", *peer)
	}
	if *render != "" {
		return renderJSON(*render)
	}
	if *renderGrowth != "" {
		return renderGrowthJSON(*renderGrowth)
	}
	var grow growthOptions
	if *growth {
		var err error
		if grow, err = newGrowthOptions(*short, *growSizes, *growRepos, *only); err != nil {
			return err
		}
	}

	sz, n := fullSizes(), 5
	if *short {
		sz, n = shortSizes(), 1
	}
	if *runs > 0 {
		n = *runs
	}
	filter, err := regexp.Compile(*only)
	if err != nil {
		return fmt.Errorf("-run: %w", err)
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if *work == "" {
		// On the repository's disk, not a tmpfs: both servers write where
		// a user's data would be.
		if *work, err = os.MkdirTemp(root, ".bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(*work)
	}
	bin, err := ecrdBinary(root, *work, *prebuilt)
	if err != nil {
		return err
	}
	if *growth {
		grow.bin, grow.work, grow.out = bin, *work, *out
		return runGrowth(context.Background(), grow)
	}
	profDir := ""
	if *profile {
		profDir = filepath.Join(*out, "profiles")
		if *scale {
			profDir = filepath.Join(profDir, "scaleout")
		}
		if err := os.MkdirAll(profDir, 0o755); err != nil {
			return err
		}
	}
	scripts := filepath.Join(root, "scripts")
	if *scale {
		return runScaleOut(context.Background(), scaleOutRun{bin: bin, scripts: scripts, work: *work, out: *out,
			profDir: profDir, short: *short, runs: n, filter: filter, sz: sz, backends: sb})
	}

	step("installing the peer registry (" + *peer + ")")
	if err := runScript(filepath.Join(scripts, "install-tools.sh"), *peer); err != nil {
		return err
	}
	peerName, err := peerTitle(root, *peer)
	if err != nil {
		return err
	}

	rep := newReport(*short, n)
	rep.Title = "ecrd vs " + peerName
	rep.Setup = "ecrd: embedded store (SQLite + files), --auth=none so that one client serves both (the AWS SDK signs anyway); " +
		"distribution: filesystem storage, no auth. Neither logs each request (--log-level=warn; accesslog disabled). " +
		"Both on the same disk, fresh for every workload, one at a time. " +
		"Of limit: ecrd's median as a share of the machine's limit (disk for pushes, loopback for pulls, the trivial handler for requests). " +
		"Targets from issue 20."
	step("measuring the physical limits")
	rep.Limits.SHA256OneCore = sha256Limit(sz.limitBytes)
	if rep.Limits.Loopback, err = loopbackLimit(sz.limitBytes); err != nil {
		return err
	}
	if rep.Limits.Disk, err = diskLimit(*work, sz.limitBytes, 3); err != nil {
		return err
	}
	step("generating the images and their digests")
	wb := newWorkbench(sz)
	step("measuring the HTTP floor (a trivial Go handler)")
	fl, err := measureFloor(context.Background(), wb, n)
	if err != nil {
		return fmt.Errorf("the HTTP floor: %w", err)
	}
	rep.Limits.HTTP = &fl

	start := func(name, dataDir string) (*server, error) {
		if name == "ecrd" {
			return startEcrd(bin, dataDir, stores{})
		}
		return startDistribution(scripts, dataDir, stores{env: []string{"PEER_REGISTRY=" + *peer}})
	}
	ecrdRuns, distRuns, err := measureAll(context.Background(), wb, workloads, filter, n, *work, profDir, start)
	if err != nil {
		return err
	}
	rep.fill(rows, ecrdRuns, distRuns)
	return rep.write(*out, "results")
}

// peerTitle names the peer as the table does: "CNCF distribution v3.1.2"
// (its --version), or Debian's 2.8.
func peerTitle(root, peer string) (string, error) {
	if peer == "docker-registry" {
		return "CNCF distribution (docker-registry 2.8)", nil
	}
	out, err := exec.Command(filepath.Join(root, ".tools", "bin", "distribution"), "--version").Output()
	if err != nil {
		return "", fmt.Errorf("distribution --version: %w", errOutput(err))
	}
	return "CNCF distribution " + peerVersion(string(out)), nil
}

// starter starts a fresh server, "ecrd" or "distribution", over dataDir
// (which does not exist yet; its parent is the run's own directory). The
// server's stop also removes whatever it stored outside dataDir.
type starter func(name, dataDir string) (*server, error)

// measureAll runs each workload n times on each server, alternating which
// goes first, and returns each server's measures per run.
func measureAll(ctx context.Context, wb *workbench, wls []workload, filter *regexp.Regexp, n int, work, profDir string, start starter) (ecrdRuns, distRuns []measures, err error) {
	for r := range n {
		em, dm := measures{}, measures{}
		for _, wl := range wls {
			if !filter.MatchString(wl.name) {
				continue
			}
			// Alternate which server goes first, so that neither always
			// meets a warm or a cold page cache.
			order := []string{"ecrd", "distribution"}
			if r%2 == 1 {
				order[0], order[1] = order[1], order[0]
			}
			for _, name := range order {
				step(fmt.Sprintf("run %d/%d: %s on %s", r+1, n, wl.name, name))
				m, err := runOne(ctx, wb, wl, name, start, work, profDir, r == 0)
				if err != nil {
					return nil, nil, fmt.Errorf("%s on %s: %w", wl.name, name, err)
				}
				target := dm
				if name == "ecrd" {
					target = em
				}
				for k, v := range m {
					target[k] = v
				}
			}
		}
		ecrdRuns, distRuns = append(ecrdRuns, em), append(distRuns, dm)
	}
	return ecrdRuns, distRuns, nil
}

// runOne runs one workload against a freshly started server over an empty
// data dir, and removes the data afterwards.
func runOne(ctx context.Context, wb *workbench, wl workload, name string, start starter, work, profDir string, profileThisRun bool) (measures, error) {
	dir, err := os.MkdirTemp(work, name+"-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	s, err := start(name, filepath.Join(dir, "data"))
	if err != nil {
		return nil, err
	}
	p := profiler{s: s}
	if profileThisRun {
		p.dir = profDir
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	m, err := wl.run(wb, wctx, s, p)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s's log ends:\n%s\n", name, s.logTail())
	}
	if serr := s.stop(); err == nil && serr != nil {
		err = fmt.Errorf("stopping: %w", serr)
	}
	return m, err
}

// ecrdBinary is the ecrd the benchmark runs: prebuilt if given, else
// ./cmd/ecrd built into work.
func ecrdBinary(root, work, prebuilt string) (string, error) {
	if prebuilt != "" {
		return filepath.Abs(prebuilt)
	}
	step("building ecrd")
	bin := filepath.Join(work, "ecrd")
	build := exec.Command("go", "build", "-o", bin, "./cmd/ecrd")
	build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("building ecrd: %w", err)
	}
	return bin, nil
}

func step(msg string) { fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), msg) }

func runScript(path string, args ...string) error {
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return nil
}

// repoRoot is the module root: bench runs from anywhere inside the clone.
func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := string(bytes.TrimSpace(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("run bench from inside the ecrd repository")
	}
	return filepath.Dir(mod), nil
}

// renderJSON prints the table of a results.json, as the run that wrote it
// printed it.
func renderJSON(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var r report
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	r.markdown(os.Stdout)
	return nil
}
