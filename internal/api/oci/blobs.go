package oci

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/ecrd/ecrd/internal/registry"
)

// parseDigest parses a digest named in a path or query at the edge.
func parseDigest(s string) (registry.Digest, error) {
	d, err := registry.ParseDigest(s)
	if err != nil {
		return "", newError(digestInvalid, "Invalid digest '%s': %v", s, err)
	}
	return d, nil
}

// blobPath is where a blob of the repository is served.
func blobPath(name string, d registry.Digest) string {
	return "/v2/" + name + "/blobs/" + string(d)
}

// getBlob answers GET and HEAD of a blob. HEAD only stats it; GET streams
// it, with Range and conditional requests when the bytes can seek.
func (h *Handler) getBlob(w http.ResponseWriter, r *http.Request, rt route, key registry.RepoKey) error {
	d, err := parseDigest(rt.ref)
	if err != nil {
		return err
	}
	if r.Method == http.MethodHead {
		l, err := h.reg.StatBlob(r.Context(), key, string(d))
		if err != nil {
			return err
		}
		setBlobHeaders(w, l)
		w.Header().Set("Content-Length", strconv.FormatInt(l.Size, 10))
		w.WriteHeader(http.StatusOK)
		return nil
	}
	if h.reg.Redirects() {
		// The bytes come from the blob store (--blob-redirect); the
		// client sends its Range there. 307 keeps the method.
		l, u, err := h.reg.BlobLink(r.Context(), key, string(d))
		if err != nil {
			return err
		}
		w.Header().Set("Docker-Content-Digest", string(l.Digest))
		w.Header().Set("Location", u)
		w.WriteHeader(http.StatusTemporaryRedirect)
		return nil
	}
	l, rc, err := h.reg.OpenBlob(r.Context(), key, string(d), RangeStart(r))
	if err != nil {
		return err
	}
	defer rc.Close()
	setBlobHeaders(w, l)
	// ServeContent answers Range (206, or 416 when unsatisfiable) and
	// conditional requests, and lets net/http use sendfile for files.
	http.ServeContent(w, r, "", l.CreatedAt, rc)
	return nil
}

// RangeStart is where the bytes a GET asks for begin: the first byte of
// its Range when that is one range from a known offset, else 0. Opening a
// blob there spares a blob store that cannot seek a second request when
// http.ServeContent seeks to the range.
func RangeStart(r *http.Request) int64 {
	spec, ok := strings.CutPrefix(r.Header.Get("Range"), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return 0
	}
	first, _, ok := strings.Cut(strings.TrimSpace(spec), "-")
	n, err := strconv.ParseInt(first, 10, 64)
	if !ok || err != nil || n < 0 {
		return 0
	}
	return n
}

func setBlobHeaders(w http.ResponseWriter, l registry.Layer) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Docker-Content-Digest", string(l.Digest))
	w.Header().Set("ETag", `"`+string(l.Digest)+`"`)
}

// deleteBlob removes the layer from the repository; the bytes go when no
// repository holds them (garbage collection).
func (h *Handler) deleteBlob(w http.ResponseWriter, r *http.Request, rt route, key registry.RepoKey) error {
	d, err := parseDigest(rt.ref)
	if err != nil {
		return err
	}
	err = h.reg.DeleteLayer(r.Context(), key, string(d))
	if registry.IsCode(err, registry.CodeInvalidParameter) {
		// The digest parsed above, so the core refuses a layer that
		// images of the repository still refer to.
		return newError(inUse, "%s", messageOf(err))
	}
	if err != nil {
		return err
	}
	noContent(w, http.StatusAccepted)
	return nil
}
