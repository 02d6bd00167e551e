package e2e

import (
	"errors"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ecrd/ecrd/internal/lifecycle"
)

// TestLifecycleReplicas: on one database and bucket, a policy put through
// one replica is previewed through the other, and two runs started at once
// on both act on each image once: one runs, the other finds it running or
// nothing left to do.
func TestLifecycleReplicas(t *testing.T) {
	clk := &clock{t: day0}
	stores := scaleOut(t)
	a, b := startClocked(t, clk, stores), startClocked(t, clk, stores)
	ca, cb := a.client(), b.client()
	repo := "lc/replicas"
	createRepos(t, ca, repo)
	layer := pushBlob(t, ca, repo, []byte("layer"))
	for i := range 8 {
		clk.Set(day(float64(i)))
		pushTagged(t, []*server{a, b}[i%2].client(), repo, 500+i, layer, "v"+string(rune('0'+i)))
	}
	clk.Set(day(10))
	putPolicy(t, cb, repo, lifecycleText(lcRule(1, `"tagStatus":"tagged","tagPrefixList":["v"],"countType":"imageCountMoreThan","countNumber":3`, lcExpire)))
	results, _ := previewOf(t, ca, repo, "")
	if len(results) != 5 {
		t.Fatalf("preview through A: %d results, want 5", len(results))
	}

	var wg sync.WaitGroup
	stats := make([]lifecycle.RunStats, 2)
	errs := make([]error, 2)
	for i, s := range []*server{a, b} {
		wg.Go(func() { stats[i], errs[i] = s.app.RunLifecycle(ctx(t), lifecycle.RunOptions{}) })
	}
	wg.Wait()
	expired := 0
	for i := range 2 {
		switch {
		case errors.Is(errs[i], lifecycle.ErrRunning):
		case errs[i] != nil:
			t.Fatalf("run on replica %d: %v", i, errs[i])
		default:
			expired += stats[i].Expired
		}
	}
	if expired != 5 {
		t.Errorf("the runs expired %d images between them (%+v, %v), want 5", expired, stats, errs)
	}
	left := imagesByDigest(t, cb, repo)
	if len(left) != 3 {
		t.Errorf("%d images left, want 3", len(left))
	}
	for _, r := range results {
		if _, ok := left[aws.ToString(r.ImageDigest)]; ok {
			t.Errorf("%s, which the preview expires, is still there", aws.ToString(r.ImageDigest))
		}
	}
}
