package e2e

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/ecrd/ecrd/internal/lifecycle"
)

// run applies every lifecycle policy as the background evaluator does.
func (s *server) run(t *testing.T) lifecycle.RunStats {
	t.Helper()
	st, err := s.app.RunLifecycle(ctx(t), lifecycle.RunOptions{})
	if err != nil {
		t.Fatalf("RunLifecycle: %v", err)
	}
	return st
}

// remaining names the repository's images, each with its status.
func remaining(t *testing.T, c *ecr.Client, repo string, names map[string]string) map[string]types.ImageStatus {
	t.Helper()
	out := map[string]types.ImageStatus{}
	for d, img := range imagesByDigest(t, c, repo) {
		out[names[d]] = img.ImageStatus
	}
	return out
}

// TestLifecycleDocExamples: the user guide's worked examples, previewed
// and then run, with a clock that puts the pushes days apart.
func TestLifecycleDocExamples(t *testing.T) {
	clk := &clock{t: day0}
	s := startClocked(t, clk)
	c := s.client()
	prefixKeep := func(p int, prefix string) string {
		return lcRule(p, `"tagStatus":"tagged","tagPrefixList":["`+prefix+`"],"countType":"imageCountMoreThan","countNumber":1`, lcExpire)
	}
	abc := func(repo string) map[string]string {
		createRepos(t, c, repo)
		layer := pushBlob(t, c, repo, []byte("shared base layer"))
		names := map[string]string{}
		for i, img := range []struct {
			name string
			tags []string
		}{{"A", []string{"beta-1", "prod-1"}}, {"B", []string{"beta-2", "prod-2"}}, {"C", []string{"beta-3"}}} {
			clk.Set(day(float64(i)))
			names[pushTagged(t, c, repo, i, layer, img.tags...)] = img.name
		}
		clk.Set(day(10))
		return names
	}
	for _, tc := range []struct {
		repo, policy, want string
		left               []string
	}{
		{"doc/prod-first", lifecycleText(prefixKeep(1, "prod"), prefixKeep(2, "beta")), "A:EXPIRE@1", []string{"B", "C"}},
		{"doc/beta-first", lifecycleText(prefixKeep(1, "beta"), prefixKeep(2, "prod")), "A:EXPIRE@1 B:EXPIRE@1", []string{"C"}},
	} {
		names := abc(tc.repo)
		putPolicy(t, c, tc.repo, tc.policy)
		results, summary := previewOf(t, c, tc.repo, "")
		if got := digestsOf(results, names); got != tc.want {
			t.Errorf("%s: preview %s, want %s", tc.repo, got, tc.want)
		}
		if n := aws.ToInt32(summary.ExpiringImageTotalCount); int(n) != len(results) || summary.TransitioningImageTotalCounts != nil {
			t.Errorf("%s: summary %s, want %d expiring and no transitions", tc.repo, jsonOf(summary), len(results))
		}
		s.run(t)
		left := remaining(t, c, tc.repo, names)
		if len(left) != len(tc.left) {
			t.Errorf("%s: after the run %v remain, want %v", tc.repo, left, tc.left)
		}
		for _, n := range tc.left {
			if _, ok := left[n]; !ok {
				t.Errorf("%s: %s was removed; want it kept", tc.repo, n)
			}
		}
	}

	// A[alpha-1,beta-1] 4d, B[] 3d, C[alpha-2] 2d, D["git hash"] 1d, E[]
	// newest: rule 3 keeps E, which rule 2 claims; D is rule 3's own.
	repo := "doc/three-rules"
	createRepos(t, c, repo)
	layer := pushBlob(t, c, repo, []byte("layer"))
	names := map[string]string{}
	for i, img := range []struct {
		name string
		tags []string
	}{{"A", []string{"alpha-1", "beta-1"}}, {"B", nil}, {"C", []string{"alpha-2"}}, {"D", []string{"git-hash"}}, {"E", nil}} {
		clk.Set(day(float64(i)))
		names[pushTagged(t, c, repo, 10+i, layer, img.tags...)] = img.name
	}
	clk.Set(day(4.5))
	policy := lifecycleText(prefixKeep(1, "alpha"),
		lcRule(2, `"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1`, lcExpire),
		lcRule(3, `"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1`, lcExpire))
	putPolicy(t, c, repo, policy)
	results, _ := previewOf(t, c, repo, "")
	if got, want := digestsOf(results, names), "A:EXPIRE@1 B:EXPIRE@2 D:EXPIRE@3"; got != want {
		t.Errorf("three rules: preview %s, want %s", got, want)
	}
	// Paging: one result a page, the summary on each; a filter by tag
	// status; image IDs.
	out, err := c.GetLifecyclePolicyPreview(ctx(t), &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: aws.String(repo), MaxResults: aws.Int32(1)})
	if err != nil || len(out.PreviewResults) != 1 || out.NextToken == nil || aws.ToInt32(out.Summary.ExpiringImageTotalCount) != 3 {
		t.Errorf("a page of 1: %s, %v; want 1 result, a nextToken and a summary of 3", jsonOf(out), err)
	}
	out, err = c.GetLifecyclePolicyPreview(ctx(t), &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: aws.String(repo),
		Filter: &types.LifecyclePolicyPreviewFilter{TagStatus: types.TagStatusUntagged}})
	if got := digestsOf(out.PreviewResults, names); err != nil || got != "B:EXPIRE@2" {
		t.Errorf("untagged results %s, %v; want B", got, err)
	}
	out, err = c.GetLifecyclePolicyPreview(ctx(t), &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: aws.String(repo),
		ImageIds: []types.ImageIdentifier{byTag("git-hash"), byTag("alpha-2")}})
	if got := digestsOf(out.PreviewResults, names); err != nil || got != "D:EXPIRE@3" {
		t.Errorf("results of D and C %s, %v; want D only", got, err)
	}
	_, err = c.GetLifecyclePolicyPreview(ctx(t), &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: aws.String(repo),
		ImageIds: []types.ImageIdentifier{byTag("git-hash")}, NextToken: out.NextToken, MaxResults: aws.Int32(1)})
	if err != nil {
		t.Errorf("imageIds without a token: %v", err)
	}
	_, err = c.GetLifecyclePolicyPreview(ctx(t), &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: aws.String(repo),
		ImageIds: []types.ImageIdentifier{byTag("git-hash")}, NextToken: aws.String("x")})
	wantAPIError[*types.InvalidParameterException](t, err, "nextToken")
	_, err = c.GetLifecyclePolicyPreview(ctx(t), &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: aws.String(repo), MaxResults: aws.Int32(101)})
	if err == nil {
		t.Error("maxResults 101 was accepted")
	}

	st := s.run(t)
	if st.Expired != 3 {
		t.Errorf("the run expired %d images, want 3", st.Expired)
	}
	left := remaining(t, c, repo, names)
	if _, ok := left["C"]; !ok || len(left) != 2 {
		t.Errorf("after the run %v remain, want C and E", left)
	}
	got, err := c.GetLifecyclePolicy(ctx(t), &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String(repo)})
	if err != nil || got.LastEvaluatedAt == nil || !got.LastEvaluatedAt.Equal(day(4.5)) {
		t.Errorf("lastEvaluatedAt %v, %v; want the run's time %v", got.LastEvaluatedAt, err, day(4.5))
	}
	// Nothing left to do: the preview says so.
	results, summary := previewOf(t, c, repo, "")
	if len(results) != 0 || aws.ToInt32(summary.ExpiringImageTotalCount) != 0 {
		t.Errorf("a preview after the run: %s %s, want nothing", jsonOf(results), jsonOf(summary))
	}
}

