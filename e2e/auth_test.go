package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"

	"github.com/ecrd/ecrd/internal/config"
	"github.com/ecrd/ecrd/internal/sdkhttp"
)

const (
	accountA = "111111111111"
	accountB = "222222222222"
)

// withCredentials starts the server with a credentials file of two
// accounts: A with a full and a read-only key, B with a full key and a
// session-token key.
func withCredentials(t *testing.T) func(*config.Config) {
	path := filepath.Join(t.TempDir(), "credentials.json")
	body := `{"credentials": [
		{"accountId": "` + accountA + `", "accessKeyId": "AKIDA", "secretAccessKey": "secretA"},
		{"accountId": "` + accountA + `", "accessKeyId": "AKIDREAD", "secretAccessKey": "secretR", "readOnly": true},
		{"accountId": "` + accountB + `", "accessKeyId": "AKIDB", "secretAccessKey": "secretB"},
		{"accountId": "` + accountB + `", "accessKeyId": "AKIDSESSION", "secretAccessKey": "secretS", "sessionToken": "session-token"}
	]}`
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(c *config.Config) { c.Auth.CredentialsFile = path }
}

// wantCode asserts err is an API error with the code, HTTP 400 and a
// message containing msg; it works for exceptions the model does not
// declare (AccessDeniedException, the SigV4 errors) too.
func wantCode(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want %s", err, code)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("got %s %q, want %s containing %q", ae.ErrorCode(), ae.ErrorMessage(), code, msg)
	}
}

// rawCall sends an ECR API request as built, returning status, __type and
// message.
func rawCall(t *testing.T, req *http.Request) (int, string, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(data, &e)
	return resp.StatusCode, e.Type, e.Message
}

// wantRawError sends a hand-written, signed request, for inputs the SDK
// would refuse to send, and asserts the 400 error it gets.
func wantRawError(t *testing.T, s *server, op, body, typ, msgPart string) {
	t.Helper()
	req := newAPIRequest(t, s.URL+"/", op, body)
	signRequest(t, req, []byte(body), testCreds, "us-east-1", time.Now())
	if status, gotType, msg := rawCall(t, req); status != 400 || gotType != typ || !strings.Contains(msg, msgPart) {
		t.Fatalf("%s %s: %d %s %q, want 400 %s containing %q", op, body, status, gotType, msg, typ, msgPart)
	}
}

func newAPIRequest(t *testing.T, url, op, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921."+op)
	return req
}

