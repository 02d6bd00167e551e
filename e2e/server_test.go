// Package e2e drives a real ecrd server over real HTTP with real clients.
package e2e

import (
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/smithy-go"

	"github.com/ecrd/ecrd/internal/app"
	"github.com/ecrd/ecrd/internal/config"
	"github.com/ecrd/ecrd/internal/sdkhttp"
)

// testAccount is the account the test servers answer as.
const testAccount = "123456789012"

// server is an ecrd started in-process on a free port with its own data dir.
type server struct {
	URL     string
	DataDir string
	app     *app.App // nil for a server in another process
	stop    func()
}

// startServer runs ecrd on 127.0.0.1:0 with a fresh data dir (or dataDir
// when given) until the test ends; opts adjust the configuration.
func startServer(t *testing.T, dataDir string, opts ...func(*config.Config)) *server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	return startServerLogging(t, dataDir, log, opts...)
}

// startServerLogging is startServer logging to log.
func startServerLogging(t *testing.T, dataDir string, log *slog.Logger, opts ...func(*config.Config)) *server {
	t.Helper()
	return startServerApp(t, dataDir, log, nil, opts...)
}

// startServerApp is startServerLogging assembled with appOpts.
func startServerApp(t *testing.T, dataDir string, log *slog.Logger, appOpts []app.Option, opts ...func(*config.Config)) *server {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	cfg := config.Default()
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Store.DataDir = dataDir
	cfg.Identity.AccountID = testAccount
	for _, o := range opts {
		o(&cfg)
	}
	a, err := app.New(cfg, log, appOpts...)
	if err != nil {
		t.Fatalf("starting ecrd: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	s := &server{URL: "http://" + a.Addr().String(), DataDir: dataDir, app: a}
	stopped := false
	s.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ecrd stopped with an error: %v", err)
		}
	}
	t.Cleanup(s.stop)
	return s
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// client returns an AWS SDK for Go v2 ECR client for the server, with the
// default test/test key and no retries, so every answer is the server's first.
func (s *server) client() *ecr.Client { return s.clientAs("test", "test", "us-east-1") }

// clientAs is client with another key and region.
func (s *server) clientAs(accessKey, secret, region string) *ecr.Client {
	return ecr.New(ecr.Options{
		Region:           region,
		BaseEndpoint:     aws.String(s.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(accessKey, secret, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       sdkhttp.Client(0),
	})
}

// wantAPIError asserts err is the exception T with a message containing want.
func wantAPIError[T smithy.APIError](t *testing.T, err error, want string) T {
	t.Helper()
	var e T
	if !errors.As(err, &e) {
		t.Fatalf("got error %v (%T), want %T", err, err, e)
	}
	if want != "" && !strings.Contains(e.ErrorMessage(), want) {
		t.Fatalf("%s message %q does not contain %q", e.ErrorCode(), e.ErrorMessage(), want)
	}
	return e
}

// layerBytes returns n deterministic pseudo-random bytes.
func layerBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

func digestOf(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }

// ctx returns a context that ends with the test or after a minute.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// layerMiB sizes BenchmarkUploadLayer's layer.
var layerMiB = flag.Int("bench.layer", 512, "layer size in MiB for BenchmarkUploadLayer")

// startServerB is startServer for benchmarks.
func startServerB(b *testing.B) *server {
	b.Helper()
	cfg := config.Default()
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Store.DataDir = b.TempDir()
	cfg.Identity.AccountID = testAccount
	a, err := app.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	return &server{URL: "http://" + a.Addr().String(), DataDir: cfg.Store.DataDir}
}

// pushLayerB uploads small data in one part, for benchmark set-up.
func pushLayerB(b *testing.B, c *ecr.Client, repo string, data []byte) {
	b.Helper()
	up, err := c.InitiateLayerUpload(b.Context(), &ecr.InitiateLayerUploadInput{RepositoryName: aws.String(repo)})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.UploadLayerPart(b.Context(), &ecr.UploadLayerPartInput{RepositoryName: aws.String(repo), UploadId: up.UploadId,
		PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(int64(len(data)) - 1), LayerPartBlob: data}); err != nil {
		b.Fatal(err)
	}
	if _, err := c.CompleteLayerUpload(b.Context(), &ecr.CompleteLayerUploadInput{RepositoryName: aws.String(repo), UploadId: up.UploadId, LayerDigests: []string{digestOf(data)}}); err != nil {
		b.Fatal(err)
	}
}

// createRepos creates repositories with default settings.
func createRepos(t *testing.T, c *ecr.Client, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := c.CreateRepository(ctx(t), &ecr.CreateRepositoryInput{RepositoryName: aws.String(n)}); err != nil {
			t.Fatalf("CreateRepository %s: %v", n, err)
		}
	}
}
