package e2e

import (
	"bytes"
	"encoding/json"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/ecrd/ecrd/internal/config"
	"github.com/ecrd/ecrd/internal/sdkhttp"
)

// accessDomain is the registry domain the access tests serve: the host
// <account>.dkr.ecr.localhost names an account's /v2/ registry.
const accessDomain = "dkr.ecr.localhost"

// withIdentities serves accounts A and B with administrators' keys
// (AKIDA, AKIDB), and IAM users and a role with policies:
//
//   - B's user puller may pull anything (identity policy), B's user
//     nobody has no policy at all;
//   - A's user ci may do anything to repositories under team-a/, and pull
//     any repository tagged team=a;
//   - A's role deploy, without policies, is A's administrator; its session
//     ci-7 signs with a session token.
func withIdentities(t *testing.T) func(*config.Config) {
	path := filepath.Join(t.TempDir(), "credentials.json")
	pull := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"],"Resource":"*"}]}`
	ci := `{"Version":"2012-10-17","Statement":[
		{"Sid":"TeamA","Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:` + accountA + `:repository/team-a/*"},
		{"Sid":"Login","Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"},
		{"Sid":"Tagged","Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*","Condition":{"StringEquals":{"ecr:ResourceTag/team":"a"}}}]}`
	body := `{
	 "credentials": [
		{"accountId": "` + accountA + `", "accessKeyId": "AKIDA", "secretAccessKey": "secretA"},
		{"accountId": "` + accountB + `", "accessKeyId": "AKIDB", "secretAccessKey": "secretB"}],
	 "users": [
		{"accountId": "` + accountB + `", "name": "puller", "policies": [` + pull + `], "accessKeys": [{"accessKeyId": "AKIDBPULL", "secretAccessKey": "s"}]},
		{"accountId": "` + accountB + `", "name": "nobody", "policies": [], "accessKeys": [{"accessKeyId": "AKIDBNONE", "secretAccessKey": "s"}]},
		{"accountId": "` + accountA + `", "name": "ci", "policies": [` + ci + `], "accessKeys": [{"accessKeyId": "AKIDCI", "secretAccessKey": "s"}]}],
	 "roles": [
		{"accountId": "` + accountA + `", "name": "deploy", "sessions": [{"name": "ci-7", "accessKeyId": "ASIADEPLOY", "secretAccessKey": "s", "sessionToken": "tok"}]}]
	}`
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(c *config.Config) {
		c.Auth.CredentialsFile = path
		c.Server.RegistryDomain = accessDomain
	}
}

// denial is AWS's AccessDenied message.
func denial(principal, action, resource, why string) string {
	return "User: " + principal + " is not authorized to perform: " + action + " on resource: " + resource + " " + why
}

func noIdentityAllows(action string) string {
	return "because no identity-based policy allows the " + action + " action"
}

func noResourceAllows(action string) string {
	return "because no resource-based policy allows the " + action + " action"
}

const explicitResourceDeny = "with an explicit deny in a resource-based policy"

func userARN(account, name string) string { return "arn:aws:iam::" + account + ":user/" + name }

// wantDenied asserts err is exactly the AccessDenied msg.
func wantDenied(t *testing.T, err error, msg string) {
	t.Helper()
	wantCode(t, err, "AccessDeniedException", msg)
	if got := err.Error(); !strings.HasSuffix(got, msg) {
		t.Fatalf("message %q is not exactly %q", got, msg)
	}
}

