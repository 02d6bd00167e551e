package app

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ecrd/ecrd/internal/api/oci"
	"github.com/ecrd/ecrd/internal/config"
	"github.com/ecrd/ecrd/internal/syncbuf"
)

// requestLines returns the access log lines of a JSON log.
func requestLines(t *testing.T, logs *syncbuf.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		if m["msg"] == "request" {
			out = append(out, m)
		}
	}
	return out
}

// TestAccessLog: one JSON line per request with the API, operation,
// repository, request ID (the one the client got), bytes both ways; probes
// only at debug level.
func TestAccessLog(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		var logs syncbuf.Buffer
		cfg := config.Default()
		cfg.Server.Listen = "127.0.0.1:0"
		cfg.Store.DataDir = t.TempDir()
		cfg.Auth.Mode = "none"
		a, err := New(cfg, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: level})))
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(a.Handler())
		body := `{"repositoryName":"logged/repo"}`
		req, _ := http.NewRequest("POST", srv.URL+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.CreateRepository")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		ecrID := resp.Header.Get("X-Amzn-Requestid")
		put, _ := http.NewRequest("PUT", srv.URL+"/v2/logged/repo/manifests/v1", strings.NewReader("{}"))
		put.Header.Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		resp, err = http.DefaultClient.Do(put)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		v2ID := resp.Header.Get(oci.RequestIDHeader)
		if v2ID == "" || ecrID == "" {
			t.Fatalf("request IDs: ECR %q, /v2/ %q", ecrID, v2ID)
		}
		get(t, srv.URL+"/healthz", "")
		srv.Close()
		a.Close()

		lines := requestLines(t, &logs)
		want := 2
		if level == slog.LevelDebug {
			want = 3
		}
		if len(lines) != want {
			t.Fatalf("level %v: %d request lines, want %d: %v", level, len(lines), want, lines)
		}
		check := func(l map[string]any, kv ...any) {
			t.Helper()
			for i := 0; i < len(kv); i += 2 {
				if got := l[kv[i].(string)]; got != kv[i+1] {
					t.Errorf("%s = %v (%T), want %v in %v", kv[i], got, got, kv[i+1], l)
				}
			}
		}
		check(lines[0], "api", "ecr", "operation", "CreateRepository", "repository", "logged/repo",
			"account", "000000000000", "request_id", ecrID, "status", 200.0, "bytes_in", float64(len(body)))
		check(lines[1], "api", "v2", "operation", "PutManifest", "repository", "logged/repo",
			"account", "000000000000", "request_id", v2ID, "bytes_in", 2.0)
		if lines[1]["error"] == nil || lines[1]["bytes_out"].(float64) == 0 {
			t.Errorf("the refused manifest logs no error or no bytes out: %v", lines[1])
		}
		if level == slog.LevelDebug {
			check(lines[2], "api", "other", "operation", "Healthz", "status", 200.0)
		}
	}
}

// TestServerErrorLog: net/http's own errors are warnings, but for failed
// TLS handshakes, which are noise at debug level.
func TestServerErrorLog(t *testing.T) {
	var logs syncbuf.Buffer
	l := serverErrorLog(slog.New(slog.NewTextHandler(&logs, nil)))
	l.Printf("http: TLS handshake error from 10.0.0.1:5555: EOF")
	l.Printf("http: Accept error: too many open files; retrying in 5ms")
	out := logs.String()
	if strings.Contains(out, "handshake") {
		t.Errorf("a failed handshake is logged at info level or above:\n%s", out)
	}
	if !strings.Contains(out, `level=WARN msg="http: Accept error: too many open files; retrying in 5ms"`) {
		t.Errorf("an accept error is not a warning:\n%s", out)
	}
}
