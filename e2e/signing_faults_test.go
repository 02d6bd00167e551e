package e2e

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/ecrd/ecrd/internal/app"
	"github.com/ecrd/ecrd/internal/config"
	"github.com/ecrd/ecrd/internal/registry/registrytest"
)

// TestSigningFaults fails each store call of a signing in turn: the
// status never says COMPLETE unless the signature is there as a referrer,
// and once the store is well again and the failed attempt's claim has
// lapsed, the next attempt completes it.
func TestSigningFaults(t *testing.T) {
	t.Parallel()
	keys := signingKeys(t)
	setup := func(c *config.Config) {
		c.Signing.KeysFile, c.Signing.Interval = keys, 0
		c.Replication.Interval, c.Images.GCInterval, c.Lifecycle.Interval, c.Scan.Interval = 0, 0, 0, 0
	}
	tmpl := t.TempDir()
	s := startServer(t, tmpl, setup)
	c := s.client()
	if _, err := c.PutSigningConfiguration(ctx(t), &ecr.PutSigningConfigurationInput{SigningConfiguration: &types.SigningConfiguration{
		Rules: []types.SigningRule{signingRule(releaseProfile)}}}); err != nil {
		t.Fatal(err)
	}
	createRepos(t, c, "app")
	m := ociManifest(pushConfig(t, c, "app", 1), "signed", pushBlob(t, c, "app", layerBytes(500, 1)))
	putImage(t, c, "app", m, "v1")
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
		state := func() (string, int) {
			st := strings.Join(signingStatuses(t, c, "app", "v1"), ",")
			out, err := c.ListImageReferrers(ctx(t), &ecr.ListImageReferrersInput{RepositoryName: aws.String("app"),
				SubjectId: &types.SubjectIdentifier{ImageDigest: aws.String(digestOf([]byte(m)))}})
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			return st, len(out.Referrers)
		}
		for deadline := time.Now().Add(10 * time.Second); !slices.ContainsFunc(f.Calls(), func(c registrytest.Call) bool { return c.Name == "Tx.StaleUploads" }); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the upload reaper's first pass did not run")
			}
		}
		f.Reset()
		f.Arm(i, kind)
		srv.app.SignImages(ctx(t))
		calls, fired = f.Calls(), f.Fired()
		f.Arm(-1, "")
		if st, n := state(); st == "release COMPLETE " && n == 0 {
			t.Errorf("%s: COMPLETE without a signature", what)
		}
		clk.Set(clk.Now().Add(11 * time.Minute)) // past the claim and the retry's wait
		srv.app.SignImages(ctx(t))
		if st, n := state(); st != "release COMPLETE " || n < 1 {
			t.Errorf("%s: the store well again, %q with %d signatures", what, st, n)
		}
		return calls, fired
	}
	calls, _ := run(-1, "")
	if len(calls) == 0 {
		t.Fatal("a signing made no store call")
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