// v2As sends a /v2/ request to the host of account's registry, with the
// docker login password of c and headers (name, value, ...).
func v2As(t *testing.T, s *server, account, basic, method, path, contentType string, body []byte, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = account + "." + accessDomain + s.URL[strings.LastIndex(s.URL, ":"):]
	if basic != "" {
		req.Header.Set("Authorization", basic)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

// wantV2Denied asserts a /v2/ 403 DENIED with exactly msg.
func wantV2Denied(t *testing.T, what string, resp *http.Response, body []byte, msg string) {
	t.Helper()
	var e struct {
		Errors []struct{ Code, Message string } `json:"errors"`
	}
	_ = json.Unmarshal(body, &e)
	if resp.StatusCode != http.StatusForbidden || len(e.Errors) != 1 || e.Errors[0].Code != "DENIED" || e.Errors[0].Message != msg {
		t.Fatalf("%s: %d %s; want 403 DENIED %q", what, resp.StatusCode, body, msg)
	}
}

func sessionClient(s *server) *ecr.Client {
	return ecr.New(ecr.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1, HTTPClient: sdkhttp.Client(0),
		Credentials: credentials.NewStaticCredentialsProvider("ASIADEPLOY", "s", "tok"),
	})
}

func setPolicy(t *testing.T, c *ecr.Client, repo, policy string) {
	t.Helper()
	if _, err := c.SetRepositoryPolicy(ctx(t), &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String(repo), PolicyText: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
}

// TestCrossAccountPull: account B pulls from A's repository through the
// API and /v2/ once A's repository policy allows it, and not before;
// without an identity policy of its own a B user is refused even then;
// what the policy does not grant (a push) stays refused.
func TestCrossAccountPull(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", withIdentities(t))
	a := s.clientAs("AKIDA", "secretA", "us-east-1")
	puller := s.clientAs("AKIDBPULL", "s", "us-east-1")
	nobody := s.clientAs("AKIDBNONE", "s", "us-east-1")
	createRepos(t, a, "shared/app")
	cfg := pushConfig(t, a, "shared/app", 1)
	l := pushBlob(t, a, "shared/app", layerBytes(3000, 71))
	m := ociManifest(cfg, "shared", l)
	putImage(t, a, "shared/app", m, "v1")
	repoARN := "arn:aws:ecr:us-east-1:" + accountA + ":repository/shared/app"
	get := &ecr.BatchGetImageInput{RegistryId: aws.String(accountA), RepositoryName: aws.String("shared/app"), ImageIds: []types.ImageIdentifier{byTag("v1")}}
	basic := privateBasic(t, puller)

	// The token names B's own registry host.
	tok, err := puller.GetAuthorizationToken(ctx(t), &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(tok.AuthorizationData[0].ProxyEndpoint), "http://"+accountB+"."+accessDomain+s.URL[strings.LastIndex(s.URL, ":"):]; got != want {
		t.Errorf("proxyEndpoint %q, want %q", got, want)
	}
	if _, err := nobody.GetAuthorizationToken(ctx(t), &ecr.GetAuthorizationTokenInput{}); err == nil {
		t.Fatal("a user without policies got a token")
	} else {
		wantDenied(t, err, denial(userARN(accountB, "nobody"), "ecr:GetAuthorizationToken", "*", noIdentityAllows("ecr:GetAuthorizationToken")))
	}

	// No policy of A's allows B: refused, the same for a repository that
	// does not exist.
	_, err = puller.BatchGetImage(ctx(t), get)
	wantDenied(t, err, denial(userARN(accountB, "puller"), "ecr:BatchGetImage", repoARN, noResourceAllows("ecr:BatchGetImage")))
	_, err = puller.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RegistryId: aws.String(accountA), RepositoryName: aws.String("no/such"), ImageIds: []types.ImageIdentifier{byTag("v1")}})
	wantDenied(t, err, denial(userARN(accountB, "puller"), "ecr:BatchGetImage", "arn:aws:ecr:us-east-1:"+accountA+":repository/no/such", noResourceAllows("ecr:BatchGetImage")))
	resp, body := v2As(t, s, accountA, basic, http.MethodGet, "/v2/shared/app/manifests/v1", "", nil)
	wantV2Denied(t, "GET manifest before the policy", resp, body,
		denial(userARN(accountB, "puller"), "ecr:BatchGetImage", repoARN, noResourceAllows("ecr:BatchGetImage")))

	setPolicy(t, a, "shared/app", `{"Version":"2012-10-17","Statement":[{"Sid":"PullFromB","Effect":"Allow",
		"Principal":{"AWS":"arn:aws:iam::`+accountB+`:root"},
		"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"]}]}`)
	out, err := puller.BatchGetImage(ctx(t), get)
	if err != nil || len(out.Images) != 1 || aws.ToString(out.Images[0].ImageManifest) != m {
		t.Fatalf("B's pull through the API: %+v, %v", out, err)
	}
	resp, body = v2As(t, s, accountA, basic, http.MethodGet, "/v2/shared/app/manifests/v1", "application/vnd.oci.image.manifest.v1+json", nil)
	if resp.StatusCode != http.StatusOK || string(body) != m {
		t.Fatalf("B's pull of the manifest on /v2/: %d %s", resp.StatusCode, body)
	}
	resp, body = v2As(t, s, accountA, basic, http.MethodGet, "/v2/shared/app/blobs/"+l.Digest, "", nil)
	if resp.StatusCode != http.StatusOK || digestOf(body) != l.Digest {
		t.Fatalf("B's pull of a layer on /v2/: %d", resp.StatusCode)
	}
	// The host names the registry: B's own has no such repository.
	resp, _ = v2As(t, s, accountB, basic, http.MethodGet, "/v2/shared/app/manifests/v1", "", nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("the manifest at B's own host: %d, want 404", resp.StatusCode)
	}

	// Across accounts both sides must allow: nobody has no identity policy.
	_, err = nobody.BatchGetImage(ctx(t), get)
	wantDenied(t, err, denial(userARN(accountB, "nobody"), "ecr:BatchGetImage", repoARN, noIdentityAllows("ecr:BatchGetImage")))
	// A push is not in A's policy.
	_, err = puller.InitiateLayerUpload(ctx(t), &ecr.InitiateLayerUploadInput{RegistryId: aws.String(accountA), RepositoryName: aws.String("shared/app")})
	wantDenied(t, err, denial(userARN(accountB, "puller"), "ecr:InitiateLayerUpload", repoARN, noResourceAllows("ecr:InitiateLayerUpload")))
	resp, body = v2As(t, s, accountA, basic, http.MethodPost, "/v2/shared/app/blobs/uploads/", "", nil)
	wantV2Denied(t, "POST upload", resp, body,
		denial(userARN(accountB, "puller"), "ecr:InitiateLayerUpload", repoARN, noResourceAllows("ecr:InitiateLayerUpload")))
}

// TestExplicitDenyStopsPush: a repository policy denying ecr:PutImage
// stops the account's own administrator, through the API and /v2/, and a
// role session is named by its assumed-role ARN.
func TestExplicitDenyStopsPush(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", withIdentities(t))
	a := s.clientAs("AKIDA", "secretA", "us-east-1")
	createRepos(t, a, "prod/app")
	cfg := pushConfig(t, a, "prod/app", 2)
	l := pushBlob(t, a, "prod/app", layerBytes(2000, 72))
	putImage(t, a, "prod/app", ociManifest(cfg, "before", l), "v1")
	setPolicy(t, a, "prod/app", `{"Version":"2012-10-17","Statement":[{"Sid":"NoPush","Effect":"Deny","Principal":"*","Action":"ecr:PutImage"}]}`)
	repoARN := "arn:aws:ecr:us-east-1:" + accountA + ":repository/prod/app"
	m := ociManifest(cfg, "after", l)

	_, err := a.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String("prod/app"), ImageManifest: aws.String(m), ImageTag: aws.String("v2")})
	wantDenied(t, err, denial(userARN(accountA, "AKIDA"), "ecr:PutImage", repoARN, explicitResourceDeny))
	resp, body := v2As(t, s, accountA, privateBasic(t, a), http.MethodPut, "/v2/prod/app/manifests/v2", "application/vnd.oci.image.manifest.v1+json", []byte(m))
	wantV2Denied(t, "PUT manifest", resp, body, denial(userARN(accountA, "AKIDA"), "ecr:PutImage", repoARN, explicitResourceDeny))
	// With the default host too (the caller's own registry).
	resp, body = v2Do(t, http.MethodPut, s.URL+"/v2/prod/app/manifests/v2", privateBasic(t, a), "application/vnd.oci.image.manifest.v1+json", []byte(m))
	wantV2Denied(t, "PUT manifest, default host", resp, body, denial(userARN(accountA, "AKIDA"), "ecr:PutImage", repoARN, explicitResourceDeny))

	session := sessionClient(s)
	_, err = session.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String("prod/app"), ImageManifest: aws.String(m), ImageTag: aws.String("v2")})
	wantDenied(t, err, denial("arn:aws:sts::"+accountA+":assumed-role/deploy/ci-7", "ecr:PutImage", repoARN, explicitResourceDeny))
	// Nothing was pushed; pulls still work.
	if _, err := a.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RepositoryName: aws.String("prod/app"), ImageIds: []types.ImageIdentifier{byTag("v1")}}); err != nil {
		t.Fatal(err)
	}
	out, err := a.DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: aws.String("prod/app")})
	if err != nil || len(out.ImageDetails) != 1 {
		t.Fatalf("after the refused pushes: %+v, %v; want the one image", out, err)
	}
}

