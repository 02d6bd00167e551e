package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
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

// foreign reports a non-distributable layer that lives at its URLs, not in
// the registry (Windows base layers): a manifest may name it without the
// repository holding it, as ECR and the OCI spec allow.
func (d *descriptor) foreign() bool {
	mt := d.MediaType.v
	return len(d.URLs.items) > 0 && (strings.HasPrefix(mt, "application/vnd.oci.image.layer.nondistributable.") ||
		mt == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip")
}

// manifestDoc is the part of a manifest or index the registry checks or
// reads. The bytes themselves are stored as they came.
type manifestDoc struct {
	SchemaVersion jsonInt    `json:"schemaVersion"`
	MediaType     jsonStr    `json:"mediaType"`
	ArtifactType  jsonStr    `json:"artifactType"`
	Config        jsonDesc   `json:"config"`
	Layers        jsonDescs  `json:"layers"`
	Manifests     jsonDescs  `json:"manifests"`
	Subject       jsonDesc   `json:"subject"`
	Annotations   jsonStrMap `json:"annotations"`
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

// where names a member of the manifest in messages: name, then [index]
// when index >= 0, then .sub when sub is set ("layers[3].size"). It is
// turned into a string only for a message: a manifest of 25,000 layers
// would otherwise build 100,000 names it never shows.
type where struct {
	name  string
	index int
	sub   string
}

// top names a member at the top of the manifest.
func top(name string) where { return where{name: name, index: -1} }

// at names member sub of w.
func (w where) at(sub string) where { w.sub = sub; return w }

func (w where) String() string {
	s := w.name
	if w.index >= 0 {
		s += "[" + strconv.Itoa(w.index) + "]"
	}
	if w.sub != "" {
		s += "." + w.sub
	}
	return s
}

// wrongKind is the error for member w, whose value should be want but is
// of kind k (absent for a member that is missing).
func wrongKind(w where, want string, k jsonKind) *Error {
	if k == absent {
		return invalidManifest("%s is missing; it must be %s", w, want)
	}
	return invalidManifest("%s must be %s, not %s", w, want, k)
}

// parseManifest reads a manifest, refusing one whose members are not what
// the OCI image spec and Docker schema 2 say they are (null where a value
// is required is refused too). mediaType is the one the client gave beside
// it ("" for none); the manifest's own mediaType must agree with it, so
// that no document can be read as one type and stored as another
// (CVE-2021-41190).
func parseManifest(raw []byte, mediaType string) (parsedManifest, error) {
	var p parsedManifest
	var doc manifestDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		// Every member decodes whatever its type, so a type error is
		// the document's own: an array or a string, not an object.
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return p, invalidManifest("the manifest must be a JSON object, not %s", kindOf(bytes.TrimLeft(raw, " \t\r\n")))
		}
		return p, invalidManifest("the manifest is not valid JSON: %v", err)
	}
	if k := kindOf(bytes.TrimLeft(raw, " \t\r\n")); k != jsonObject { // null decodes into anything
		return p, invalidManifest("the manifest must be a JSON object, not %s", k)
	}
	if k := doc.MediaType.kind; k != absent && k != jsonString {
		return p, wrongKind(top("mediaType"), "a string", k)
	}
	switch own := doc.MediaType.v; {
	case mediaType == "" && own == "":
		return p, Errorf(CodeInvalidParameter, "Invalid parameter: the image manifest has no mediaType field and no imageManifestMediaType was given")
	case mediaType != "" && own != "" && mediaType != own:
		return p, Errorf(CodeInvalidParameter, "Invalid parameter: imageManifestMediaType '%s' does not match the manifest's mediaType '%s'", mediaType, own)
	case mediaType == "":
		mediaType = own
	}
	switch mediaType {
	case MediaTypeDockerManifest, MediaTypeOCIManifest, MediaTypeDockerManifestList, MediaTypeOCIIndex:
	default:
		return p, Errorf(CodeInvalidParameter, "Invalid parameter: unsupported manifest media type '%s'; ecrd accepts %s, %s, %s and %s",
			mediaType, MediaTypeDockerManifest, MediaTypeDockerManifestList, MediaTypeOCIManifest, MediaTypeOCIIndex)
	}
	switch sv := doc.SchemaVersion; {
	case sv.kind != jsonNumber:
		return p, wrongKind(top("schemaVersion"), "the number 2", sv.kind)
	case !sv.ok || sv.v != 2:
		return p, invalidManifest("schemaVersion must be 2, not %s", sv)
	}
	p.mediaType = mediaType
	if err := checkOptional(top("artifactType"), doc.ArtifactType); err != nil {
		return p, err
	}
	if err := checkAnnotations(top("annotations"), doc.Annotations); err != nil {
		return p, err
	}
	if doc.Subject.kind != absent {
		d, err := doc.Subject.check(top("subject"))
		if err != nil {
			return p, err
		}
		p.subject = d
	}
	var err error
	if isIndex(mediaType) {
		err = p.readIndex(&doc)
	} else {
		err = p.readImage(&doc)
	}
	if err != nil {
		return parsedManifest{}, err
	}
	return p, nil
}

