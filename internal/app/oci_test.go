package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/auth"
	"github.com/ecrd/ecrd/internal/config"
)

func newTestApp(t *testing.T, mode string) *App {
	t.Helper()
	cfg := config.Default()
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Store.DataDir = t.TempDir()
	cfg.Identity.AccountID = "123456789012"
	cfg.Auth.Mode = mode
	a, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func get(t *testing.T, url, authorization string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestV2IsMounted checks the composition: /v2/ and /v2 reach the OCI front
// end, which challenges with the advertised realm and takes the tokens
// GetAuthorizationToken issues, checked against the keyring.
func TestV2IsMounted(t *testing.T) {
	a := newTestApp(t, "sigv4")
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	for _, p := range []string{"/v2/", "/v2"} {
		resp := get(t, srv.URL+p, "")
		want := `Basic realm="http://` + a.Addr().String() + `/",service="ecr.amazonaws.com"`
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != want {
			t.Errorf("GET %s: %d, WWW-Authenticate %q, want %q", p, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), want)
		}
	}
	key, err := a.reg.Secret(context.Background(), tokenKeyName, 32)
	if err != nil {
		t.Fatal(err)
	}
	tokens := &auth.Tokens{Key: key, TTL: time.Hour}
	pw, _ := tokens.Issue("123456789012", auth.DefaultAccessKey, false)
	if resp := get(t, srv.URL+"/v2/", "Basic "+auth.EncodeAuthorizationToken(pw)); resp.StatusCode != 200 {
		t.Errorf("GET /v2/ with a token: %d", resp.StatusCode)
	}
	gone, _ := tokens.Issue("123456789012", "deleted-key", false)
	if resp := get(t, srv.URL+"/v2/", "Basic "+auth.EncodeAuthorizationToken(gone)); resp.StatusCode != 401 {
		t.Errorf("GET /v2/ with the token of an unknown key: %d", resp.StatusCode)
	}
}

func TestV2WithoutAuth(t *testing.T) {
	a := newTestApp(t, "none")
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	if resp := get(t, srv.URL+"/v2/", ""); resp.StatusCode != 200 {
		t.Errorf("GET /v2/ with --auth=none: %d", resp.StatusCode)
	}
}
