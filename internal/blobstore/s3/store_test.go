package s3

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ecrd/ecrd/internal/blobstore/s3/s3test"
	"github.com/ecrd/ecrd/internal/registry"
	"github.com/ecrd/ecrd/internal/registry/registrytest"
)

func TestContract(t *testing.T) {
	testOptions(t) // skips or fails once, not in every case
	registrytest.BlobStore(t, func(t *testing.T) registry.BlobStore {
		return openStore(t, nil)
	})
}

// TestNewChecksTheBucket proves that a wrong bucket is reported by New.
func TestNewChecksTheBucket(t *testing.T) {
	o := testOptions(t)
	o.Bucket = "ecrd-no-such-bucket-" + randomHex(4)
	if _, err := New(t.Context(), o); err == nil || !strings.Contains(err.Error(), o.Bucket) {
		t.Errorf("New with a missing bucket: got %v, want an error naming it", err)
	}
	o.Bucket = ""
	if _, err := New(t.Context(), o); err == nil {
		t.Errorf("New without a bucket: no error")
	}
}

// TestRefusesUnparsedNames proves that names which bypassed the registry's
// parsers never become keys.
func TestRefusesUnparsedNames(t *testing.T) {
	s := openStore(t, nil)
	ctx := t.Context()
	good := registry.Digest("sha256:" + strings.Repeat("a", 64))
	for _, d := range []registry.Digest{"sha256:../../etc/passwd", "sha256:" + registry.Digest(strings.Repeat("A", 64)), ""} {
		if _, err := s.Stat(ctx, d); err == nil {
			t.Errorf("Stat(%q): no error", d)
		}
		if err := s.Delete(ctx, d); err == nil {
			t.Errorf("Delete(%q): no error", d)
		}
	}
	for _, id := range []registry.UploadID{"../blobs", "ABCDEF01-2345-4678-9abc-def012345678", ""} {
		if _, err := s.WriteUploadPart(ctx, id, 0, 0, strings.NewReader("x")); err == nil {
			t.Errorf("WriteUploadPart(%q): no error", id)
		}
		if err := s.CommitUpload(ctx, id, 1, 1, good); err == nil {
			t.Errorf("CommitUpload(%q): no error", id)
		}
		if err := s.DeleteUpload(ctx, id); err == nil {
			t.Errorf("DeleteUpload(%q): no error", id)
		}
	}
}

// testOptions returns the options of a store on the test server under a
// prefix of its own, or ends the test when there is no server: a failure
// with CI=true, a skip otherwise.
func testOptions(t *testing.T) Options {
	t.Helper()
	srv := s3test.Find(t)
	return Options{
		Bucket:    srv.Bucket,
		Prefix:    "test-" + randomHex(8) + "/",
		Endpoint:  srv.Endpoint,
		Region:    srv.Region,
		PathStyle: true,
		AccessKey: srv.AccessKey,
		SecretKey: srv.SecretKey,
	}
}

// openStore opens a store under a fresh prefix, sending its requests
// through hc (nil: the default client), and removes the prefix's objects
// and multipart uploads when the test ends.
func openStore(t *testing.T, hc *http.Client) *Store {
	t.Helper()
	o := testOptions(t)
	o.HTTPClient = hc
	s, err := New(t.Context(), o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { removePrefix(t, s) })
	return s
}

// removePrefix removes everything under the store's prefix.
func removePrefix(t *testing.T, s *Store) {
	ctx := context.Background()
	ups, err := s.client.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: &s.bucket, Prefix: &s.prefix})
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	for _, u := range ups.Uploads {
		_, _ = s.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: u.Key, UploadId: u.UploadId})
	}
	var ids []types.ObjectIdentifier
	for _, k := range listKeys(t, s, "") {
		ids = append(ids, types.ObjectIdentifier{Key: aws.String(s.prefix + k)})
	}
	for len(ids) > 0 {
		n := min(len(ids), 1000)
		if err := s.deleteObjects(ctx, ids[:n]); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		ids = ids[n:]
	}
}

// listKeys returns the keys under the store's prefix + under, without the
// store's prefix.
func listKeys(t *testing.T, s *Store, under string) []string {
	t.Helper()
	var keys []string
	in := &awss3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: aws.String(s.prefix + under)}
	for {
		out, err := s.client.ListObjectsV2(context.Background(), in)
		if err != nil {
			t.Fatalf("list %s: %v", under, err)
		}
		for _, o := range out.Contents {
			keys = append(keys, strings.TrimPrefix(aws.ToString(o.Key), s.prefix))
		}
		if !aws.ToBool(out.IsTruncated) {
			return keys
		}
		in.ContinuationToken = out.NextContinuationToken
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// multipartKeys returns the keys of the multipart uploads under the
// store's prefix, without the prefix.
func multipartKeys(t *testing.T, s *Store) []string {
	t.Helper()
	out, err := s.client.ListMultipartUploads(context.Background(), &awss3.ListMultipartUploadsInput{Bucket: &s.bucket, Prefix: &s.prefix})
	if err != nil {
		t.Fatalf("list multipart uploads: %v", err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, strings.TrimPrefix(aws.ToString(u.Key), s.prefix))
	}
	return keys
}
