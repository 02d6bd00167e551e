package oci_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/ecrd/ecrd/internal/registry"
)

func TestManifestByTagAndDigest(t *testing.T) {
	e := newEnv(t)
	m := e.image(repo, nil)
	d := digestOf(m)
	r := e.do("PUT", "/v2/"+repo+"/manifests/v1", m, "Content-Type", registry.MediaTypeOCIManifest)
	r.want(t, 201, "")
	if r.Header.Get("Location") != "/v2/"+repo+"/manifests/"+d || r.Header.Get("Docker-Content-Digest") != d {
		t.Errorf("PUT headers %v", r.Header)
	}
	if r.Header.Get("OCI-Subject") != "" {
		t.Errorf("OCI-Subject %q on a manifest without a subject", r.Header.Get("OCI-Subject"))
	}
	// Putting it again is success.
	e.do("PUT", "/v2/"+repo+"/manifests/v1", m, "Content-Type", registry.MediaTypeOCIManifest).want(t, 201, "")
	e.do("PUT", "/v2/"+repo+"/manifests/"+d, m, "Content-Type", registry.MediaTypeOCIManifest).want(t, 201, "")

	for _, ref := range []string{"v1", d} {
		for _, method := range []string{"GET", "HEAD"} {
			g := e.do(method, "/v2/"+repo+"/manifests/"+ref, nil)
			g.want(t, 200, "")
			if g.Header.Get("Content-Type") != registry.MediaTypeOCIManifest || g.Header.Get("Docker-Content-Digest") != d ||
				g.Header.Get("Content-Length") != strconv.Itoa(len(m)) {
				t.Errorf("%s %s headers %v", method, ref, g.Header)
			}
			if method == "GET" && !bytes.Equal(g.body, m) {
				t.Errorf("GET %s body %s", ref, g.body)
			}
		}
	}
	// Put by digest: a wrong digest is refused.
	e.do("PUT", "/v2/"+repo+"/manifests/"+digestOf([]byte("x")), m, "Content-Type", registry.MediaTypeOCIManifest).want(t, 400, "DIGEST_INVALID")
	e.do("PUT", "/v2/"+repo+"/manifests/bad!tag", m, "Content-Type", registry.MediaTypeOCIManifest).want(t, 400, "TAG_INVALID")
	e.do("PUT", "/v2/"+repo+"/manifests/v2", []byte(`{"schemaVersion":2`), "Content-Type", registry.MediaTypeOCIManifest).want(t, 400, "MANIFEST_INVALID")
	e.do("PUT", "/v2/missing/manifests/v2", m, "Content-Type", registry.MediaTypeOCIManifest).want(t, 404, "NAME_UNKNOWN")
}

func TestManifestBlobUnknown(t *testing.T) {
	e := newEnv(t)
	m := e.image(repo, nil)
	e.do("PUT", "/v2/other/manifests/v1", m, "Content-Type", registry.MediaTypeOCIManifest).want(t, 404, "MANIFEST_BLOB_UNKNOWN")
	d := digestOf(m)
	index := []byte(`{"schemaVersion":2,"mediaType":"` + registry.MediaTypeOCIIndex + `","manifests":[{"mediaType":"` +
		registry.MediaTypeOCIManifest + `","digest":"` + d + `","size":` + strconv.Itoa(len(m)) + `}]}`)
	e.do("PUT", "/v2/"+repo+"/manifests/idx", index, "Content-Type", registry.MediaTypeOCIIndex).want(t, 404, "MANIFEST_BLOB_UNKNOWN")
}

func TestManifestTooLarge(t *testing.T) {
	e := newEnv(t)
	big := bytes.Repeat([]byte(" "), 4<<20+1)
	e.do("PUT", "/v2/"+repo+"/manifests/v1", big, "Content-Type", registry.MediaTypeOCIManifest).want(t, 413, "SIZE_INVALID")
}

