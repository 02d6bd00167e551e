package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic/types"

	"github.com/ecrd/ecrd/internal/config"
	"github.com/ecrd/ecrd/internal/sdkhttp"
)

// publicAlias is the test account's public registry alias (config
// Public.Alias's default).
const publicAlias = "ecrd"

// publicClient returns an AWS SDK for Go v2 ECR Public client for the
// server with the default test/test key, in us-east-1 (ECR Public's only
// region), with no retries.
func (s *server) publicClient() *ecrpublic.Client {
	return s.publicClientAs("test", "test", "us-east-1")
}

// publicClientAs is publicClient with another key and region. ECR Public
// is served on the ECR endpoint: only the target prefix and the SigV4
// service name (ecr-public) differ.
func (s *server) publicClientAs(accessKey, secret, region string) *ecrpublic.Client {
	return ecrpublic.New(ecrpublic.Options{
		Region:           region,
		BaseEndpoint:     aws.String(s.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(accessKey, secret, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       sdkhttp.Client(0),
	})
}

// publicHost returns host:port of the server's public /v2/ listener, the
// host of every public repository URI; "" when ECR Public is off.
func publicHost(s *server) string {
	addr := s.app.PublicAddr()
	if addr == nil {
		return ""
	}
	return addr.String()
}

// publicURL is the public listener's base URL; it fails the test when
// ECR Public is off.
func publicURL(t *testing.T, s *server) string {
	t.Helper()
	h := publicHost(s)
	if h == "" {
		t.Fatal("the server has no public listener")
	}
	return "http://" + h
}

// withPublicCredentials starts the server with a credentials file of two
// accounts, accountA (key AKIAONE) and accountB (key AKIATWO).
func withPublicCredentials(t *testing.T) func(*config.Config) {
	path := filepath.Join(t.TempDir(), "credentials.json")
	body := `{"credentials":[` +
		`{"accountId":"` + accountA + `","accessKeyId":"AKIAONE","secretAccessKey":"s1"},` +
		`{"accountId":"` + accountB + `","accessKeyId":"AKIATWO","secretAccessKey":"s2"}]}`
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(c *config.Config) { c.Auth.CredentialsFile = path }
}

// createPublicRepos creates public repositories without catalog data.
func createPublicRepos(t *testing.T, c *ecrpublic.Client, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := c.CreateRepository(ctx(t), &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String(n)}); err != nil {
			t.Fatalf("ecr-public CreateRepository %s: %v", n, err)
		}
	}
}

// pubInitiate starts a layer upload in a public repository.
func pubInitiate(t *testing.T, c *ecrpublic.Client, repo string) string {
	t.Helper()
	out, err := c.InitiateLayerUpload(ctx(t), &ecrpublic.InitiateLayerUploadInput{RepositoryName: aws.String(repo)})
	if err != nil {
		t.Fatalf("ecr-public InitiateLayerUpload: %v", err)
	}
	return aws.ToString(out.UploadId)
}

// pubUploadPart sends part at offset first and checks lastByteReceived.
func pubUploadPart(t *testing.T, c *ecrpublic.Client, repo, id string, first int64, part []byte) {
	t.Helper()
	out, err := c.UploadLayerPart(ctx(t), &ecrpublic.UploadLayerPartInput{
		RepositoryName: aws.String(repo), UploadId: aws.String(id),
		PartFirstByte: aws.Int64(first), PartLastByte: aws.Int64(first + int64(len(part)) - 1), LayerPartBlob: part,
	})
	if err != nil {
		t.Fatalf("ecr-public UploadLayerPart at %d: %v", first, err)
	}
	if got, want := aws.ToInt64(out.LastByteReceived), first+int64(len(part))-1; got != want {
		t.Fatalf("lastByteReceived = %d, want %d", got, want)
	}
}

// pushPublicLayer uploads b to a public repository in 10 MiB parts and
// completes it, returning the layer digest.
func pushPublicLayer(t *testing.T, c *ecrpublic.Client, repo string, b []byte) string {
	t.Helper()
	id := pubInitiate(t, c, repo)
	for off := 0; off < len(b); off += 10 * mib {
		pubUploadPart(t, c, repo, id, int64(off), b[off:min(off+10*mib, len(b))])
	}
	out, err := c.CompleteLayerUpload(ctx(t), &ecrpublic.CompleteLayerUploadInput{
		RepositoryName: aws.String(repo), UploadId: aws.String(id), LayerDigests: []string{digestOf(b)},
	})
	if err != nil {
		t.Fatalf("ecr-public CompleteLayerUpload: %v", err)
	}
	return aws.ToString(out.LayerDigest)
}

// pushPublicBlob is pushBlob for a public repository.
func pushPublicBlob(t *testing.T, c *ecrpublic.Client, repo string, data []byte) blob {
	t.Helper()
	return blob{Digest: pushPublicLayer(t, c, repo, data), Size: len(data)}
}

