package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
)

// TestBlobRedirect: with --blob-redirect, a /v2/ blob GET is a 307 to a
// presigned S3 URL that ecrd sent S3 nothing to make; Go's client follows
// it (sending its Authorization header along, S3 being on the same host
// here) and gets the bytes, whole or by Range; HEAD is still answered by
// ecrd; GetDownloadUrlForLayer hands out such a URL; presigned URLs need
// no credentials of ecrd's. A /v2/ GET of a missing blob is still a 404.
func TestBlobRedirect(t *testing.T) {
	stores := scaleOut(t)
	counter := newS3Counter(t, os.Getenv("ECRD_TEST_S3_ENDPOINT"))
	srv := startServer(t, "", stores, viaCounter(counter, true))
	c := srv.client()
	const repo = "redirect/app"
	createRepos(t, c, repo)
	authz := privateBasic(t, c)
	layer := layerBytes(6<<20+3, 41)
	pushLayer(t, c, repo, layer)
	cfg := pushConfig(t, c, repo, 2)
	putImage(t, c, repo, ociManifest(cfg, "", blob{digestOf(layer), len(layer)}), "v1")
	blobURL := srv.URL + "/v2/" + repo + "/blobs/" + digestOf(layer)

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	counter.take()
	resp, _ := v2DoWith(t, noFollow, http.MethodGet, blobURL, authz, "", nil)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusTemporaryRedirect || !strings.HasPrefix(loc, counter.URL+"/") || !strings.Contains(loc, "X-Amz-Signature=") {
		t.Fatalf("GET with --blob-redirect: %s, Location %q; want 307 to a presigned URL of %s", resp.Status, loc, counter.URL)
	}
	if got := counter.take(); got != "" {
		t.Errorf("redirecting sent S3 %s, want nothing", got)
	}

	resp, body := v2Do(t, http.MethodGet, blobURL, authz, "", nil)
	if resp.StatusCode != http.StatusOK || digestOf(body) != digestOf(layer) {
		t.Fatalf("GET following the redirect: %s, %d bytes", resp.Status, len(body))
	}
	if got := counter.take(); got != "GetObject(presigned)×1" {
		t.Errorf("GET following the redirect: S3 requests %q, want only the client's presigned GetObject", got)
	}
	req, _ := http.NewRequestWithContext(ctx(t), http.MethodGet, blobURL, nil)
	req.Header.Set("Authorization", authz)
	req.Header.Set("Range", "bytes=100-199")
	rresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	part := make([]byte, 200)
	n, _ := io.ReadFull(rresp.Body, part)
	rresp.Body.Close()
	if rresp.StatusCode != http.StatusPartialContent || !bytes.Equal(part[:n], layer[100:200]) {
		t.Errorf("Range GET through the redirect: %s, %d bytes; want 206 with bytes 100-199", rresp.Status, n)
	}
	if resp, _ := v2DoWith(t, noFollow, http.MethodHead, blobURL, authz, "", nil); resp.StatusCode != http.StatusOK ||
		resp.Header.Get("Content-Length") != strconv.Itoa(len(layer)) || resp.Header.Get("Location") != "" {
		t.Errorf("HEAD with --blob-redirect: %s, %v; want 200 from ecrd", resp.Status, resp.Header)
	}
	if resp, _ := v2DoWith(t, noFollow, http.MethodGet, srv.URL+"/v2/"+repo+"/blobs/"+digestOf([]byte("absent")), authz, "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET of a missing blob with --blob-redirect: %s, want 404", resp.Status)
	}

	out, err := c.GetDownloadUrlForLayer(ctx(t), &ecr.GetDownloadUrlForLayerInput{RepositoryName: aws.String(repo), LayerDigest: aws.String(digestOf(layer))})
	if err != nil {
		t.Fatal(err)
	}
	u := aws.ToString(out.DownloadUrl)
	if !strings.HasPrefix(u, counter.URL+"/") || !strings.Contains(u, "X-Amz-Expires=3600") || aws.ToString(out.LayerDigest) != digestOf(layer) {
		t.Errorf("GetDownloadUrlForLayer: %q, %q; want a presigned URL of the bucket valid for an hour", u, aws.ToString(out.LayerDigest))
	}
	if resp, body := v2Do(t, http.MethodGet, u, "", "", nil); resp.StatusCode != http.StatusOK || digestOf(body) != digestOf(layer) {
		t.Errorf("GET of the download URL, without credentials: %s, %d bytes", resp.Status, len(body))
	}
}

// TestBlobRedirectCrane: crane pulls an image through --blob-redirect:
// its blobs come from S3 by the presigned URLs, and crane verifies their
// digests. go-containerregistry sends its registry credentials only to
// the registry's host and port, so S3 never sees them.
func TestBlobRedirectCrane(t *testing.T) {
	crane := toolPath(t, "crane")
	stores := scaleOut(t)
	counter := newS3Counter(t, os.Getenv("ECRD_TEST_S3_ENDPOINT"))
	srv := startServer(t, "", stores, viaCounter(counter, true))
	c := srv.client()
	const repo = "redirect/crane"
	createRepos(t, c, repo)
	layer := layerBytes(7<<20+11, 42)
	pushLayer(t, c, repo, layer)
	cfg := pushConfig(t, c, repo, 4)
	putImage(t, c, repo, ociManifest(cfg, "", blob{digestOf(layer), len(layer)}), "v1")

	dir := t.TempDir()
	token := strings.TrimPrefix(privateBasic(t, c), "Basic ")
	host := strings.TrimPrefix(srv.URL, "http://")
	conf, _ := json.Marshal(map[string]any{"auths": map[string]any{host: map[string]string{"auth": token}}})
	if err := os.WriteFile(filepath.Join(dir, "config.json"), conf, 0o600); err != nil {
		t.Fatal(err)
	}
	counter.take()
	cmd := exec.CommandContext(ctx(t), crane, "pull", "--insecure", "--format", "oci", host+"/"+repo+":v1", filepath.Join(dir, "image"))
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("crane pull: %v\n%s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "image", "blobs", "sha256", strings.TrimPrefix(digestOf(layer), "sha256:")))
	if err != nil || !bytes.Equal(got, layer) {
		t.Fatalf("the pulled layer: %d bytes, %v; want the pushed %d", len(got), err, len(layer))
	}
	if n := counter.count("GetObject(presigned)"); n != 2 {
		t.Errorf("crane pull: %d presigned GETs, want 2 (config and layer): %s", n, counter.take())
	}
	if n := counter.count("GetObject"); n != 0 {
		t.Errorf("crane pull: ecrd read %d blobs itself, want 0", n)
	}
}

// toolPath finds a tool scripts/install-tools.sh installs; without it
// the test skips, or fails with CI=true.
func toolPath(t *testing.T, name string) string {
	t.Helper()
	if p, err := filepath.Abs(filepath.Join("..", ".tools", "bin", name)); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	msg := name + " is not installed: scripts/install-tools.sh " + name
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}
