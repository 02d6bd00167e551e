package oci

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/ecrd/ecrd/internal/registry"
)

// uploadPath is where an upload session lives.
func uploadPath(name string, id registry.UploadID) string {
	return "/v2/" + name + "/blobs/uploads/" + string(id)
}

// byteRange is the Range header of an upload holding size bytes. The spec
// has "0-0" for an empty upload, inclusive ranges otherwise.
func byteRange(size int64) string {
	return fmt.Sprintf("0-%d", max(size-1, 0))
}

// parseUploadID parses the session in the path; a malformed one names no
// upload.
func parseUploadID(s string) (registry.UploadID, error) {
	id, err := registry.ParseUploadID(s)
	if err != nil {
		return "", newError(blobUploadUnknown, "The upload '%s' does not exist", s)
	}
	return id, nil
}

// blobBody bounds a request body at the largest layer the core accepts.
func (h *Handler) blobBody(w http.ResponseWriter, r *http.Request) *requestBody {
	return &requestBody{r: http.MaxBytesReader(w, r.Body, h.reg.Limits().MaxLayerSize), req: r}
}

// writeUploadState answers with where the upload stands.
func writeUploadState(w http.ResponseWriter, status int, name string, id registry.UploadID, size int64) {
	w.Header().Set("Location", uploadPath(name, id))
	w.Header().Set("Range", byteRange(size))
	w.Header().Set("Docker-Upload-UUID", string(id))
	noContent(w, status)
}

// writeBlobCreated answers a blob that is now in the repository.
func writeBlobCreated(w http.ResponseWriter, name string, d registry.Digest) {
	w.Header().Set("Location", blobPath(name, d))
	w.Header().Set("Docker-Content-Digest", string(d))
	noContent(w, http.StatusCreated)
}

// startUpload answers POST …/blobs/uploads/: a cross-repository mount
// (?mount=&from=), a monolithic upload (?digest= with the body), or a new
// upload session.
func (h *Handler) startUpload(w http.ResponseWriter, r *http.Request, rt route, key registry.RepoKey) error {
	ctx := r.Context()
	q := r.URL.Query()
	if mount := q.Get("mount"); mount != "" {
		d, err := parseDigest(mount)
		if err != nil {
			return err
		}
		// A source that is malformed or lacks the blob is no error: the
		// spec has the client upload the blob instead.
		// So is a source in another registry: blobs mount within one.
		if from, ferr := h.repoKey(ctx, r.Host, q.Get("from")); ferr == nil && from.Registry == key.Registry {
			var l registry.Layer
			err := h.reg.CreatingOnPush(ctx, key, func() (err error) {
				l, err = h.reg.MountBlob(ctx, key, from.Name, string(d))
				return err
			})
			switch {
			case err == nil:
				writeBlobCreated(w, rt.name, l.Digest)
				return nil
			case !registry.IsCode(err, registry.CodeLayersNotFound):
				return err
			}
		}
	}
	var want registry.Digest
	if s := q.Get("digest"); s != "" && q.Get("mount") == "" {
		d, err := parseDigest(s)
		if err != nil {
			return err
		}
		want = d
	}
	var u registry.Upload
	err := h.reg.CreatingOnPush(ctx, key, func() (err error) {
		u, err = h.reg.InitiateLayerUpload(ctx, key)
		return err
	})
	if err != nil {
		return err
	}
	if want == "" {
		writeUploadState(w, http.StatusAccepted, rt.name, u.ID, 0)
		return nil
	}
	d, err := h.appendAndFinish(w, r, key, u.ID, 0, r.ContentLength, want)
	if err != nil {
		h.cancel(ctx, key, u.ID)
		return err
	}
	writeBlobCreated(w, rt.name, d)
	return nil
}

// patchUpload appends a chunk: at Content-Range's start when given (it must
// be where the upload stands), else streamed after what the upload holds.
func (h *Handler) patchUpload(w http.ResponseWriter, r *http.Request, rt route, key registry.RepoKey) error {
	id, err := parseUploadID(rt.ref)
	if err != nil {
		return err
	}
	offset, n, err := h.chunk(r, key, id)
	if err != nil {
		return err
	}
	body := h.blobBody(w, r)
	size, err := h.reg.AppendUpload(r.Context(), key, id, offset, n, body)
	if err != nil {
		return body.fault(err)
	}
	writeUploadState(w, http.StatusAccepted, rt.name, id, size)
	return nil
}

