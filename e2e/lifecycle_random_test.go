package e2e

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/ecrd/ecrd/internal/config"
)

// randomPolicy returns a valid policy of up to five rules over the tags
// randomImages uses, in random order of priority.
func randomPolicy(r *rand.Rand) string {
	var rules []string
	n := 1 + r.IntN(5)
	prios := r.Perm(20)[:n]
	untagged, anyStd := false, false
	maxPrio := 0
	for _, p := range prios {
		maxPrio = max(maxPrio, p+1)
	}
	for i := 0; i < n; i++ {
		prio := prios[i] + 1
		var sel string
		switch k := r.IntN(6); {
		case k == 0 && !untagged:
			untagged = true
			sel = `"tagStatus":"untagged"`
		case k == 1 && !anyStd && prio == maxPrio:
			anyStd = true
			sel = `"tagStatus":"any"`
		case k == 2:
			sel = fmt.Sprintf(`"tagStatus":"tagged","tagPatternList":[%q]`, []string{"v*", "*-rc*", "release-?", "*"}[r.IntN(4)])
		default:
			prefixes := []string{`"v"`, `"dev"`, `"release"`, `"v1"`}
			r.Shuffle(len(prefixes), func(i, j int) { prefixes[i], prefixes[j] = prefixes[j], prefixes[i] })
			sel = `"tagStatus":"tagged","tagPrefixList":[` + strings.Join(prefixes[:1+r.IntN(2)], ",") + `]`
		}
		action := lcExpire
		switch c := r.IntN(5); c {
		case 0:
			sel += fmt.Sprintf(`,"countType":"imageCountMoreThan","countNumber":%d`, 1+r.IntN(4))
		case 1:
			sel += fmt.Sprintf(`,"countType":"sinceImagePushed","countUnit":"days","countNumber":%d`, 1+r.IntN(30))
		case 2:
			sel += fmt.Sprintf(`,"countType":"sinceImagePulled","countUnit":"days","countNumber":%d`, 1+r.IntN(30))
			action = lcTransition
		case 3:
			sel += fmt.Sprintf(`,"countType":"imageCountMoreThan","countNumber":%d`, 1+r.IntN(3))
			action = lcTransition
		case 4:
			sel += fmt.Sprintf(`,"countType":"sinceImagePushed","countUnit":"days","countNumber":%d`, 1+r.IntN(30))
			action = lcTransition
		}
		rules = append(rules, lcRule(prio, sel, action))
	}
	if r.IntN(3) == 0 {
		rules = append(rules, lcRule(99, `"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":90`, lcExpire))
	}
	return lifecycleText(rules...)
}

// TestLifecyclePreviewIsTheRun: for random repositories and policies, a
// preview names exactly the images a run at the same time then expires
// or archives, each with the preview's action; on both stores.
func TestLifecyclePreviewIsTheRun(t *testing.T) {
	t.Run("Embedded", func(t *testing.T) { previewIsTheRun(t, 24) })
	t.Run("ScaleOut", func(t *testing.T) { previewIsTheRun(t, 8, scaleOut(t)) })
}

func previewIsTheRun(t *testing.T, repos uint64, opts ...func(*config.Config)) {
	clk := &clock{t: day0}
	s := startClocked(t, clk, opts...)
	c := s.client()
	tagPool := []string{"v1", "v1.2", "v2", "dev-1", "dev-2", "release-1", "release-a", "v2-rc1", "latest", "x"}
	for seed := range repos {
		r := rand.New(rand.NewPCG(seed, 77))
		repo := fmt.Sprintf("lc/random-%d", seed)
		createRepos(t, c, repo)
		layer := pushBlob(t, c, repo, []byte("layer"))
		clk.Set(day0)
		images := 6 + r.IntN(10)
		used := map[string]bool{}
		for i := range images {
			clk.Set(day(float64(i) * (1 + r.Float64()*5)))
			var tags []string
			for range r.IntN(4) {
				if tag := tagPool[r.IntN(len(tagPool))]; !used[tag] {
					used[tag] = true
					tags = append(tags, tag)
				}
			}
			d := pushTagged(t, c, repo, int(seed)*100+i, layer, tags...)
			if r.IntN(3) == 0 {
				if _, err := c.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RepositoryName: aws.String(repo), ImageIds: []types.ImageIdentifier{byDigest(d)}}); err != nil {
					t.Fatal(err)
				}
			}
			if r.IntN(5) == 0 {
				id := byDigest(d)
				if _, err := c.UpdateImageStorageClass(ctx(t), &ecr.UpdateImageStorageClassInput{RepositoryName: aws.String(repo),
					ImageId: &id, TargetStorageClass: types.TargetStorageClassArchive}); err != nil {
					t.Fatal(err)
				}
			}
		}
		clk.Set(day(float64(images)*6 + 100*r.Float64()))
		policy := randomPolicy(r)
		putPolicy(t, c, repo, policy)
		results, summary := previewOf(t, c, repo, "")
		before := imagesByDigest(t, c, repo)
		st := s.run(t)
		after := imagesByDigest(t, c, repo)

		want := map[string]string{}
		expiring, transitioning := 0, 0
		for _, res := range results {
			want[aws.ToString(res.ImageDigest)] = string(res.Action.Type)
			if res.Action.Type == types.ImageActionTypeExpire {
				expiring++
			} else {
				transitioning++
			}
		}
		got := map[string]string{}
		for d, img := range before {
			now, ok := after[d]
			switch {
			case !ok:
				got[d] = "EXPIRE"
			case img.ImageStatus == types.ImageStatusActive && now.ImageStatus == types.ImageStatusArchived:
				got[d] = "TRANSITION"
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("seed %d, policy %s:\npreview %v\nrun     %v", seed, policy, want, got)
		}
		if int(aws.ToInt32(summary.ExpiringImageTotalCount)) != expiring || st.Expired != expiring || st.Archived != transitioning || st.Skipped != 0 {
			t.Errorf("seed %d: summary %s, run %+v; want %d expiring and %d transitioning", seed, jsonOf(summary), st, expiring, transitioning)
		}
		t.Logf("seed %d: %d images, %d expired, %d archived", seed, len(before), expiring, transitioning)
		// The next run is the next repository's alone.
		if _, err := c.DeleteLifecyclePolicy(ctx(t), &ecr.DeleteLifecyclePolicyInput{RepositoryName: aws.String(repo)}); err != nil {
			t.Fatal(err)
		}
	}
}
