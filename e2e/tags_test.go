package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	pubtypes "github.com/aws/aws-sdk-go-v2/service/ecrpublic/types"
)

// tagAPI is one API's TagResource, UntagResource and ListTagsForResource,
// over its own SDK client, so that one test holds both APIs to the same
// behaviour (they share the core and the ecrshared operations).
type tagAPI struct {
	// tag sets key, value pairs.
	tag   func(t *testing.T, arn string, kv ...string) error
	untag func(t *testing.T, arn string, keys ...string) error
	// list returns the tags as sorted "key=value" joined by commas.
	list func(t *testing.T, arn string) (string, error)
}

// testTagOps drives api on arn, a repository without tags; missing names
// a repository that does not exist and badARNs are not repository ARNs of
// the API.
func testTagOps(t *testing.T, api tagAPI, arn, missing string, badARNs []string) {
	t.Helper()
	want := func(want string) {
		t.Helper()
		if got, err := api.list(t, arn); err != nil || got != want {
			t.Fatalf("tags %q, %v; want %q", got, err, want)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	want("")
	must(api.tag(t, arn, "a", "1", "b", "2"))
	must(api.tag(t, arn, "b", "3", "c", ""))
	want("a=1,b=3,c=")
	must(api.untag(t, arn, "a", "absent"))
	want("b=3,c=")

	var many []string
	for i := range 49 {
		many = append(many, fmt.Sprintf("k%02d", i), "v")
	}
	wantCode(t, api.tag(t, arn, many...), "TooManyTagsException", "50")
	wantCode(t, api.tag(t, arn, "aws:owner", "v"), "InvalidTagParameterException", "aws:")
	wantCode(t, api.untag(t, arn, "aws:owner"), "InvalidTagParameterException", "aws:")
	want("b=3,c=")
	must(api.tag(t, arn, many[:2*48]...)) // 48 more make 50, the most allowed

	_, err := api.list(t, missing)
	wantCode(t, err, "RepositoryNotFoundException", "no/such")
	wantCode(t, api.tag(t, missing, "a", "1"), "RepositoryNotFoundException", "no/such")
	wantCode(t, api.untag(t, missing, "a"), "RepositoryNotFoundException", "no/such")
	for _, bad := range badARNs {
		_, err := api.list(t, bad)
		wantCode(t, err, "InvalidParameterException", "resourceArn")
		wantCode(t, api.tag(t, bad, "a", "1"), "InvalidParameterException", "resourceArn")
		wantCode(t, api.untag(t, bad, "a"), "InvalidParameterException", "resourceArn")
	}
}

// joinTags renders tags as testTagOps' list does.
func joinTags[T any](tags []T, kv func(T) (*string, *string)) string {
	var out []string
	for _, tg := range tags {
		k, v := kv(tg)
		out = append(out, aws.ToString(k)+"="+aws.ToString(v))
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

func ecrTagAPI(c *ecr.Client) tagAPI {
	return tagAPI{
		tag: func(t *testing.T, arn string, kv ...string) error {
			var tags []ecrtypes.Tag
			for i := 0; i < len(kv); i += 2 {
				tags = append(tags, ecrtypes.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
			}
			_, err := c.TagResource(ctx(t), &ecr.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags})
			return err
		},
		untag: func(t *testing.T, arn string, keys ...string) error {
			_, err := c.UntagResource(ctx(t), &ecr.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: keys})
			return err
		},
		list: func(t *testing.T, arn string) (string, error) {
			out, err := c.ListTagsForResource(ctx(t), &ecr.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
			if err != nil {
				return "", err
			}
			return joinTags(out.Tags, func(tg ecrtypes.Tag) (*string, *string) { return tg.Key, tg.Value }), nil
		},
	}
}

func publicTagAPI(c *ecrpublic.Client) tagAPI {
	return tagAPI{
		tag: func(t *testing.T, arn string, kv ...string) error {
			var tags []pubtypes.Tag
			for i := 0; i < len(kv); i += 2 {
				tags = append(tags, pubtypes.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
			}
			_, err := c.TagResource(ctx(t), &ecrpublic.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags})
			return err
		},
		untag: func(t *testing.T, arn string, keys ...string) error {
			_, err := c.UntagResource(ctx(t), &ecrpublic.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: keys})
			return err
		},
		list: func(t *testing.T, arn string) (string, error) {
			out, err := c.ListTagsForResource(ctx(t), &ecrpublic.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
			if err != nil {
				return "", err
			}
			return joinTags(out.Tags, func(tg pubtypes.Tag) (*string, *string) { return tg.Key, tg.Value }), nil
		},
	}
}

func TestTagResource(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	c := s.client()
	createRepos(t, c, "tag/repo")
	testTagOps(t, ecrTagAPI(c), repoARN(testAccount, "tag/repo"), repoARN(testAccount, "no/such"), []string{
		"not-an-arn", "arn:aws:ecr:eu-west-1:" + testAccount + ":repository/tag/repo", "arn:aws:ecr:us-east-1::repository/tag/repo",
		"arn:aws:ecr-public::" + testAccount + ":repository/tag/repo", "arn:aws:ecr:us-east-1:" + testAccount + ":registry/tag/repo"})

	// Tags given at creation are the repository's, replaced by key.
	api := ecrTagAPI(c)
	if _, err := c.CreateRepository(ctx(t), &ecr.CreateRepositoryInput{RepositoryName: aws.String("tag/created"),
		Tags: []ecrtypes.Tag{{Key: aws.String("team"), Value: aws.String("core")}}}); err != nil {
		t.Fatal(err)
	}
	created := repoARN(testAccount, "tag/created")
	if err := api.tag(t, created, "team", "edge", "env", "ci"); err != nil {
		t.Fatal(err)
	}
	if got, err := api.list(t, created); err != nil || got != "env=ci,team=edge" {
		t.Fatalf("tags %q, %v; want env=ci,team=edge", got, err)
	}
}

func TestPublicTags(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	c := s.publicClient()
	createPublicRepos(t, c, "tag/repo")
	testTagOps(t, publicTagAPI(c), publicRepoARN("tag/repo"), publicRepoARN("no/such"), []string{
		"not-an-arn", "arn:aws:ecr-public::" + testAccount + ":repository", "arn:aws:ecr-public:::repository/tag/repo",
		"arn:aws:ecr:us-east-1:" + testAccount + ":repository/tag/repo", "arn:aws:ecr-public:us-east-1:" + testAccount + ":repository/tag/repo"})
}
