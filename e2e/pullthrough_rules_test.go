package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/ecrd/ecrd/internal/config"
)

// hubSecret is the ARN of the test account's Docker Hub credentials.
const hubSecret = "arn:aws:secretsmanager:us-east-1:" + testAccount + ":secret:ecr-pullthroughcache/docker-hub"

// tokenUpstream is a registry's /v2/ base that asks for a bearer token,
// as Docker Hub does, from a realm that gives one to user:pass only.
func tokenUpstream(t *testing.T, user, pass string) *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/token":
			if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
				http.Error(w, `{"details":"incorrect username or password"}`, http.StatusUnauthorized)
				return
			}
			fmt.Fprint(w, `{"token":"tok-`+user+`"}`)
		case "/v2/":
			if r.Header.Get("Authorization") != "Bearer tok-"+user {
				w.Header().Set("WWW-Authenticate", `Bearer realm="`+srv.URL+`/token",service="registry.docker.io"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			fmt.Fprint(w, "{}")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// withPullThrough points docker-hub's and quay's URLs at the given bases
// and reads secrets from a file of the given entries (ARN → JSON).
func withPullThrough(t *testing.T, hub, quay string, secrets map[string]string) func(*config.Config) {
	path := filepath.Join(t.TempDir(), "ptc-secrets.json")
	var entries []string
	for arn, v := range secrets {
		entries = append(entries, fmt.Sprintf("%q: %s", arn, v))
	}
	if err := os.WriteFile(path, []byte("{"+strings.Join(entries, ",")+"}"), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(c *config.Config) {
		c.PullThrough.Upstreams = "registry-1.docker.io=" + hub + ",quay.io=" + quay
		c.PullThrough.SecretsFile = path
	}
}

// TestPullThroughCacheRules: the five rule operations with ECR's fields,
// limits and errors (ecr-semantics-2.md §2.4, 1 to 9).
func TestPullThroughCacheRules(t *testing.T) {
	t.Parallel()
	hub := tokenUpstream(t, "me", "pat")
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	wrongSecret := "arn:aws:secretsmanager:us-east-1:" + testAccount + ":secret:ecr-pullthroughcache/wrong"
	cmkSecret := "arn:aws:secretsmanager:us-east-1:" + testAccount + ":secret:ecr-pullthroughcache/cmk"
	s := startServer(t, "", withPullThrough(t, hub.URL, down.URL, map[string]string{
		hubSecret:   `{"username":"me","accessToken":"pat"}`,
		wrongSecret: `{"username":"me","accessToken":"nope"}`,
		cmkSecret:   `{"username":"me","accessToken":"pat","kmsKeyId":"arn:aws:kms:us-east-1:` + testAccount + `:key/mine"}`,
	}))
	c := s.client()
	before := time.Now().Add(-time.Second)
	create := func(prefix, url string, mod ...func(*ecr.CreatePullThroughCacheRuleInput)) (*ecr.CreatePullThroughCacheRuleOutput, error) {
		in := &ecr.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String(prefix), UpstreamRegistryUrl: aws.String(url)}
		for _, m := range mod {
			m(in)
		}
		return c.CreatePullThroughCacheRule(ctx(t), in)
	}
	withSecret := func(arn string) func(*ecr.CreatePullThroughCacheRuleInput) {
		return func(in *ecr.CreatePullThroughCacheRuleInput) { in.CredentialArn = aws.String(arn) }
	}

	out, err := create("ecr-public", "public.ecr.aws")
	if err != nil || out.UpstreamRegistry != types.UpstreamRegistryEcrPublic || out.CreatedAt == nil || out.CreatedAt.Before(before) ||
		aws.ToString(out.RegistryId) != testAccount || aws.ToString(out.UpstreamRepositoryPrefix) != "ROOT" {
		t.Fatalf("create ecr-public: %+v, %v", out, err)
	}
	_, err = create("ecr-public", "public.ecr.aws")
	wantCode(t, err, "PullThroughCacheRuleAlreadyExistsException", "ecr-public")
	_, err = create("harbor", "harbor.example.com")
	wantCode(t, err, "UnsupportedUpstreamRegistryException", "The upstream registry URL harbor.example.com is invalid. Specify a valid upstream registry URL and try again")
	_, err = create("hub", "registry-1.docker.io")
	wantCode(t, err, "UnsupportedUpstreamRegistryException", "The specified upstream registry requires authentication.")
	_, err = create("hub", "registry-1.docker.io", withSecret("arn:aws:secretsmanager:us-east-1:"+testAccount+":secret:other/x-AbCdEf"))
	if err == nil {
		t.Fatal("a secret outside ecr-pullthroughcache/ was taken")
	}
	_, err = create("hub", "registry-1.docker.io", withSecret("arn:aws:secretsmanager:us-east-1:"+testAccount+":secret:ecr-pullthroughcache/absent"))
	wantCode(t, err, "SecretNotFoundException", "")
	_, err = create("hub", "registry-1.docker.io", withSecret("arn:aws:secretsmanager:eu-west-1:"+testAccount+":secret:ecr-pullthroughcache/docker-hub"))
	wantCode(t, err, "SecretNotFoundException", "") // another region's secret
	_, err = create("hub", "registry-1.docker.io", withSecret(cmkSecret))
	wantCode(t, err, "UnableToDecryptSecretValueException", "aws/secretsmanager")
	_, err = create("ROOT", "quay.io", func(in *ecr.CreatePullThroughCacheRuleInput) { in.UpstreamRepositoryPrefix = aws.String("x") })
	wantCode(t, err, "InvalidParameterException", "upstreamRepositoryPrefix")
	_, err = create("quay", "quay.io", func(in *ecr.CreatePullThroughCacheRuleInput) { in.UpstreamRegistry = types.UpstreamRegistryDockerHub })
	wantCode(t, err, "UnsupportedUpstreamRegistryException", "quay.io is invalid")
	for _, bad := range []string{"a", strings.Repeat("a", 31), "Team"} {
		if _, err := create(bad, "quay.io"); err == nil {
			t.Errorf("prefix %q was taken", bad)
		}
	}
	if _, err := create("docker-hub", "registry-1.docker.io", withSecret(hubSecret)); err != nil {
		t.Fatal(err)
	}
	if _, err := create("quay", "quay.io"); err != nil {
		t.Fatal(err)
	}
	if _, err := create("wrong", "registry-1.docker.io", withSecret(wrongSecret)); err != nil {
		t.Fatal(err)
	}

	t.Run("Describe", func(t *testing.T) {
		all, err := c.DescribePullThroughCacheRules(ctx(t), &ecr.DescribePullThroughCacheRulesInput{})
		if err != nil || len(all.PullThroughCacheRules) != 4 {
			t.Fatalf("describe all: %+v, %v", all, err)
		}
		r := all.PullThroughCacheRules[0]
		if aws.ToString(r.EcrRepositoryPrefix) != "docker-hub" || aws.ToString(r.CredentialArn) != hubSecret || r.UpstreamRegistry != types.UpstreamRegistryDockerHub ||
			aws.ToString(r.UpstreamRegistryUrl) != "registry-1.docker.io" || r.UpdatedAt == nil {
			t.Errorf("docker-hub's rule: %+v", r)
		}
		_, err = c.DescribePullThroughCacheRules(ctx(t), &ecr.DescribePullThroughCacheRulesInput{EcrRepositoryPrefixes: []string{"quay", "nope"}})
		wantCode(t, err, "PullThroughCacheRuleNotFoundException", "nope")
		n := 0
		p := ecr.NewDescribePullThroughCacheRulesPaginator(c, &ecr.DescribePullThroughCacheRulesInput{MaxResults: aws.Int32(1)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx(t))
			if err != nil || len(page.PullThroughCacheRules) != 1 {
				t.Fatalf("a page: %+v, %v", page, err)
			}
			n++
		}
		if n != 4 {
			t.Errorf("%d pages of 1, want 4", n)
		}
	})

	t.Run("Validate", func(t *testing.T) {
		for prefix, want := range map[string]string{
			"docker-hub": "",
			"wrong":      "The authentication to the upstream registry failed. Verify that the credentials provided in the pull through cache rule are correct, and try again.",
			"quay":       "Unable to reach the upstream registry quay.io",
		} {
			out, err := c.ValidatePullThroughCacheRule(ctx(t), &ecr.ValidatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String(prefix)})
			if err != nil || out.IsValid != (want == "") || !strings.HasPrefix(aws.ToString(out.Failure), want) || aws.ToString(out.EcrRepositoryPrefix) != prefix {
				t.Errorf("validate %s: %+v, %v; want failure %q", prefix, out, err, want)
			}
		}
		_, err := c.ValidatePullThroughCacheRule(ctx(t), &ecr.ValidatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("nope")})
		wantCode(t, err, "PullThroughCacheRuleNotFoundException", "")
	})

	t.Run("Update", func(t *testing.T) {
		_, err := c.UpdatePullThroughCacheRule(ctx(t), &ecr.UpdatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("wrong")})
		wantCode(t, err, "InvalidParameterException", "Invalid input: Please set either credential arn or role arn to update the credentials")
		out, err := c.UpdatePullThroughCacheRule(ctx(t), &ecr.UpdatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("wrong"), CredentialArn: aws.String(hubSecret)})
		if err != nil || aws.ToString(out.CredentialArn) != hubSecret || out.UpdatedAt == nil || out.UpdatedAt.Before(before) {
			t.Fatalf("update: %+v, %v", out, err)
		}
		v, err := c.ValidatePullThroughCacheRule(ctx(t), &ecr.ValidatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("wrong")})
		if err != nil || !v.IsValid {
			t.Errorf("validate after the update: %+v, %v", v, err)
		}
		_, err = c.UpdatePullThroughCacheRule(ctx(t), &ecr.UpdatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("nope"), CredentialArn: aws.String(hubSecret)})
		wantCode(t, err, "PullThroughCacheRuleNotFoundException", "")
		_, err = c.UpdatePullThroughCacheRule(ctx(t), &ecr.UpdatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("wrong"),
			CredentialArn: aws.String("arn:aws:secretsmanager:us-east-1:" + testAccount + ":secret:ecr-pullthroughcache/absent")})
		wantCode(t, err, "SecretNotFoundException", "")
	})

	t.Run("Delete", func(t *testing.T) {
		out, err := c.DeletePullThroughCacheRule(ctx(t), &ecr.DeletePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("wrong")})
		if err != nil || aws.ToString(out.EcrRepositoryPrefix) != "wrong" || aws.ToString(out.UpstreamRegistryUrl) != "registry-1.docker.io" {
			t.Fatalf("delete: %+v, %v", out, err)
		}
		_, err = c.DeletePullThroughCacheRule(ctx(t), &ecr.DeletePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("wrong")})
		wantCode(t, err, "PullThroughCacheRuleNotFoundException", "")
	})

	t.Run("Limit", func(t *testing.T) {
		all, _ := c.DescribePullThroughCacheRules(ctx(t), &ecr.DescribePullThroughCacheRulesInput{})
		for i := len(all.PullThroughCacheRules); i < 50; i++ {
			if _, err := create(fmt.Sprintf("limit%02d", i), "quay.io"); err != nil {
				t.Fatal(err)
			}
		}
		_, err := create("limit50", "quay.io")
		wantCode(t, err, "LimitExceededException", "")
	})
}
