package oci_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/ecrd/ecrd/internal/registry"
)

func TestMonolithicPush(t *testing.T) {
	e := newEnv(t)
	b := []byte("hello, blob")
	d := digestOf(b)
	r := e.do("POST", "/v2/"+repo+"/blobs/uploads/?digest="+d, b)
	r.want(t, 201, "")
	if r.Header.Get("Location") != "/v2/"+repo+"/blobs/"+d || r.Header.Get("Docker-Content-Digest") != d {
		t.Errorf("Location %q, Docker-Content-Digest %q", r.Header.Get("Location"), r.Header.Get("Docker-Content-Digest"))
	}
	h := e.do("HEAD", "/v2/"+repo+"/blobs/"+d, nil)
	h.want(t, 200, "")
	if h.Header.Get("Content-Length") != strconv.Itoa(len(b)) || h.Header.Get("Docker-Content-Digest") != d ||
		h.Header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("HEAD headers %v", h.Header)
	}
	g := e.do("GET", "/v2/"+repo+"/blobs/"+d, nil)
	g.want(t, 200, "")
	if !bytes.Equal(g.body, b) {
		t.Errorf("GET body %q", g.body)
	}
	// The blob is the repository's, not the registry's.
	e.do("HEAD", "/v2/other/blobs/"+d, nil).want(t, 404, "")
}

func TestEmptyBlob(t *testing.T) {
	e := newEnv(t)
	d := e.pushBlob(repo, []byte{})
	h := e.do("HEAD", "/v2/"+repo+"/blobs/"+d, nil)
	h.want(t, 200, "")
	if h.Header.Get("Content-Length") != "0" {
		t.Errorf("Content-Length %q", h.Header.Get("Content-Length"))
	}
}

func TestChunkedPush(t *testing.T) {
	e := newEnv(t)
	b := bytes.Repeat([]byte("0123456789"), 10)
	d := digestOf(b)
	loc := e.startUpload(repo)
	st := e.do("GET", loc, nil)
	st.want(t, 204, "")
	if st.Header.Get("Range") != "0-0" || st.Header.Get("Location") != loc {
		t.Errorf("status Range %q Location %q", st.Header.Get("Range"), st.Header.Get("Location"))
	}

	p := e.do("PATCH", loc, b[:40], "Content-Range", "0-39", "Content-Type", "application/octet-stream")
	p.want(t, 202, "")
	if p.Header.Get("Range") != "0-39" || p.Header.Get("Location") != loc || p.Header.Get("Docker-Upload-UUID") == "" {
		t.Errorf("PATCH headers %v", p.Header)
	}
	// A chunk that does not start where the upload stands.
	w := e.do("PATCH", loc, b[50:60], "Content-Range", "50-59")
	w.want(t, 416, "RANGE_INVALID")
	if w.Header.Get("Range") != "0-39" || w.Header.Get("Location") != loc {
		t.Errorf("416 Range %q Location %q", w.Header.Get("Range"), w.Header.Get("Location"))
	}
	// Streamed: no Content-Range, appended after what the upload holds.
	e.do("PATCH", loc, b[40:90]).want(t, 202, "")
	st = e.do("GET", loc, nil)
	if st.Header.Get("Range") != "0-89" {
		t.Errorf("status Range %q", st.Header.Get("Range"))
	}
	// The final chunk comes with the PUT.
	f := e.do("PUT", loc+"?digest="+d, b[90:], "Content-Range", "90-99")
	f.want(t, 201, "")
	if f.Header.Get("Location") != "/v2/"+repo+"/blobs/"+d || f.Header.Get("Docker-Content-Digest") != d {
		t.Errorf("PUT headers %v", f.Header)
	}
	g := e.do("GET", "/v2/"+repo+"/blobs/"+d, nil)
	if !bytes.Equal(g.body, b) {
		t.Errorf("GET body %q", g.body)
	}
	// The upload is finished.
	e.do("GET", loc, nil).want(t, 404, "BLOB_UPLOAD_UNKNOWN")
}