func TestSigV4(t *testing.T) {
	s := startServer(t, "", withCredentials(t))
	a := s.clientAs("AKIDA", "secretA", "us-east-1")
	createRepos(t, a, "auth/keep")
	credsA := aws.Credentials{AccessKeyID: "AKIDA", SecretAccessKey: "secretA"}
	const describe = `{"repositoryNames":["auth/keep"]}`

	t.Run("SDKErrors", func(t *testing.T) {
		_, err := s.clientAs("AKIDA", "wrong", "us-east-1").DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{})
		wantCode(t, err, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
		_, err = s.clientAs("AKIDNOBODY", "x", "us-east-1").DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{})
		wantCode(t, err, "UnrecognizedClientException", "The security token included in the request is invalid.")
		_, err = s.clientAs("AKIDA", "secretA", "us-west-2").DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{})
		wantCode(t, err, "InvalidSignatureException", "us-east-1")
		_, err = s.clientAs("AKIDSESSION", "secretS", "us-east-1").DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{})
		wantCode(t, err, "UnrecognizedClientException", "The security token included in the request is invalid.")
	})

	t.Run("SessionToken", func(t *testing.T) {
		c := ecr.New(ecr.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1, HTTPClient: sdkhttp.Client(0),
			Credentials: aws.CredentialsProviderFunc(func(ctx2 context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: "AKIDSESSION", SecretAccessKey: "secretS", SessionToken: "session-token"}, nil
			})})
		if _, err := c.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{}); err != nil {
			t.Fatal(err)
		}
	})

	cases := []struct {
		name    string
		mutate  func(t *testing.T, req *http.Request) // after building, signs as it needs
		status  int
		errType string
		msg     string
	}{
		{"Valid", func(t *testing.T, r *http.Request) {
			signRequest(t, r, []byte(describe), credsA, "us-east-1", time.Now())
		}, 200, "", ""},
		{"MissingAuth", func(t *testing.T, r *http.Request) {}, 400, "MissingAuthenticationTokenException", "Missing Authentication Token"},
		{"MalformedAuth", func(t *testing.T, r *http.Request) {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDA/20260101/us-east-1/ecr/aws4_request")
		}, 400, "IncompleteSignatureException", "Signature"},
		{"Expired", func(t *testing.T, r *http.Request) {
			signRequest(t, r, []byte(describe), credsA, "us-east-1", time.Now().Add(-20*time.Minute))
		}, 400, "InvalidSignatureException", "Signature expired: "},
		{"Future", func(t *testing.T, r *http.Request) {
			signRequest(t, r, []byte(describe), credsA, "us-east-1", time.Now().Add(20*time.Minute))
		}, 400, "InvalidSignatureException", "Signature not yet current: "},
		{"TamperedBody", func(t *testing.T, r *http.Request) {
			signRequest(t, r, []byte(`{"repositoryNames":["auth/other"]}`), credsA, "us-east-1", time.Now())
		}, 400, "InvalidSignatureException", "The request signature we calculated does not match"},
		{"TamperedTarget", func(t *testing.T, r *http.Request) {
			signRequest(t, r, []byte(describe), credsA, "us-east-1", time.Now())
			r.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DeleteRepository")
		}, 400, "InvalidSignatureException", "The request signature we calculated does not match"},
		{"UnsignedHost", func(t *testing.T, r *http.Request) {
			signRequest(t, r, []byte(describe), credsA, "us-east-1", time.Now())
			h := r.Header.Get("Authorization")
			r.Header.Set("Authorization", strings.Replace(h, "host;", "", 1))
		}, 400, "IncompleteSignatureException", "'Host'"},
		{"UnsignedTarget", func(t *testing.T, r *http.Request) {
			signRequest(t, r, []byte(describe), credsA, "us-east-1", time.Now())
			h := r.Header.Get("Authorization")
			r.Header.Set("Authorization", strings.Replace(h, ";x-amz-target", "", 1))
		}, 400, "IncompleteSignatureException", "X-Amz-Target"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := newAPIRequest(t, s.URL+"/", "DescribeRepositories", describe)
			tc.mutate(t, req)
			status, typ, msg := rawCall(t, req)
			if status != tc.status || typ != tc.errType || !strings.Contains(msg, tc.msg) {
				t.Fatalf("got %d %s %q, want %d %s containing %q", status, typ, msg, tc.status, tc.errType, tc.msg)
			}
		})
	}
	// The tampered DeleteRepository changed nothing.
	if _, err := a.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"auth/keep"}}); err != nil {
		t.Fatalf("after refused requests: %v", err)
	}
}

// TestSigV4EncodingEdges: requests whose path, query and headers need
// careful canonicalization verify against the real server.
func TestSigV4EncodingEdges(t *testing.T) {
	s := startServer(t, "")
	names := []string{"team/app", "a.b/c_d", "x__y/z--w", "deep/er/name-1.2_3"}
	paths := []string{"/", "/?b=2&a=1&a=0", "/?q=a%20b&plus=1%2B1&tilde=~x&empty=", "/some/path?x=y"}
	for i, name := range names {
		body := `{"repositoryName":"` + name + `"}`
		req := newAPIRequest(t, s.URL+paths[i], "CreateRepository", body)
		req.Header.Set("X-Custom-Spaces", "  two  spaces   here  ")
		req.Header.Add("X-Custom-Multi", "one")
		req.Header.Add("X-Custom-Multi", "two  three")
		signRequest(t, req, []byte(body), testCreds, "us-east-1", time.Now())
		if !strings.Contains(req.Header.Get("Authorization"), "x-custom-spaces") {
			t.Fatalf("the signer did not sign the custom headers: %s", req.Header.Get("Authorization"))
		}
		if status, typ, msg := rawCall(t, req); status != 200 {
			t.Errorf("%s at %s: %d %s %q", name, paths[i], status, typ, msg)
		}
	}
}