// readIndex reads the children of a manifest list or OCI index.
func (p *parsedManifest) readIndex(doc *manifestDoc) error {
	if doc.Config.kind != absent || doc.Layers.kind != absent {
		return invalidManifest("a manifest list or index has no config or layers")
	}
	if doc.Manifests.kind != jsonArray {
		return wrongKind(top("manifests"), "an array", doc.Manifests.kind)
	}
	p.children = make([]Digest, 0, len(doc.Manifests.items))
	for i, m := range doc.Manifests.items {
		d, err := checkDescriptor(where{name: "manifests", index: i}, m)
		if err != nil {
			return err
		}
		p.children = append(p.children, d)
	}
	if err := doc.Manifests.checkRest("manifests"); err != nil {
		return err
	}
	p.artifactMediaType = doc.ArtifactType.v
	return nil
}

// readImage reads the config and layers of an image manifest. Foreign
// layers are checked like any other descriptor but are not blobs the
// repository must hold.
func (p *parsedManifest) readImage(doc *manifestDoc) error {
	if doc.Manifests.kind != absent {
		return invalidManifest("an image manifest has no manifests list")
	}
	if doc.Config.kind == absent {
		return invalidManifest("an image manifest needs a config descriptor")
	}
	d, err := doc.Config.check(top("config"))
	if err != nil {
		return err
	}
	cfg := &doc.Config.d
	if doc.Layers.kind != jsonArray {
		return wrongKind(top("layers"), "an array", doc.Layers.kind)
	}
	p.blobs = make([]ImageBlob, 0, 1+len(doc.Layers.items))
	p.blobs = append(p.blobs, ImageBlob{Digest: d, MediaType: cfg.MediaType.v, Size: cfg.Size.v})
	for i, l := range doc.Layers.items {
		d, err := checkDescriptor(where{name: "layers", index: i}, l)
		if err != nil {
			return err
		}
		if !l.foreign() {
			p.blobs = append(p.blobs, ImageBlob{Digest: d, MediaType: l.MediaType.v, Size: l.Size.v})
		}
	}
	if err := doc.Layers.checkRest("layers"); err != nil {
		return err
	}
	p.artifactMediaType = cfg.MediaType.v
	if doc.ArtifactType.v != "" {
		p.artifactMediaType = doc.ArtifactType.v
	}
	return nil
}

// check returns the digest of the descriptor member w, or the first thing
// wrong with it.
func (m *jsonDesc) check(w where) (Digest, error) {
	if m.kind != jsonObject {
		return "", wrongKind(w, "a descriptor object", m.kind)
	}
	return checkDescriptor(w, &m.d)
}

// checkRest reports the element of the array member name that is neither
// an object nor null, if there is one; the elements before it have been
// checked.
func (l *jsonDescs) checkRest(name string) error {
	if l.badKind != absent {
		return wrongKind(where{name: name, index: l.badAt}, "a descriptor object", l.badKind)
	}
	return nil
}

// checkDescriptor returns the digest of descriptor w, or the first thing
// wrong with it; d is nil for null.
func checkDescriptor(w where, d *descriptor) (Digest, error) {
	if d == nil {
		return "", wrongKind(w, "a descriptor object", jsonNull)
	}
	if d.MediaType.kind != jsonString {
		return "", wrongKind(w.at("mediaType"), "a string", d.MediaType.kind)
	}
	if d.Digest.kind != jsonString {
		return "", wrongKind(w.at("digest"), "a string", d.Digest.kind)
	}
	digest, err := ParseDigest(d.Digest.v)
	if err != nil {
		return "", invalidManifest("%s: %v", w.at("digest"), err)
	}
	switch {
	case d.Size.kind != jsonNumber:
		return "", wrongKind(w.at("size"), "a non-negative integer", d.Size.kind)
	case !d.Size.ok || d.Size.v < 0:
		return "", invalidManifest("%s must be a non-negative integer, not %s", w.at("size"), d.Size)
	}
	if k := d.URLs.kind; k != absent && k != jsonArray {
		return "", wrongKind(w.at("urls"), "an array of strings", k)
	}
	for i, u := range d.URLs.items {
		if u.kind != jsonString {
			return "", wrongKind(w.at(fmt.Sprintf("urls[%d]", i)), "a string", u.kind)
		}
	}
	if err := checkAnnotations(w.at("annotations"), d.Annotations); err != nil {
		return "", err
	}
	if err := checkOptional(w.at("artifactType"), d.ArtifactType); err != nil {
		return "", err
	}
	return digest, nil
}

// checkOptional checks member w, which may be missing but is otherwise a
// string.
func checkOptional(w where, s jsonStr) error {
	if s.kind != absent && s.kind != jsonString {
		return wrongKind(w, "a string", s.kind)
	}
	return nil
}

// checkAnnotations checks the annotations member w, which may be missing
// but is otherwise an object of strings.
func checkAnnotations(w where, m jsonStrMap) error {
	if m.kind != absent && m.kind != jsonObject {
		return wrongKind(w, "an object of strings", m.kind)
	}
	if m.badKind != absent {
		return invalidManifest("%s[%q] must be a string, not %s", w, m.badKey, m.badKind)
	}
	return nil
}

// ManifestReferences returns what a manifest refers to, as PutImage
// reads it: an image's config and layers (its blobs, foreign layers left
// out), an index's children. What copies an image (the pull through
// cache, replication) copies these first. Errors: InvalidParameter.
func ManifestReferences(raw []byte, mediaType string) ([]ImageBlob, []Digest, error) {
	p, err := parseManifest(raw, mediaType)
	return p.blobs, p.children, err
}
