// Package s3 implements registry.BlobStore on S3-compatible object storage,
// for replicas that share no disk. It keeps no state outside the bucket:
// any replica can continue or commit an upload another one started.
//
// Keys, under Options.Prefix:
//
//	blobs/<alg>/<hex>                committed blobs, written whole or not at all
//	uploads/<id>/data                an upload's S3 multipart upload; once completed
//	                                 at commit, the assembled object, until copied
//	uploads/<id>/pending/<offset>    a chunk too small to be an S3 part (20-digit offset)
//
// # Parts
//
// S3 requires every part of a multipart upload but the last to hold at
// least 5 MiB, and needs each part's length before it is sent; ecrd's parts
// arrive as streams of unknown length, and /v2/ chunks may be of any size.
// A part is therefore read into a buffer of up to 20 MiB (ECR's largest
// part) and sent as S3 parts that are never smaller than 5 MiB: when the
// buffer fills before the stream ends, its first 15 MiB go as one S3 part
// and the rest stays, so that the stream's last S3 part holds more than
// 5 MiB too. An ECR part (5 to 20 MiB) thus becomes exactly one S3 part,
// ECR part n being S3 part n+1, and a streamed /v2/ PATCH of any length
// becomes 15 MiB parts and a last one of 5 to 20 MiB.
//
// A part that ends with fewer than 5 MiB in the buffer, counting the
// pending chunks before it, cannot be an S3 part (unless it is the last,
// which is not known yet): it is stored as its own object under pending/,
// named by its offset. Once a later part brings the pending bytes to 5 MiB,
// the pending chunks are read back into the buffer ahead of the new bytes
// and folded into the next S3 part. Folded chunks are not deleted before
// the upload ends: a rewrite of the part that folded them needs them again.
// At commit, the pending tail (under 5 MiB) becomes the last S3 part, by
// UploadPartCopy when it is one chunk, else read and uploaded; a blob that
// is all pending chunks is copied or written whole under its digest.
// Small chunks cost their bytes three trips through ecrd (written, read
// back, written as a part); clients that push a blob in one PATCH, as
// docker, containerd and crane do, and ECR clients never pay it.
//
// # Finding an upload's state
//
// Nothing is kept in process memory or in a manifest. Each call lists
// what the bucket holds: ListMultipartUploads with the upload's key as the
// prefix gives the multipart upload ID, ListParts its parts and their
// sizes, ListObjectsV2 the pending chunks past the last part. Parts are
// numbered in order, so the bytes before an offset X are the parts from 1
// on while their sizes add up to at most X, then the pending chunks from
// there to X. Parts after those, or chunks at or past X, are what failed or
// superseded writes left: the next S3 part number takes the place of the
// first of them, the next chunk's key that of one at the same offset, and
// CompleteMultipartUpload lists only the parts that count (S3 drops the
// rest). This holds because ecrd writes an upload's parts in order, each
// starting where the recorded ones end, and every S3 part holds at least
// 5 MiB while the pending tail holds less. The cost is one to three LIST
// requests per part written (one more per 1,000 parts of the upload).
//
// # Commit
//
// CompleteMultipartUpload assembles the upload at its own key, then
// CopyObject copies it to the digest's key and the upload's objects are
// deleted: S3 writes an object whole or not at all, so no partial blob is
// ever seen under a digest. A blob over 5 GiB, or a copy of fewer bytes
// than the assembled object holds, is copied by a multipart upload of
// UploadPartCopy ranges instead. When the digest's key exists already, the
// upload is discarded. A commit that failed after completing the multipart
// upload is retried from the assembled object.
//
// # Requests
//
// TestRequestsPerOperation holds the store to these counts (LIST is
// ListMultipartUploads, ListParts or ListObjectsV2):
//
//	WriteUploadPart, first ECR part       3: LIST, CreateMultipartUpload, UploadPart
//	WriteUploadPart, later ECR part       3: 2 LIST, UploadPart
//	WriteUploadPart, small chunk          2-3: 1-2 LIST (+1 past a pending chunk), PutObject
//	  ... that folds k pending chunks     +k GetObject, UploadPart instead of PutObject
//	                                      (+CreateMultipartUpload on the first fold)
//	WriteUploadPart, streamed n MiB > 5   2 + ceil((n-5)/15): LIST, CreateMultipartUpload,
//	                                      UploadParts
//	CommitUpload, multipart               8: HeadObject, 2 LIST, CompleteMultipartUpload,
//	                                      CopyObject, cleanup (2 LIST, DeleteObjects);
//	                                      10 with a pending tail (+LIST, +UploadPartCopy)
//	CommitUpload, one small chunk         7: HeadObject, 2 LIST, CopyObject, cleanup
//	CommitUpload, k small chunks          7 + k: as one, k GetObject and a PutObject for CopyObject
//	CommitUpload, digest exists           4: HeadObject, cleanup (2 LIST, an Abort per
//	                                      multipart upload, DeleteObjects if objects)
//	Stat / Open / Delete                  1: HeadObject / GetObject / DeleteObject
//	                                      (Open at the blob's end: +HeadObject)
//	DeleteUpload                          2 LIST, an Abort per multipart upload,
//	                                      a DeleteObjects per 1,000 objects
//
// ListParts returns 1,000 parts a page, so a write or commit of an upload
// with p parts costs ceil(p/1000) ListParts. A blob over 5 GiB is copied at
// commit by CreateMultipartUpload, an UploadPartCopy per 5 GiB and
// CompleteMultipartUpload. The bytes cross ecrd once, but for small chunks
// (three times, see above); the commit's copy is S3's own. An upload can
// have 10,000 parts of 15 MiB, about 146 GiB, well over ECR's largest
// layer; S3 refuses parts past that.
//
// # Limits
//
// Finding an upload by listing relies on the server's LIST requests seeing
// every completed write (S3's strong consistency, as AWS has had since
// 2020 and versitygw and MinIO have); on a server without it, a replica
// could miss the part another has just written.
//
// The core's lease keeps two requests from writing one upload, and the
// bucket tells any replica where the upload stands; but a writer whose
// lease lapsed while it was sending its last buffer can still land that
// S3 part after the new holder's (the filesystem store has the same
// window for its last write). The checksums the SDK adds by default are
// off (see New); S3 errors are returned as they are, never as a
// registry.StorageError.
//
// What a crash between the copy and the deletes leaves under uploads/ is
// removed by the next DeleteUpload or commit of the upload; a bucket
// lifecycle rule that aborts incomplete multipart uploads and expires
// uploads/ after a few days (longer than registry.Limits.UploadExpiry) is
// a cheap backstop.
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
	client *awss3.Client
	bucket string
	prefix string
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
	// The SDK's own client, which honours AWS_CA_BUNDLE, unless one is given.
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
	s := &Store{client: client, bucket: o.Bucket, prefix: o.Prefix}
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
