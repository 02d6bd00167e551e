package app

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// TestReadyz: /readyz is 200 while both stores answer and 503 once the
// blob store does not, while /healthz (liveness) stays 200: a replica that
// lost its storage gets no traffic but is not restarted in a loop.
func TestReadyz(t *testing.T) {
	a := newTestApp(t, "sigv4")
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	if resp := get(t, srv.URL+"/readyz", ""); resp.StatusCode != 200 {
		t.Fatalf("GET /readyz: %d", resp.StatusCode)
	}
	if err := os.RemoveAll(filepath.Join(a.cfg.Store.DataDir, "blobs")); err != nil {
		t.Fatal(err)
	}
	if resp := get(t, srv.URL+"/readyz", ""); resp.StatusCode != 503 {
		t.Fatalf("GET /readyz without the blob directory: %d, want 503", resp.StatusCode)
	}
	if resp := get(t, srv.URL+"/healthz", ""); resp.StatusCode != 200 {
		t.Fatalf("GET /healthz without the blob directory: %d, want 200 (liveness)", resp.StatusCode)
	}
	if err := a.meta.Close(); err != nil {
		t.Fatal(err)
	}
	if resp := get(t, srv.URL+"/readyz", ""); resp.StatusCode != 503 {
		t.Fatalf("GET /readyz with the metadata store closed: %d, want 503", resp.StatusCode)
	}
}
