package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/ecrd/ecrd/internal/config"
	"github.com/ecrd/ecrd/internal/sdkhttp"
)

// TestPullTimeUpdateExclusions: the three operations with their errors
// and limit, and their effect: a pull by an excluded user, or by a
// session of an excluded role, leaves lastRecordedPullTime as it was,
// and anyone else's pull sets it (ecr-semantics-2.md §8).
func TestPullTimeUpdateExclusions(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "credentials.json")
	body := `{"credentials": [{"accountId": "` + testAccount + `", "accessKeyId": "test", "secretAccessKey": "test"}],
	 "users": [
		{"accountId": "` + testAccount + `", "name": "scanner", "accessKeys": [{"accessKeyId": "AKIDSCAN", "secretAccessKey": "s"}]},
		{"accountId": "` + testAccount + `", "name": "dev", "accessKeys": [{"accessKeyId": "AKIDDEV", "secretAccessKey": "s"}]}],
	 "roles": [{"accountId": "` + testAccount + `", "name": "ci", "path": "/build/", "sessions": [{"name": "job-1", "accessKeyId": "ASIACI", "secretAccessKey": "s", "sessionToken": "tok"}]}]}`
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "", func(c *config.Config) { c.Auth.CredentialsFile = path })
	c := s.client()
	scanner, dev := s.clientAs("AKIDSCAN", "s", "us-east-1"), s.clientAs("AKIDDEV", "s", "us-east-1")
	ci := ecr.New(ecr.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1, HTTPClient: sdkhttp.Client(0),
		Credentials: credentials.NewStaticCredentialsProvider("ASIACI", "s", "tok")})
	scannerARN := "arn:aws:iam::" + testAccount + ":user/scanner"
	roleARN := "arn:aws:iam::" + testAccount + ":role/build/ci"

	out, err := c.RegisterPullTimeUpdateExclusion(ctx(t), &ecr.RegisterPullTimeUpdateExclusionInput{PrincipalArn: aws.String(scannerARN)})
	if err != nil || aws.ToString(out.PrincipalArn) != scannerARN || out.CreatedAt == nil {
		t.Fatalf("register: %+v, %v", out, err)
	}
	_, err = c.RegisterPullTimeUpdateExclusion(ctx(t), &ecr.RegisterPullTimeUpdateExclusionInput{PrincipalArn: aws.String(scannerARN)})
	wantCode(t, err, "ExclusionAlreadyExistsException", scannerARN)
	for _, bad := range []string{"arn:aws:iam::12345678901:user/x", "arn:aws:iam::" + testAccount + ":group/x"} {
		if _, err := c.RegisterPullTimeUpdateExclusion(ctx(t), &ecr.RegisterPullTimeUpdateExclusionInput{PrincipalArn: aws.String(bad)}); err == nil {
			t.Errorf("%s was registered", bad)
		}
	}
	if _, err := c.RegisterPullTimeUpdateExclusion(ctx(t), &ecr.RegisterPullTimeUpdateExclusionInput{PrincipalArn: aws.String(roleARN)}); err != nil {
		t.Fatal(err)
	}

	createRepos(t, c, "app")
	cfg := pushConfig(t, c, "app", 1)
	putImage(t, c, "app", ociManifest(cfg, "one"), "one")
	putImage(t, c, "app", ociManifest(cfg, "two"), "two")
	pull := func(cl *ecr.Client, tag string) {
		t.Helper()
		if _, err := cl.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RepositoryName: aws.String("app"), ImageIds: []types.ImageIdentifier{byTag(tag)}}); err != nil {
			t.Fatal(err)
		}
	}
	pulled := func(tag string) bool { return describe(t, c, "app", byTag(tag)).LastRecordedPullTime != nil }
	pull(scanner, "one")
	pull(ci, "two")
	if pulled("one") || pulled("two") {
		t.Errorf("an excluded pull recorded a pull time: one %v, two %v", pulled("one"), pulled("two"))
	}
	pull(dev, "one")
	if !pulled("one") || pulled("two") {
		t.Errorf("dev's pull: one %v (want true), two %v (want false)", pulled("one"), pulled("two"))
	}

	list, err := c.ListPullTimeUpdateExclusions(ctx(t), &ecr.ListPullTimeUpdateExclusionsInput{})
	if err != nil || fmt.Sprint(list.PullTimeUpdateExclusions) != fmt.Sprint([]string{roleARN, scannerARN}) || list.NextToken != nil {
		t.Errorf("list: %+v, %v", list, err)
	}
	page, err := c.ListPullTimeUpdateExclusions(ctx(t), &ecr.ListPullTimeUpdateExclusionsInput{MaxResults: aws.Int32(1)})
	if err != nil || len(page.PullTimeUpdateExclusions) != 1 || page.NextToken == nil {
		t.Fatalf("a page of 1: %+v, %v", page, err)
	}
	rest, err := c.ListPullTimeUpdateExclusions(ctx(t), &ecr.ListPullTimeUpdateExclusionsInput{MaxResults: aws.Int32(1), NextToken: page.NextToken})
	if err != nil || fmt.Sprint(rest.PullTimeUpdateExclusions) != fmt.Sprint([]string{scannerARN}) || rest.NextToken != nil {
		t.Errorf("the second page: %+v, %v", rest, err)
	}

	if _, err := c.DeregisterPullTimeUpdateExclusion(ctx(t), &ecr.DeregisterPullTimeUpdateExclusionInput{PrincipalArn: aws.String(roleARN)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeregisterPullTimeUpdateExclusion(ctx(t), &ecr.DeregisterPullTimeUpdateExclusionInput{PrincipalArn: aws.String(roleARN)})
	wantCode(t, err, "ExclusionNotFoundException", "")
	pull(ci, "two")
	if !pulled("two") {
		t.Error("once deregistered, the role's pull recorded no pull time")
	}
	for i := 1; i < 100; i++ {
		if _, err := c.RegisterPullTimeUpdateExclusion(ctx(t), &ecr.RegisterPullTimeUpdateExclusionInput{PrincipalArn: aws.String(fmt.Sprintf("arn:aws:iam::%s:user/u%03d", testAccount, i))}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.RegisterPullTimeUpdateExclusion(ctx(t), &ecr.RegisterPullTimeUpdateExclusionInput{PrincipalArn: aws.String("arn:aws:iam::" + testAccount + ":user/one-too-many")})
	wantCode(t, err, "LimitExceededException", "")
}
