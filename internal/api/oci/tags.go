package oci

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/ecrd/ecrd/internal/registry"
)

// maxTagsPage is the most tags one page lists (ECR's ListImages maximum).
const maxTagsPage = 1000

// tagList is the answer of GET /v2/<name>/tags/list.
type tagList struct {
	Name string   `json:"name"`
	Tags []string `json:"tags"`
}

// listTags answers GET /v2/<name>/tags/list?n=&last=: tags in byte order
// after last, at most n (clamped to 1000), with a Link to the next page
// when more follow. n=0 asks for an empty list.
func (h *Handler) listTags(w http.ResponseWriter, r *http.Request, rt route, key registry.RepoKey) error {
	q := r.URL.Query()
	n := maxTagsPage
	if s := q.Get("n"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 {
			return newError(paginationInvalid, "Invalid n '%s': a page size is a number of 0 or more", s)
		}
		n = min(v, maxTagsPage)
	}
	last := q.Get("last")
	// n=0 still answers NAME_UNKNOWN for a repository that does not exist.
	tags, more, err := h.reg.ListTags(r.Context(), key, last, max(n, 1))
	if err != nil {
		return err
	}
	if n == 0 {
		tags, more = nil, false
	}
	if tags == nil {
		tags = []string{}
	}
	if more && len(tags) > 0 {
		next := fmt.Sprintf("/v2/%s/tags/list?n=%d&last=%s", rt.name, n, url.QueryEscape(tags[len(tags)-1]))
		w.Header().Set("Link", "<"+next+`>; rel="next"`)
	}
	return writeJSON(w, r, http.StatusOK, "application/json", tagList{Name: rt.name, Tags: tags})
}

// descriptor is an OCI content descriptor, as the referrers index lists
// it.
type descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       registry.Digest   `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

// imageIndex is an OCI image index.
type imageIndex struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Manifests     []descriptor `json:"manifests"`
}

// referrers answers GET /v2/<name>/referrers/<digest>?artifactType=: an
// index of the manifests whose subject is digest, filtered by artifact
// type when asked. A subject that does not exist has no referrers, which
// is not an error.
func (h *Handler) referrers(w http.ResponseWriter, r *http.Request, rt route, key registry.RepoKey) error {
	subject, err := parseDigest(rt.ref)
	if err != nil {
		return err
	}
	imgs, err := h.reg.Referrers(r.Context(), key, subject)
	if err != nil {
		return err
	}
	filter := r.URL.Query().Get("artifactType")
	idx := imageIndex{SchemaVersion: 2, MediaType: registry.MediaTypeOCIIndex, Manifests: []descriptor{}}
	for _, img := range imgs {
		if filter != "" && img.ArtifactMediaType != filter {
			continue
		}
		idx.Manifests = append(idx.Manifests, descriptor{
			MediaType:    img.MediaType,
			Digest:       img.Digest,
			Size:         int64(len(img.Manifest)),
			ArtifactType: img.ArtifactMediaType,
			Annotations:  img.Annotations(),
		})
	}
	if filter != "" {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	return writeJSON(w, r, http.StatusOK, registry.MediaTypeOCIIndex, idx)
}