// TestAccountIsolation: with the other account's registryId, no operation
// reaches the other account's repositories without a policy of theirs that
// allows it: AWS's AccessDenied, the same for a repository that exists and
// one that does not.
func TestAccountIsolation(t *testing.T) {
	s := startServer(t, "", withCredentials(t))
	a := s.clientAs("AKIDA", "secretA", "us-east-1")
	b := s.clientAs("AKIDB", "secretB", "us-east-1")
	createRepos(t, a, "shared/name")
	createRepos(t, b, "shared/name", "b/only")
	layer := layerBytes(1000, 21)
	d := pushLayer(t, b, "b/only", layer)
	uploadB := initiate(t, b, "b/only")
	repo := aws.String("b/only")
	regB := aws.String(accountB)
	denied := func(action, name string) string {
		return "User: arn:aws:iam::" + accountA + ":user/AKIDA is not authorized to perform: ecr:" + action +
			" on resource: arn:aws:ecr:us-east-1:" + accountB + ":repository/" + name +
			" because no resource-based policy allows the ecr:" + action + " action"
	}

	for _, name := range []string{"b/only", "no/such"} {
		_, err := a.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RegistryId: regB, RepositoryNames: []string{name}})
		wantCode(t, err, "AccessDeniedException", denied("DescribeRepositories", name))
	}
	_, err := a.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RegistryId: regB})
	wantCode(t, err, "AccessDeniedException", denied("DescribeRepositories", "*"))
	_, err = a.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{RegistryId: regB, RepositoryName: repo, LayerDigests: []string{d}})
	wantCode(t, err, "AccessDeniedException", denied("BatchCheckLayerAvailability", "b/only"))
	_, err = a.InitiateLayerUpload(ctx(t), &ecr.InitiateLayerUploadInput{RegistryId: regB, RepositoryName: repo})
	wantCode(t, err, "AccessDeniedException", denied("InitiateLayerUpload", "b/only"))
	_, err = a.UploadLayerPart(ctx(t), &ecr.UploadLayerPartInput{RegistryId: regB, RepositoryName: repo, UploadId: aws.String(uploadB),
		PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(0), LayerPartBlob: []byte{1}})
	wantCode(t, err, "AccessDeniedException", denied("UploadLayerPart", "b/only"))
	_, err = a.CompleteLayerUpload(ctx(t), &ecr.CompleteLayerUploadInput{RegistryId: regB, RepositoryName: repo, UploadId: aws.String(uploadB), LayerDigests: []string{d}})
	wantCode(t, err, "AccessDeniedException", denied("CompleteLayerUpload", "b/only"))
	_, err = a.DeleteRepository(ctx(t), &ecr.DeleteRepositoryInput{RegistryId: regB, RepositoryName: repo, Force: true})
	wantCode(t, err, "AccessDeniedException", denied("DeleteRepository", "b/only"))
	_, err = a.ListTagsForResource(ctx(t), &ecr.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:ecr:us-east-1:" + accountB + ":repository/b/only")})
	wantCode(t, err, "AccessDeniedException", denied("ListTagsForResource", "b/only"))
	_, err = a.CreateRepository(ctx(t), &ecr.CreateRepositoryInput{RegistryId: regB, RepositoryName: aws.String("a/intrudes")})
	wantCode(t, err, "AccessDeniedException", denied("CreateRepository", "a/intrudes"))

	// B's upload ID is unknown in A's repository of the same name.
	_, err = a.UploadLayerPart(ctx(t), &ecr.UploadLayerPartInput{RepositoryName: aws.String("shared/name"), UploadId: aws.String(uploadB),
		PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(0), LayerPartBlob: []byte{1}})
	wantAPIError[*types.UploadNotFoundException](t, err, uploadB)
	// Same name, other account: B's layer is not A's.
	pushLayer(t, b, "shared/name", layer)
	check, err := a.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String("shared/name"), LayerDigests: []string{d}})
	if err != nil || len(check.Layers) != 0 || check.Failures[0].FailureCode != types.LayerFailureCodeMissingLayerDigest {
		t.Fatalf("B's layer seen by A: %+v, %v", check, err)
	}
	// And everything of B's is intact.
	if _, err := b.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"b/only", "shared/name"}}); err != nil {
		t.Fatal(err)
	}
	uploadPart(t, b, "b/only", uploadB, 0, []byte{1})
}