// pushPublicConfig is pushConfig for a public repository.
func pushPublicConfig(t *testing.T, c *ecrpublic.Client, repo string, seed int) blob {
	t.Helper()
	return pushPublicBlob(t, c, repo, fmt.Appendf(nil, `{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"},"seed":%d}`, seed))
}

// putPublicImage puts a manifest (with tag, unless "") into a public
// repository and returns the image.
func putPublicImage(t *testing.T, c *ecrpublic.Client, repo, manifest, tag string) *types.Image {
	t.Helper()
	in := &ecrpublic.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(manifest)}
	if tag != "" {
		in.ImageTag = aws.String(tag)
	}
	out, err := c.PutImage(ctx(t), in)
	if err != nil {
		t.Fatalf("ecr-public PutImage tag %q: %v", tag, err)
	}
	return out.Image
}

// pubByDigest and pubByTag are ECR Public image IDs with one part.
func pubByDigest(d string) types.ImageIdentifier {
	return types.ImageIdentifier{ImageDigest: aws.String(d)}
}

func pubByTag(tag string) types.ImageIdentifier {
	return types.ImageIdentifier{ImageTag: aws.String(tag)}
}

// publicBasic returns the Authorization header value ECR Public's
// GetAuthorizationToken grants: its token already is base64("AWS:<password>").
func publicBasic(t *testing.T, c *ecrpublic.Client) string {
	t.Helper()
	out, err := c.GetAuthorizationToken(ctx(t), &ecrpublic.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatalf("ecr-public GetAuthorizationToken: %v", err)
	}
	if out.AuthorizationData == nil {
		t.Fatal("ecr-public GetAuthorizationToken: no authorizationData")
	}
	return "Basic " + aws.ToString(out.AuthorizationData.AuthorizationToken)
}

// privateBasic is publicBasic for private ECR's token.
func privateBasic(t *testing.T, c *ecr.Client) string {
	t.Helper()
	out, err := c.GetAuthorizationToken(ctx(t), &ecr.GetAuthorizationTokenInput{})
	if err != nil || len(out.AuthorizationData) != 1 {
		t.Fatalf("ecr GetAuthorizationToken: %+v, %v", out, err)
	}
	return "Basic " + aws.ToString(out.AuthorizationData[0].AuthorizationToken)
}

// v2Do sends a /v2/ request (without Authorization when authorization is
// "") and returns the response with its body read.
func v2Do(t *testing.T, method, u, authorization, contentType string, body []byte) (*http.Response, []byte) {
	t.Helper()
	return v2DoWith(t, http.DefaultClient, method, u, authorization, contentType, body)
}

// v2DoWith is v2Do with client (one trusting a test CA, say).
func v2DoWith(t *testing.T, client *http.Client, method, u, authorization, contentType string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx(t), method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if method == http.MethodGet && contentType == "" {
		req.Header.Set("Accept", dockerManifestType+", "+ociManifestType+", "+ociIndexType+", "+dockerListType)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, u, err)
	}
	return resp, data
}

// resolveLocation makes an upload Location absolute.
func resolveLocation(base, loc string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u, err := b.Parse(loc)
	if err != nil || loc == "" {
		return "", fmt.Errorf("upload Location %q: %v", loc, err)
	}
	return u.String(), nil
}

// withDigest adds ?digest= to an upload URL.
func withDigest(loc, digest string) string {
	u, _ := url.Parse(loc) // loc came out of url.Parse
	q := u.Query()
	q.Set("digest", digest)
	u.RawQuery = q.Encode()
	return u.String()
}

// v2PushBlob uploads data to repository name (<alias>/<repository> on
// the public listener) at base with a POST and a PUT ?digest=.
func v2PushBlob(t *testing.T, base, authorization, name string, data []byte) blob {
	t.Helper()
	resp, body := v2Do(t, http.MethodPost, base+"/v2/"+name+"/blobs/uploads/", authorization, "", nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST %s blobs/uploads/: %d %s", name, resp.StatusCode, body)
	}
	loc, err := resolveLocation(base, resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp, body = v2Do(t, http.MethodPut, withDigest(loc, digestOf(data)), authorization, "application/octet-stream", data)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT %s ?digest=: %d %s", name, resp.StatusCode, body)
	}
	return blob{Digest: digestOf(data), Size: len(data)}
}

// v2PutManifest puts a manifest under ref (a tag or digest).
func v2PutManifest(t *testing.T, base, authorization, name, ref, mediaType, manifest string) {
	t.Helper()
	resp, body := v2Do(t, http.MethodPut, base+"/v2/"+name+"/manifests/"+ref, authorization, mediaType, []byte(manifest))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT %s manifests/%s: %d %s", name, ref, resp.StatusCode, body)
	}
	if got := resp.Header.Get("Docker-Content-Digest"); got != digestOf([]byte(manifest)) {
		t.Fatalf("Docker-Content-Digest %q, want %s", got, digestOf([]byte(manifest)))
	}
}
