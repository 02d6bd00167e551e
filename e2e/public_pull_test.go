package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic/types"
)

// wantV2Error asserts a /v2/ answer's status and first error code.
func wantV2Error(t *testing.T, what string, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	var e struct {
		Errors []struct{ Code string } `json:"errors"`
	}
	_ = json.Unmarshal(body, &e)
	if resp.StatusCode != status || len(e.Errors) == 0 || e.Errors[0].Code != code {
		t.Errorf("%s: %d %s, want %d %s", what, resp.StatusCode, body, status, code)
	}
}

// wantAnonymousPull asserts that anyone, without credentials, pulls the
// manifest under tag, its blobs and the tag list of name on the public
// listener at base.
func wantAnonymousPull(t *testing.T, base, name, tag, manifest, mediaType string, blobs map[string][]byte) {
	t.Helper()
	for _, ref := range []string{tag, digestOf([]byte(manifest))} {
		resp, body := v2Do(t, http.MethodGet, base+"/v2/"+name+"/manifests/"+ref, "", "", nil)
		if resp.StatusCode != 200 || string(body) != manifest {
			t.Fatalf("anonymous GET manifests/%s: %d %s", ref, resp.StatusCode, body)
		}
		if ct, dcd := resp.Header.Get("Content-Type"), resp.Header.Get("Docker-Content-Digest"); ct != mediaType || dcd != digestOf([]byte(manifest)) {
			t.Errorf("manifests/%s: Content-Type %q, Docker-Content-Digest %q; want %s, %s", ref, ct, dcd, mediaType, digestOf([]byte(manifest)))
		}
		if resp, _ := v2Do(t, http.MethodHead, base+"/v2/"+name+"/manifests/"+ref, "", "", nil); resp.StatusCode != 200 ||
			resp.Header.Get("Docker-Content-Digest") != digestOf([]byte(manifest)) {
			t.Errorf("anonymous HEAD manifests/%s: %d, Docker-Content-Digest %q", ref, resp.StatusCode, resp.Header.Get("Docker-Content-Digest"))
		}
	}
	for d, want := range blobs {
		resp, body := v2Do(t, http.MethodGet, base+"/v2/"+name+"/blobs/"+d, "", "", nil)
		if resp.StatusCode != 200 || !bytes.Equal(body, want) {
			t.Fatalf("anonymous GET blobs/%s: %d, %d bytes; want 200, %d bytes", d, resp.StatusCode, len(body), len(want))
		}
	}
	resp, body := v2Do(t, http.MethodGet, base+"/v2/"+name+"/tags/list", "", "", nil)
	var list struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(body, &list); resp.StatusCode != 200 || err != nil || list.Name != name || !slices.Contains(list.Tags, tag) {
		t.Fatalf("anonymous GET tags/list: %d %s, want name %s with tag %s", resp.StatusCode, body, name, tag)
	}
}

func TestPublicGetAuthorizationToken(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	out, err := s.publicClient().GetAuthorizationToken(ctx(t), &ecrpublic.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	d := out.AuthorizationData
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(d.AuthorizationToken))
	if err != nil || !strings.HasPrefix(string(raw), "AWS:") || len(raw) < 40 {
		t.Fatalf("token decodes to %q, %v; want AWS:<password>", raw, err)
	}
	if until := time.Until(aws.ToTime(d.ExpiresAt)); until < 11*time.Hour+59*time.Minute || until > 12*time.Hour+time.Minute {
		t.Fatalf("expiresAt in %v, want 12h", until)
	}
	pub, priv := publicURL(t, s), s.URL
	public, private := "Basic "+aws.ToString(d.AuthorizationToken), privateBasic(t, s.client())
	for _, tc := range []struct {
		name, base, authorization string
		status                    int
	}{
		{"PublicTokenOnPublicListener", pub, public, 200},
		{"PrivateTokenOnPublicListener", pub, private, 401},
		{"PublicTokenOnPrivateListener", priv, public, 401},
		{"PrivateTokenOnPrivateListener", priv, private, 200},
	} {
		if resp, body := v2Do(t, http.MethodGet, tc.base+"/v2/", tc.authorization, "", nil); resp.StatusCode != tc.status {
			t.Errorf("%s: GET /v2/ %d %s, want %d", tc.name, resp.StatusCode, body, tc.status)
		}
	}
}

