package oci

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/ecrd/ecrd/internal/pullthrough"
	"github.com/ecrd/ecrd/internal/registry"
)

// tagPattern is the distribution spec's tag grammar. Tags pushed through
// /v2/ must match it; pulls pass any tag to the core, which finds none
// that is malformed.
var tagPattern = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)

// manifestTypes are the manifest media types a client may ask for.
var manifestTypes = []string{
	registry.MediaTypeDockerManifest, registry.MediaTypeDockerManifestList,
	registry.MediaTypeOCIManifest, registry.MediaTypeOCIIndex,
}

// isDigestRef reports whether a manifest reference is a digest: tags
// cannot contain ':'.
func isDigestRef(ref string) bool { return strings.Contains(ref, ":") }

// manifestPath is where a manifest of the repository is served.
func manifestPath(name string, d registry.Digest) string {
	return "/v2/" + name + "/manifests/" + string(d)
}

// acceptedTypes reads the Accept headers: the manifest media types the
// client takes, or nil for any. Types that are not manifest types
// (application/json from curl) say nothing about manifests and are
// ignored; */* accepts anything.
func acceptedTypes(r *http.Request) []string {
	var out []string
	for _, v := range r.Header.Values("Accept") {
		for _, part := range strings.Split(v, ",") {
			mt, _, _ := strings.Cut(part, ";")
			mt = strings.ToLower(strings.TrimSpace(mt))
			if mt == "*/*" {
				return nil
			}
			for _, known := range manifestTypes {
				if mt == known {
					out = append(out, mt)
				}
			}
		}
	}
	return out
}

// getManifest answers GET and HEAD of a manifest. By tag, a manifest of a
// type the client does not accept is converted between Docker and OCI
// when it can be, as ECR does; by digest, it never is (the digest names
// those exact bytes).
func (h *Handler) getManifest(w http.ResponseWriter, r *http.Request, rt route, key registry.RepoKey) error {
	id := registry.ImageID{Tag: rt.ref}
	accepted := acceptedTypes(r)
	if isDigestRef(rt.ref) {
		id, accepted = registry.ImageID{Digest: rt.ref}, nil
	}
	found, failures, err := h.reg.BatchGetImage(r.Context(), key, []registry.ImageID{id}, accepted)
	if h.o.PullThrough != nil && !h.o.Public {
		found, failures, err = h.pullThrough(r.Context(), key, rt.ref, id, accepted, found, failures, err)
	}
	if err != nil {
		return err
	}
	if len(failures) > 0 || len(found) == 0 {
		msg := "Requested image not found"
		if len(failures) > 0 {
			msg = failures[0].Reason
		}
		return newError(manifestUnknown, "%s", msg)
	}
	img := found[0].Image
	w.Header().Set("Content-Type", img.MediaType)
	w.Header().Set("Docker-Content-Digest", string(img.Digest))
	w.Header().Set("ETag", `"`+string(img.Digest)+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(img.Manifest)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(img.Manifest)
	}
	return nil
}

// pullThrough gives a repository under a pull through cache rule what a
// read of it missed, or a cached tag due a check upstream, and reads the
// image again; the read's own answer stands for any other repository.
func (h *Handler) pullThrough(ctx context.Context, key registry.RepoKey, ref string, id registry.ImageID, accepted []string,
	found []registry.FoundImage, failures []registry.ImageFailure, err error) ([]registry.FoundImage, []registry.ImageFailure, error) {
	missing := registry.IsCode(err, registry.CodeRepositoryNotFound) ||
		err == nil && len(found) == 0 && (len(failures) == 0 || failures[0].Code == registry.FailureImageNotFound)
	if !missing && (err != nil || isDigestRef(ref)) {
		return found, failures, err
	}
	switch perr := h.o.PullThrough.Pull(ctx, key, ref, !missing); {
	case errors.Is(perr, pullthrough.ErrNoRule):
		return found, failures, err
	case perr != nil:
		return nil, nil, perr
	}
	return h.reg.BatchGetImage(ctx, key, []registry.ImageID{id}, accepted)
}

// subjectOf returns the digest of a manifest's subject ("" for none).
func subjectOf(manifest []byte) string {
	var doc struct {
		Subject *struct {
			Digest string `json:"digest"`
		} `json:"subject"`
	}
	if json.Unmarshal(manifest, &doc) != nil || doc.Subject == nil {
		return ""
	}
	return doc.Subject.Digest
}

// putManifest stores a manifest under a tag or its digest. Putting a
// manifest the repository already has is success, as the spec wants.
func (h *Handler) putManifest(w http.ResponseWriter, r *http.Request, rt route, key registry.RepoKey) error {
	in := registry.NewImage{Key: key}
	if isDigestRef(rt.ref) {
		d, err := parseDigest(rt.ref)
		if err != nil {
			return err
		}
		in.Digest = string(d)
	} else {
		if !tagPattern.MatchString(rt.ref) {
			return newError(tagInvalid, "Invalid tag '%s': a tag must match %s", rt.ref, tagPattern)
		}
		in.Tag = rt.ref
	}
	if m := h.o.Memory; m != nil {
		// The body, and what parsing it costs, within the shared budget.
		n := r.ContentLength
		if n < 0 || n > maxManifestSize {
			n = maxManifestSize
		}
		ctx, cancel := context.WithTimeout(r.Context(), h.o.MemoryWait)
		held, err := m.Acquire(ctx, 2*n)
		cancel()
		if err != nil {
			return newError(tooManyRequests, "ecrd is holding as many request bodies as it is configured to; retry")
		}
		defer m.Release(held)
	}
	rb := &requestBody{r: http.MaxBytesReader(w, r.Body, maxManifestSize), req: r}
	body, err := io.ReadAll(rb)
	if err != nil {
		return rb.fault(err)
	}
	in.Manifest = body
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, _ := strings.Cut(ct, ";")
		in.MediaType = strings.ToLower(strings.TrimSpace(mt))
	}
	// The digest of a manifest is the sha256 of its bytes, whether this
	// put stored them or an earlier one did.
	digest := registry.Digest(fmt.Sprintf("sha256:%x", sha256.Sum256(body)))
	err = h.reg.CreatingOnPush(r.Context(), in.Key, func() error {
		_, err := h.reg.PutImage(r.Context(), in)
		return err
	})
	if err != nil && !registry.IsCode(err, registry.CodeImageAlreadyExists) {
		return err
	}
	if s := subjectOf(body); s != "" {
		w.Header().Set("OCI-Subject", s)
	}
	w.Header().Set("Location", manifestPath(rt.name, digest))
	w.Header().Set("Docker-Content-Digest", string(digest))
	noContent(w, http.StatusCreated)
	return nil
}

// deleteManifest deletes an image by digest (with all its tags) or one
// tag (the image stays while other tags or an index hold it).
func (h *Handler) deleteManifest(w http.ResponseWriter, r *http.Request, rt route, key registry.RepoKey) error {
	id := registry.ImageID{Tag: rt.ref}
	if isDigestRef(rt.ref) {
		d, err := parseDigest(rt.ref)
		if err != nil {
			return err
		}
		id = registry.ImageID{Digest: string(d)}
	}
	_, failures, err := h.reg.BatchDeleteImage(r.Context(), key, []registry.ImageID{id})
	if err != nil {
		return err
	}
	if len(failures) > 0 {
		return failureError(failures[0])
	}
	noContent(w, http.StatusAccepted)
	return nil
}
