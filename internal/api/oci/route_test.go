package oci

import "testing"

func TestParseRoute(t *testing.T) {
	const d = "sha256:6171c7451a50945f8ddd72f7732cc04d7a0d1f48138a426b2e64387fdeb834ed"
	cases := []struct {
		path string
		want route
		ok   bool
	}{
		{"/v2/", route{endpoint: endpointBase}, true},
		{"/v2", route{endpoint: endpointBase}, true},
		{"/v2/_catalog", route{endpoint: endpointCatalog}, true},
		{"/v2/app/blobs/" + d, route{endpointBlob, "app", d}, true},
		{"/v2/team/sub/deep/app/blobs/" + d, route{endpointBlob, "team/sub/deep/app", d}, true},
		{"/v2/app/blobs/uploads/", route{endpointUploads, "app", ""}, true},
		{"/v2/app/blobs/uploads", route{endpointUploads, "app", ""}, true},
		{"/v2/app/blobs/uploads/0b7c7e5e-1f3a-4c1e-9d1a-2b3c4d5e6f70", route{endpointUpload, "app", "0b7c7e5e-1f3a-4c1e-9d1a-2b3c4d5e6f70"}, true},
		{"/v2/app/manifests/latest", route{endpointManifest, "app", "latest"}, true},
		{"/v2/app/manifests/" + d, route{endpointManifest, "app", d}, true},
		{"/v2/app/tags/list", route{endpointTags, "app", ""}, true},
		{"/v2/app/referrers/" + d, route{endpointReferrers, "app", d}, true},
		// Names that look like endpoints.
		{"/v2/blobs/blobs/" + d, route{endpointBlob, "blobs", d}, true},
		{"/v2/x/manifests/y/manifests/latest", route{endpointManifest, "x/manifests/y", "latest"}, true},
		{"/v2/a/blobs/uploads/blobs/" + d, route{endpointBlob, "a/blobs/uploads", d}, true},
		{"/v2/tags/list/tags/list", route{endpointTags, "tags/list", ""}, true},
		{"/v2/manifests/manifests/manifests", route{endpointManifest, "manifests", "manifests"}, true},
		// Escapes: a tag may be escaped; a name segment may not hide a '/'.
		{"/v2/app/manifests/v%31", route{endpointManifest, "app", "v1"}, true},
		{"/v2/a%2Fb/blobs/" + d, route{}, false},
		{"/v2/a%2fb/manifests/latest", route{}, false},
		{"/v2/a/%zz/manifests/latest", route{}, false},
		// Nothing addressed.
		{"/v2/blobs/" + d, route{}, false},
		{"/v2/app/blobs/", route{}, false},
		{"/v2/app//blobs/" + d, route{}, false},
		{"/v2/app/unknown/x", route{}, false},
		{"/v3/app/blobs/" + d, route{}, false},
		{"/v2/app/manifests/", route{}, false},
	}
	for _, c := range cases {
		got, ok := parseRoute(c.path)
		if ok != c.ok || ok && got != c.want {
			t.Errorf("parseRoute(%q) = %+v, %v; want %+v, %v", c.path, got, ok, c.want, c.ok)
		}
	}
}