// TestPolicyConditions: aws:SourceIp in a repository policy, and
// ecr:ResourceTag in an identity policy.
func TestPolicyConditions(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", withIdentities(t))
	a := s.clientAs("AKIDA", "secretA", "us-east-1")
	ci := s.clientAs("AKIDCI", "s", "us-east-1")
	for _, repo := range []string{"ip/app", "tag/a", "tag/b"} {
		createRepos(t, a, repo)
		cfg := pushConfig(t, a, repo, 3)
		putImage(t, a, repo, ociManifest(cfg, repo, pushBlob(t, a, repo, layerBytes(1000, 73))), "v1")
	}
	get := func(c *ecr.Client, repo string) error {
		_, err := c.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RepositoryName: aws.String(repo), ImageIds: []types.ImageIdentifier{byTag("v1")}})
		return err
	}
	arn := func(repo string) string { return "arn:aws:ecr:us-east-1:" + accountA + ":repository/" + repo }

	ipPolicy := func(cidr string) string {
		return `{"Version":"2012-10-17","Statement":[{"Sid":"OfficeOnly","Effect":"Deny","Principal":"*","Action":"ecr:BatchGetImage",
			"Condition":{"NotIpAddress":{"aws:SourceIp":"` + cidr + `"}}}]}`
	}
	setPolicy(t, a, "ip/app", ipPolicy("10.0.0.0/8"))
	wantDenied(t, get(a, "ip/app"), denial(userARN(accountA, "AKIDA"), "ecr:BatchGetImage", arn("ip/app"), explicitResourceDeny))
	setPolicy(t, a, "ip/app", ipPolicy("127.0.0.0/8"))
	if err := get(a, "ip/app"); err != nil {
		t.Fatalf("a pull from inside the allowed range: %v", err)
	}

	for repo, team := range map[string]string{"tag/a": "a", "tag/b": "b"} {
		if _, err := a.TagResource(ctx(t), &ecr.TagResourceInput{ResourceArn: aws.String(arn(repo)), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String(team)}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := get(ci, "tag/a"); err != nil {
		t.Fatalf("ci pulling a repository tagged team=a: %v", err)
	}
	wantDenied(t, get(ci, "tag/b"), denial(userARN(accountA, "ci"), "ecr:BatchGetImage", arn("tag/b"), noIdentityAllows("ecr:BatchGetImage")))
}

// TestSourceIpBehindProxy: a load balancer's X-Forwarded-For is the
// source that aws:SourceIp reads when the balancer is in
// --trusted-proxies, through the ECR API and /v2/, and is ignored from
// anyone else: a client cannot claim an address it does not have.
func TestSourceIpBehindProxy(t *testing.T) {
	t.Parallel()
	from := func(addr string) func(*ecr.Options) {
		return func(o *ecr.Options) {
			o.APIOptions = append(o.APIOptions, smithyhttp.AddHeaderValue("X-Forwarded-For", addr))
		}
	}
	office := `{"Version":"2012-10-17","Statement":[{"Sid":"OfficeOnly","Effect":"Deny","Principal":"*","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],
		"Condition":{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}]}`
	arn := "arn:aws:ecr:us-east-1:" + accountA + ":repository/office/app"
	for _, trusted := range []bool{true, false} {
		opts := []func(*config.Config){withIdentities(t)}
		if trusted {
			// The test's requests come from loopback: it plays the balancer.
			opts = append(opts, func(c *config.Config) { c.Server.TrustedProxies = "127.0.0.0/8, ::1" })
		}
		s := startServer(t, "", opts...)
		a := s.clientAs("AKIDA", "secretA", "us-east-1")
		createRepos(t, a, "office/app")
		cfg := pushConfig(t, a, "office/app", 3)
		putImage(t, a, "office/app", ociManifest(cfg, "office", pushBlob(t, a, "office/app", layerBytes(1000, 75))), "v1")
		setPolicy(t, a, "office/app", office)
		get := func(opt ...func(*ecr.Options)) error {
			_, err := a.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RepositoryName: aws.String("office/app"), ImageIds: []types.ImageIdentifier{byTag("v1")}}, opt...)
			return err
		}
		denied := denial(userARN(accountA, "AKIDA"), "ecr:BatchGetImage", arn, explicitResourceDeny)
		wantDenied(t, get(), denied)
		wantDenied(t, get(from("198.51.100.4")), denied)
		basic := privateBasic(t, a)
		manifest := func(xff string) (*http.Response, []byte) {
			return v2As(t, s, accountA, basic, http.MethodGet, "/v2/office/app/manifests/v1", "", nil,
				"Accept", "application/vnd.oci.image.manifest.v1+json", "X-Forwarded-For", xff)
		}
		if trusted {
			if err := get(from("203.0.113.8")); err != nil {
				t.Fatalf("a pull the balancer says comes from the office: %v", err)
			}
			if resp, body := manifest("203.0.113.8"); resp.StatusCode != http.StatusOK {
				t.Fatalf("/v2/ manifest GET from the office: %d %s", resp.StatusCode, body)
			}
			// The client's own claim, left of the balancer's hop, is not believed.
			wantDenied(t, get(from("203.0.113.8, 198.51.100.4")), denied)
		} else {
			wantDenied(t, get(from("203.0.113.8")), denied)
			resp, body := manifest("203.0.113.8")
			wantV2Denied(t, "/v2/ manifest GET claiming the office", resp, body, denied)
		}
	}
}

