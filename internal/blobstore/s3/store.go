package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/ecrd/ecrd/internal/registry"
)

const (
	mib = 1 << 20
	// minPart is S3's least size of a part but the last.
	minPart = 5 * mib
	// flushPart is the size of the S3 parts a long stream is cut into.
	// With minPart it makes the buffer ECR's largest part, 20 MiB, so an
	// ECR part is one S3 part; 10,000 parts of it hold 150 GB, more than
	// ECR's largest layer (52,000 MiB).
	flushPart = 15 * mib
	// bufSize holds a flush part and what must stay behind it, plus one
	// byte that tells a stream of exactly 20 MiB from a longer one.
	bufSize = flushPart + minPart + 1
	// maxCopy is the most bytes CopyObject and one UploadPartCopy copy.
	maxCopy = 5 << 30
	// maxPart is S3's largest part; a declared body that would make a
	// larger one is buffered, and cut into flushPart parts, instead.
	maxPart = 5 << 30
)

// Options configure a Store.
type Options struct {
	// Bucket holds everything; it must exist.
	Bucket string
	// Prefix is put before every key, e.g. "ecrd/"; empty: the bucket's root.
	Prefix string
	// Endpoint is the S3 API's URL, e.g. "http://127.0.0.1:9000"; empty:
	// AWS's endpoint for Region.
	Endpoint string
	// Region signs requests; empty: the SDK's default (AWS_REGION, the
	// shared config), else us-east-1.
	Region string
	// PathStyle addresses the bucket in the path instead of the host name,
	// as most S3-compatible servers need.
	PathStyle bool
	// AccessKey and SecretKey are static credentials; empty: the SDK's
	// default chain (environment, shared files, instance role).
	AccessKey, SecretKey string
	// HTTPClient sends the requests; nil: the SDK's default client.
	HTTPClient *http.Client
}

// Store is a registry.BlobStore on an S3 bucket. Several Stores, in any
// processes, may share a bucket and prefix; the caller's leases keep two
// writers off the same upload.
type Store struct {
	client  *awss3.Client
	presign *awss3.PresignClient
	bucket  string
	prefix  string
	// bufs holds *[]byte of bufSize, reused across part writes.
	bufs sync.Pool
}

var (
	_ registry.BlobStore = (*Store)(nil)
	_ registry.Pinger    = (*Store)(nil)
)

// New returns a Store on o.Bucket and checks that the bucket answers
// (HeadBucket), so that a wrong endpoint, bucket or key is reported at
// start-up rather than on the first push.
func New(ctx context.Context, o Options) (*Store, error) {
	if o.Bucket == "" {
		return nil, errors.New("s3 blob store: the bucket is empty")
	}
	if (o.AccessKey == "") != (o.SecretKey == "") {
		return nil, errors.New("s3 blob store: set both the access key and the secret key, or neither")
	}
	var opts []func(*config.LoadOptions) error
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.AccessKey != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(o.AccessKey, o.SecretKey, "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3 blob store: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	// The SDK's own client, which honours AWS_CA_BUNDLE, unless one is
	// given, tuned for a server's traffic: as many idle connections as
	// requests run at once (the SDK keeps 10, so 32 concurrent pulls
	// reconnected all the time), and socket buffers of 256 KiB, where 4 KiB
	// cut every part streamed to S3 into 4 KiB reads.
	if bc, ok := cfg.HTTPClient.(*awshttp.BuildableClient); ok {
		cfg.HTTPClient = bc.WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConns, t.MaxIdleConnsPerHost = 1024, 1024
			t.ReadBufferSize, t.WriteBufferSize = 256<<10, 256<<10
		})
	}
	if o.HTTPClient != nil {
		cfg.HTTPClient = o.HTTPClient
	}
	cfg.HTTPClient = readOnlyBodies{cfg.HTTPClient}
	client := awss3.NewFromConfig(cfg, func(so *awss3.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
		}
		so.UsePathStyle = o.PathStyle
		// Checksums only where S3 requires them (DeleteObjects): many
		// S3-compatible servers reject the trailing checksums the SDK
		// adds by default. Requests are still signed with their
		// payload's SHA-256 over HTTP, and the registry verifies digests.
		so.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		so.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	s := &Store{client: client, presign: awss3.NewPresignClient(client), bucket: o.Bucket, prefix: o.Prefix}
	s.bufs.New = func() any { b := make([]byte, bufSize); return &b }
	if err := s.Ping(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Ping reports whether the bucket answers (HeadBucket).
func (s *Store) Ping(ctx context.Context) error {
	if _, err := s.client.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: &s.bucket}); err != nil {
		return fmt.Errorf("s3 blob store: bucket %s: %w", s.bucket, err)
	}
	return nil
}

// blobKey returns blob d's key. The digest is parsed again although its
// type says it was validated: a Digest can be converted from any string,
// and this is the one place where it becomes a key.
func (s *Store) blobKey(d registry.Digest) (string, error) {
	parsed, err := registry.ParseDigest(string(d))
	if err != nil || parsed != d {
		return "", fmt.Errorf("s3 blob store: refusing invalid digest %q", string(d))
	}
	return s.prefix + "blobs/" + d.Algorithm() + "/" + d.Hex(), nil
}

// uploadKey returns the key of upload id's multipart upload (and, once
// assembled, its object), re-validated as in blobKey; an ID not already
// lower case is refused, so that two spellings never name one upload.
func (s *Store) uploadKey(id registry.UploadID) (string, error) {
	parsed, err := registry.ParseUploadID(string(id))
	if err != nil || parsed != id {
		return "", fmt.Errorf("s3 blob store: refusing invalid upload ID %q", string(id))
	}
	return s.prefix + "uploads/" + string(id) + "/" + dataName, nil
}

// dataName is the last element of an upload's key. The upload's objects
// all lie under uploads/<id>/, and no key is both an object and the prefix
// of others: file-backed servers (versitygw's posix backend, MinIO on a
// file system) cannot store a file where a directory is.
const dataName = "data"

// uploadDir returns the prefix of every object of the upload at key.
func uploadDir(key string) string { return strings.TrimSuffix(key, dataName) }

// pendingKey names the pending chunk at offset of the upload at key; the
// offset is zero-padded so that keys sort as offsets do.
func pendingKey(key string, offset int64) string {
	return fmt.Sprintf("%spending/%020d", uploadDir(key), offset)
}

// notFound reports whether err says that a key or multipart upload does
// not exist. A missing bucket is not "not found": it is the store's
// failure, not the blob's absence.
func notFound(err error) bool {
	var (
		nsk *types.NoSuchKey
		nf  *types.NotFound
		nsu *types.NoSuchUpload
	)
	if errors.As(err, &nsk) || errors.As(err, &nf) || errors.As(err, &nsu) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && strings.EqualFold(ae.ErrorCode(), "NoSuchBucket") {
		return false
	}
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound
}

// invalidRange reports whether err is S3's answer to a range past the end.
func invalidRange(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "InvalidRange" {
		return true
	}
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusRequestedRangeNotSatisfiable
}

// readOnlyBodies hides every interface of a request body but Read and
// Close, for the reason internal/sdkhttp gives: the SDK closes a body
// while net/http may still check it through WriteTo, which then fails the
// request ("use of closed network connection") about once in a hundred
// calls against a fast server.
type readOnlyBodies struct{ next aws.HTTPClient }

func (r readOnlyBodies) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		req = req.Clone(req.Context())
		req.Body = struct{ io.ReadCloser }{req.Body}
	}
	return r.next.Do(req)
}
