package s3

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ecrd/ecrd/internal/registry"
)

// faultTransport answers the requests of one S3 operation with a fault
// (an S3 error response, or a transport error) instead of sending them.
type faultTransport struct {
	next  http.RoundTripper
	op    string
	fault func(req *http.Request) (*http.Response, error)
}

func (f *faultTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if f.fault != nil && awsmiddleware.GetOperationName(req.Context()) == f.op {
		if req.Body != nil {
			req.Body.Close()
		}
		return f.fault(req)
	}
	return f.next.RoundTrip(req)
}

// s3Error is the response S3 gives with an error code.
func s3Error(status int, code string) func(*http.Request) (*http.Response, error) {
	return func(req *http.Request) (*http.Response, error) {
		body := "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>injected " + code + "</Message><RequestId>test</RequestId></Error>"
		if req.Method == http.MethodHead {
			body = "" // S3 answers HEAD with the status alone
		}
		return &http.Response{StatusCode: status, Status: http.StatusText(status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{"Content-Type": {"application/xml"}}, Body: io.NopCloser(strings.NewReader(body)),
			ContentLength: int64(len(body)), Request: req}, nil
	}
}

// transportError fails the request as the network would.
func transportError(err error) func(*http.Request) (*http.Response, error) {
	return func(*http.Request) (*http.Response, error) { return nil, err }
}

// hang answers nothing until the request is given up on.
func hang(req *http.Request) (*http.Response, error) {
	<-req.Context().Done()
	return nil, req.Context().Err()
}

// TestErrorMapping injects each S3 failure into the request each
// BlobStore method depends on: every one is a registry.StorageError,
// never a success and never an error nobody maps; a missing key where a
// blob should be is registry.ErrNotFound; a caller that gave up gets its
// own context's error.
func TestErrorMapping(t *testing.T) {
	ft := &faultTransport{next: http.DefaultTransport.(*http.Transport).Clone()}
	// The HTTP client's own timeout is S3's failure to answer in time.
	s := openStore(t, &http.Client{Transport: ft, Timeout: 2 * time.Second})
	// One attempt per call: the SDK's retries of 5xx answers would only
	// repeat the injected fault, with back-off.
	o := s.client.Options()
	o.RetryMaxAttempts = 1
	s.client = awss3.New(o)
	ctx := t.Context()

	blob := random(70, mib)
	{
		id := registry.NewUploadID()
		writePart(t, s, id, 0, 0, blob)
		commit(t, s, id, 1, blob)
	}
	pending := registry.NewUploadID()
	writePart(t, s, pending, 0, 0, blob[:mib/2])

	type call struct {
		name string
		op   string // the S3 operation failed
		run  func(context.Context) error
	}
	calls := []call{
		{"Stat", "HeadObject", func(ctx context.Context) error { _, err := s.Stat(ctx, digest(blob)); return err }},
		{"Open", "GetObject", func(ctx context.Context) error {
			r, err := s.Open(ctx, digest(blob), 0)
			if err == nil {
				r.Close()
			}
			return err
		}},
		{"Delete", "DeleteObject", func(ctx context.Context) error { return s.Delete(ctx, digest(random(71, 10))) }},
		{"WriteUploadPart/Locate", "ListMultipartUploads", func(ctx context.Context) error {
			_, err := s.WriteUploadPart(ctx, registry.NewUploadID(), 0, 0, bytes.NewReader(blob))
			return err
		}},
		{"WriteUploadPart/Buffered", "UploadPart", func(ctx context.Context) error {
			_, err := s.WriteUploadPart(ctx, registry.NewUploadID(), 0, 0, bytes.NewReader(random(72, 6*mib)))
			return err
		}},
		{"WriteUploadPart/Declared", "UploadPart", func(ctx context.Context) error {
			_, err := s.WriteUploadPart(ctx, registry.NewUploadID(), 0, 0, declaredOf(random(72, 6*mib)))
			return err
		}},
		{"WriteUploadPart/DeclaredPendingChunk", "PutObject", func(ctx context.Context) error {
			_, err := s.WriteUploadPart(ctx, registry.NewUploadID(), 0, 0, declaredOf(blob[:10]))
			return err
		}},
		{"WriteUploadPart/FoldingPendingChunk", "GetObject", func(ctx context.Context) error {
			_, err := s.WriteUploadPart(ctx, pending, 1, mib/2, declaredOf(random(73, 5*mib)))
			return err
		}},
		{"CommitUpload", "CopyObject", func(ctx context.Context) error {
			return s.CommitUpload(ctx, pending, 1, mib/2, digest(blob[:mib/2]))
		}},
		{"DeleteUpload", "ListObjectsV2", func(ctx context.Context) error { return s.DeleteUpload(ctx, pending) }},
	}
	faults := []struct {
		name  string
		fault func(*http.Request) (*http.Response, error)
	}{
		{"SlowDown", s3Error(http.StatusServiceUnavailable, "SlowDown")},
		{"InternalError", s3Error(http.StatusInternalServerError, "InternalError")},
		{"AccessDenied", s3Error(http.StatusForbidden, "AccessDenied")},
		{"ConnectionRefused", transportError(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)})},
		{"ReadTimeout", transportError(&net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded})},
		{"NoAnswer", hang},
	}
	for _, c := range calls {
		for _, f := range faults {
			if f.name == "NoAnswer" && c.op != "HeadObject" && c.op != "UploadPart" {
				continue // two seconds each: the cases that matter
			}
			t.Run(c.name+"/"+f.name, func(t *testing.T) {
				ft.op, ft.fault = c.op, f.fault
				defer func() { ft.fault = nil }()
				err := c.run(ctx)
				se, ok := registry.AsStorageError(err)
				if !ok {
					t.Fatalf("got %v (%T), want a registry.StorageError", err, err)
				}
				if se.Kind != registry.StorageIO || se.Store != "blob store" || !strings.Contains(se.Path, s.bucket) {
					t.Errorf("StorageError %+v: want an I/O error of the blob store naming the bucket", se)
				}
				if errors.Is(err, registry.ErrNotFound) {
					t.Errorf("%v: also ErrNotFound", err)
				}
			})
		}
	}
	t.Run("Open/NoSuchKey", func(t *testing.T) {
		ft.op, ft.fault = "GetObject", s3Error(http.StatusNotFound, "NoSuchKey")
		defer func() { ft.fault = nil }()
		_, err := s.Open(ctx, digest(blob), 0)
		if !errors.Is(err, registry.ErrNotFound) {
			t.Fatalf("got %v, want ErrNotFound", err)
		}
		if _, ok := registry.AsStorageError(err); ok {
			t.Errorf("%v: a StorageError", err)
		}
	})
	t.Run("Stat/CallerGaveUp", func(t *testing.T) {
		ft.op, ft.fault = "HeadObject", hang
		defer func() { ft.fault = nil }()
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, err := s.Stat(cctx, digest(blob))
		if err == nil || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want the caller's deadline", err)
		}
		if _, ok := registry.AsStorageError(err); ok {
			t.Errorf("%v: a StorageError, though S3 did not fail", err)
		}
	})
	// With the faults gone, everything works again.
	if _, err := s.Stat(ctx, digest(blob)); err != nil {
		t.Fatal(err)
	}
}