// TestIdentityPolicyPrefix: a user whose policy allows team-a/* works
// there and nowhere else, listing included.
func TestIdentityPolicyPrefix(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", withIdentities(t))
	ci := s.clientAs("AKIDCI", "s", "us-east-1")
	arn := func(repo string) string { return "arn:aws:ecr:us-east-1:" + accountA + ":repository/" + repo }
	createRepos(t, ci, "team-a/app")
	cfg := pushConfig(t, ci, "team-a/app", 4)
	putImage(t, ci, "team-a/app", ociManifest(cfg, "ci", pushBlob(t, ci, "team-a/app", layerBytes(1000, 74))), "v1")
	if _, err := ci.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"team-a/app"}}); err != nil {
		t.Fatal(err)
	}
	_, err := ci.CreateRepository(ctx(t), &ecr.CreateRepositoryInput{RepositoryName: aws.String("team-b/app")})
	wantDenied(t, err, denial(userARN(accountA, "ci"), "ecr:CreateRepository", arn("team-b/app"), noIdentityAllows("ecr:CreateRepository")))
	_, err = ci.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{})
	wantDenied(t, err, denial(userARN(accountA, "ci"), "ecr:DescribeRepositories", arn("*"), noIdentityAllows("ecr:DescribeRepositories")))
	_, err = ci.PutRegistryPolicy(ctx(t), &ecr.PutRegistryPolicyInput{PolicyText: aws.String(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:ReplicateImage","Resource":"*"}]}`)})
	wantDenied(t, err, denial(userARN(accountA, "ci"), "ecr:PutRegistryPolicy", "*", noIdentityAllows("ecr:PutRegistryPolicy")))
	resp, body := v2As(t, s, accountA, privateBasic(t, ci), http.MethodPost, "/v2/team-b/app/blobs/uploads/", "", nil)
	wantV2Denied(t, "POST upload outside the prefix", resp, body,
		denial(userARN(accountA, "ci"), "ecr:InitiateLayerUpload", arn("team-b/app"), noIdentityAllows("ecr:InitiateLayerUpload")))
}

// TestRegistryPolicyDenies: a registry policy (scope V2, ECR's default)
// is evaluated on every repository of the registry.
func TestRegistryPolicyDenies(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", withIdentities(t))
	a := s.clientAs("AKIDA", "secretA", "us-east-1")
	createRepos(t, a, "reg/app")
	cfg := pushConfig(t, a, "reg/app", 5)
	putImage(t, a, "reg/app", ociManifest(cfg, "reg", pushBlob(t, a, "reg/app", layerBytes(1000, 75))), "v1")
	if _, err := a.PutRegistryPolicy(ctx(t), &ecr.PutRegistryPolicyInput{PolicyText: aws.String(`{"Version":"2012-10-17","Statement":[
		{"Sid":"NoPulls","Effect":"Deny","Principal":"*","Action":"ecr:BatchGetImage","Resource":"arn:aws:ecr:us-east-1:` + accountA + `:repository/reg/*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	_, err := a.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RepositoryName: aws.String("reg/app"), ImageIds: []types.ImageIdentifier{byTag("v1")}})
	wantDenied(t, err, denial(userARN(accountA, "AKIDA"), "ecr:BatchGetImage", "arn:aws:ecr:us-east-1:"+accountA+":repository/reg/app", explicitResourceDeny))
	if _, err := a.DeleteRegistryPolicy(ctx(t), &ecr.DeleteRegistryPolicyInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RepositoryName: aws.String("reg/app"), ImageIds: []types.ImageIdentifier{byTag("v1")}}); err != nil {
		t.Fatalf("after deleting the registry policy: %v", err)
	}
}

// TestRepositoryPolicyLockOut: a policy that would stop the caller from
// setting the policy again is refused unless forced, as ECR's force means;
// forced, it is enforced.
func TestRepositoryPolicyLockOut(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", withIdentities(t))
	a := s.clientAs("AKIDA", "secretA", "us-east-1")
	createRepos(t, a, "lock/app")
	lock := `{"Version":"2012-10-17","Statement":[{"Sid":"Lock","Effect":"Deny","Principal":"*","Action":"ecr:SetRepositoryPolicy"}]}`
	in := &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("lock/app"), PolicyText: aws.String(lock)}
	_, err := a.SetRepositoryPolicy(ctx(t), in)
	wantAPIError[*types.InvalidParameterException](t, err, "would prevent the caller from setting the repository policy in the future")
	_, err = a.GetRepositoryPolicy(ctx(t), &ecr.GetRepositoryPolicyInput{RepositoryName: aws.String("lock/app")})
	wantAPIError[*types.RepositoryPolicyNotFoundException](t, err, "")
	in.Force = true
	if _, err := a.SetRepositoryPolicy(ctx(t), in); err != nil {
		t.Fatalf("forced: %v", err)
	}
	_, err = a.SetRepositoryPolicy(ctx(t), in)
	wantDenied(t, err, denial(userARN(accountA, "AKIDA"), "ecr:SetRepositoryPolicy", "arn:aws:ecr:us-east-1:"+accountA+":repository/lock/app", explicitResourceDeny))
	// Deleting is another action: the way out.
	if _, err := a.DeleteRepositoryPolicy(ctx(t), &ecr.DeleteRepositoryPolicyInput{RepositoryName: aws.String("lock/app")}); err != nil {
		t.Fatal(err)
	}
}

// TestPolicyPrincipalNotFound: a policy naming a user or role that the
// credentials file does not have, in an account it serves, is refused as
// IAM refuses it; principals of other accounts cannot be checked and are
// accepted.
func TestPolicyPrincipalNotFound(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", withIdentities(t))
	a := s.clientAs("AKIDA", "secretA", "us-east-1")
	createRepos(t, a, "who/app")
	policy := func(principal string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"ecr:BatchGetImage"}]}`
	}
	for _, p := range []string{"arn:aws:iam::" + accountB + ":user/ghost", "arn:aws:iam::" + accountA + ":role/ghost",
		"arn:aws:sts::" + accountA + ":assumed-role/ghost/s1"} {
		_, err := a.SetRepositoryPolicy(ctx(t), &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("who/app"), PolicyText: aws.String(policy(p))})
		wantAPIError[*types.InvalidParameterException](t, err, "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Principal not found'")
	}
	for _, p := range []string{"arn:aws:iam::" + accountB + ":user/puller", "arn:aws:iam::" + accountA + ":role/deploy",
		"arn:aws:sts::" + accountA + ":assumed-role/deploy/any-session", "arn:aws:iam::" + accountB + ":root", "arn:aws:iam::333333333333:user/elsewhere"} {
		setPolicy(t, a, "who/app", policy(p))
	}
}
