package awsjson_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/ecrd/ecrd/internal/api/awsjson"
)

// BenchmarkServeBatchCheckLayerAvailability measures the whole JSON codec
// path of one request, as Service.ServeHTTP runs it: read the body,
// validate it against the committed ECR model, decode it, call the stub
// operation (which answers all 100 digests AVAILABLE) and encode its
// output. The stub does no work of its own, so this is the protocol's cost
// per push-time availability check.
func BenchmarkServeBatchCheckLayerAvailability(b *testing.B) {
	s := newBenchService(b)
	var body bytes.Buffer
	body.WriteString(`{"repositoryName":"bench/app","layerDigests":[`)
	for i := range 100 {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `"sha256:%x"`, sha256.Sum256(fmt.Appendf(nil, "layer-%d", i)))
	}
	body.WriteString(`]}`)

	var want bclaOutput
	size := benchResponse(b, s, "BatchCheckLayerAvailability", body.Bytes(), &want)
	if len(want.Layers) != 100 || want.Layers[99].LayerAvailability != "AVAILABLE" {
		b.Fatalf("the stub answered %d layers, want 100 AVAILABLE", len(want.Layers))
	}
	benchServe(b, s, "BatchCheckLayerAvailability", body.Bytes(), size)
}

// BenchmarkServeUploadLayerPart measures a 1 MiB part (1.33 MiB of
// base64) through ServeHTTP, which takes the blob fast path: the part is
// cut out of the body and decoded once, instead of being scanned by
// encoding/json twice.
func BenchmarkServeUploadLayerPart(b *testing.B) {
	s := newBenchService(b)
	blob := make([]byte, 1<<20)
	for i := range blob {
		blob[i] = byte(i * 7)
	}
	body := []byte(`{"repositoryName":"bench/app","uploadId":"01234567-89ab-cdef-0123-456789abcdef",` +
		`"partFirstByte":0,"partLastByte":1048575,"layerPartBlob":"` + base64.StdEncoding.EncodeToString(blob) + `"}`)

	var want uploadLayerPartOutput
	size := benchResponse(b, s, "UploadLayerPart", body, &want)
	if want.LastByteReceived != 1<<20-1 {
		b.Fatalf("the stub received %d bytes, want %d", want.LastByteReceived+1, 1<<20)
	}
	benchServe(b, s, "UploadLayerPart", body, size)
}

// newBenchService is the service of the tests (newService), built for a
// benchmark: the same model and stub operations, logging to stderr so
// that an unexpected server error is seen.
func newBenchService(b *testing.B) *awsjson.Service {
	b.Helper()
	data, err := os.ReadFile(ecrModelFile)
	if err != nil {
		b.Fatal(err)
	}
	m, err := awsjson.LoadModel(data)
	if err != nil {
		b.Fatal(err)
	}
	s := &awsjson.Service{
		Model: m,
		Ops: map[string]awsjson.Handler{
			"BatchCheckLayerAvailability": awsjson.Op(batchCheckLayerAvailability),
			"UploadLayerPart":             awsjson.Op(uploadLayerPart),
		},
		MapError: mapError,
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, nil)),
	}
	if err := s.Check(); err != nil {
		b.Fatal(err)
	}
	return s
}

// benchResponse sends body once through an httptest.ResponseRecorder,
// requires a 200, decodes the response into out and returns its length,
// which every timed request must then match.
func benchResponse(b *testing.B, s *awsjson.Service, op string, body []byte, out any) int {
	b.Helper()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, benchRequest(op, body))
	if rec.Code != http.StatusOK {
		b.Fatalf("%s: status %d: %.300s", op, rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
		b.Fatalf("%s: response %.300q: %v", op, rec.Body, err)
	}
	return rec.Body.Len()
}

// benchServe times ServeHTTP on body, into a writer that only counts, and
// fails on any answer other than a 200 of respSize bytes. Each request is
// a shallow copy of one httptest request with a fresh body: parsing a
// request is net/http's cost, not the service's, and the service only
// reads the headers.
func benchServe(b *testing.B, s *awsjson.Service, op string, body []byte, respSize int) {
	b.Helper()
	w := &countingWriter{header: make(http.Header)}
	tmpl := benchRequest(op, body)
	var rd bytes.Reader
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		w.status, w.n = 0, 0
		rd.Reset(body)
		r := *tmpl
		r.Body = io.NopCloser(&rd)
		s.ServeHTTP(w, &r)
		if w.status != http.StatusOK || w.n != respSize {
			b.Fatalf("%s: status %d with %d bytes, want 200 with %d", op, w.status, w.n, respSize)
		}
	}
}

func benchRequest(op string, body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	r.Header.Set("Content-Type", awsjson.ContentType)
	r.Header.Set("X-Amz-Target", prefix+op)
	return r
}

// countingWriter is an http.ResponseWriter that discards the body and
// keeps only the status and the byte count, so that the benchmarks
// measure the service and not a recorder's buffer.
type countingWriter struct {
	header http.Header
	status int
	n      int
}

func (w *countingWriter) Header() http.Header { return w.header }

func (w *countingWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.n += len(p)
	return len(p), nil
}