func TestManifestAcceptConversion(t *testing.T) {
	e := newEnv(t)
	m := e.image(repo, nil)
	d := e.putManifest(repo, "v1", m)
	docker := registry.MediaTypeDockerManifest
	g := e.do("GET", "/v2/"+repo+"/manifests/v1", nil, "Accept", docker+";q=0.9, application/json")
	g.want(t, 200, "")
	if g.Header.Get("Content-Type") != docker || g.Header.Get("Docker-Content-Digest") != digestOf(g.body) ||
		!strings.Contains(string(g.body), docker) {
		t.Errorf("converted: Content-Type %q digest %q body %s", g.Header.Get("Content-Type"), g.Header.Get("Docker-Content-Digest"), g.body)
	}
	// Several Accept headers; the stored type among them: no conversion.
	g = e.do("GET", "/v2/"+repo+"/manifests/v1", nil, "Accept", docker, "Accept", registry.MediaTypeOCIManifest)
	if g.Header.Get("Docker-Content-Digest") != d {
		t.Errorf("stored type accepted, yet digest %q", g.Header.Get("Docker-Content-Digest"))
	}
	// By digest, never converted: not acceptable is unknown.
	e.do("GET", "/v2/"+repo+"/manifests/"+d, nil, "Accept", docker).want(t, 200, "")
	g = e.do("GET", "/v2/"+repo+"/manifests/"+d, nil, "Accept", docker)
	if g.Header.Get("Docker-Content-Digest") != d {
		t.Errorf("by digest: %q", g.Header.Get("Docker-Content-Digest"))
	}
	// Only an index is accepted: an image manifest cannot become one.
	e.do("GET", "/v2/"+repo+"/manifests/v1", nil, "Accept", registry.MediaTypeOCIIndex).want(t, 404, "MANIFEST_UNKNOWN")
}

func TestManifestOfABlobDigestIsUnknown(t *testing.T) {
	e := newEnv(t)
	d := e.pushBlob(repo, []byte("just a layer"))
	e.do("GET", "/v2/"+repo+"/manifests/"+d, nil).want(t, 404, "MANIFEST_UNKNOWN")
	e.do("HEAD", "/v2/"+repo+"/manifests/"+d, nil).want(t, 404, "")
}

func TestDeleteManifest(t *testing.T) {
	e := newEnv(t)
	m := e.image(repo, nil)
	d := e.putManifest(repo, "v1", m)
	e.putManifest(repo, "v2", m)
	// By tag: the tag goes, the image stays.
	e.do("DELETE", "/v2/"+repo+"/manifests/v1", nil).want(t, 202, "")
	e.do("GET", "/v2/"+repo+"/manifests/v1", nil).want(t, 404, "MANIFEST_UNKNOWN")
	e.do("GET", "/v2/"+repo+"/manifests/v2", nil).want(t, 200, "")
	e.do("DELETE", "/v2/"+repo+"/manifests/v1", nil).want(t, 404, "MANIFEST_UNKNOWN")
	// By digest: the image and every tag go.
	e.do("DELETE", "/v2/"+repo+"/manifests/"+d, nil).want(t, 202, "")
	e.do("GET", "/v2/"+repo+"/manifests/"+d, nil).want(t, 404, "MANIFEST_UNKNOWN")
	e.do("GET", "/v2/"+repo+"/manifests/v2", nil).want(t, 404, "MANIFEST_UNKNOWN")
	e.do("DELETE", "/v2/"+repo+"/manifests/"+d, nil).want(t, 404, "MANIFEST_UNKNOWN")
	e.do("DELETE", "/v2/"+repo+"/manifests/sha256:zz", nil).want(t, 400, "DIGEST_INVALID")
}

func TestDeleteManifestInAnIndex(t *testing.T) {
	e := newEnv(t)
	m := e.image(repo, nil)
	d := e.putManifest(repo, digestOf(m), m)
	index := []byte(`{"schemaVersion":2,"mediaType":"` + registry.MediaTypeOCIIndex + `","manifests":[{"mediaType":"` +
		registry.MediaTypeOCIManifest + `","digest":"` + d + `","size":` + strconv.Itoa(len(m)) + `}]}`)
	e.do("PUT", "/v2/"+repo+"/manifests/multi", index, "Content-Type", registry.MediaTypeOCIIndex).want(t, 201, "")
	e.do("DELETE", "/v2/"+repo+"/manifests/"+d, nil).want(t, 409, "DENIED")
}

func TestImmutableTag(t *testing.T) {
	e := newEnv(t)
	ctx := callerCtx()
	if _, err := e.reg.CreateRepository(ctx, registry.NewRepository{Key: registry.RepoKey{Name: "fixed"}, TagMutability: "IMMUTABLE"}); err != nil {
		t.Fatal(err)
	}
	e.putManifest("fixed", "v1", e.image("fixed", nil))
	r := e.do("PUT", "/v2/fixed/manifests/v1", e.image("fixed", map[string]any{"annotations": map[string]string{"a": "b"}}),
		"Content-Type", registry.MediaTypeOCIManifest)
	r.want(t, 400, "TAG_INVALID")
	if !strings.Contains(string(r.body), "cannot be overwritten because the repository is immutable") {
		t.Errorf("body %s", r.body)
	}
}
