package oci_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/api/oci"
	"github.com/ecrd/ecrd/internal/auth"
	"github.com/ecrd/ecrd/internal/blobstore/fs"
	"github.com/ecrd/ecrd/internal/metastore/sqlite"
	"github.com/ecrd/ecrd/internal/registry"
)

const (
	account = "123456789012"
	repo    = "team/app"
	realm   = "http://registry.test/"
)

var tokenKey = bytes.Repeat([]byte{7}, 32)

// env is a /v2/ server over a real core with real stores, and a client
// logged in with a token.
type env struct {
	t      *testing.T
	srv    *httptest.Server
	reg    *registry.Registry
	tokens *auth.Tokens
	// auth is the Authorization header requests carry ("" for none).
	auth string
}

func newEnv(t *testing.T, opts ...func(*oci.Options)) *env {
	t.Helper()
	dir := t.TempDir()
	meta, err := sqlite.Open(filepath.Join(dir, "metadata.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	blobs, err := fs.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.New(registry.Options{Meta: meta, Blobs: blobs, Region: "us-east-1"})
	ctx := callerCtx()
	for _, name := range []string{repo, "other"} {
		if _, err := reg.CreateRepository(ctx, registry.NewRepository{Key: registry.RepoKey{Name: registry.RepositoryName(name)}}); err != nil {
			t.Fatal(err)
		}
	}
	tokens := &auth.Tokens{Key: tokenKey, TTL: 12 * time.Hour}
	o := oci.Options{Tokens: tokens, Lookup: auth.DefaultKeyring(account).Lookup, Realm: realm}
	for _, opt := range opts {
		opt(&o)
	}
	h, err := oci.New(reg, o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: srv, reg: reg, tokens: tokens}
	e.login(false)
	return e
}

// login sets the client's credentials to a fresh token.
func (e *env) login(readOnly bool) {
	pw, _ := e.tokens.Issue(account, auth.DefaultAccessKey, readOnly)
	e.auth = "Basic " + auth.EncodeAuthorizationToken(pw)
}

// response is an answer with its body read.
type response struct {
	*http.Response
	body []byte
}

// do sends a request; headers alternate name and value.
func (e *env) do(method, path string, body []byte, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if e.auth != "" {
		req.Header.Set("Authorization", e.auth)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if got := resp.Header.Get("Docker-Distribution-Api-Version"); got != "registry/2.0" {
		e.t.Errorf("%s %s: Docker-Distribution-Api-Version %q", method, path, got)
	}
	return response{resp, b}
}

// want fails the test unless the answer has the status (and, for errors,
// the code).
func (r response) want(t *testing.T, status int, code string) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d; body %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, r.body)
	}
	if code == "" {
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type %q", ct)
	}
	var eb struct {
		Errors []struct{ Code, Message string }
	}
	if err := json.Unmarshal(r.body, &eb); err != nil || len(eb.Errors) != 1 {
		t.Fatalf("error body %s: %v", r.body, err)
	}
	if eb.Errors[0].Code != code {
		t.Fatalf("%s %s: code %s, want %s (%s)", r.Request.Method, r.Request.URL.Path, eb.Errors[0].Code, code, eb.Errors[0].Message)
	}
	if eb.Errors[0].Message == "" {
		t.Errorf("error without a message: %s", r.body)
	}
}

func callerCtx() context.Context {
	return registry.WithCaller(context.Background(), registry.AccountAdmin(account, "test"))
}

func digestOf(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }

// pushBlob pushes b monolithically and returns its digest.
func (e *env) pushBlob(name string, b []byte) string {
	e.t.Helper()
	d := digestOf(b)
	e.do("POST", "/v2/"+name+"/blobs/uploads/?digest="+d, b).want(e.t, 201, "")
	return d
}

// startUpload opens an upload session and returns its Location.
func (e *env) startUpload(name string) string {
	e.t.Helper()
	r := e.do("POST", "/v2/"+name+"/blobs/uploads/", nil)
	r.want(e.t, 202, "")
	return r.Header.Get("Location")
}

// image pushes a config and one layer and returns an OCI manifest naming
// them, with extra fields merged in.
func (e *env) image(name string, extra map[string]any) []byte {
	e.t.Helper()
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	layer := []byte("layer of " + name + fmt.Sprint(extra))
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     registry.MediaTypeOCIManifest,
		"config":        map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": e.pushBlob(name, config), "size": len(config)},
		"layers":        []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": e.pushBlob(name, layer), "size": len(layer)}},
	}
	for k, v := range extra {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// putManifest puts m under ref and returns its digest.
func (e *env) putManifest(name, ref string, m []byte) string {
	e.t.Helper()
	r := e.do("PUT", "/v2/"+name+"/manifests/"+ref, m, "Content-Type", registry.MediaTypeOCIManifest)
	r.want(e.t, 201, "")
	return r.Header.Get("Docker-Content-Digest")
}

func basic(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
