package e2e

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/ecrd/ecrd/internal/app"
	"github.com/ecrd/ecrd/internal/config"
	"github.com/ecrd/ecrd/internal/registry/registrytest"
)

// TestScanFaults fails each store call of a scan in turn (the metadata's
// and the layers' reads): the scan never reads COMPLETE without its
// findings, and once the store is well again and the failed scan's claim
// has lapsed, the next run completes it with all of them.
func TestScanFaults(t *testing.T) {
	t.Parallel()
	db := copyFixture(t)
	setup := func(c *config.Config) {
		c.Scan.VulnDB, c.Scan.Interval, c.Scan.DBInterval = db, 0, time.Hour
		c.Replication.Interval, c.Images.GCInterval, c.Lifecycle.Interval = 0, 0, 0
	}
	tmpl := t.TempDir()
	s := startServer(t, tmpl, setup)
	c := s.client()
	createRepos(t, c, "os/debian")
	pushLayered(t, c, "os/debian", "12", 1, debianLayers(t))
	if _, err := c.StartImageScan(ctx(t), &ecr.StartImageScanInput{RepositoryName: aws.String("os/debian"), ImageId: ptr(byTag("12"))}); err != nil {
		t.Fatal(err)
	}
	s.stop()

	run := func(i int, kind registrytest.FaultKind) (calls []registrytest.Call, fired bool) {
		dir := t.TempDir()
		if err := copyTree(tmpl, dir); err != nil {
			t.Fatal(err)
		}
		clk := &clock{t: time.Now()}
		f := registrytest.NewFaults()
		srv := startServerApp(t, dir, slog.New(slog.NewTextHandler(io.Discard, nil)), []app.Option{app.WithStores(f.Wrap), app.WithClock(clk.Now)}, setup)
		defer srv.stop()
		c := srv.client()
		what := fmt.Sprintf("call %d failing as %s", i, kind)
		scan := func() (types.ScanStatus, int) {
			out, err := c.DescribeImageScanFindings(ctx(t), &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String("os/debian"), ImageId: ptr(byTag("12"))})
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			n := 0
			if out.ImageScanFindings != nil {
				n = len(out.ImageScanFindings.Findings)
			}
			return out.ImageScanStatus.Status, n
		}
		for deadline := time.Now().Add(10 * time.Second); !slices.ContainsFunc(f.Calls(), func(c registrytest.Call) bool { return c.Name == "Tx.StaleUploads" }); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the upload reaper's first pass did not run")
			}
		}
		f.Reset()
		f.Arm(i, kind)
		srv.app.ScanImages(ctx(t))
		calls, fired = f.Calls(), f.Fired()
		f.Arm(-1, "")
		if st, n := scan(); st != types.ScanStatusInProgress && (st != types.ScanStatusComplete || n != 8) {
			t.Errorf("%s: the scan reads %s with %d findings", what, st, n)
		}
		clk.Set(clk.Now().Add(11 * time.Minute)) // past the claim and the retry's wait
		srv.app.ScanImages(ctx(t))
		if st, n := scan(); st != types.ScanStatusComplete || n != 8 {
			t.Errorf("%s: the store well again, the scan reads %s with %d findings", what, st, n)
		}
		return calls, fired
	}
	calls, _ := run(-1, "")
	if len(calls) == 0 {
		t.Fatal("a scan made no store call")
	}
	injected := 0
	for i, c := range calls {
		for _, kind := range c.Kinds() {
			if _, fired := run(i, kind); !fired {
				t.Errorf("call %d (%s) as %s was not reached: the calls differ from run to run", i, c.Name, kind)
			}
			injected++
		}
	}
	t.Logf("%d store calls, %d faults injected", len(calls), injected)
}
