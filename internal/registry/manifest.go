package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Manifest media types ecrd accepts.
const (
	MediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeOCIManifest        = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeOCIIndex           = "application/vnd.oci.image.index.v1+json"
)

// isIndex reports whether a manifest media type lists other manifests.
func isIndex(mediaType string) bool {
	return mediaType == MediaTypeDockerManifestList || mediaType == MediaTypeOCIIndex
}

// descriptor is the part of an OCI/Docker descriptor the registry reads.
type descriptor struct {
	MediaType    string   `json:"mediaType"`
	Digest       string   `json:"digest"`
	Size         int64    `json:"size"`
	ArtifactType string   `json:"artifactType"`
	URLs         []string `json:"urls"`
}

// foreign reports a non-distributable layer that lives at its URLs, not in
// the registry (Windows base layers): a manifest may name it without the
// repository holding it, as ECR and the OCI spec allow.
func (d descriptor) foreign() bool {
	return len(d.URLs) > 0 && (strings.HasPrefix(d.MediaType, "application/vnd.oci.image.layer.nondistributable.") ||
		d.MediaType == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip")
}

// manifestDoc is the part of a manifest or index the registry reads. The
// bytes themselves are stored as they came.
type manifestDoc struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	ArtifactType  string       `json:"artifactType"`
	Config        *descriptor  `json:"config"`
	Layers        []descriptor `json:"layers"`
	Manifests     []descriptor `json:"manifests"`
	Subject       *descriptor  `json:"subject"`
}

// parsedManifest is what PutImage learns from a manifest before checking
// it against the repository.
type parsedManifest struct {
	mediaType         string
	artifactMediaType string
	blobs             []ImageBlob
	children          []Digest
	subject           Digest
}

func invalidManifest(format string, args ...any) *Error {
	return Errorf(CodeInvalidParameter, "Invalid parameter at 'imageManifest': "+format, args...)
}

// parseManifest reads a manifest. mediaType is the one the client gave
// beside it ("" for none); the manifest's own mediaType must agree with it,
// so that no document can be read as one type and stored as another
// (CVE-2021-41190).
func parseManifest(raw []byte, mediaType string) (parsedManifest, error) {
	var p parsedManifest
	var doc manifestDoc
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&doc); err != nil {
		return p, invalidManifest("the manifest is not valid JSON: %v", err)
	}
	if dec.More() {
		return p, invalidManifest("the manifest has data after its JSON document")
	}
	switch {
	case mediaType == "" && doc.MediaType == "":
		return p, Errorf(CodeInvalidParameter, "Invalid parameter: the image manifest has no mediaType field and no imageManifestMediaType was given")
	case mediaType != "" && doc.MediaType != "" && mediaType != doc.MediaType:
		return p, Errorf(CodeInvalidParameter, "Invalid parameter: imageManifestMediaType '%s' does not match the manifest's mediaType '%s'", mediaType, doc.MediaType)
	case mediaType == "":
		mediaType = doc.MediaType
	}
	switch mediaType {
	case MediaTypeDockerManifest, MediaTypeOCIManifest, MediaTypeDockerManifestList, MediaTypeOCIIndex:
	default:
		return p, Errorf(CodeInvalidParameter, "Invalid parameter: unsupported manifest media type '%s'; ecrd accepts %s, %s, %s and %s",
			mediaType, MediaTypeDockerManifest, MediaTypeDockerManifestList, MediaTypeOCIManifest, MediaTypeOCIIndex)
	}
	if doc.SchemaVersion != 2 {
		return p, invalidManifest("schemaVersion must be 2, not %d", doc.SchemaVersion)
	}
	p.mediaType = mediaType
	if doc.Subject != nil {
		d, err := ParseDigest(doc.Subject.Digest)
		if err != nil {
			return p, invalidManifest("subject: %v", err)
		}
		p.subject = d
	}
	if isIndex(mediaType) {
		if doc.Config != nil || doc.Layers != nil {
			return p, invalidManifest("a manifest list or index has no config or layers")
		}
		for i, m := range doc.Manifests {
			d, err := ParseDigest(m.Digest)
			if err != nil {
				return p, invalidManifest("manifests[%d]: %v", i, err)
			}
			p.children = append(p.children, d)
		}
		p.artifactMediaType = doc.ArtifactType
		return p, nil
	}
	if doc.Manifests != nil {
		return p, invalidManifest("an image manifest has no manifests list")
	}
	if doc.Config == nil {
		return p, invalidManifest("an image manifest needs a config descriptor")
	}
	all := append([]descriptor{*doc.Config}, doc.Layers...)
	for i, l := range all {
		if i > 0 && l.foreign() {
			continue
		}
		d, err := ParseDigest(l.Digest)
		if err != nil {
			what := "config"
			if i > 0 {
				what = fmt.Sprintf("layers[%d]", i-1)
			}
			return p, invalidManifest("%s: %v", what, err)
		}
		if l.Size < 0 {
			return p, invalidManifest("a descriptor has a negative size")
		}
		p.blobs = append(p.blobs, ImageBlob{Digest: d, MediaType: l.MediaType, Size: l.Size})
	}
	p.artifactMediaType = doc.Config.MediaType
	if doc.ArtifactType != "" {
		p.artifactMediaType = doc.ArtifactType
	}
	return p, nil
}
