package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/ecrd/ecrd/internal/app"
	"github.com/ecrd/ecrd/internal/config"
)

// clock is a time tests move: the server's records (push, pull and archive
// times) and its lifecycle evaluations read it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Set moves the clock to t.
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// day0 is when the clock of a lifecycle test starts.
var day0 = time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)

// day is a day of the clock after day0.
func day(n float64) time.Time { return day0.Add(time.Duration(n * 24 * float64(time.Hour))) }

// startClocked starts a server whose core reads clk, with no background
// lifecycle runs (tests run them).
func startClocked(t *testing.T, clk *clock, opts ...func(*config.Config)) *server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	opts = append([]func(*config.Config){func(c *config.Config) { c.Lifecycle.Interval = 0 }}, opts...)
	return startServerApp(t, "", log, []app.Option{app.WithClock(clk.Now)}, opts...)
}

// lifecycleText is a policy of rules, each a JSON object.
func lifecycleText(rules ...string) string {
	return `{"rules":[` + strings.Join(rules, ",") + `]}`
}

// lcRule is one rule's JSON.
func lcRule(priority int, selection, action string) string {
	return fmt.Sprintf(`{"rulePriority":%d,"selection":{%s},"action":{%s}}`, priority, selection, action)
}

const (
	lcExpire     = `"type":"expire"`
	lcTransition = `"type":"transition","targetStorageClass":"archive"`
)

// pushTagged pushes a distinct image (seed) with tags, the first by
// PutImage and the rest as further tags of the same manifest, and returns
// its digest.
func pushTagged(t *testing.T, c *ecr.Client, repo string, seed int, layer blob, tags ...string) string {
	t.Helper()
	m := dockerManifest(pushConfig(t, c, repo, seed), layer)
	if len(tags) == 0 {
		tags = []string{""}
	}
	for _, tag := range tags {
		putImage(t, c, repo, m, tag)
	}
	return digestOf([]byte(m))
}

// putPolicy sets the repository's lifecycle policy.
func putPolicy(t *testing.T, c *ecr.Client, repo, text string) {
	t.Helper()
	if _, err := c.PutLifecyclePolicy(ctx(t), &ecr.PutLifecyclePolicyInput{RepositoryName: aws.String(repo), LifecyclePolicyText: aws.String(text)}); err != nil {
		t.Fatalf("PutLifecyclePolicy: %v\n%s", err, text)
	}
}

// previewOf starts a preview of text (the stored policy when "") and
// returns every result once it is complete, with the summary.
func previewOf(t *testing.T, c *ecr.Client, repo, text string) ([]types.LifecyclePolicyPreviewResult, *types.LifecyclePolicyPreviewSummary) {
	t.Helper()
	in := &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: aws.String(repo)}
	if text != "" {
		in.LifecyclePolicyText = aws.String(text)
	}
	out, err := c.StartLifecyclePolicyPreview(ctx(t), in)
	if err != nil {
		t.Fatalf("StartLifecyclePolicyPreview: %v", err)
	}
	if out.Status != types.LifecyclePolicyPreviewStatusInProgress {
		t.Fatalf("StartLifecyclePolicyPreview status %s, want IN_PROGRESS", out.Status)
	}
	waiter := ecr.NewLifecyclePolicyPreviewCompleteWaiter(c, func(o *ecr.LifecyclePolicyPreviewCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 50*time.Millisecond
	})
	if err := waiter.Wait(ctx(t), &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: aws.String(repo)}, 30*time.Second); err != nil {
		t.Fatalf("waiting for the preview: %v", err)
	}
	var results []types.LifecyclePolicyPreviewResult
	var summary *types.LifecyclePolicyPreviewSummary
	p := ecr.NewGetLifecyclePolicyPreviewPaginator(c, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: aws.String(repo), MaxResults: aws.Int32(7)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatalf("GetLifecyclePolicyPreview: %v", err)
		}
		if page.Status != types.LifecyclePolicyPreviewStatusComplete {
			t.Fatalf("preview status %s after the waiter", page.Status)
		}
		results = append(results, page.PreviewResults...)
		summary = page.Summary
	}
	return results, summary
}