// TestLifecycleCountTypes: each count type, both actions, and the archive
// storage class, with the clock moved between the runs.
func TestLifecycleCountTypes(t *testing.T) {
	clk := &clock{t: day0}
	s := startClocked(t, clk)
	c := s.client()
	repo := "lc/counts"
	createRepos(t, c, repo)
	layer := pushBlob(t, c, repo, []byte("layer"))
	names := map[string]string{}
	old := pushTagged(t, c, repo, 1, layer, "old")
	names[old] = "old"
	clk.Set(day(20))
	pulled := pushTagged(t, c, repo, 2, layer, "pulled")
	names[pulled] = "pulled"
	clk.Set(day(25))
	names[pushTagged(t, c, repo, 3, layer, "fresh")] = "fresh"
	clk.Set(day(40))
	if _, err := c.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RepositoryName: aws.String(repo), ImageIds: []types.ImageIdentifier{byTag("pulled")}}); err != nil {
		t.Fatal(err)
	}

	// At day 50: old was pushed 50 days ago and never pulled, pulled was
	// pulled 10 days ago, fresh pushed 25 days ago.
	clk.Set(day(50))
	putPolicy(t, c, repo, lifecycleText(
		lcRule(1, `"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":30`, lcTransition)))
	results, summary := previewOf(t, c, repo, "")
	if got := digestsOf(results, names); got != "old:TRANSITION@1" {
		t.Errorf("sinceImagePulled preview %s, want old", got)
	}
	if len(results) == 1 && (results[0].Action.TargetStorageClass != types.LifecyclePolicyTargetStorageClassArchive || results[0].StorageClass != types.LifecyclePolicyStorageClassStandard) {
		t.Errorf("a transition result %s, want target ARCHIVE from STANDARD", jsonOf(results[0]))
	}
	if len(summary.TransitioningImageTotalCounts) != 1 || aws.ToInt32(summary.TransitioningImageTotalCounts[0].ImageTotalCount) != 1 || aws.ToInt32(summary.ExpiringImageTotalCount) != 0 {
		t.Errorf("summary %s, want one transition to ARCHIVE", jsonOf(summary))
	}
	if st := s.run(t); st.Archived != 1 {
		t.Errorf("the run archived %d, want 1", st.Archived)
	}
	archived, err := c.DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: aws.String(repo), Filter: &types.DescribeImagesFilter{ImageStatus: types.ImageStatusFilterArchived}})
	if err != nil || len(archived.ImageDetails) != 1 || aws.ToString(archived.ImageDetails[0].ImageDigest) != old {
		t.Fatalf("archived images %s, %v; want old", jsonOf(archived), err)
	}

	// Archived images expire by their time in the archive: not at 89
	// days, at 91.
	policy := lifecycleText(
		lcRule(1, `"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":90`, lcExpire),
		lcRule(2, `"tagStatus":"tagged","tagPatternList":["fr*sh"],"countType":"sinceImagePushed","countUnit":"days","countNumber":60`, lcExpire))
	putPolicy(t, c, repo, policy)
	clk.Set(day(50 + 89))
	results, _ = previewOf(t, c, repo, "")
	if got := digestsOf(results, names); got != "fresh:EXPIRE@2" {
		t.Errorf("at 89 days in the archive: preview %s, want fresh only (pushed 114 days ago)", got)
	}
	clk.Set(day(50 + 91))
	results, _ = previewOf(t, c, repo, "")
	if got := digestsOf(results, names); got != "fresh:EXPIRE@2 old:EXPIRE@1" {
		t.Errorf("at 91 days in the archive: preview %s, want old and fresh", got)
	}
	if len(results) == 2 {
		for _, r := range results {
			if want := map[string]types.LifecyclePolicyStorageClass{"old": "ARCHIVE", "fresh": "STANDARD"}[names[aws.ToString(r.ImageDigest)]]; r.StorageClass != want {
				t.Errorf("%s: storageClass %s, want %s", names[aws.ToString(r.ImageDigest)], r.StorageClass, want)
			}
		}
	}
	if st := s.run(t); st.Expired != 2 {
		t.Errorf("the run expired %d, want 2", st.Expired)
	}
	if left := remaining(t, c, repo, names); len(left) != 1 || left["pulled"] != types.ImageStatusActive {
		t.Errorf("after the run %v remain, want pulled, active", left)
	}
	// Expiry removed the tags too.
	gone, err := c.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RepositoryName: aws.String(repo), ImageIds: []types.ImageIdentifier{byTag("fresh")}})
	if err != nil || len(gone.Images) != 0 || len(gone.Failures) != 1 || gone.Failures[0].FailureCode != types.ImageFailureCodeImageNotFound {
		t.Errorf("pulling the expired tag: %s, %v; want ImageNotFound", jsonOf(gone), err)
	}
}

