package registry

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
)

// digestGrammar is the canonical digest grammar, written independently of
// ParseDigest: exactly the algorithms ecrd supports, lower-case hex of the
// algorithm's length, nothing before or after.
var digestGrammar = regexp.MustCompile(`^(?:sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$`)

const (
	fuzzHex64  = "6171c7451a50945f8ddd72f7732cc04d7a0d1f48138a426b2e64387fdeb834ed"
	fuzzHex128 = fuzzHex64 + fuzzHex64
)

// FuzzParseDigest: no input panics ParseDigest; it accepts exactly the
// canonical grammar; an accepted digest is the input itself, and
// Algorithm and Hex split it at its colon.
func FuzzParseDigest(f *testing.F) {
	for _, s := range []string{
		"sha256:" + fuzzHex64,
		"sha512:" + fuzzHex128,
		"sha256:" + strings.ToUpper(fuzzHex64),
		"sha256:" + fuzzHex64[1:],
		"sha256:" + fuzzHex64 + "0",
		"sha512:" + fuzzHex64,
		"sha384:" + fuzzHex64 + fuzzHex64[:32],
		"SHA256:" + fuzzHex64,
		" sha256:" + fuzzHex64,
		"sha256:" + fuzzHex64 + "\n",
		"sha256::" + fuzzHex64[1:],
		"sha256:" + fuzzHex64[:63] + "g",
		"sha256",
		":",
		"",
		"sha256:",
		"sha256:" + fuzzHex64[:32] + "\x00" + fuzzHex64[33:],
		"sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDigest(s)
		if want := digestGrammar.MatchString(s); (err == nil) != want {
			t.Fatalf("ParseDigest(%q) = %q, %v; the grammar says accepted=%v", s, d, err, want)
		}
		if err != nil {
			if d != "" {
				t.Fatalf("ParseDigest(%q) refused it (%v) but returned %q", s, err, d)
			}
			return
		}
		if string(d) != s {
			t.Fatalf("ParseDigest(%q) = %q: not the input", s, d)
		}
		alg, hex := d.Algorithm(), d.Hex()
		if alg+":"+hex != s || strings.Contains(alg, ":") || strings.Contains(hex, ":") {
			t.Fatalf("%q splits into %q and %q", s, alg, hex)
		}
		if want := map[string]int{"sha256": 64, "sha512": 128}[alg]; len(hex) != want {
			t.Fatalf("%q: algorithm %q with %d hex characters", s, alg, len(hex))
		}
	})
}

// fuzzManifestTypes are the media types parseManifest may answer with.
var fuzzManifestTypes = map[string]bool{
	MediaTypeDockerManifest: true, MediaTypeDockerManifestList: true,
	MediaTypeOCIManifest: true, MediaTypeOCIIndex: true,
}