func TestDigestMismatchLeavesNothing(t *testing.T) {
	e := newEnv(t)
	b := []byte("the real bytes")
	wrong := digestOf([]byte("other bytes"))
	e.do("POST", "/v2/"+repo+"/blobs/uploads/?digest="+wrong, b).want(t, 400, "DIGEST_INVALID")
	e.do("HEAD", "/v2/"+repo+"/blobs/"+wrong, nil).want(t, 404, "")
	e.do("HEAD", "/v2/"+repo+"/blobs/"+digestOf(b), nil).want(t, 404, "")

	loc := e.startUpload(repo)
	e.do("PATCH", loc, b).want(t, 202, "")
	e.do("PUT", loc+"?digest="+wrong, nil).want(t, 400, "DIGEST_INVALID")
	e.do("HEAD", "/v2/"+repo+"/blobs/"+wrong, nil).want(t, 404, "")
	e.do("HEAD", "/v2/"+repo+"/blobs/"+digestOf(b), nil).want(t, 404, "")
	e.do("GET", loc, nil).want(t, 404, "BLOB_UPLOAD_UNKNOWN")
}

func TestCancelUpload(t *testing.T) {
	e := newEnv(t)
	loc := e.startUpload(repo)
	e.do("DELETE", loc, nil).want(t, 204, "")
	e.do("GET", loc, nil).want(t, 404, "BLOB_UPLOAD_UNKNOWN")
	e.do("DELETE", loc, nil).want(t, 404, "BLOB_UPLOAD_UNKNOWN")
}

func TestRangeGet(t *testing.T) {
	e := newEnv(t)
	b := []byte("0123456789abcdefghij")
	d := e.pushBlob(repo, b)
	cases := []struct {
		rng    string
		status int
		body   string
	}{
		{"bytes=0-0", 206, "0"},
		{"bytes=10-", 206, "abcdefghij"},
		{"bytes=-5", 206, "fghij"},
		{"bytes=100-200", 416, ""},
	}
	for _, c := range cases {
		t.Run(c.rng, func(t *testing.T) {
			r := e.do("GET", "/v2/"+repo+"/blobs/"+d, nil, "Range", c.rng)
			r.want(t, c.status, "")
			if c.status == 206 && string(r.body) != c.body {
				t.Errorf("body %q, want %q", r.body, c.body)
			}
		})
	}
}

func TestMount(t *testing.T) {
	e := newEnv(t)
	d := e.pushBlob("other", []byte("shared layer"))
	// BLOB_MOUNTING DISABLED (ECR's default): an upload instead.
	e.do("POST", "/v2/"+repo+"/blobs/uploads/?mount="+d+"&from=other", nil).want(t, 202, "")
	if err := e.reg.PutAccountSetting(callerCtx(), registry.SettingBlobMounting, "ENABLED"); err != nil {
		t.Fatal(err)
	}
	r := e.do("POST", "/v2/"+repo+"/blobs/uploads/?mount="+d+"&from=other", nil)
	r.want(t, 201, "")
	if r.Header.Get("Location") != "/v2/"+repo+"/blobs/"+d {
		t.Errorf("Location %q", r.Header.Get("Location"))
	}
	e.do("HEAD", "/v2/"+repo+"/blobs/"+d, nil).want(t, 200, "")
	// A source without the blob: a new upload instead.
	missing := digestOf([]byte("nowhere"))
	f := e.do("POST", "/v2/"+repo+"/blobs/uploads/?mount="+missing+"&from=other", nil)
	f.want(t, 202, "")
	if f.Header.Get("Docker-Upload-UUID") == "" || f.Header.Get("Range") != "0-0" {
		t.Errorf("fallback headers %v", f.Header)
	}
	e.do("POST", "/v2/"+repo+"/blobs/uploads/?mount="+missing+"&from=missing", nil).want(t, 202, "")
}

func TestDeleteBlob(t *testing.T) {
	e := newEnv(t)
	d := e.pushBlob(repo, []byte("to delete"))
	e.do("DELETE", "/v2/"+repo+"/blobs/"+d, nil).want(t, 202, "")
	e.do("HEAD", "/v2/"+repo+"/blobs/"+d, nil).want(t, 404, "")
	e.do("DELETE", "/v2/"+repo+"/blobs/"+d, nil).want(t, 404, "BLOB_UNKNOWN")
}

func TestDeleteBlobOfAnImage(t *testing.T) {
	e := newEnv(t)
	m := e.image(repo, nil)
	e.putManifest(repo, "v1", m)
	var doc struct{ Layers []struct{ Digest string } }
	if err := json.Unmarshal(m, &doc); err != nil {
		t.Fatal(err)
	}
	e.do("DELETE", "/v2/"+repo+"/blobs/"+doc.Layers[0].Digest, nil).want(t, 409, "DENIED")
	e.do("HEAD", "/v2/"+repo+"/blobs/"+doc.Layers[0].Digest, nil).want(t, 200, "")
}