// TestLifecycleIndexesAndReferrers: an index pushed last keeps its
// children from "any, keep 1"; a referrer goes with its subject.
func TestLifecycleIndexesAndReferrers(t *testing.T) {
	clk := &clock{t: day0}
	s := startClocked(t, clk)
	c := s.client()
	repo := "lc/index"
	createRepos(t, c, repo)
	layer := pushBlob(t, c, repo, []byte("layer"))
	names := map[string]string{}
	var children []string
	for i := range 2 {
		clk.Set(day(float64(i)))
		m := ociManifest(pushConfig(t, c, repo, 100+i), "child", layer)
		putImage(t, c, repo, m, "")
		children = append(children, m)
		names[digestOf([]byte(m))] = []string{"child0", "child1"}[i]
	}
	clk.Set(day(2))
	index := indexManifest(ociIndexType, ociManifestType, children...)
	putImage(t, c, repo, index, "multi")
	names[digestOf([]byte(index))] = "index"
	clk.Set(day(3))
	putPolicy(t, c, repo, lifecycleText(lcRule(1, `"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1`, lcExpire)))
	if results, _ := previewOf(t, c, repo, ""); len(results) != 0 {
		t.Errorf("with the index newest: preview %s, want nothing (its children are held)", digestsOf(results, names))
	}
	s.run(t)
	if left := remaining(t, c, repo, names); len(left) != 3 {
		t.Errorf("after the run %v remain, want the index and its children", left)
	}

	// A newer plain image makes the index the one to expire; its children
	// stay until the next run, then go.
	clk.Set(day(4))
	empty := pushBlob(t, c, repo, []byte("{}"))
	subjectImg := putImage(t, c, repo, dockerManifest(pushConfig(t, c, repo, 200), layer), "newest")
	names[digestOf([]byte(aws.ToString(subjectImg.ImageManifest)))] = "newest"
	results, _ := previewOf(t, c, repo, "")
	if got := digestsOf(results, names); got != "index:EXPIRE@1" {
		t.Errorf("with a newer image: preview %s, want the index", got)
	}
	s.run(t)
	results, _ = previewOf(t, c, repo, "")
	if got := digestsOf(results, names); got != "child0:EXPIRE@1 child1:EXPIRE@1" {
		t.Errorf("after the index went: preview %s, want its children", got)
	}
	s.run(t)

	// A signature of an old image goes with it, and does not count.
	clk.Set(day(5))
	sig := artifactManifest(t, c, repo, empty, "application/vnd.example.signature", subjectImg, "sig")
	putImage(t, c, repo, sig, "")
	names[digestOf([]byte(sig))] = "sig"
	clk.Set(day(6))
	names[pushTagged(t, c, repo, 300, layer, "newer")] = "newer"
	results, _ = previewOf(t, c, repo, "")
	if got := digestsOf(results, names); got != "newest:EXPIRE@1 sig:EXPIRE@1" {
		t.Errorf("signed image: preview %s, want it with its signature", got)
	}
	s.run(t)
	if left := remaining(t, c, repo, names); len(left) != 1 {
		t.Errorf("after the run %v remain, want newer", left)
	}
}