// TestPublicV2PushAnonymousPull: an image pushed to the public listener
// with ECR Public's token is pulled by anyone, and is the image the ECR
// Public API describes.
func TestPublicV2PushAnonymousPull(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	c := s.publicClient()
	createPublicRepos(t, c, "pull/repo")
	base, auth := publicURL(t, s), publicBasic(t, c)
	name := publicAlias + "/pull/repo"
	cfgData := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}}`)
	layer := layerBytes(40000, 61)
	cfg, l := v2PushBlob(t, base, auth, name, cfgData), v2PushBlob(t, base, auth, name, layer)
	m := ociManifest(cfg, "v2-push", l)
	v2PutManifest(t, base, auth, name, "v1", ociManifestType, m)

	wantAnonymousPull(t, base, name, "v1", m, ociManifestType, map[string][]byte{cfg.Digest: cfgData, l.Digest: layer})
	out, err := c.DescribeImages(ctx(t), &ecrpublic.DescribeImagesInput{RepositoryName: aws.String("pull/repo"), ImageIds: []types.ImageIdentifier{pubByTag("v1")}})
	if err != nil || len(out.ImageDetails) != 1 || aws.ToString(out.ImageDetails[0].ImageDigest) != digestOf([]byte(m)) {
		t.Fatalf("DescribeImages of the pushed image: %+v, %v", out, err)
	}

	t.Run("BaseAsksForCredentials", func(t *testing.T) {
		resp, body := v2Do(t, http.MethodGet, base+"/v2/", "", "", nil)
		want := `Bearer realm="` + base + `/token",service="public.ecr.aws",scope="aws"`
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != want {
			t.Errorf("anonymous GET /v2/: %d, WWW-Authenticate %q, %s; want 401 %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body, want)
		}
	})

	// Docker, podman and skopeo pull anonymously by the token flow of
	// public.ecr.aws: a token from the realm with no credentials pulls and
	// does nothing else; one got with the ECR Public password pushes.
	t.Run("BearerTokenFlow", func(t *testing.T) {
		anon := bearerToken(t, base, "")
		resp, body := v2Do(t, http.MethodGet, base+"/v2/"+name+"/manifests/v1", "Bearer "+anon, "", nil)
		if resp.StatusCode != 200 || string(body) != m {
			t.Errorf("GET manifest with an anonymous bearer token: %d %s", resp.StatusCode, body)
		}
		resp, _ = v2Do(t, http.MethodGet, base+"/v2/"+name+"/manifests/v1", "Basic "+base64.StdEncoding.EncodeToString([]byte(":")), "", nil)
		if resp.StatusCode != 200 {
			t.Errorf("GET manifest with empty Basic credentials: %d, want 200 (anonymous)", resp.StatusCode)
		}
		resp, _ = v2Do(t, http.MethodPut, base+"/v2/"+name+"/manifests/anon", "Bearer "+anon, ociManifestType, []byte(m))
		if resp.StatusCode != 401 {
			t.Errorf("PUT manifest with an anonymous bearer token: %d, want 401", resp.StatusCode)
		}
		pushToken := bearerToken(t, base, auth)
		v2PutManifest(t, base, "Bearer "+pushToken, name, "bearer", ociManifestType, m)
		resp, _ = v2Do(t, http.MethodGet, base+"/token", "Basic "+base64.StdEncoding.EncodeToString([]byte("AWS:forged")), "", nil)
		if resp.StatusCode != 401 {
			t.Errorf("token for a forged password: %d, want 401", resp.StatusCode)
		}
	})

	t.Run("AnonymousPushRefused", func(t *testing.T) {
		resp, body := v2Do(t, http.MethodPost, base+"/v2/"+name+"/blobs/uploads/", "", "", nil)
		wantV2Error(t, "anonymous POST blobs/uploads/", resp, body, 401, "UNAUTHORIZED")
		resp, body = v2Do(t, http.MethodPut, base+"/v2/"+name+"/manifests/anon", "", ociManifestType, []byte(ociManifest(cfg, "anon", l)))
		wantV2Error(t, "anonymous PUT manifests/anon", resp, body, 401, "UNAUTHORIZED")
		resp, body = v2Do(t, http.MethodDelete, base+"/v2/"+name+"/manifests/"+digestOf([]byte(m)), "", "", nil)
		if resp.StatusCode != 401 {
			t.Errorf("anonymous DELETE manifest: %d %s, want 401", resp.StatusCode, body)
		}
		wantAnonymousPull(t, base, name, "v1", m, ociManifestType, nil)
	})

	t.Run("NoPrivateRepositories", func(t *testing.T) {
		priv := s.client()
		createRepos(t, priv, "priv/repo")
		pc := pushConfig(t, priv, "priv/repo", 1)
		putImage(t, priv, "priv/repo", ociManifest(pc, "private"), "v1")
		for _, path := range []string{"/v2/priv/repo/manifests/v1", "/v2/" + publicAlias + "/priv/repo/manifests/v1", "/v2/nosuchalias/pull/repo/manifests/v1"} {
			resp, body := v2Do(t, http.MethodGet, base+path, "", "", nil)
			wantV2Error(t, "anonymous GET "+path, resp, body, 404, "NAME_UNKNOWN")
			resp, body = v2Do(t, http.MethodGet, base+path, auth, "", nil)
			wantV2Error(t, "owner's GET "+path, resp, body, 404, "NAME_UNKNOWN")
		}
	})
}

// TestPublicAPIPushAnonymousPull: an image pushed with the ECR Public API
// (InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload, PutImage)
// is pulled by anyone from the same repository on the public listener.
func TestPublicAPIPushAnonymousPull(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	c := s.publicClient()
	out, err := c.CreateRepository(ctx(t), &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String("api/pushed")})
	if err != nil {
		t.Fatal(err)
	}
	uri := aws.ToString(out.Repository.RepositoryUri)
	host, name, ok := strings.Cut(uri, "/")
	if !ok || host != publicHost(s) || name != publicAlias+"/api/pushed" {
		t.Fatalf("repositoryUri %q, want %s/%s/api/pushed", uri, publicHost(s), publicAlias)
	}
	cfgData := []byte(`{"architecture":"arm64","os":"linux","rootfs":{"type":"layers"}}`)
	layer := layerBytes(12*mib+7, 62) // two parts
	cfg, l := pushPublicBlob(t, c, "api/pushed", cfgData), pushPublicBlob(t, c, "api/pushed", layer)
	m := dockerManifest(cfg, l)
	putPublicImage(t, c, "api/pushed", m, "latest")

	wantAnonymousPull(t, "http://"+host, name, "latest", m, dockerManifestType, map[string][]byte{cfg.Digest: cfgData, l.Digest: layer})
}

// bearerToken gets a token from the public listener's realm, with the
// Authorization header given ("" for none).
func bearerToken(t *testing.T, base, authorization string) string {
	t.Helper()
	resp, body := v2Do(t, http.MethodGet, base+"/token?service=public.ecr.aws&scope=aws", authorization, "", nil)
	var tok struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &tok) != nil || tok.Token == "" || tok.AccessToken != tok.Token || tok.ExpiresIn <= 0 {
		t.Fatalf("GET /token: %d %s", resp.StatusCode, body)
	}
	return tok.Token
}
