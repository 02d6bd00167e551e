package e2e

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	pubtypes "github.com/aws/aws-sdk-go-v2/service/ecrpublic/types"

	"github.com/ecrd/ecrd/internal/config"
	"github.com/ecrd/ecrd/internal/sdkhttp"
	"github.com/ecrd/ecrd/internal/tlstest"
)

// tlsProcess is the ecrd binary serving HTTPS on both listeners, with a
// certificate from a certificate authority of the test's own.
type tlsProcess struct {
	cmd      *exec.Cmd
	exited   chan struct{} // closed once the process is reaped
	log      string        // the file its log goes to
	api, pub string        // https:// base URLs of the listeners
	ca       *tlstest.CA
	// certFile and keyFile are what --tls-cert and --tls-key name.
	certFile, keyFile string
	// client trusts ca and speaks HTTP/2 when offered.
	client *http.Client
}

// startTLSProcess issues a certificate named cn for loopback and runs the
// binary with it until both listeners serve.
func startTLSProcess(t *testing.T, cn string) (*tlsProcess, tlstest.Pair) {
	t.Helper()
	ca, err := tlstest.NewCA("ecrd e2e CA")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := ca.Issue(cn)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := &tlsProcess{exited: make(chan struct{}), log: filepath.Join(dir, "ecrd.log"), ca: ca,
		certFile: filepath.Join(dir, "server.crt"), keyFile: filepath.Join(dir, "server.key"),
		client: sdkhttp.ClientTLS(0, ca.Pool())}
	if err := pair.Write(p.certFile, p.keyFile); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p.cmd = exec.Command(ecrdBinary(t), "serve", "--listen", "127.0.0.1:0", "--public-listen", "127.0.0.1:0",
		"--data-dir", filepath.Join(dir, "data"), "--account-id", testAccount, "--tls-cert", p.certFile, "--tls-key", p.keyFile)
	p.cmd.Stderr = f
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { _ = p.cmd.Process.Kill(); <-p.exited })
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		b := p.logText(t)
		api, pub := servingRE.FindStringSubmatch(b), publicServingRE.FindStringSubmatch(b)
		if api != nil && pub != nil {
			p.api, p.pub = "https://"+api[1], "https://"+pub[1]
			return p, pair
		}
		select {
		case <-p.exited:
			t.Fatalf("ecrd exited before serving; its log:\n%s", b)
		default:
		}
	}
	t.Fatalf("ecrd did not serve both listeners within 30s; its log:\n%s", p.logText(t))
	return nil, tlstest.Pair{}
}

func (p *tlsProcess) logText(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(p.log)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// ecrClient is an ECR client of the main listener over TLS.
func (p *tlsProcess) ecrClient() *ecr.Client {
	return ecr.New(ecr.Options{Region: "us-east-1", BaseEndpoint: aws.String(p.api), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), HTTPClient: p.client})
}

// do sends a request with p's client and reads the answer; a non-empty
// authorization is the Authorization header.
func (p *tlsProcess) do(t *testing.T, method, url, authorization, contentType string, body []byte) (*http.Response, []byte) {
	t.Helper()
	return v2DoWith(t, p.client, method, url, authorization, contentType, body)
}

// h2Do is do for a request that must travel over HTTP/2 and get status.
func (p *tlsProcess) h2Do(t *testing.T, status int, method, url, authorization, contentType string, body []byte) (*http.Response, []byte) {
	t.Helper()
	resp, data := p.do(t, method, url, authorization, contentType, body)
	if resp.ProtoMajor != 2 || resp.StatusCode != status {
		t.Fatalf("%s %s: %s %d %.200s; want HTTP/2 and %d", method, url, resp.Proto, resp.StatusCode, data, status)
	}
	return resp, data
}

