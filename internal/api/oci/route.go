// Package oci is the OCI Distribution API front end (/v2/). This file
// routes request paths; repository names contain '/', so a path is read
// from the right, where the endpoint's fixed segments are.
package oci

import (
	"net/url"
	"strings"
)

// endpoint names what a /v2/ path addresses.
type endpoint int

// The endpoints of the distribution spec.
const (
	endpointBase      endpoint = iota + 1 // /v2/
	endpointCatalog                       // /v2/_catalog
	endpointBlob                          // /v2/<name>/blobs/<digest>
	endpointUploads                       // /v2/<name>/blobs/uploads/
	endpointUpload                        // /v2/<name>/blobs/uploads/<id>
	endpointManifest                      // /v2/<name>/manifests/<reference>
	endpointTags                          // /v2/<name>/tags/list
	endpointReferrers                     // /v2/<name>/referrers/<digest>
)

// route is a parsed /v2/ path. Name and Ref are unescaped; neither has
// been validated beyond its shape.
type route struct {
	endpoint endpoint
	name     string // repository name
	ref      string // digest, tag or upload ID, by endpoint
}

// parseRoute parses the escaped path of a /v2/ request. It returns false
// for paths that address nothing (answered 404 NAME_UNKNOWN or
// NAME_INVALID by the caller). A segment that unescapes to contain '/'
// ("a%2Fb") is refused: it would let one name be spelt two ways.
func parseRoute(escaped string) (route, bool) {
	rest, ok := strings.CutPrefix(escaped, "/v2/")
	if !ok {
		if escaped == "/v2" {
			return route{endpoint: endpointBase}, true
		}
		return route{}, false
	}
	switch rest {
	case "":
		return route{endpoint: endpointBase}, true
	case "_catalog":
		return route{endpoint: endpointCatalog}, true
	}
	segs := strings.Split(rest, "/")
	for i, s := range segs {
		u, err := url.PathUnescape(s)
		if err != nil || strings.Contains(u, "/") {
			return route{}, false
		}
		segs[i] = u
	}
	n := len(segs)
	at := func(i int) string { // segment i from the right, 1-based
		if i > n {
			return ""
		}
		return segs[n-i]
	}
	name := func(fixed int) (string, bool) {
		if n-fixed < 1 {
			return "", false
		}
		parts := segs[:n-fixed]
		for _, p := range parts {
			if p == "" {
				return "", false
			}
		}
		return strings.Join(parts, "/"), true
	}
	var r route
	var fixed int
	switch {
	case at(2) == "tags" && at(1) == "list":
		r, fixed = route{endpoint: endpointTags}, 2
	case at(3) == "blobs" && at(2) == "uploads" && at(1) == "":
		r, fixed = route{endpoint: endpointUploads}, 3
	case at(2) == "blobs" && at(1) == "uploads":
		r, fixed = route{endpoint: endpointUploads}, 2
	case at(3) == "blobs" && at(2) == "uploads" && at(1) != "":
		r, fixed = route{endpoint: endpointUpload, ref: at(1)}, 3
	case at(2) == "blobs" && at(1) != "":
		r, fixed = route{endpoint: endpointBlob, ref: at(1)}, 2
	case at(2) == "manifests" && at(1) != "":
		r, fixed = route{endpoint: endpointManifest, ref: at(1)}, 2
	case at(2) == "referrers" && at(1) != "":
		r, fixed = route{endpoint: endpointReferrers, ref: at(1)}, 2
	default:
		return route{}, false
	}
	if r.name, ok = name(fixed); !ok {
		return route{}, false
	}
	return r, true
}
