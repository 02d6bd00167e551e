package oci_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/ecrd/ecrd/internal/api/oci"
	"github.com/ecrd/ecrd/internal/auth"
	"github.com/ecrd/ecrd/internal/registry"
)

// routeSample is a path of each endpoint, for a repository name.
var routeSample = map[int]func(name string) string{
	oci.Endpoints[0]: func(string) string { return "/v2/" },
	oci.Endpoints[1]: func(string) string { return "/v2/_catalog" },
	oci.Endpoints[2]: func(n string) string { return "/v2/" + n + "/blobs/" + digestOf([]byte("x")) },
	oci.Endpoints[3]: func(n string) string { return "/v2/" + n + "/blobs/uploads/" },
	oci.Endpoints[4]: func(n string) string { return "/v2/" + n + "/blobs/uploads/0b7c7e5e-1f3a-4c1e-9d1a-2b3c4d5e6f70" },
	oci.Endpoints[5]: func(n string) string { return "/v2/" + n + "/manifests/latest" },
	oci.Endpoints[6]: func(n string) string { return "/v2/" + n + "/tags/list" },
	oci.Endpoints[7]: func(n string) string { return "/v2/" + n + "/referrers/" + digestOf([]byte("x")) },
}

var allMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// TestRouteAccess walks the route table: every route has a decision (a
// route added without saying whether it writes fails here), and every
// route × method × kind of caller, in the private and the public
// namespace, is answered as its decision says: writes never for an
// anonymous caller (401) or a read-only key (403 DENIED); reads for any
// key, and in the public namespace for anyone; methods a route does not
// serve 405.
func TestRouteAccess(t *testing.T) {
	for _, ns := range []struct {
		name   string
		public bool
	}{{"Private", false}, {"Public", true}} {
		t.Run(ns.name, func(t *testing.T) {
			e := newEnv(t, func(o *oci.Options) { o.Public = ns.public })
			name := repo
			issue := e.tokens.Issue
			if ns.public {
				p, err := e.reg.EnsurePublicRegistry(callerCtx(), account, "team")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := e.reg.CreateRepository(callerCtx(), registry.NewRepository{Key: registry.RepoKey{Registry: p.ID(), Name: repo}}); err != nil {
					t.Fatal(err)
				}
				name, issue = "team/"+repo, e.tokens.IssuePublic
			}
			h, err := oci.New(e.reg, oci.Options{Tokens: e.tokens, Lookup: auth.DefaultKeyring(account).Lookup, Realm: realm, Public: ns.public})
			if err != nil {
				t.Fatal(err)
			}
			routes := oci.Routes(h)
			callers := map[string]string{"anonymous": ""}
			for caller, ro := range map[string]bool{"owner": false, "read-only": true} {
				pw, _ := issue(account, auth.DefaultAccessKey, ro)
				callers[caller] = "Basic " + auth.EncodeAuthorizationToken(pw)
			}
			for _, ep := range oci.Endpoints {
				sample, ok := routeSample[ep]
				if !ok {
					t.Fatalf("endpoint %d has no sample path: add one to routeSample", ep)
				}
				var served []string
				for _, r := range routes {
					if r.Endpoint == ep {
						served = append(served, r.Method)
					}
				}
				if len(served) == 0 {
					t.Errorf("endpoint %d serves no method", ep)
				}
				for _, m := range allMethods {
					if slices.Contains(served, m) {
						continue
					}
					e.auth = callers["owner"]
					if r := e.do(m, sample(name), nil); r.StatusCode != http.StatusMethodNotAllowed {
						t.Errorf("%s %s by the owner: %d, want 405", m, sample(name), r.StatusCode)
					}
				}
			}
			for _, r := range routes {
				if r.Access == "undecided" {
					t.Errorf("%s on endpoint %d has no access decision", r.Method, r.Endpoint)
				}
				if r.Access == "write" && r.Action == "" {
					t.Errorf("%s on endpoint %d writes but names no IAM action", r.Method, r.Endpoint)
				}
				path := routeSample[r.Endpoint](name)
				for caller, authz := range callers {
					e.auth = authz
					got := e.do(r.Method, path, nil).StatusCode
					what := fmt.Sprintf("%s %s (%s) by %s: %d", r.Method, path, r.Access, caller, got)
					refused := got == http.StatusUnauthorized || got == http.StatusForbidden
					switch {
					case caller == "anonymous" && (r.Access != "read" || !ns.public):
						if got != http.StatusUnauthorized {
							t.Errorf("%s, want 401", what)
						}
					case caller == "read-only" && r.Access == "write":
						if got != http.StatusForbidden {
							t.Errorf("%s, want 403 DENIED", what)
						}
					case refused:
						t.Errorf("%s, want it served", what)
					}
				}
			}
		})
	}
}
