package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/ecrd/ecrd/internal/config"
)

func replicationRule(filters []string, dests ...types.ReplicationDestination) types.ReplicationRule {
	r := types.ReplicationRule{Destinations: dests}
	for _, f := range filters {
		r.RepositoryFilters = append(r.RepositoryFilters, types.RepositoryFilter{Filter: aws.String(f), FilterType: types.RepositoryFilterTypePrefixMatch})
	}
	return r
}

func dest(region, account string) types.ReplicationDestination {
	return types.ReplicationDestination{Region: aws.String(region), RegistryId: aws.String(account)}
}

func putReplication(t *testing.T, c *ecr.Client, rules ...types.ReplicationRule) {
	t.Helper()
	if rules == nil {
		rules = []types.ReplicationRule{}
	}
	if _, err := c.PutReplicationConfiguration(ctx(t), &ecr.PutReplicationConfigurationInput{
		ReplicationConfiguration: &types.ReplicationConfiguration{Rules: rules}}); err != nil {
		t.Fatal(err)
	}
}

// replicationStatuses is DescribeImageReplicationStatus's answer, as
// "region/registry STATUS code" strings.
func replicationStatuses(t *testing.T, c *ecr.Client, repo, tag string) []string {
	t.Helper()
	out, err := c.DescribeImageReplicationStatus(ctx(t), &ecr.DescribeImageReplicationStatusInput{RepositoryName: aws.String(repo),
		ImageId: &types.ImageIdentifier{ImageTag: aws.String(tag)}})
	if err != nil {
		t.Fatalf("DescribeImageReplicationStatus %s:%s: %v", repo, tag, err)
	}
	if aws.ToString(out.ImageId.ImageDigest) == "" {
		t.Errorf("the answer's imageId has no digest: %+v", out.ImageId)
	}
	var got []string
	for _, s := range out.ReplicationStatuses {
		got = append(got, strings.TrimSpace(aws.ToString(s.Region)+"/"+aws.ToString(s.RegistryId)+" "+string(s.Status)+" "+aws.ToString(s.FailureCode)))
	}
	return got
}

