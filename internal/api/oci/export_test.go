package oci

// RouteInfo is one row of the route table, for tests.
type RouteInfo struct {
	Endpoint       int
	Method, Access string
	Action         string
}

// Endpoints lists every endpoint the router can produce.
var Endpoints = []int{int(endpointBase), int(endpointCatalog), int(endpointBlob), int(endpointUploads),
	int(endpointUpload), int(endpointManifest), int(endpointTags), int(endpointReferrers)}

// Routes returns h's route table.
func Routes(h *Handler) []RouteInfo {
	names := map[access]string{accessUndecided: "undecided", accessLogin: "login", accessRead: "read", accessWrite: "write"}
	var out []RouteInfo
	for e, ms := range h.routes {
		for m, op := range ms {
			out = append(out, RouteInfo{Endpoint: int(e), Method: m, Access: names[op.access], Action: op.action})
		}
	}
	return out
}
