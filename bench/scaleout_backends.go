package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/jackc/pgx/v5"
)

// Each registry stores in a bucket of its own, under a fresh prefix per
// workload; the buckets are made if missing.
const (
	ecrdBucket = "ecrd-bench"
	distBucket = "distribution-bench"
	s3Region   = "us-east-1"
)

// backendFlags are the servers given on the command line; "" starts one.
type backendFlags struct {
	dsn                  string // a PostgreSQL server whose role may CREATE DATABASE
	endpoint             string // an S3 endpoint, path-style
	accessKey, secretKey string
}

// backends are the PostgreSQL and S3 servers of a -scaleout run.
type backends struct {
	dsn                  string
	endpoint             string
	accessKey, secretKey string
	s3                   *s3.Client
	// s3Dir is the data of the versitygw this run started ("" when given);
	// stopS3 stops it.
	s3Dir  string
	stopS3 func() error
}

// openBackends reaches the given servers, or starts them: PostgreSQL by
// scripts/start-postgres.sh (a system cluster, left running), versitygw by
// scripts/run-s3.sh under /var/tmp (stopped and removed by close).
func openBackends(ctx context.Context, scripts string, f backendFlags) (*backends, error) {
	b := &backends{dsn: f.dsn, endpoint: f.endpoint, accessKey: f.accessKey, secretKey: f.secretKey}
	if b.dsn == "" {
		out, err := exec.Command(filepath.Join(scripts, "start-postgres.sh")).Output()
		if err != nil {
			return nil, fmt.Errorf("start-postgres.sh: %w", errOutput(err))
		}
		b.dsn = string(bytes.TrimSpace(out))
	}
	if b.endpoint == "" {
		if err := b.startS3(scripts); err != nil {
			return nil, err
		}
	}
	b.s3 = s3.New(s3.Options{Region: s3Region, BaseEndpoint: aws.String(b.endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(b.accessKey, b.secretKey, ""),
		// DeleteObjects is the one call S3 wants a checksum of.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired})
	for _, bucket := range []string{ecrdBucket, distBucket} {
		if err := b.ensureBucket(ctx, bucket); err != nil {
			return nil, errors.Join(err, b.close())
		}
	}
	// Fail here, not in the first workload, when the role may not create
	// databases.
	_, drop, err := b.freshDatabase(ctx)
	if err != nil {
		return nil, errors.Join(err, b.close())
	}
	if err := drop(); err != nil {
		return nil, errors.Join(err, b.close())
	}
	return b, nil
}

// startS3 runs versitygw on a free port over a new directory in /var/tmp:
// its posix backend keeps metadata in xattrs, which a tmpfs /tmp lacks.
func (b *backends) startS3(scripts string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("/var/tmp", "ecrd-bench-s3-")
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(scripts, "run-s3.sh"), strconv.Itoa(port), dir)
	cmd.Env = append(os.Environ(), "S3_BUCKETS="+ecrdBucket+" "+distBucket,
		"S3_ACCESS_KEY="+b.accessKey, "S3_SECRET_KEY="+b.secretKey, "S3_REGION="+s3Region)
	out, err := cmd.Output()
	if err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("run-s3.sh: %w", errOutput(err))
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("run-s3.sh printed %q, not a PID", out)
	}
	b.endpoint, b.s3Dir = fmt.Sprintf("http://127.0.0.1:%d", port), dir
	b.stopS3 = func() error {
		defer os.RemoveAll(dir)
		_ = syscall.Kill(pid, syscall.SIGTERM)
		for range 100 {
			if !alive(pid) {
				return nil
			}
			time.Sleep(100 * time.Millisecond)
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
		return fmt.Errorf("versitygw (pid %d) did not stop within 10s", pid)
	}
	return nil
}

// close stops the S3 server this run started, if it did.
func (b *backends) close() error {
	if b.stopS3 == nil {
		return nil
	}
	stop := b.stopS3
	b.stopS3 = nil
	return stop()
}

// diskDir is where the S3 server's disk can be measured: its data when
// this run started it, else the work directory.
func (b *backends) diskDir(work string) string {
	if b.s3Dir != "" {
		return b.s3Dir
	}
	return work
}

func (b *backends) ensureBucket(ctx context.Context, bucket string) error {
	if _, err := b.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err == nil {
		return nil
	}
	_, err := b.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	var owned *s3types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return fmt.Errorf("S3 %s: create bucket %s: %w", b.endpoint, bucket, err)
	}
	return nil
}

// emptyPrefix deletes every object under prefix.
func (b *backends) emptyPrefix(ctx context.Context, bucket, prefix string) error {
	pages := s3.NewListObjectsV2Paginator(b.s3, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("S3 %s: list %s/%s: %w", b.endpoint, bucket, prefix, err)
		}
		if len(page.Contents) == 0 {
			continue
		}
		ids := make([]s3types.ObjectIdentifier, len(page.Contents))
		for i, o := range page.Contents {
			ids[i] = s3types.ObjectIdentifier{Key: o.Key}
		}
		out, err := b.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket),
			Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err == nil && len(out.Errors) > 0 {
			err = fmt.Errorf("%d objects not deleted, first %s: %s", len(out.Errors), aws.ToString(out.Errors[0].Key), aws.ToString(out.Errors[0].Message))
		}
		if err != nil {
			return fmt.Errorf("S3 %s: delete under %s/%s: %w", b.endpoint, bucket, prefix, err)
		}
	}
	return nil
}

// keepDir puts a directory object at dir (a key ending in "/"), so that
// versitygw's posix backend never removes that directory. Without it,
// deleting the last object under dir removes it, and a concurrent PUT
// whose key is under dir can fail with 409 ExistingObjectIsDirectory: the
// gateway's mkdir of the key's parents raced the removal (v1.8.0,
// posix.go removeParents). S3 itself has no directories; the object only
// keeps the race out of the figures.
func (b *backends) keepDir(ctx context.Context, bucket, dir string) error {
	_, err := b.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(dir), Body: bytes.NewReader(nil)})
	if err != nil {
		return fmt.Errorf("S3 %s: put %s/%s: %w", b.endpoint, bucket, dir, err)
	}
	return nil
}

// freshDatabase creates an empty database on the PostgreSQL server and
// returns its DSN and how to drop it.
func (b *backends) freshDatabase(ctx context.Context) (string, func() error, error) {
	u, err := url.Parse(b.dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", nil, fmt.Errorf("PostgreSQL DSN %q: not a postgres:// URL", redact(b.dsn))
	}
	name := "ecrd_bench_" + randomHex(8)
	// template0 and UTF8 whatever the server's defaults, as the store's
	// tests do.
	if err := b.admin(ctx, "CREATE DATABASE "+name+" TEMPLATE template0 ENCODING 'UTF8'"); err != nil {
		return "", nil, fmt.Errorf("PostgreSQL: CREATE DATABASE %s: %w", name, err)
	}
	drop := func() error {
		// FORCE ends ecrd's sessions if any outlived it, not an autovacuum
		// worker the server started meanwhile; that ends within moments.
		var err error
		for range 50 {
			if err = b.admin(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err == nil {
				return nil
			}
			time.Sleep(100 * time.Millisecond)
		}
		return fmt.Errorf("PostgreSQL: DROP DATABASE %s: %w", name, err)
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}

func (b *backends) admin(ctx context.Context, stmt string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, b.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, stmt)
	return err
}

// redact hides a DSN's password in messages.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil {
		return u.Redacted()
	}
	return "(unparsable)"
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
