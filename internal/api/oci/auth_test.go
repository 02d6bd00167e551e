package oci_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/api/oci"
	"github.com/ecrd/ecrd/internal/auth"
	"github.com/ecrd/ecrd/internal/registry"
)

func TestAuth(t *testing.T) {
	e := newEnv(t)
	const challenge = `Basic realm="http://registry.test/",service="ecr.amazonaws.com"`
	past := &auth.Tokens{Key: tokenKey, TTL: 12 * time.Hour, Now: func() time.Time { return time.Now().Add(-13 * time.Hour) }}
	expired, _ := past.Issue(account, auth.DefaultAccessKey, false)
	otherKey, _ := e.tokens.Issue(account, "no-such-key", false)
	otherAccount, _ := e.tokens.Issue("210987654321", auth.DefaultAccessKey, false)
	valid, _ := e.tokens.Issue(account, auth.DefaultAccessKey, false)
	forged, _ := (&auth.Tokens{Key: make([]byte, 32), TTL: time.Hour}).Issue(account, auth.DefaultAccessKey, false)
	cases := []struct {
		name, header string
		status       int
		code         string
	}{
		{"NoCredentials", "", 401, "UNAUTHORIZED"},
		{"Bearer", "Bearer x", 401, "UNAUTHORIZED"},
		{"NotBase64", "Basic !!!", 401, "UNAUTHORIZED"},
		{"WrongUser", basic("admin", valid), 401, "UNAUTHORIZED"},
		{"Forged", basic("AWS", forged), 401, "UNAUTHORIZED"},
		{"UnknownKey", basic("AWS", otherKey), 401, "UNAUTHORIZED"},
		{"KeyOfAnotherAccount", basic("AWS", otherAccount), 401, "UNAUTHORIZED"},
		{"Expired", basic("AWS", expired), 401, "UNAUTHORIZED"},
		{"Valid", basic("AWS", valid), 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.auth = c.header
			r := e.do("GET", "/v2/", nil)
			r.want(t, c.status, c.code)
			switch c.status {
			case 401:
				if got := r.Header.Get("WWW-Authenticate"); got != challenge {
					t.Errorf("WWW-Authenticate %q, want %q", got, challenge)
				}
				want := `{"errors":[{"code":"UNAUTHORIZED","message":"Not Authorized"}]}`
				if c.name == "Expired" {
					// ECR's words, so the user knows to log in again.
					want = `{"errors":[{"code":"UNAUTHORIZED","message":"Your authorization token has expired. Reauthenticate and try again."}]}`
				}
				if string(r.body) != want {
					t.Errorf("body %s, want %s", r.body, want)
				}
			case 200:
				if string(r.body) != "{}" || r.Header.Get("Content-Type") != "application/json" {
					t.Errorf("body %s, Content-Type %q", r.body, r.Header.Get("Content-Type"))
				}
			}
		})
	}
	t.Run("ChallengeOnEveryEndpoint", func(t *testing.T) {
		e.auth = ""
		e.do("GET", "/v2/"+repo+"/tags/list", nil).want(t, 401, "UNAUTHORIZED")
		e.do("GET", "/v2/nothing/here/at/all/x", nil).want(t, 401, "UNAUTHORIZED")
	})
}

func TestReadOnlyIsDeniedPush(t *testing.T) {
	e := newEnv(t)
	m := e.image(repo, nil)
	e.putManifest(repo, "v1", m)
	e.login(true)
	e.do("POST", "/v2/"+repo+"/blobs/uploads/", nil).want(t, 403, "DENIED")
	e.do("PUT", "/v2/"+repo+"/manifests/v2", m, "Content-Type", registry.MediaTypeOCIManifest).want(t, 403, "DENIED")
	e.do("DELETE", "/v2/"+repo+"/manifests/v1", nil).want(t, 403, "DENIED")
	// Reading is allowed.
	e.do("GET", "/v2/"+repo+"/manifests/v1", nil).want(t, 200, "")
}

func TestNoAuth(t *testing.T) {
	e := newEnv(t)
	p := registry.AccountAdmin(account, "test")
	h, err := oci.New(e.reg, oci.Options{NoAuth: &p})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	e.srv, e.auth = srv, ""
	e.do("GET", "/v2/", nil).want(t, 200, "")
	e.do("GET", "/v2/"+repo+"/tags/list", nil).want(t, 200, "")
}

func TestNewNeedsAuth(t *testing.T) {
	if _, err := oci.New(nil, oci.Options{}); err == nil {
		t.Fatal("New without Tokens, Lookup or NoAuth succeeded")
	}
}

func TestRoutes(t *testing.T) {
	e := newEnv(t)
	d := digestOf([]byte("x"))
	cases := []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/v2", 200, ""},
		{"GET", "/v2/_catalog", 404, "UNSUPPORTED"},
		{"GET", "/v2/Team/App/tags/list", 400, "NAME_INVALID"},
		{"GET", "/v2/a%2Fb/tags/list", 404, "NAME_UNKNOWN"},
		{"GET", "/v2/app/unknown/x", 404, "NAME_UNKNOWN"},
		{"GET", "/v2/missing/tags/list", 404, "NAME_UNKNOWN"},
		{"GET", "/v2/missing/manifests/latest", 404, "NAME_UNKNOWN"},
		{"HEAD", "/v2/" + repo + "/blobs/" + d, 404, ""},
		{"GET", "/v2/" + repo + "/blobs/" + d, 404, "BLOB_UNKNOWN"},
		{"GET", "/v2/" + repo + "/blobs/sha256:XYZ", 400, "DIGEST_INVALID"},
		{"GET", "/v2/" + repo + "/blobs/uploads/not-a-uuid", 404, "BLOB_UPLOAD_UNKNOWN"},
		{"GET", "/v2/" + repo + "/blobs/uploads/0b7c7e5e-1f3a-4c1e-9d1a-2b3c4d5e6f70", 404, "BLOB_UPLOAD_UNKNOWN"},
		{"PUT", "/v2/" + repo + "/blobs/" + d, 405, "UNSUPPORTED"},
		{"GET", "/v2/" + repo + "/manifests/latest", 404, "MANIFEST_UNKNOWN"},
		{"GET", "/v2/" + repo + "/referrers/nope", 400, "DIGEST_INVALID"},
		{"GET", "/v2/" + repo + "/tags/list?n=x", 400, "PAGINATION_NUMBER_INVALID"},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			r := e.do(c.method, c.path, nil)
			r.want(t, c.status, c.code)
			if c.status == 405 && r.Header.Get("Allow") != "GET, HEAD, DELETE" {
				t.Errorf("Allow %q", r.Header.Get("Allow"))
			}
		})
	}
}