// TestTLS_ECRAPI: the AWS SDK for Go v2 works with ecrd over TLS, and
// the URLs ecrd hands out for itself are https.
func TestTLS_ECRAPI(t *testing.T) {
	t.Parallel()
	p, _ := startTLSProcess(t, "ecrd")
	c := p.ecrClient()
	createRepos(t, c, "tls/app")
	layer := layerBytes(3*mib+17, 91)
	out, err := c.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{
		RepositoryName: aws.String("tls/app"), LayerDigests: []string{digestOf(layer)}})
	if err != nil || len(out.Failures) != 1 || out.Failures[0].FailureCode != types.LayerFailureCodeMissingLayerDigest {
		t.Fatalf("BatchCheckLayerAvailability before the push: %+v, %v", out, err)
	}
	l := pushBlob(t, c, "tls/app", layer)
	putImage(t, c, "tls/app", ociManifest(pushConfig(t, c, "tls/app", 1), "tls", l), "v1")
	out, err = c.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{
		RepositoryName: aws.String("tls/app"), LayerDigests: []string{digestOf(layer)}})
	if err != nil || len(out.Layers) != 1 || out.Layers[0].LayerAvailability != types.LayerAvailabilityAvailable {
		t.Fatalf("BatchCheckLayerAvailability after the push: %+v, %v", out, err)
	}

	tok, err := c.GetAuthorizationToken(ctx(t), &ecr.GetAuthorizationTokenInput{})
	if err != nil || len(tok.AuthorizationData) != 1 {
		t.Fatalf("GetAuthorizationToken: %+v, %v", tok, err)
	}
	if got := aws.ToString(tok.AuthorizationData[0].ProxyEndpoint); got != p.api {
		t.Errorf("proxyEndpoint %q, want %q", got, p.api)
	}

	dl, err := c.GetDownloadUrlForLayer(ctx(t), &ecr.GetDownloadUrlForLayerInput{
		RepositoryName: aws.String("tls/app"), LayerDigest: aws.String(digestOf(layer))})
	if err != nil {
		t.Fatal(err)
	}
	u := aws.ToString(dl.DownloadUrl)
	if !strings.HasPrefix(u, p.api+"/") {
		t.Fatalf("downloadUrl %q, want one under %s", u, p.api)
	}
	resp, got := p.do(t, http.MethodGet, u, "", "", nil)
	if resp.StatusCode != 200 || !bytes.Equal(got, layer) {
		t.Fatalf("GET downloadUrl: %d, %d bytes; want 200 and the layer's %d", resp.StatusCode, len(got), len(layer))
	}
}

