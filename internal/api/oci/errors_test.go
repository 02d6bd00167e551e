package oci

import (
	"errors"
	"net/http"
	"testing"

	"github.com/ecrd/ecrd/internal/registry"
)

// TestErrorTable walks every domain code through the table: each has an
// answer with a code and a client error status, on every endpoint, but an
// upstream that could not give an image, which is the server side's
// (503: a client may try again later).
func TestErrorTable(t *testing.T) {
	for _, c := range registry.Codes {
		for _, ep := range []endpoint{endpointBlob, endpointUploads, endpointUpload, endpointManifest, endpointTags, endpointReferrers} {
			we, ok := mapError(registry.Errorf(c, "message of %s", c), route{endpoint: ep, name: "app"})
			if !ok {
				t.Errorf("%s on endpoint %d: no answer", c, ep)
				continue
			}
			lo, hi := 400, 499
			if c == registry.CodeUpstreamUnavailable {
				lo, hi = http.StatusServiceUnavailable, http.StatusServiceUnavailable
			}
			if we.Code == "" || we.Status < lo || we.Status > hi || we.Message != "message of "+string(c) {
				t.Errorf("%s on endpoint %d: %+v", c, ep, we)
			}
		}
	}
	if _, ok := mapError(errors.New("disk on fire"), route{}); ok {
		t.Error("an unexpected error has a table answer")
	}
}

func TestErrorTableContext(t *testing.T) {
	cases := []struct {
		code registry.Code
		ep   endpoint
		want wireCode
	}{
		{registry.CodeLayersNotFound, endpointBlob, blobUnknown},
		{registry.CodeLayersNotFound, endpointManifest, manifestBlobUnknown},
		{registry.CodeInvalidParameter, endpointManifest, manifestInvalid},
		{registry.CodeInvalidParameter, endpointBlob, digestInvalid},
		{registry.CodeRepositoryNotFound, endpointTags, nameUnknown},
		{registry.CodeAccessDenied, endpointUploads, denied},
		{registry.CodeImageTagAlreadyExists, endpointManifest, tagInvalid},
		{registry.CodeReferencedImagesNotFound, endpointManifest, manifestBlobUnknown},
	}
	for _, c := range cases {
		we, _ := mapError(registry.Errorf(c.code, "m"), route{endpoint: c.ep})
		if we.wireCode != c.want {
			t.Errorf("%s on %d: %v, want %v", c.code, c.ep, we.wireCode, c.want)
		}
	}
}

func TestRangeInvalidCarriesUploadState(t *testing.T) {
	err := &registry.Error{Code: registry.CodeInvalidLayerPart, Message: "m",
		Upload: &registry.UploadPosition{Name: "team/app", ID: "0b7c7e5e-1f3a-4c1e-9d1a-2b3c4d5e6f70", LastValidByte: 9}}
	we, _ := mapError(err, route{endpoint: endpointUpload})
	if we.Status != http.StatusRequestedRangeNotSatisfiable || we.Header.Get("Range") != "0-9" ||
		we.Header.Get("Location") != "/v2/team/app/blobs/uploads/0b7c7e5e-1f3a-4c1e-9d1a-2b3c4d5e6f70" {
		t.Errorf("%+v", we)
	}
}
