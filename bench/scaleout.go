package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// scaleOutRun is what -scaleout needs from the command line.
type scaleOutRun struct {
	bin, scripts, work, out, profDir string
	short                            bool
	runs                             int
	filter                           *regexp.Regexp
	sz                               sizes
	backends                         backendFlags
}

// The targets, as the ratio ecrd must reach against distribution
// (keyed by the ecrd measure of the row): push and pull at least
// distribution's, blob existence by BatchCheckLayerAvailability 10× its
// HEAD, ecrd's own HEAD 3× its HEAD.
var scaleOutTargets = map[string]float64{
	"push-1": 1, "pull-1": 1, "push-n": 1, "pull-n": 1, "small-push": 1, "small-pull": 1,
	"bcla-1": 10, "bcla-32": 10, "head-1": 3, "head-32": 3,
}

// scaleOutWorkloads are the embedded comparison's workloads but peak RSS:
// the issue asks for throughput and existence rates, and two 2 GiB
// round trips through the S3 server per run would double the run's length.
func scaleOutWorkloads() []workload {
	return slices.DeleteFunc(slices.Clone(workloads), func(w workload) bool { return w.name == "peak RSS" })
}

// scaleOutRows are the embedded table's rows for those workloads, with
// the scale-out issue's targets instead of the embedded ones.
func scaleOutRows() []row {
	var out []row
	for _, rw := range rows {
		if strings.HasPrefix(rw.ecrdKey, "rss-") {
			continue
		}
		rw.Target, rw.LimitTarget, rw.Below = scaleOutTargets[rw.ecrdKey], 0, 0
		out = append(out, rw)
	}
	return out
}

// runScaleOut compares ecrd on PostgreSQL + S3 with CNCF distribution v3
// on the same S3 server: each workload on a fresh database and fresh
// prefixes, one server at a time, as the embedded comparison does.
func runScaleOut(ctx context.Context, o scaleOutRun) error {
	step("installing the peer registry (distribution v3) and versitygw")
	if err := runScript(filepath.Join(o.scripts, "install-tools.sh"), "distribution", "versitygw"); err != nil {
		return err
	}
	peer, err := exec.Command(filepath.Join(filepath.Dir(o.scripts), ".tools", "bin", "distribution"), "--version").Output()
	if err != nil {
		return fmt.Errorf("distribution --version: %w", errOutput(err))
	}
	step("starting or reaching the backends (PostgreSQL, S3)")
	b, err := openBackends(ctx, o.scripts, o.backends)
	if err != nil {
		return err
	}
	defer func() {
		if err := b.close(); err != nil {
			fmt.Fprintln(os.Stderr, "bench: stopping the S3 server:", err)
		}
	}()

	rep := newReport(o.short, o.runs)
	rep.Title = fmt.Sprintf("ecrd (PostgreSQL + S3) vs CNCF distribution %s (S3 driver), both on versitygw (posix)", peerVersion(string(peer)))
	rep.Setup = "ecrd: --meta postgres (a fresh database per workload), --blob s3 (a fresh prefix in its own bucket), --auth=none; " +
		"distribution: storage s3 (a fresh rootdirectory in its own bucket), redirects off, so that both serve blob bytes themselves. " +
		"One S3 server and one PostgreSQL for both, on this machine, one registry at a time. Targets from the issue."
	step("measuring the physical limits")
	rep.Limits.SHA256OneCore = sha256Limit(o.sz.limitBytes)
	if rep.Limits.Loopback, err = loopbackLimit(o.sz.limitBytes); err != nil {
		return err
	}
	if rep.Limits.Disk, err = diskLimit(b.diskDir(o.work), o.sz.limitBytes, 3); err != nil {
		return err
	}
	step("generating the images and their digests")
	wb := newWorkbench(o.sz)
	ecrdRuns, distRuns, err := measureAll(ctx, wb, scaleOutWorkloads(), o.filter, o.runs, o.work, o.profDir, b.starter(ctx, o.bin, o.scripts))
	if err != nil {
		return err
	}
	rep.fill(scaleOutRows(), ecrdRuns, distRuns)
	if err := rep.write(o.out, "scaleout"); err != nil {
		return err
	}
	var missed []string
	for _, rw := range rep.Rows {
		if rw.Met != nil && !*rw.Met {
			missed = append(missed, rw.Workload)
		}
	}
	if len(missed) > 0 && !o.short {
		// Not an error: the figures are the result either way.
		fmt.Printf("targets missed: %s\n", strings.Join(missed, "; "))
	}
	return nil
}

// peerVersion is "v3.1.2" out of the registry's --version line
// ("registry github.com/distribution/distribution/v3 v3.1.2+unknown").
func peerVersion(out string) string {
	f := strings.Fields(out)
	if len(f) == 0 {
		return "v3"
	}
	v, _, _ := strings.Cut(f[len(f)-1], "+")
	return v
}

// starter starts ecrd on a fresh database and prefix, or distribution on
// a fresh prefix; stopping either removes what it stored.
func (b *backends) starter(ctx context.Context, bin, scripts string) starter {
	return func(name, dataDir string) (*server, error) {
		prefix := name + "-" + randomHex(6)
		if name != "ecrd" {
			empty := func() error { return b.emptyPrefix(ctx, distBucket, prefix+"/") }
			// Concurrent uploads share a repository's _uploads/ (the
			// existence workload's 8 pushers: exists/app).
			if err := b.keepDir(ctx, distBucket, prefix+"/docker/registry/v2/repositories/exists/app/_uploads/"); err != nil {
				return nil, errors.Join(err, empty())
			}
			s, err := startDistribution(scripts, dataDir, stores{env: []string{
				"PEER_REGISTRY=distribution", "PEER_S3_ENDPOINT=" + b.endpoint, "PEER_S3_BUCKET=" + distBucket,
				"PEER_S3_ROOT=/" + prefix, "PEER_S3_ACCESS_KEY=" + b.accessKey, "PEER_S3_SECRET_KEY=" + b.secretKey,
				"PEER_S3_REGION=" + s3Region}})
			if err != nil {
				return nil, errors.Join(err, empty())
			}
			return s.onStop(empty), nil
		}
		dsn, drop, err := b.freshDatabase(ctx)
		if err != nil {
			return nil, err
		}
		cleanup := func() error { return errors.Join(drop(), b.emptyPrefix(ctx, ecrdBucket, prefix+"/")) }
		// Every upload of ecrd's is under uploads/.
		if err := b.keepDir(ctx, ecrdBucket, prefix+"/uploads/"); err != nil {
			return nil, errors.Join(err, cleanup())
		}
		s, err := startEcrd(bin, dataDir, stores{
			args: []string{"--meta", "postgres", "--postgres-dsn", dsn, "--blob", "s3", "--s3-bucket", ecrdBucket,
				"--s3-prefix", prefix + "/", "--s3-endpoint", b.endpoint, "--s3-region", s3Region, "--s3-path-style"},
			env: []string{"ECRD_S3_ACCESS_KEY=" + b.accessKey, "ECRD_S3_SECRET_KEY=" + b.secretKey}})
		if err != nil {
			return nil, errors.Join(err, cleanup())
		}
		return s.onStop(cleanup), nil
	}
}

// onStop makes s's stop run cleanup once the server is down.
func (s *server) onStop(cleanup func() error) *server {
	stop := s.stop
	s.stop = func() error { return errors.Join(stop(), cleanup()) }
	return s
}