// TestReplicationConfiguration: PutReplicationConfiguration's
// validation, DescribeRegistry reporting it, and rules: [] clearing it
// (ecr-semantics-2.md §4.3, 1 and 2).
func TestReplicationConfiguration(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	c := s.client()
	reg, err := c.DescribeRegistry(ctx(t), &ecr.DescribeRegistryInput{})
	if err != nil || aws.ToString(reg.RegistryId) != testAccount || len(reg.ReplicationConfiguration.Rules) != 0 {
		t.Fatalf("a fresh registry: %+v, %v", reg, err)
	}
	rule := replicationRule([]string{"prod"}, dest("us-west-2", testAccount))
	out, err := c.PutReplicationConfiguration(ctx(t), &ecr.PutReplicationConfigurationInput{ReplicationConfiguration: &types.ReplicationConfiguration{Rules: []types.ReplicationRule{rule}}})
	if err != nil || len(out.ReplicationConfiguration.Rules) != 1 || aws.ToString(out.ReplicationConfiguration.Rules[0].RepositoryFilters[0].Filter) != "prod" {
		t.Fatalf("put: %+v, %v", out, err)
	}
	reg, err = c.DescribeRegistry(ctx(t), &ecr.DescribeRegistryInput{})
	if err != nil || len(reg.ReplicationConfiguration.Rules) != 1 ||
		aws.ToString(reg.ReplicationConfiguration.Rules[0].Destinations[0].Region) != "us-west-2" {
		t.Fatalf("DescribeRegistry after put: %+v, %v", reg, err)
	}
	for name, rules := range map[string][]types.ReplicationRule{
		"11 rules":         {rule, rule, rule, rule, rule, rule, rule, rule, rule, rule, rule},
		"region US_EAST":   {replicationRule(nil, dest("US_EAST", testAccount))},
		"itself":           {replicationRule(nil, dest("us-east-1", testAccount))},
		"filter WILDCARD":  {{Destinations: []types.ReplicationDestination{dest("us-west-2", testAccount)}, RepositoryFilters: []types.RepositoryFilter{{Filter: aws.String("prod"), FilterType: "WILDCARD"}}}},
		"no destinations?": {{Destinations: []types.ReplicationDestination{dest("us-west-2", "12345")}}},
	} {
		if _, err := c.PutReplicationConfiguration(ctx(t), &ecr.PutReplicationConfigurationInput{ReplicationConfiguration: &types.ReplicationConfiguration{Rules: rules}}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	_, err = c.PutReplicationConfiguration(ctx(t), &ecr.PutReplicationConfigurationInput{ReplicationConfiguration: &types.ReplicationConfiguration{
		Rules: []types.ReplicationRule{replicationRule(nil, dest("us-east-1", testAccount))}}})
	wantCode(t, err, "InvalidParameterException", "Replication destination cannot be the same as the source registry")
	putReplication(t, c)
	reg, _ = c.DescribeRegistry(ctx(t), &ecr.DescribeRegistryInput{})
	if len(reg.ReplicationConfiguration.Rules) != 0 {
		t.Errorf("rules: [] left %+v", reg.ReplicationConfiguration.Rules)
	}
	_, err = c.DescribeImageReplicationStatus(ctx(t), &ecr.DescribeImageReplicationStatusInput{RepositoryName: aws.String("no/such"), ImageId: &types.ImageIdentifier{ImageTag: aws.String("v1")}})
	wantCode(t, err, "RepositoryNotFoundException", "")
	createRepos(t, c, "empty")
	_, err = c.DescribeImageReplicationStatus(ctx(t), &ecr.DescribeImageReplicationStatusInput{RepositoryName: aws.String("empty"), ImageId: &types.ImageIdentifier{ImageTag: aws.String("v1")}})
	wantCode(t, err, "ImageNotFoundException", "")
}

// TestReplicationCrossAccount: account A replicates prod* to account B of
// the same ecrd. Without B's registry policy the replication FAILS with a
// code; once B allows A ecr:ReplicateImage and ecr:CreateRepository, a
// push is replicated with its tags into a repository made for it. What
// was pushed before the configuration, and what no filter covers, is not
// replicated (§4.3, 3 to 5).
func TestReplicationCrossAccount(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", withPublicCredentials(t), func(c *config.Config) { c.Replication.Interval = 0 })
	a, b := s.clientAs("AKIAONE", "s1", "us-east-1"), s.clientAs("AKIATWO", "s2", "us-east-1")
	createRepos(t, a, "prod-api", "dev-api")
	push := func(repo, tag string, seed int) string {
		cfg := pushConfig(t, a, repo, seed)
		l := pushBlob(t, a, repo, layerBytes(4000+seed, uint64(seed)))
		m := ociManifest(cfg, tag, l)
		putImage(t, a, repo, m, tag)
		return m
	}
	push("prod-api", "before", 1)
	putReplication(t, a, replicationRule([]string{"prod"}, dest("us-east-1", accountB)))
	push("prod-api", "v1", 2)
	push("dev-api", "v1", 3)
	if got := replicationStatuses(t, a, "prod-api", "before"); len(got) != 0 {
		t.Errorf("an image pushed before the configuration: %v", got)
	}
	if got := replicationStatuses(t, a, "dev-api", "v1"); len(got) != 0 {
		t.Errorf("a repository no filter covers: %v", got)
	}
	if got := replicationStatuses(t, a, "prod-api", "v1"); len(got) != 1 || got[0] != "us-east-1/"+accountB+" IN_PROGRESS" {
		t.Errorf("before the replicator ran: %v", got)
	}
	if n := s.app.Replicate(ctx(t)); n != 1 {
		t.Errorf("the replicator attempted %d replications, want 1", n)
	}
	if got := replicationStatuses(t, a, "prod-api", "v1"); len(got) != 1 || got[0] != "us-east-1/"+accountB+" FAILED REPLICATION_ACCESS_DENIED" {
		t.Errorf("without B's registry policy: %v", got)
	}
	if _, err := b.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"prod-api"}}); err == nil {
		t.Error("B has a prod-api without allowing the replication")
	}

	if _, err := b.PutRegistryPolicy(ctx(t), &ecr.PutRegistryPolicyInput{PolicyText: aws.String(`{"Version":"2012-10-17","Statement":[{"Sid":"FromA","Effect":"Allow",
		"Principal":{"AWS":"arn:aws:iam::` + accountA + `:root"},"Action":["ecr:ReplicateImage","ecr:CreateRepository"],
		"Resource":"arn:aws:ecr:us-east-1:` + accountB + `:repository/*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	m2 := push("prod-api", "v2", 4)
	if _, err := a.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String("prod-api"), ImageManifest: aws.String(m2), ImageTag: aws.String("stable")}); err != nil {
		t.Fatal(err)
	}
	s.app.Replicate(ctx(t))
	if got := replicationStatuses(t, a, "prod-api", "v2"); len(got) != 1 || got[0] != "us-east-1/"+accountB+" COMPLETE" {
		t.Fatalf("with B's registry policy: %v", got)
	}
	img, err := b.DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: aws.String("prod-api"), ImageIds: []types.ImageIdentifier{byTag("v2")}})
	if err != nil || len(img.ImageDetails) != 1 || len(img.ImageDetails[0].ImageTags) != 2 || aws.ToString(img.ImageDetails[0].ImageDigest) != digestOf([]byte(m2)) {
		t.Fatalf("B's copy: %+v, %v; want v2 and stable", img, err)
	}
	if src := describe(t, a, "prod-api", byTag("v2")); src.LastRecordedPullTime != nil {
		t.Errorf("the replication's read of the source recorded a pull: %v", src.LastRecordedPullTime)
	}
	got, err := b.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RepositoryName: aws.String("prod-api"), ImageIds: []types.ImageIdentifier{byTag("stable")}})
	if err != nil || len(got.Images) != 1 || aws.ToString(got.Images[0].ImageManifest) != m2 {
		t.Fatalf("B pulls the copy: %+v, %v", got, err)
	}
	// The copy is not replicated again, and deleting the source leaves it.
	if _, err := a.DeleteRepository(ctx(t), &ecr.DeleteRepositoryInput{RepositoryName: aws.String("prod-api"), Force: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: aws.String("prod-api"), ImageIds: []types.ImageIdentifier{byTag("v2")}}); err != nil {
		t.Errorf("B's copy after the source went: %v", err)
	}
}

// TestReplicationAcrossRegions: two ecrd processes, us-east-1 and
// us-west-2. A push in the east is replicated to the west with its tags,
// into a repository the west makes from its REPLICATION template; with the
// west down the replication stays IN_PROGRESS and is retried with
// backoff, and completes once the west is back.
func TestReplicationAcrossRegions(t *testing.T) {
	t.Parallel()
	west := startServer(t, "", func(c *config.Config) { c.Identity.Region = "us-west-2" })
	proxy := newFaultyUpstream(t, west.URL)
	host := strings.TrimPrefix(proxy.URL, "http://")
	east := startServer(t, "", func(c *config.Config) {
		c.Replication.Regions = "us-west-2=http://test:test@" + host
		c.Replication.Interval = 0
	})
	e, w := east.client(), west.clientAs("test", "test", "us-west-2")
	createTemplate(t, w, &ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("app"), ImageTagMutability: types.ImageTagMutabilityImmutable,
		AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForReplication}})
	putReplication(t, e, replicationRule(nil, dest("us-west-2", testAccount)))
	createRepos(t, e, "app/web")
	cfg := pushConfig(t, e, "app/web", 1)
	l := pushBlob(t, e, "app/web", layerBytes(3*mib+17, 5)) // more than one part
	m := ociManifest(cfg, "east", l)
	putImage(t, e, "app/web", m, "v1")

	east.app.Replicate(ctx(t))
	if got := replicationStatuses(t, e, "app/web", "v1"); len(got) != 1 || got[0] != "us-west-2/"+testAccount+" COMPLETE" {
		t.Fatalf("replication to the west: %v", got)
	}
	out, err := w.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RepositoryName: aws.String("app/web"), ImageIds: []types.ImageIdentifier{byTag("v1")}})
	if err != nil || len(out.Images) != 1 || aws.ToString(out.Images[0].ImageManifest) != m {
		t.Fatalf("the west's copy: %+v, %v", out, err)
	}
	repos, err := w.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"app/web"}})
	if err != nil || repos.Repositories[0].ImageTagMutability != types.ImageTagMutabilityImmutable {
		t.Errorf("the west's repository is not its REPLICATION template's: %+v, %v", repos, err)
	}

	// The west goes down: the next push waits, and is retried.
	proxy.down.Store(true)
	m2 := ociManifest(cfg, "east-2", l)
	putImage(t, e, "app/web", m2, "v2")
	east.app.Replicate(ctx(t))
	if got := replicationStatuses(t, e, "app/web", "v2"); len(got) != 1 || got[0] != "us-west-2/"+testAccount+" IN_PROGRESS DESTINATION_UNAVAILABLE" {
		t.Fatalf("with the west down: %v", got)
	}
	if n := east.app.Replicate(ctx(t)); n != 0 {
		t.Errorf("a retry ran before its backoff: %d attempts", n)
	}
	proxy.down.Store(false)
	time.Sleep(1100 * time.Millisecond) // the first backoff is a second
	east.app.Replicate(ctx(t))
	if got := replicationStatuses(t, e, "app/web", "v2"); len(got) != 1 || got[0] != "us-west-2/"+testAccount+" COMPLETE" {
		t.Fatalf("once the west is back: %v", got)
	}
	if _, err := w.DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: aws.String("app/web"), ImageIds: []types.ImageIdentifier{byTag("v2")}}); err != nil {
		t.Errorf("the west's copy of v2: %v", err)
	}
}