// imagesByDigest returns the repository's images of every status, by
// digest.
func imagesByDigest(t *testing.T, c *ecr.Client, repo string) map[string]types.ImageDetail {
	t.Helper()
	all := map[string]types.ImageDetail{}
	p := ecr.NewDescribeImagesPaginator(c, &ecr.DescribeImagesInput{RepositoryName: aws.String(repo),
		Filter: &types.DescribeImagesFilter{ImageStatus: types.ImageStatusFilterAny}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatalf("DescribeImages: %v", err)
		}
		for _, d := range page.ImageDetails {
			all[aws.ToString(d.ImageDigest)] = d
		}
	}
	return all
}

// TestLifecyclePolicyOperations: put, get and delete, with ECR's
// normalized text and errors.
func TestLifecyclePolicyOperations(t *testing.T) {
	s := startServer(t, "", func(c *config.Config) { c.Lifecycle.Interval = 0 })
	c := s.client()
	createRepos(t, c, "lc/app")
	repo := aws.String("lc/app")
	pretty := `{
  "rules": [
    {"action": {"type": "expire"}, "rulePriority": 2,
     "selection": {"countNumber": 5, "countType": "imageCountMoreThan", "tagStatus": "any"}},
    {"rulePriority": 1, "description": "untagged after 14 days",
     "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14},
     "action": {"type": "expire"}}
  ]
}`
	want := `{"rules":[{"rulePriority":1,"description":"untagged after 14 days","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}},` +
		`{"rulePriority":2,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}`

	_, err := c.GetLifecyclePolicy(ctx(t), &ecr.GetLifecyclePolicyInput{RepositoryName: repo})
	wantAPIError[*types.LifecyclePolicyNotFoundException](t, err, "Lifecycle policy does not exist for the repository with name 'lc/app' in the registry with id '123456789012'")
	_, err = c.DeleteLifecyclePolicy(ctx(t), &ecr.DeleteLifecyclePolicyInput{RepositoryName: repo})
	wantAPIError[*types.LifecyclePolicyNotFoundException](t, err, "")

	put, err := c.PutLifecyclePolicy(ctx(t), &ecr.PutLifecyclePolicyInput{RepositoryName: repo, LifecyclePolicyText: aws.String(pretty)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(put.LifecyclePolicyText) != want || aws.ToString(put.RegistryId) != testAccount || aws.ToString(put.RepositoryName) != "lc/app" {
		t.Errorf("PutLifecyclePolicy = %s %s %s\nwant text %s", aws.ToString(put.RegistryId), aws.ToString(put.RepositoryName), aws.ToString(put.LifecyclePolicyText), want)
	}
	got, err := c.GetLifecyclePolicy(ctx(t), &ecr.GetLifecyclePolicyInput{RepositoryName: repo, RegistryId: aws.String(testAccount)})
	if err != nil || aws.ToString(got.LifecyclePolicyText) != want || got.LastEvaluatedAt != nil {
		t.Errorf("GetLifecyclePolicy = %+v, %v; want the text and no lastEvaluatedAt before a run", got, err)
	}
	del, err := c.DeleteLifecyclePolicy(ctx(t), &ecr.DeleteLifecyclePolicyInput{RepositoryName: repo})
	if err != nil || aws.ToString(del.LifecyclePolicyText) != want {
		t.Errorf("DeleteLifecyclePolicy = %+v, %v; want the deleted text", del, err)
	}
	_, err = c.GetLifecyclePolicy(ctx(t), &ecr.GetLifecyclePolicyInput{RepositoryName: repo})
	wantAPIError[*types.LifecyclePolicyNotFoundException](t, err, "")

	// A missing repository is named before anything else.
	missing := aws.String("lc/missing")
	_, err = c.GetLifecyclePolicy(ctx(t), &ecr.GetLifecyclePolicyInput{RepositoryName: missing})
	wantAPIError[*types.RepositoryNotFoundException](t, err, "lc/missing")
	_, err = c.DeleteLifecyclePolicy(ctx(t), &ecr.DeleteLifecyclePolicyInput{RepositoryName: missing})
	wantAPIError[*types.RepositoryNotFoundException](t, err, "lc/missing")
	_, err = c.PutLifecyclePolicy(ctx(t), &ecr.PutLifecyclePolicyInput{RepositoryName: missing, LifecyclePolicyText: aws.String(want)})
	wantAPIError[*types.RepositoryNotFoundException](t, err, "lc/missing")
	_, err = c.GetLifecyclePolicyPreview(ctx(t), &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: repo})
	wantAPIError[*types.LifecyclePolicyPreviewNotFoundException](t, err, "There is no dry run for this repository")
	_, err = c.StartLifecyclePolicyPreview(ctx(t), &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: repo})
	wantAPIError[*types.LifecyclePolicyNotFoundException](t, err, "")

	// The policy goes with its repository.
	putPolicy(t, c, "lc/app", want)
	if _, err := c.DeleteRepository(ctx(t), &ecr.DeleteRepositoryInput{RepositoryName: repo}); err != nil {
		t.Fatal(err)
	}
	createRepos(t, c, "lc/app")
	_, err = c.GetLifecyclePolicy(ctx(t), &ecr.GetLifecyclePolicyInput{RepositoryName: repo})
	wantAPIError[*types.LifecyclePolicyNotFoundException](t, err, "")
}

