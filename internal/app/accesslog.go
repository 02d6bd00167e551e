package app

import (
	"context"
	"github.com/ecrd/ecrd/internal/auth"
	"io"
	stdlog "log"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ecrd/ecrd/internal/api/ecr"
	"github.com/ecrd/ecrd/internal/api/ecrpublic"
	"github.com/ecrd/ecrd/internal/metrics"
	"github.com/ecrd/ecrd/internal/reqinfo"
)

// observe wraps a listener's routes: every request gets a reqinfo.Info
// that the front ends fill in, and once it is answered, one access log
// line and its metrics (m may be nil). classify names the API a request
// is for before it runs, and whether it is a probe (health checks and
// scrapes), logged only at debug level.
func observe(log *slog.Logger, m *metrics.Metrics, classify func(*http.Request) (api string, probe bool), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		api, probe := classify(r)
		ctx, info := reqinfo.New(r.Context(), api)
		body := &countingBody{ReadCloser: r.Body}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = body
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		if m != nil && isUpload(r) {
			defer m.UploadStarted(api)()
		}
		next.ServeHTTP(rec, r.WithContext(ctx))
		took := time.Since(start)
		if m != nil {
			m.Request(info, rec.status, body.n, rec.bytes, took)
		}
		level := slog.LevelInfo
		if probe {
			level = slog.LevelDebug
		}
		if !log.Enabled(ctx, level) {
			return
		}
		attrs := []slog.Attr{
			slog.String("api", info.API), slog.String("operation", info.Operation),
			slog.String("repository", info.Repository), slog.String("account", info.Account),
			slog.String("request_id", info.RequestID),
			slog.String("method", r.Method), slog.String("path", reqinfo.Clip(r.URL.Path)),
			slog.Int("status", rec.status), slog.Float64("duration_ms", float64(took.Microseconds())/1000),
			slog.Int64("bytes_in", body.n), slog.Int64("bytes_out", rec.bytes),
			slog.String("remote", r.RemoteAddr),
		}
		if client, ok := auth.ForwardedClient(r); ok {
			attrs = append(attrs, slog.String("client", client))
		}
		if info.ErrorType != "" {
			attrs = append(attrs, slog.String("error", info.ErrorType))
		}
		if info.AuthRefusal != "" {
			attrs = append(attrs, slog.String("refused", info.AuthRefusal))
		}
		log.LogAttrs(context.WithoutCancel(ctx), level, "request", attrs...)
	})
}

// mainAPI classifies a request of the main listener: the ECR API and ECR
// Public's share POST /, told apart by X-Amz-Target.
func mainAPI(r *http.Request) (string, bool) {
	switch p := r.URL.Path; {
	case p == "/v2" || strings.HasPrefix(p, "/v2/"):
		return "v2", false
	case strings.HasPrefix(p, ecr.DownloadPath):
		return "download", false
	case p == "/healthz" || p == "/readyz" || p == "/metrics":
		return "other", true
	case strings.HasPrefix(r.Header.Get("X-Amz-Target"), ecrpublic.TargetPrefix):
		return "ecr-public", false
	}
	return "ecr", false
}

// publicAPI classifies a request of the public listener: /v2/, its token
// endpoint and the catalog logos are all ECR Public's pull side.
func publicAPI(r *http.Request) (string, bool) {
	if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
		return "other", true
	}
	return "v2-public", false
}

// isUpload reports whether a request sends layer bytes: the uploads that
// ecrd_uploads_in_flight counts.
func isUpload(r *http.Request) bool {
	if r.Method == http.MethodPost && r.URL.Path == "/" {
		return strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".UploadLayerPart")
	}
	return (r.Method == http.MethodPatch || r.Method == http.MethodPut) && strings.Contains(r.URL.Path, "/blobs/uploads/")
}

// named sets the operation of a request a plain handler serves (health,
// metrics, downloads, logos, tokens), which no front end names.
func named(op string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if info := reqinfo.From(r.Context()); info != nil && info.Operation == "" {
			info.Operation = op
		}
		h.ServeHTTP(w, r)
	})
}

// serverErrorLog is the log net/http writes its own errors to: warnings,
// but for failed TLS handshakes, which port scans, load balancers' TCP
// checks and clients that do not trust the certificate cause all day long;
// they are logged at debug level, like the probes.
func serverErrorLog(log *slog.Logger) *stdlog.Logger {
	return stdlog.New(serverErrors{log}, "", 0)
}

type serverErrors struct{ log *slog.Logger }

func (s serverErrors) Write(p []byte) (int, error) {
	msg := strings.TrimSuffix(string(p), "\n")
	level := slog.LevelWarn
	if strings.HasPrefix(msg, "http: TLS handshake error") {
		level = slog.LevelDebug
	}
	s.log.Log(context.Background(), level, msg)
	return len(p), nil
}

// maxLoggedTarget bounds how much of X-Amz-Target a refusal's log line
// holds: the header is the client's, and may be as large as the server's
// header limit.
const maxLoggedTarget = 128

// countingBody counts the bytes of a request body its handler read.
type countingBody struct {
	io.ReadCloser
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

// statusRecorder remembers what a handler wrote, for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	n, err := s.ResponseWriter.Write(p)
	s.bytes += int64(n)
	return n, err
}

// ReadFrom passes io.Copy through to the underlying writer, which for a
// file sends it with sendfile (layer downloads).
func (s *statusRecorder) ReadFrom(r io.Reader) (int64, error) {
	n, err := io.Copy(s.ResponseWriter, r)
	s.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