// TestTLS_HTTP2PushPull: /v2/ negotiates HTTP/2, challenges with an https
// realm, and a push and pull of a multi-MiB blob stream over HTTP/2.
func TestTLS_HTTP2PushPull(t *testing.T) {
	t.Parallel()
	p, _ := startTLSProcess(t, "ecrd")
	c := p.ecrClient()
	createRepos(t, c, "tls/h2")
	resp, _ := p.h2Do(t, 401, http.MethodGet, p.api+"/v2/", "", "", nil)
	host := strings.TrimPrefix(p.api, "https://")
	if got, want := resp.Header.Get("WWW-Authenticate"), `Basic realm="https://`+host+`/",service="ecr.amazonaws.com"`; got != want {
		t.Errorf("WWW-Authenticate %q, want %q", got, want)
	}
	auth := privateBasic(t, c)
	p.h2Do(t, 200, http.MethodGet, p.api+"/v2/", auth, "", nil)

	name := "tls/h2"
	push := func(data []byte) blob {
		t.Helper()
		resp, _ := p.h2Do(t, 202, http.MethodPost, p.api+"/v2/"+name+"/blobs/uploads/", auth, "", nil)
		loc, err := resolveLocation(p.api, resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		resp, _ = p.h2Do(t, 202, http.MethodPatch, loc, auth, "application/octet-stream", data)
		if loc, err = resolveLocation(p.api, resp.Header.Get("Location")); err != nil {
			t.Fatal(err)
		}
		p.h2Do(t, 201, http.MethodPut, withDigest(loc, digestOf(data)), auth, "", nil)
		return blob{Digest: digestOf(data), Size: len(data)}
	}
	layer := layerBytes(24*mib+5, 92)
	cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}}`)
	l, cb := push(layer), push(cfg)
	m := ociManifest(cb, "tls", l)
	p.h2Do(t, 201, http.MethodPut, p.api+"/v2/"+name+"/manifests/v1", auth, ociManifestType, []byte(m))

	if _, got := p.h2Do(t, 200, http.MethodGet, p.api+"/v2/"+name+"/manifests/v1", auth, "", nil); string(got) != m {
		t.Errorf("manifest pulled back: %s", got)
	}
	if _, got := p.h2Do(t, 200, http.MethodGet, p.api+"/v2/"+name+"/blobs/"+l.Digest, auth, "", nil); !bytes.Equal(got, layer) {
		t.Errorf("blob pulled back: %d bytes, want the %d pushed", len(got), len(layer))
	}
	out, err := c.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{
		RepositoryName: aws.String(name), LayerDigests: []string{l.Digest}})
	if err != nil || len(out.Layers) != 1 || aws.ToInt64(out.Layers[0].LayerSize) != int64(len(layer)) {
		t.Errorf("BatchCheckLayerAvailability of the blob pushed over HTTP/2: %+v, %v", out, err)
	}
}

// TestTLS_PublicListener: the public listener serves TLS too, its token
// realm and catalog logo URLs are https, and an anonymous pull works.
func TestTLS_PublicListener(t *testing.T) {
	t.Parallel()
	p, _ := startTLSProcess(t, "ecrd")
	resp, _ := p.h2Do(t, 401, http.MethodGet, p.pub+"/v2/", "", "", nil)
	if got, want := resp.Header.Get("WWW-Authenticate"), `Bearer realm="`+p.pub+`/token",service="public.ecr.aws",scope="aws"`; got != want {
		t.Errorf("WWW-Authenticate %q, want %q", got, want)
	}
	p.h2Do(t, 200, http.MethodGet, p.pub+"/token?service=public.ecr.aws", "", "", nil)

	pc := ecrpublic.New(ecrpublic.Options{Region: "us-east-1", BaseEndpoint: aws.String(p.api), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), HTTPClient: p.client})
	logo := pngLogo(t)
	out, err := pc.CreateRepository(ctx(t), &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String("tls/logo"),
		CatalogData: &pubtypes.RepositoryCatalogDataInput{LogoImageBlob: logo}})
	if err != nil {
		t.Fatal(err)
	}
	u := aws.ToString(out.CatalogData.LogoUrl)
	if !strings.HasPrefix(u, p.pub+"/") {
		t.Fatalf("logoUrl %q, want one under %s", u, p.pub)
	}
	if resp, got := p.do(t, http.MethodGet, u, "", "", nil); resp.StatusCode != 200 || !bytes.Equal(got, logo) {
		t.Fatalf("GET logoUrl: %d, %d bytes", resp.StatusCode, len(got))
	}
}

// TestTLS_PlainHTTPRefused: with TLS on, neither listener answers plain
// HTTP, and a client that does not trust the certificate authority
// refuses the server.
func TestTLS_PlainHTTPRefused(t *testing.T) {
	t.Parallel()
	p, _ := startTLSProcess(t, "ecrd")
	for _, base := range []string{p.api, p.pub} {
		plain := "http://" + strings.TrimPrefix(base, "https://")
		resp, err := http.Get(plain + "/v2/")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "HTTPS") {
				t.Errorf("plain GET %s/v2/: %d %s; want it refused", plain, resp.StatusCode, body)
			}
		}
		untrusting := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}}
		if resp, err := untrusting.Get(base + "/v2/"); err == nil {
			resp.Body.Close()
			t.Errorf("a client without the CA got %d from %s", resp.StatusCode, base)
		} else if !strings.Contains(err.Error(), "certificate") {
			t.Errorf("a client without the CA: %v; want a certificate error", err)
		}
	}
	// TLS 1.1 is refused: 1.2 is the minimum.
	conn, err := tls.Dial("tcp", strings.TrimPrefix(p.api, "https://"), &tls.Config{RootCAs: p.ca.Pool(), MaxVersion: tls.VersionTLS11})
	if err == nil {
		conn.Close()
		t.Error("a TLS 1.1 handshake succeeded")
	}
}

// TestTLSAtProxy: behind a proxy that ends TLS, ecrd serves plain HTTP but
// hands out https:// URLs for itself, the ones clients reach through the
// proxy: proxyEndpoint, download URLs and both /v2/ realms.
func TestTLSAtProxy(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", func(c *config.Config) {
		c.Server.TLSAtProxy = true
		c.Server.Hostname = "registry.example.com"
		c.Public.Listen = "127.0.0.1:0"
		c.Public.Hostname = "public.registry.example.com"
	})
	c := s.client()
	createRepos(t, c, "proxy/app")
	layer := layerBytes(1000, 3)
	l := pushBlob(t, c, "proxy/app", layer)
	putImage(t, c, "proxy/app", ociManifest(pushConfig(t, c, "proxy/app", 1), "proxy", l), "v1")

	tok, err := c.GetAuthorizationToken(ctx(t), &ecr.GetAuthorizationTokenInput{})
	if err != nil || len(tok.AuthorizationData) != 1 {
		t.Fatalf("GetAuthorizationToken: %+v, %v", tok, err)
	}
	if got := aws.ToString(tok.AuthorizationData[0].ProxyEndpoint); got != "https://registry.example.com" {
		t.Errorf("proxyEndpoint %q, want https://registry.example.com", got)
	}
	dl, err := c.GetDownloadUrlForLayer(ctx(t), &ecr.GetDownloadUrlForLayerInput{
		RepositoryName: aws.String("proxy/app"), LayerDigest: aws.String(digestOf(layer))})
	if err != nil {
		t.Fatalf("GetDownloadUrlForLayer: %v", err)
	}
	if u := aws.ToString(dl.DownloadUrl); !strings.HasPrefix(u, "https://registry.example.com/") {
		t.Errorf("downloadUrl %q, want one under https://registry.example.com/", u)
	}
	resp, err := http.Get(s.URL + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, want := resp.Header.Get("WWW-Authenticate"), `Basic realm="https://registry.example.com/",service="ecr.amazonaws.com"`; got != want {
		t.Errorf("/v2/ challenge %q, want %q", got, want)
	}
	resp, err = http.Get("http://" + s.app.PublicAddr().String() + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, want := resp.Header.Get("WWW-Authenticate"), `Bearer realm="https://public.registry.example.com/token",service="public.ecr.aws",scope="aws"`; got != want {
		t.Errorf("public /v2/ challenge %q, want %q", got, want)
	}
}
