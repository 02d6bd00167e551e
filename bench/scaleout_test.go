package main

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"

	"github.com/ecrd/ecrd/internal/blobstore/s3/s3test"
	"github.com/ecrd/ecrd/internal/metastore/postgres/pgtest"
)

// testBackends are the test machine's PostgreSQL and S3 servers (as
// e2e's scaleOut finds them); without them the test is skipped, unless
// CI=true: there it fails.
func testBackends(t *testing.T) *backends {
	t.Helper()
	dsn := pgtest.ServerDSN(t)
	srv := s3test.Find(t)
	b, err := openBackends(context.Background(), "", backendFlags{dsn: dsn, endpoint: srv.Endpoint, accessKey: srv.AccessKey, secretKey: srv.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func benchCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestScaleOutTargets: a row below its target says MISSED, one at or
// above says met, and the embedded table keeps its columns.
func TestScaleOutTargets(t *testing.T) {
	ecrd := []measures{{"push-1": 100, "head-1": 200, "bcla-1": 900}}
	dist := []measures{{"push-1": 100, "head-1": 100, "bcla-1": 0, "head-32": 1}}
	r := newReport(true, 1)
	r.fill(scaleOutRows(), ecrd, dist)
	met := map[string]string{}
	for _, rw := range r.Rows {
		if rw.Met != nil {
			met[rw.ecrdKey+"/"+rw.distKey] = targetCell(rw)
		}
	}
	for key, want := range map[string]string{"push-1/push-1": "≥ 1×: met", "head-1/head-1": "≥ 3×: MISSED", "bcla-1/head-1": "≥ 10×: MISSED"} {
		if met[key] != want {
			t.Errorf("%s: %q, want %q", key, met[key], want)
		}
	}
	var md bytes.Buffer
	r.markdown(&md)
	if !strings.Contains(md.String(), "| target |") || strings.Contains(md.String(), "peak RSS") {
		t.Errorf("scale-out table without a target column or with peak RSS:\n%s", md.String())
	}
	old := newReport(true, 1)
	old.Rows = []row{{Workload: "push", Unit: "MB/s", ecrdKey: "push-1", distKey: "push-1", Ecrd: summarize([]float64{1})}}
	md.Reset()
	old.markdown(&md)
	if strings.Contains(md.String(), "target") || strings.Contains(md.String(), "of limit") || !strings.Contains(md.String(), "docker-registry 2.8") {
		t.Errorf("a results.json without targets or limits changed shape:\n%s", md.String())
	}
}

func TestPeerVersion(t *testing.T) {
	for in, want := range map[string]string{
		"registry github.com/distribution/distribution/v3 v3.1.2+unknown\n": "v3.1.2",
		"registry github.com/distribution/distribution/v3 v3.0.0":           "v3.0.0",
		"": "v3",
	} {
		if got := peerVersion(in); got != want {
			t.Errorf("peerVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFreshDatabase: a database of its own, gone once dropped; a DSN
// that is not PostgreSQL's or whose role cannot log in is an error.
func TestFreshDatabase(t *testing.T) {
	b := testBackends(t)
	ctx := benchCtx(t)
	dsn, drop, err := b.freshDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to the fresh database: %v", err)
	}
	// An open session does not keep it: ecrd may not have closed all.
	defer conn.Close(ctx)
	if err := drop(); err != nil {
		t.Fatal(err)
	}
	if c, err := pgx.Connect(ctx, dsn); err == nil {
		c.Close(ctx)
		t.Fatal("the database is still there after drop")
	}

	t.Run("NotPostgres", func(t *testing.T) {
		bad := &backends{dsn: "mysql://u:secret@127.0.0.1/db"}
		_, _, err := bad.freshDatabase(ctx)
		if err == nil || strings.Contains(err.Error(), "secret") {
			t.Fatalf("err = %v, want an error without the password", err)
		}
	})
	t.Run("LoginRefused", func(t *testing.T) {
		u, err := url.Parse(b.dsn)
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.UserPassword("nobody_ecrd_bench", "wrong")
		_, _, err = (&backends{dsn: u.String()}).freshDatabase(ctx)
		if err == nil || !strings.Contains(err.Error(), "CREATE DATABASE") {
			t.Fatalf("err = %v, want CREATE DATABASE's failure", err)
		}
	})
}

// TestEmptyPrefix deletes every object under its prefix, more than one
// listing page of them, and nothing else; an unreachable S3 is an error.
func TestEmptyPrefix(t *testing.T) {
	b := testBackends(t)
	ctx := benchCtx(t)
	prefix, other := "test-"+randomHex(6)+"/", "test-"+randomHex(6)+"/"
	put := func(key string) error {
		_, err := b.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(ecrdBucket), Key: aws.String(key),
			Body: strings.NewReader("x")})
		return err
	}
	err := parallel(8, func(g int) error {
		for i := g; i < 1010; i += 8 {
			if err := put(fmt.Sprintf("%sa/%04d", prefix, i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = put(other + "keep")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.emptyPrefix(context.Background(), ecrdBucket, other) })
	if err := b.emptyPrefix(ctx, ecrdBucket, prefix); err != nil {
		t.Fatal(err)
	}
	count := func(p string) int32 {
		out, err := b.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(ecrdBucket), Prefix: aws.String(p)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToInt32(out.KeyCount)
	}
	if n := count(prefix); n != 0 {
		t.Errorf("%d objects left under %s", n, prefix)
	}
	if n := count(other); n != 1 {
		t.Errorf("%d objects under %s, want the 1 it had", n, other)
	}

	t.Run("Unreachable", func(t *testing.T) {
		down := &backends{endpoint: "http://127.0.0.1:1", s3: s3.New(s3.Options{Region: s3Region,
			BaseEndpoint: aws.String("http://127.0.0.1:1"), UsePathStyle: true, RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider("test", "testsecret", "")})}
		if err := down.emptyPrefix(ctx, ecrdBucket, prefix); err == nil || !strings.Contains(err.Error(), "list") {
			t.Fatalf("err = %v, want the listing's failure", err)
		}
		if err := down.ensureBucket(ctx, ecrdBucket); err == nil || !strings.Contains(err.Error(), "create bucket") {
			t.Fatalf("ensureBucket: err = %v, want the creation's failure", err)
		}
	})
}

// TestStarterCleansUpAfterFailure: when ecrd does not start, its fresh
// database is dropped all the same.
func TestStarterCleansUpAfterFailure(t *testing.T) {
	b := testBackends(t)
	ctx := benchCtx(t)
	before := benchDatabases(t, ctx, b)
	start := b.starter(ctx, "/nonexistent/ecrd", "")
	if _, err := start("ecrd", t.TempDir()+"/data"); err == nil {
		t.Fatal("a missing ecrd binary started")
	}
	if after := benchDatabases(t, ctx, b); after > before {
		t.Errorf("%d bench databases after a failed start, %d before", after, before)
	}
}

func benchDatabases(t *testing.T, ctx context.Context, b *backends) int {
	conn, err := pgx.Connect(ctx, b.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname LIKE 'ecrd_bench_%'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
