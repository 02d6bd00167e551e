package oci_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/ecrd/ecrd/internal/registry"
)

func TestTagsList(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/v2/"+repo+"/tags/list", nil)
	r.want(t, 200, "")
	if string(r.body) != `{"name":"team/app","tags":[]}` {
		t.Errorf("empty repository: %s", r.body)
	}
	m := e.image(repo, nil)
	want := []string{"a", "b", "c", "d", "e"}
	for _, tag := range want {
		e.putManifest(repo, tag, m)
	}
	var got []string
	next := "/v2/" + repo + "/tags/list?n=2"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		r := e.do("GET", next, nil)
		r.want(t, 200, "")
		var tl struct {
			Name string
			Tags []string
		}
		if err := json.Unmarshal(r.body, &tl); err != nil || tl.Name != repo || len(tl.Tags) > 2 {
			t.Fatalf("page %s: %v", r.body, err)
		}
		got = append(got, tl.Tags...)
		next = ""
		if link := r.Header.Get("Link"); link != "" {
			if _, err := fmt.Sscanf(link, "<%s", &next); err != nil {
				t.Fatalf("Link %q", link)
			}
			next = next[:len(next)-2] // strip `>;`
			wantLink := fmt.Sprintf(`</v2/%s/tags/list?n=2&last=%s>; rel="next"`, repo, tl.Tags[len(tl.Tags)-1])
			if link != wantLink {
				t.Errorf("Link %q, want %q", link, wantLink)
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("tags %v, want %v", got, want)
	}
	r = e.do("GET", "/v2/"+repo+"/tags/list?n=0", nil)
	if string(r.body) != `{"name":"team/app","tags":[]}` || r.Header.Get("Link") != "" {
		t.Errorf("n=0: %s, Link %q", r.body, r.Header.Get("Link"))
	}
	r = e.do("GET", "/v2/"+repo+"/tags/list?last=c", nil)
	if string(r.body) != `{"name":"team/app","tags":["d","e"]}` {
		t.Errorf("last=c: %s", r.body)
	}
	e.do("GET", "/v2/missing/tags/list?n=0", nil).want(t, 404, "NAME_UNKNOWN")
}

func TestReferrers(t *testing.T) {
	e := newEnv(t)
	subject := e.image(repo, nil)
	sd := e.putManifest(repo, "v1", subject)
	subjectDesc := map[string]any{"mediaType": registry.MediaTypeOCIManifest, "digest": sd, "size": len(subject)}
	sig := e.image(repo, map[string]any{"subject": subjectDesc, "artifactType": "application/vnd.example.sig",
		"annotations": map[string]string{"org.example.signer": "alice"}})
	sbom := e.image(repo, map[string]any{"subject": subjectDesc, "artifactType": "application/vnd.example.sbom"})
	for _, m := range [][]byte{sig, sbom} {
		r := e.do("PUT", "/v2/"+repo+"/manifests/"+digestOf(m), m, "Content-Type", registry.MediaTypeOCIManifest)
		r.want(t, 201, "")
		if r.Header.Get("OCI-Subject") != sd {
			t.Errorf("OCI-Subject %q, want %q", r.Header.Get("OCI-Subject"), sd)
		}
	}
	type index struct {
		SchemaVersion int
		MediaType     string
		Manifests     []struct {
			MediaType, Digest, ArtifactType string
			Size                            int
			Annotations                     map[string]string
		}
	}
	get := func(query string) (index, response) {
		t.Helper()
		r := e.do("GET", "/v2/"+repo+"/referrers/"+sd+query, nil)
		r.want(t, 200, "")
		if r.Header.Get("Content-Type") != registry.MediaTypeOCIIndex {
			t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
		}
		var idx index
		if err := json.Unmarshal(r.body, &idx); err != nil {
			t.Fatal(err)
		}
		if idx.SchemaVersion != 2 || idx.MediaType != registry.MediaTypeOCIIndex || idx.Manifests == nil {
			t.Errorf("index %s", r.body)
		}
		return idx, r
	}
	idx, r := get("")
	if len(idx.Manifests) != 2 || r.Header.Get("OCI-Filters-Applied") != "" {
		t.Fatalf("all referrers: %s", r.body)
	}
	idx, r = get("?artifactType=application/vnd.example.sig")
	if r.Header.Get("OCI-Filters-Applied") != "artifactType" || len(idx.Manifests) != 1 {
		t.Fatalf("filtered: %s (%v)", r.body, r.Header)
	}
	m := idx.Manifests[0]
	if m.Digest != digestOf(sig) || m.Size != len(sig) || m.MediaType != registry.MediaTypeOCIManifest ||
		m.ArtifactType != "application/vnd.example.sig" || m.Annotations["org.example.signer"] != "alice" {
		t.Errorf("descriptor %+v", m)
	}
	// A subject that does not exist has no referrers.
	r = e.do("GET", "/v2/"+repo+"/referrers/"+digestOf([]byte("none")), nil)
	r.want(t, 200, "")
	if string(r.body) != `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}` {
		t.Errorf("no referrers: %s", r.body)
	}
	// A repository that does not exist is unknown, as for every endpoint.
	e.do("GET", "/v2/no/such/referrers/"+sd, nil).want(t, 404, "NAME_UNKNOWN")
}
