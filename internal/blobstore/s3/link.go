package s3

import (
	"context"
	"fmt"
	"time"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ecrd/ecrd/internal/registry"
)

var _ registry.BlobLinker = (*Store)(nil)

// BlobURL returns a presigned GetObject URL of blob d, valid for expiry
// (at most S3's 7 days), so that a download's bytes go from the bucket to
// the client and never through ecrd. It sends no request: presigning is
// local, and the metadata says the blob exists. The URL carries its
// signature in the query; a client that also sends an Authorization
// header to it (curl --location-trusted; Go's client to the same host or
// a subdomain of it) is refused by AWS S3, so the S3 endpoint should not
// be the registry's host or under it (README: --blob-redirect).
func (s *Store) BlobURL(ctx context.Context, d registry.Digest, expiry time.Duration) (string, error) {
	key, err := s.blobKey(d)
	if err != nil {
		return "", err
	}
	if expiry <= 0 || expiry > 7*24*time.Hour {
		return "", fmt.Errorf("blob %s: presigned URL lifetime %v is outside S3's 1s to 7 days", d, expiry)
	}
	req, err := s.presign.PresignGetObject(ctx, &awss3.GetObjectInput{Bucket: &s.bucket, Key: &key}, awss3.WithPresignExpires(expiry))
	if err != nil {
		return "", s.presignError(ctx, fmt.Errorf("presign blob %s: %w", d, err))
	}
	return req.URL, nil
}