// finishUpload completes an upload with ?digest=, after appending the
// final chunk the request may carry.
func (h *Handler) finishUpload(w http.ResponseWriter, r *http.Request, rt route, key registry.RepoKey) error {
	id, err := parseUploadID(rt.ref)
	if err != nil {
		return err
	}
	want, err := parseDigest(r.URL.Query().Get("digest"))
	if err != nil {
		return err
	}
	offset, n := int64(-1), int64(0)
	if r.ContentLength != 0 {
		if offset, n, err = h.chunk(r, key, id); err != nil {
			return err
		}
	}
	d, err := h.appendAndFinish(w, r, key, id, offset, n, want)
	if err != nil {
		if registry.IsCode(err, registry.CodeInvalidLayer, registry.CodeInvalidParameter) {
			// Bytes that do not match their digest are of no use to
			// anyone: the upload goes, as in distribution.
			h.cancel(r.Context(), key, id)
		}
		return err
	}
	writeBlobCreated(w, rt.name, d)
	return nil
}

// appendAndFinish appends the body at offset (none when offset is -1 or
// the body is empty) and completes the upload as want.
func (h *Handler) appendAndFinish(w http.ResponseWriter, r *http.Request, key registry.RepoKey, id registry.UploadID, offset, n int64, want registry.Digest) (registry.Digest, error) {
	if offset >= 0 && n != 0 {
		body := h.blobBody(w, r)
		_, err := h.reg.AppendUpload(r.Context(), key, id, offset, n, body)
		var de *registry.Error
		switch {
		case err == nil:
		case errors.As(err, &de) && de.Code == registry.CodeInvalidLayerPart && de.Upload != nil && de.Upload.LastValidByte+1 == offset+n:
			// The upload already ends where this final chunk would: a
			// retry of a PUT whose chunk an earlier attempt appended
			// before it failed. The digest checks the bytes.
		default:
			return "", body.fault(err)
		}
	}
	return h.reg.FinishUpload(r.Context(), key, id, string(want))
}

// chunk returns where a chunk starts and how long it is (-1: unknown,
// streamed). Without Content-Range the chunk follows what the upload holds.
func (h *Handler) chunk(r *http.Request, key registry.RepoKey, id registry.UploadID) (offset, n int64, err error) {
	n = r.ContentLength
	cr := r.Header.Get("Content-Range")
	if cr == "" {
		u, err := h.reg.UploadStatus(r.Context(), key, id)
		if err != nil {
			return 0, 0, err
		}
		return u.Size, n, nil
	}
	start, end, ok := parseContentRange(cr)
	if !ok {
		return 0, 0, newError(blobUploadInvalid, "Invalid Content-Range '%s': expected <start>-<end>", cr)
	}
	if n >= 0 && n != end-start+1 {
		return 0, 0, newError(blobUploadInvalid, "Content-Range '%s' spans %d bytes but Content-Length is %d", cr, end-start+1, n)
	}
	return start, end - start + 1, nil
}

// parseContentRange reads the spec's "<start>-<end>", and also RFC 9110's
// "bytes <start>-<end>/<size>" that some clients send. The numbers are
// digits only (no sign), and the range's length must fit an int64.
func parseContentRange(s string) (start, end int64, ok bool) {
	s = strings.TrimSpace(s)
	if rest, found := strings.CutPrefix(s, "bytes"); found {
		s = strings.TrimLeft(rest, " =")
	}
	s, _, _ = strings.Cut(s, "/")
	a, b, found := strings.Cut(s, "-")
	if !found || !digits(a) || !digits(b) {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || end < start || end-start == math.MaxInt64 {
		return 0, 0, false
	}
	return start, end, true
}

// digits reports whether s is one or more ASCII digits.
func digits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// uploadStatus answers GET of an upload: where it stands.
func (h *Handler) uploadStatus(w http.ResponseWriter, r *http.Request, rt route, key registry.RepoKey) error {
	id, err := parseUploadID(rt.ref)
	if err != nil {
		return err
	}
	u, err := h.reg.UploadStatus(r.Context(), key, id)
	if err != nil {
		return err
	}
	writeUploadState(w, http.StatusNoContent, rt.name, id, u.Size)
	return nil
}

// cancelUpload answers DELETE of an upload.
func (h *Handler) cancelUpload(w http.ResponseWriter, r *http.Request, rt route, key registry.RepoKey) error {
	id, err := parseUploadID(rt.ref)
	if err != nil {
		return err
	}
	if err := h.reg.CancelUpload(r.Context(), key, id); err != nil {
		return err
	}
	noContent(w, http.StatusNoContent)
	return nil
}

// cancel drops an upload that failed, even if the client has gone; one
// already gone is fine, and anything else only logged (the reaper will
// expire it).
func (h *Handler) cancel(ctx context.Context, key registry.RepoKey, id registry.UploadID) {
	err := h.reg.CancelUpload(context.WithoutCancel(ctx), key, id)
	if err != nil && !registry.IsCode(err, registry.CodeUploadNotFound) {
		h.log.Warn("could not cancel a failed upload", "upload", id, "err", err)
	}
}
