package oci_test

import (
	"net/http"
	"testing"

	"github.com/ecrd/ecrd/internal/registry"
)

// TestManifestPullRecorded: a /v2/ manifest pull is a pull for ECR too:
// DescribeImages' lastRecordedPullTime moves.
func TestManifestPullRecorded(t *testing.T) {
	e := newEnv(t)
	d := e.putManifest(repo, "v1", e.image(repo, nil))
	key := registry.RepoKey{Name: repo}
	before, _, err := e.reg.DescribeImages(callerCtx(), key, []registry.ImageID{{Digest: d}}, registry.ImageFilter{}, registry.Page{})
	if err != nil || !before[0].LastPulledAt.IsZero() {
		t.Fatalf("before a pull: %+v, %v", before, err)
	}
	e.do("GET", "/v2/"+repo+"/manifests/v1", nil).want(t, http.StatusOK, "")
	after, _, err := e.reg.DescribeImages(callerCtx(), key, []registry.ImageID{{Digest: d}}, registry.ImageFilter{}, registry.Page{})
	if err != nil || after[0].LastPulledAt.IsZero() {
		t.Fatalf("after a pull: %+v, %v", after, err)
	}
}
