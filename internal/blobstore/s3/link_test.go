package s3

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ecrd/ecrd/internal/registry"
)

// TestBlobURL: a presigned URL serves the blob's bytes, whole and by
// Range, with no other credentials, and stops working when it expires.
func TestBlobURL(t *testing.T) {
	s := openStore(t, nil)
	data := random(40, 3*mib+5)
	id := registry.NewUploadID()
	writePart(t, s, id, 0, 0, data)
	d := commit(t, s, id, 1, data)

	u, err := s.BlobURL(t.Context(), d, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	get := func(u string, header ...string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	if resp, b := get(u); resp.StatusCode != http.StatusOK || digest(b) != d {
		t.Errorf("GET: %d, %d bytes, want 200 with the blob's %d", resp.StatusCode, len(b), len(data))
	}
	if resp, b := get(u, "Range", "bytes=10-19"); resp.StatusCode != http.StatusPartialContent || string(b) != string(data[10:20]) {
		t.Errorf("GET bytes=10-19: %d, %q", resp.StatusCode, b)
	}
	// A client that sends its registry credentials along (same host, or
	// --location-trusted) gets what the server makes of two signatures.
	resp, _ := get(u, "Authorization", "Basic QVdTOnRva2Vu")
	t.Logf("GET with an Authorization header as well: %d", resp.StatusCode)

	short, err := s.BlobURL(t.Context(), d, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2100 * time.Millisecond)
	if resp, _ := get(short); resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET after expiry: %d, want 403", resp.StatusCode)
	}
	for _, bad := range []time.Duration{0, 8 * 24 * time.Hour} {
		if _, err := s.BlobURL(t.Context(), d, bad); err == nil {
			t.Errorf("BlobURL with lifetime %v: no error", bad)
		}
	}
	if _, err := s.BlobURL(t.Context(), "sha256:../x", time.Minute); err == nil {
		t.Error("BlobURL of an invalid digest: no error")
	}
}

// TestBlobURLPresignFails: credentials that cannot be had make no URL
// but a StorageError.
func TestBlobURLPresignFails(t *testing.T) {
	s := openStore(t, nil)
	s.presign = awss3.NewPresignClient(s.client, func(po *awss3.PresignOptions) {
		po.ClientOptions = append(po.ClientOptions, func(o *awss3.Options) {
			o.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{}, errors.New("no credentials: instance role unreachable")
			})
		})
	})
	u, err := s.BlobURL(t.Context(), registry.Digest("sha256:"+strings.Repeat("a", 64)), time.Minute)
	if _, ok := registry.AsStorageError(err); !ok || u != "" {
		t.Fatalf("BlobURL with failing credentials: %q, %v; want a StorageError", u, err)
	}
}