// FuzzParseManifest checks what holds for any correct parseManifest,
// however strict: no input panics it; whatever is not JSON is refused,
// with a domain error (anything else would be a 500); an accepted
// document has one of the four supported media types, the client's when
// it gave one; an index names no blobs and an image manifest no
// children; every digest it returns is canonical and every size is
// non-negative.
func FuzzParseManifest(f *testing.F) {
	const (
		cfg   = "sha256:" + fuzzHex64
		layer = "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"
		child = "sha256:e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f"
	)
	seeds := []struct{ raw, mediaType string }{
		// docker push of a one-layer image.
		{`{
   "schemaVersion": 2,
   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
   "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1469, "digest": "` + cfg + `"},
   "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 3370706, "digest": "` + layer + `"}]
}`, ""},
		// The same, with the type given beside it (PutImage's imageManifestMediaType).
		{`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1469,"digest":"` + cfg + `"},"layers":[]}`, MediaTypeDockerManifest},
		// A type given beside a document that disagrees (CVE-2021-41190).
		{`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`, MediaTypeOCIManifest},
		// As files on disk and crane's output end: with a newline.
		{`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + child + `","size":7143}]}` + "\n", ""},
		// An OCI manifest without mediaType, typed by the client.
		{`{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,"digest":"` + cfg + `"},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":32,"digest":"` + layer + `"}]}`, MediaTypeOCIManifest},
		// An OCI artifact with a subject, as oras and cosign push.
		{`{
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "artifactType": "application/vnd.example.sbom.v1",
  "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 2, "data": "e30="},
  "layers": [{"mediaType": "application/spdx+json", "digest": "` + layer + `", "size": 1024, "annotations": {"org.opencontainers.image.title": "sbom.spdx.json"}}],
  "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "` + child + `", "size": 7682},
  "annotations": {"org.opencontainers.image.created": "2024-01-02T03:04:05Z"}
}`, ""},
		// A Windows image whose base layer is foreign (urls, not in the registry).
		{`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1,"digest":"` + cfg + `"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip","size":1,"digest":"sha256:bogus","urls":["https://mcr.microsoft.com/v2/windows/blobs/x"]},{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":5,"digest":"` + layer + `"}]}`, ""},
		// A multi-arch Docker manifest list.
		{`{
   "schemaVersion": 2,
   "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
   "manifests": [
      {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 528, "digest": "` + child + `", "platform": {"architecture": "amd64", "os": "linux"}},
      {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 528, "digest": "` + cfg + `", "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}}
   ]
}`, ""},
		// An OCI index with an artifactType and a subject.
		{`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","artifactType":"application/vnd.example","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + child + `","size":7143,"platform":{"architecture":"ppc64le","os":"linux"}}],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + cfg + `","size":1}}`, MediaTypeOCIIndex},
		// Empty index; index with layers; image manifest with manifests.
		{`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`, ""},
		{`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[],"layers":[]}`, ""},
		{`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"` + cfg + `","size":1},"manifests":[]}`, ""},
		// Malformed: schema 1, nulls, wrong types, negative size, bad digests.
		{`{"schemaVersion":1,"name":"library/busybox","tag":"latest","architecture":"amd64","fsLayers":[{"blobSum":"` + layer + `"}]}`, "application/vnd.docker.distribution.manifest.v1+prettyjws"},
		{`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":null,"layers":null}`, ""},
		{`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":null}`, ""},
		{`{"schemaVersion":"2","mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"` + cfg + `","size":"1"}}`, ""},
		{`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"` + cfg + `","size":-1},"layers":[]}`, ""},
		{`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"SHA256:` + fuzzHex64 + `","size":1},"layers":[{"digest":"","size":0}]}`, ""},
		{`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"` + cfg + `","size":1},"layers":[],"subject":{}}`, ""},
		{`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"` + cfg + `","size":1},"layers":[]} {}`, ""},
		{`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","MediaType":"application/vnd.oci.image.index.v1+json","config":{"digest":"` + cfg + `","size":1}}`, ""},
		{`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"` + cfg + `","size":1e3}}`, ""},
		// Data after the document. A json.Decoder that asks More() after
		// the first value takes a trailing ']' or '}' for the end of input.
		{`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}]`, ""},
		{`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]} }`, ""},
		{`[]`, ""},
		{`null`, MediaTypeOCIManifest},
		{``, ""},
		{"\xef\xbb\xbf{}", ""},
	}
	for _, s := range seeds {
		f.Add([]byte(s.raw), s.mediaType)
	}
	f.Fuzz(func(t *testing.T, raw []byte, mediaType string) {
		p, err := parseManifest(raw, mediaType)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code == "" {
				t.Fatalf("parseManifest(%q, %q) refused it with %T %v, not a domain error", raw, mediaType, err, err)
			}
			return
		}
		if !json.Valid(raw) {
			t.Fatalf("parseManifest(%q, %q) accepted a document that is not JSON: %+v", raw, mediaType, p)
		}
		if !fuzzManifestTypes[p.mediaType] {
			t.Fatalf("parseManifest(%q, %q) accepted media type %q", raw, mediaType, p.mediaType)
		}
		if mediaType != "" && p.mediaType != mediaType {
			t.Fatalf("parseManifest(%q, %q) read it as %q", raw, mediaType, p.mediaType)
		}
		if isIndex(p.mediaType) && len(p.blobs) > 0 {
			t.Fatalf("parseManifest(%q, %q): an index with blobs %v", raw, mediaType, p.blobs)
		}
		if !isIndex(p.mediaType) && len(p.children) > 0 {
			t.Fatalf("parseManifest(%q, %q): an image manifest with children %v", raw, mediaType, p.children)
		}
		for _, b := range p.blobs {
			if _, err := ParseDigest(string(b.Digest)); err != nil || b.Size < 0 {
				t.Fatalf("parseManifest(%q, %q): blob %+v (%v)", raw, mediaType, b, err)
			}
		}
		for _, c := range p.children {
			if _, err := ParseDigest(string(c)); err != nil {
				t.Fatalf("parseManifest(%q, %q): child %q (%v)", raw, mediaType, c, err)
			}
		}
		if p.subject != "" {
			if _, err := ParseDigest(string(p.subject)); err != nil {
				t.Fatalf("parseManifest(%q, %q): subject %q (%v)", raw, mediaType, p.subject, err)
			}
		}
	})
}