func TestReadOnlyKey(t *testing.T) {
	s := startServer(t, "", withCredentials(t))
	createRepos(t, s.clientAs("AKIDA", "secretA", "us-east-1"), "ro/repo")
	ro := s.clientAs("AKIDREAD", "secretR", "us-east-1")
	if _, err := ro.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ro.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String("ro/repo"), LayerDigests: []string{digestOf(nil)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ro.GetAuthorizationToken(ctx(t), &ecr.GetAuthorizationTokenInput{}); err != nil {
		t.Fatal(err)
	}
	_, err := ro.CreateRepository(ctx(t), &ecr.CreateRepositoryInput{RepositoryName: aws.String("ro/new")})
	wantCode(t, err, "AccessDeniedException", "User: arn:aws:iam::"+accountA+":user/AKIDREAD is not authorized to perform: ecr:CreateRepository on resource: arn:aws:ecr:us-east-1:"+accountA+":repository/ro/new")
	_, err = ro.InitiateLayerUpload(ctx(t), &ecr.InitiateLayerUploadInput{RepositoryName: aws.String("ro/repo")})
	wantCode(t, err, "AccessDeniedException", "ecr:InitiateLayerUpload")
	_, err = ro.DeleteRepository(ctx(t), &ecr.DeleteRepositoryInput{RepositoryName: aws.String("ro/repo")})
	wantCode(t, err, "AccessDeniedException", "ecr:DeleteRepository")
}

func TestGetAuthorizationToken(t *testing.T) {
	s := startServer(t, "")
	out, err := s.client().GetAuthorizationToken(ctx(t), &ecr.GetAuthorizationTokenInput{RegistryIds: []string{testAccount}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.AuthorizationData) != 1 {
		t.Fatalf("got %d entries", len(out.AuthorizationData))
	}
	d := out.AuthorizationData[0]
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(d.AuthorizationToken))
	if err != nil || !strings.HasPrefix(string(raw), "AWS:") || len(raw) < 40 {
		t.Fatalf("token decodes to %q, %v; want AWS:<password>", raw, err)
	}
	if until := time.Until(aws.ToTime(d.ExpiresAt)); until < 11*time.Hour+59*time.Minute || until > 12*time.Hour {
		t.Fatalf("expiresAt in %v, want 12h", until)
	}
	if aws.ToString(d.ProxyEndpoint) != s.URL {
		t.Fatalf("proxyEndpoint %q, want %q", aws.ToString(d.ProxyEndpoint), s.URL)
	}
}

func TestAuthNone(t *testing.T) {
	s := startServer(t, "", func(c *config.Config) { c.Auth.Mode = "none" })
	req := newAPIRequest(t, s.URL+"/", "CreateRepository", `{"repositoryName":"open/door"}`)
	if status, typ, msg := rawCall(t, req); status != 200 {
		t.Fatalf("unsigned request with --auth=none: %d %s %q", status, typ, msg)
	}
}
