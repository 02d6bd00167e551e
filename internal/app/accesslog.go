package app

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// accessLog writes one line per request: the operation (the X-Amz-Target
// operation for API calls), method, path, status, bytes and duration.
func accessLog(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		op := r.Header.Get("X-Amz-Target")
		if i := strings.LastIndexByte(op, '.'); i >= 0 {
			op = op[i+1:]
		}
		op = clipTarget(op)
		attrs := []any{
			"operation", op, "method", r.Method, "path", r.URL.Path,
			"status", rec.status, "bytes", rec.bytes,
			"duration_ms", float64(time.Since(start).Microseconds()) / 1000,
		}
		if id := rec.Header().Get("X-Amzn-Requestid"); id != "" {
			attrs = append(attrs, "request_id", id)
		}
		if typ := rec.Header().Get("X-Amzn-Errortype"); typ != "" {
			attrs = append(attrs, "error", typ)
		}
		log.Info("request", attrs...)
	})
}

// maxLoggedTarget bounds how much of X-Amz-Target a log line holds: the
// header is the client's, and may be as large as the server's header limit.
const maxLoggedTarget = 128

// clipTarget shortens an X-Amz-Target (or the operation cut from it) for
// the log, marking a cut with an ellipsis.
func clipTarget(s string) string {
	if len(s) <= maxLoggedTarget {
		return s
	}
	return s[:maxLoggedTarget] + "…"
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