// TestLifecyclePolicyValidation: every kind of malformed policy is an
// InvalidParameterException in ECR's envelope, at Put and at a preview's
// start, and changes nothing.
func TestLifecyclePolicyValidation(t *testing.T) {
	s := startServer(t, "", func(c *config.Config) { c.Lifecycle.Interval = 0 })
	c := s.client()
	createRepos(t, c, "lc/valid")
	kept := lifecycleText(lcRule(1, `"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":3`, lcExpire))
	putPolicy(t, c, "lc/valid", kept)
	untagged := `"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1`
	tagged := `"tagStatus":"tagged","tagPrefixList":["v"],"countType":"imageCountMoreThan","countNumber":1`
	fiftyOne := make([]string, 51)
	for i := range fiftyOne {
		fiftyOne[i] = lcRule(i+1, tagged, lcExpire)
	}
	pad := func(s string) string { return s + strings.Repeat(" ", max(0, 100-len(s))) }
	cases := map[string]struct{ text, detail string }{
		"NotJSON":              {pad(`{"rules":[`), "Could not map policyString into LifecyclePolicy."},
		"UnknownTopMember":     {pad(`{"rules":[],"x":1}`), "not allowed by the schema"},
		"TooManyRules":         {lifecycleText(fiftyOne...), "array is too long"},
		"DuplicatePriority":    {lifecycleText(lcRule(1, tagged, lcExpire), lcRule(1, untagged, lcExpire)), "unique rulePriority"},
		"PriorityZero":         {lifecycleText(lcRule(0, untagged, lcExpire)), "minimum: 1, found: 0"},
		"CountNumberZero":      {lifecycleText(lcRule(1, `"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":0`, lcExpire)), "minimum: 1, found: 0"},
		"UnknownTagStatus":     {lifecycleText(lcRule(1, `"tagStatus":"some","countType":"imageCountMoreThan","countNumber":1`, lcExpire)), "not found in enum"},
		"UnknownCountType":     {lifecycleText(lcRule(1, `"tagStatus":"untagged","countType":"sinceForever","countNumber":1`, lcExpire)), "not found in enum"},
		"UnknownRuleMember":    {lifecycleText(lcRule(1, untagged+`,"tagList":["a"]`, lcExpire)), "not allowed by the schema"},
		"TaggedWithoutList":    {lifecycleText(lcRule(1, `"tagStatus":"tagged","countType":"imageCountMoreThan","countNumber":1`, lcExpire)), "Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED."},
		"BothLists":            {lifecycleText(lcRule(1, `"tagStatus":"tagged","tagPrefixList":["a"],"tagPatternList":["a*"],"countType":"imageCountMoreThan","countNumber":1`, lcExpire)), "together"},
		"UntaggedWithPrefixes": {lifecycleText(lcRule(1, `"tagStatus":"untagged","tagPrefixList":["a"],"countType":"imageCountMoreThan","countNumber":1`, lcExpire)), "tagStatus=TAGGED"},
		"FiveWildcards":        {lifecycleText(lcRule(1, `"tagStatus":"tagged","tagPatternList":["test*1*2*3*4*5*6"],"countType":"imageCountMoreThan","countNumber":1`, lcExpire)), "wildcards"},
		"TwoUntagged":          {lifecycleText(lcRule(1, untagged, lcExpire), lcRule(2, untagged, lcExpire)), "Only one rule can select Untagged images per storage class."},
		"AnyNotLast":           {lifecycleText(lcRule(1, `"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1`, lcExpire), lcRule(2, tagged, lcExpire)), "Rule for tagStatus=ANY must have the lowest priority per storage class"},
		"UnitWithCount":        {lifecycleText(lcRule(1, untagged+`,"countUnit":"days"`, lcExpire)), "countUnit cannot be used"},
		"SinceWithoutUnit":     {lifecycleText(lcRule(1, `"tagStatus":"untagged","countType":"sinceImagePushed","countNumber":1`, lcExpire)), "countUnit is required"},
		"TransitionNoTarget":   {lifecycleText(lcRule(1, untagged, `"type":"transition"`)), "instance failed to match exactly one schema (matched 0 out of 2)"},
		"ExpireNullTarget":     {lifecycleText(lcRule(1, untagged, `"type":"expire","targetStorageClass":null`)), "instance failed to match exactly one schema (matched 0 out of 2)"},
		"TransitionedStandard": {lifecycleText(lcRule(1, `"tagStatus":"any","countType":"sinceImageTransitioned","countUnit":"days","countNumber":90`, lcExpire)), "storageClass=archive is required"},
		"ArchiveTooSoon":       {lifecycleText(lcRule(1, `"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":10`, lcExpire)), "90 days"},
		"PulledExpire":         {lifecycleText(lcRule(1, `"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":10`, lcExpire)), "action type=transition"},
		"ArchiveCount":         {lifecycleText(lcRule(1, `"tagStatus":"any","storageClass":"archive","countType":"imageCountMoreThan","countNumber":10`, lcExpire)), "storageClass=archive can only be used"},
		"TooLong":              {strings.Repeat(" ", 30721), ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := c.PutLifecyclePolicy(ctx(t), &ecr.PutLifecyclePolicyInput{RepositoryName: aws.String("lc/valid"), LifecyclePolicyText: aws.String(tc.text)})
			e := wantAPIError[*types.InvalidParameterException](t, err, tc.detail)
			if tc.detail != "" && !strings.HasPrefix(e.ErrorMessage(), "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: ") {
				t.Errorf("message %q lacks ECR's envelope", e.ErrorMessage())
			}
			_, err = c.StartLifecyclePolicyPreview(ctx(t), &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: aws.String("lc/valid"), LifecyclePolicyText: aws.String(tc.text)})
			wantAPIError[*types.InvalidParameterException](t, err, tc.detail)
		})
	}
	got, err := c.GetLifecyclePolicy(ctx(t), &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String("lc/valid")})
	if err != nil || aws.ToString(got.LifecyclePolicyText) != kept {
		t.Errorf("after the refusals the policy is %q, %v; want it unchanged", aws.ToString(got.LifecyclePolicyText), err)
	}
	// Short texts are the model's constraint.
	_, err = c.PutLifecyclePolicy(ctx(t), &ecr.PutLifecyclePolicyInput{RepositoryName: aws.String("lc/valid"), LifecyclePolicyText: aws.String(`{"rules":[]}`)})
	if err == nil {
		t.Error("a 12-character policy was accepted")
	}
}

// digestsOf returns the sorted digests of preview results, each with its
// action and rule.
func digestsOf(results []types.LifecyclePolicyPreviewResult, names map[string]string) string {
	var out []string
	for _, r := range results {
		name := names[aws.ToString(r.ImageDigest)]
		if name == "" {
			name = aws.ToString(r.ImageDigest)
		}
		out = append(out, fmt.Sprintf("%s:%s@%d", name, r.Action.Type, aws.ToInt32(r.AppliedRulePriority)))
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// jsonOf is v as JSON, for messages.
func jsonOf(v any) string { b, _ := json.Marshal(v); return string(b) }
