package oci_test

import (
	"net/http"
	"testing"

	"github.com/ecrd/ecrd/internal/api/oci"
)

// TestCreateOnPush: a push to a missing repository is refused as ECR
// refuses it, unless CreateOnPush is set, when the repository is made.
func TestCreateOnPush(t *testing.T) {
	refused := newEnv(t)
	refused.do("POST", "/v2/new/repo/blobs/uploads/", nil).want(t, http.StatusNotFound, "NAME_UNKNOWN")

	e := newEnv(t, func(o *oci.Options) { o.CreateOnPush = true })
	d := e.pushBlob("new/repo", []byte("first blob of a new repository"))
	e.do("HEAD", "/v2/new/repo/blobs/"+d, nil).want(t, http.StatusOK, "")
	e.putManifest("fresh/by-manifest", "v1", e.image("fresh/by-manifest", nil))
	e.do("GET", "/v2/fresh/by-manifest/manifests/v1", nil).want(t, http.StatusOK, "")
}
