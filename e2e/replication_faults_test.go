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

// TestReplicationFaults fails each store call of a replication attempt
// in turn (account A's image to account B of the same ecrd): the status
// never says COMPLETE unless B has the image with its tags, and once the
// store is well again, and the failed attempt's claim has lapsed, the
// next attempt completes it.
func TestReplicationFaults(t *testing.T) {
	t.Parallel()
	creds := withPublicCredentials(t)
	setup := func(c *config.Config) {
		creds(c)
		c.Replication.Interval, c.Images.GCInterval, c.Lifecycle.Interval = 0, 0, 0
	}
	// The template: A replicates app to B, whose registry policy allows
	// it, and one image (two tags) waits to be replicated.
	tmpl := t.TempDir()
	s := startServer(t, tmpl, setup)
	a, b := s.clientAs("AKIAONE", "s1", "us-east-1"), s.clientAs("AKIATWO", "s2", "us-east-1")
	if _, err := b.PutRegistryPolicy(ctx(t), &ecr.PutRegistryPolicyInput{PolicyText: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		"Principal":{"AWS":"arn:aws:iam::` + accountA + `:root"},"Action":["ecr:ReplicateImage","ecr:CreateRepository"],"Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	putReplication(t, a, replicationRule([]string{"app"}, dest("us-east-1", accountB)))
	createRepos(t, a, "app")
	cfg := pushConfig(t, a, "app", 1)
	m := ociManifest(cfg, "faults", pushBlob(t, a, "app", layerBytes(5000, 3)))
	putImage(t, a, "app", m, "v1")
	putImage(t, a, "app", m, "latest")
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
		a, b := srv.clientAs("AKIAONE", "s1", "us-east-1"), srv.clientAs("AKIATWO", "s2", "us-east-1")
		what := fmt.Sprintf("call %d failing as %s", i, kind)
		complete := func() bool {
			st := replicationStatuses(t, a, "app", "v1")
			return len(st) == 1 && st[0] == "us-east-1/"+accountB+" COMPLETE"
		}
		replicated := func() bool {
			out, err := b.DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: aws.String("app"), ImageIds: []types.ImageIdentifier{byDigest(digestOf([]byte(m)))}})
			return err == nil && len(out.ImageDetails) == 1 && len(out.ImageDetails[0].ImageTags) == 2
		}
		// The upload reaper's first pass runs as the server starts: its
		// calls are not the replication's.
		for deadline := time.Now().Add(10 * time.Second); !slices.ContainsFunc(f.Calls(), func(c registrytest.Call) bool { return c.Name == "Tx.StaleUploads" }); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the upload reaper's first pass did not run")
			}
		}
		f.Reset()
		f.Arm(i, kind)
		srv.app.Replicate(ctx(t))
		calls, fired = f.Calls(), f.Fired()
		f.Arm(-1, "")
		if complete() && !replicated() {
			t.Errorf("%s: COMPLETE, but B lacks the image or a tag", what)
		}
		clk.Set(clk.Now().Add(11 * time.Minute)) // past the failed attempt's claim and backoff
		srv.app.Replicate(ctx(t))
		if !complete() || !replicated() {
			t.Errorf("%s: the store well again, the next attempt did not complete it (%v)", what, replicationStatuses(t, a, "app", "v1"))
		}
		return calls, fired
	}
	calls, _ := run(-1, "")
	if len(calls) == 0 {
		t.Fatal("a replication made no store call")
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
