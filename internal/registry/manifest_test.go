package registry

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// Digests the manifest tests name: any canonical digests will do, since
// parseManifest does not look in the repository.
var (
	testCfg   = Digest("sha256:" + strings.Repeat("c", 64))
	testLayer = Digest("sha256:" + strings.Repeat("1", 64))
	testChild = Digest("sha256:" + strings.Repeat("d", 64))
)

const (
	testConfigType = "application/vnd.oci.image.config.v1+json"
	testLayerType  = "application/vnd.oci.image.layer.v1.tar+gzip"
	testForeign    = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
)

func testDesc(mediaType string, d Digest, size int) map[string]any {
	return map[string]any{"mediaType": mediaType, "digest": d, "size": size}
}

// testImage is a valid OCI image manifest with every member the checks
// look at; testIndex a valid OCI index.
func testImage() map[string]any {
	layer := testDesc(testLayerType, testLayer, 10)
	layer["urls"] = []any{"https://example.com/layer"}
	layer["annotations"] = map[string]any{"org.opencontainers.image.title": "layer.tgz"}
	return map[string]any{
		"schemaVersion": 2,
		"mediaType":     MediaTypeOCIManifest,
		"artifactType":  "application/vnd.example.sbom.v1",
		"config":        testDesc(testConfigType, testCfg, 2),
		"layers":        []any{layer},
		"subject":       testDesc(MediaTypeOCIManifest, testChild, 100),
		"annotations":   map[string]any{"org.opencontainers.image.created": "2024-01-02T03:04:05Z"},
	}
}

func testIndex() map[string]any {
	child := testDesc(MediaTypeOCIManifest, testChild, 100)
	child["platform"] = map[string]any{"architecture": "amd64", "os": "linux"}
	return map[string]any{"schemaVersion": 2, "mediaType": MediaTypeOCIIndex, "manifests": []any{child}}
}

// editJSON returns doc as JSON with the member at path (keys and array
// indexes, dot-separated) set to raw, or removed when raw is "".
func editJSON(t *testing.T, doc map[string]any, path, raw string) []byte {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if path == "" {
		return b
	}
	var root any
	if err := json.Unmarshal(b, &root); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(path, ".")
	at := root
	for _, p := range parts[:len(parts)-1] {
		switch v := at.(type) {
		case map[string]any:
			at = v[p]
		case []any:
			i, _ := strconv.Atoi(p)
			at = v[i]
		}
	}
	last := parts[len(parts)-1]
	switch v := at.(type) {
	case map[string]any:
		if raw == "" {
			delete(v, last)
		} else {
			v[last] = json.RawMessage(raw)
		}
	case []any:
		i, _ := strconv.Atoi(last)
		v[i] = json.RawMessage(raw)
	default:
		t.Fatalf("no member %s", path)
	}
	if b, err = json.Marshal(root); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseManifestRefuses walks every rule: each case breaks one member
// of a valid manifest (missing, null, of the wrong type, or out of range)
// and names the message that says which member is wrong. Every refusal is
// an InvalidParameter error, which ECR reports as InvalidParameterException
// and /v2/ as MANIFEST_INVALID.
func TestParseManifestRefuses(t *testing.T) {
	cases := []struct {
		name      string
		doc       func() map[string]any
		path, raw string // the member and its new value ("" removes it)
		want      string
	}{
		{"SchemaVersion/Missing", testImage, "schemaVersion", "", "schemaVersion is missing; it must be the number 2"},
		{"SchemaVersion/Null", testImage, "schemaVersion", `null`, "schemaVersion must be the number 2, not null"},
		{"SchemaVersion/String", testImage, "schemaVersion", `"2"`, "schemaVersion must be the number 2, not a string"},
		{"SchemaVersion/One", testImage, "schemaVersion", `1`, "schemaVersion must be 2, not 1"},
		{"SchemaVersion/Fraction", testImage, "schemaVersion", `2.0`, "schemaVersion must be 2, not 2.0"},
		{"MediaType/Null", testImage, "mediaType", `null`, "mediaType must be a string, not null"},
		{"MediaType/Number", testImage, "mediaType", `2`, "mediaType must be a string, not a number"},
		{"ArtifactType/Null", testImage, "artifactType", `null`, "artifactType must be a string, not null"},
		{"ArtifactType/Array", testImage, "artifactType", `["a"]`, "artifactType must be a string, not an array"},
		{"Annotations/Null", testImage, "annotations", `null`, "annotations must be an object of strings, not null"},
		{"Annotations/Array", testImage, "annotations", `["a"]`, "annotations must be an object of strings, not an array"},
		{"Annotations/NumberValue", testImage, "annotations", `{"a":"b","n":1}`, `annotations["n"] must be a string, not a number`},
		{"Annotations/NullValue", testImage, "annotations", `{"z":null}`, `annotations["z"] must be a string, not null`},
		{"Subject/Null", testImage, "subject", `null`, "subject must be a descriptor object, not null"},
		{"Subject/Empty", testImage, "subject", `{}`, "subject.mediaType is missing; it must be a string"},
		{"Subject/BadDigest", testImage, "subject.digest", `"sha256:abc"`, "subject.digest: a sha256 digest has"},

		{"Config/Missing", testImage, "config", "", "an image manifest needs a config descriptor"},
		{"Config/Null", testImage, "config", `null`, "config must be a descriptor object, not null"},
		{"Config/String", testImage, "config", `"sha256:x"`, "config must be a descriptor object, not a string"},
		{"Layers/Missing", testImage, "layers", "", "layers is missing; it must be an array"},
		{"Layers/Null", testImage, "layers", `null`, "layers must be an array, not null"},
		{"Layers/Object", testImage, "layers", `{}`, "layers must be an array, not an object"},
		{"Layers/NullElement", testImage, "layers", `[null]`, "layers[0] must be a descriptor object, not null"},
		{"Layers/SecondElementNumber", testImage, "layers", `[{"mediaType":"a","digest":"` + string(testLayer) + `","size":1},7]`, "layers[1] must be a descriptor object, not a number"},
		{"Manifests/InImage", testImage, "manifests", `[]`, "an image manifest has no manifests list"},
		{"Manifests/NullInImage", testImage, "manifests", `null`, "an image manifest has no manifests list"},

		{"Descriptor/MediaTypeMissing", testImage, "config.mediaType", "", "config.mediaType is missing; it must be a string"},
		{"Descriptor/MediaTypeNull", testImage, "layers.0.mediaType", `null`, "layers[0].mediaType must be a string, not null"},
		{"Descriptor/MediaTypeNumber", testImage, "layers.0.mediaType", `1`, "layers[0].mediaType must be a string, not a number"},
		{"Descriptor/DigestMissing", testImage, "layers.0.digest", "", "layers[0].digest is missing; it must be a string"},
		{"Descriptor/DigestNull", testImage, "config.digest", `null`, "config.digest must be a string, not null"},
		{"Descriptor/DigestObject", testImage, "config.digest", `{}`, "config.digest must be a string, not an object"},
		{"Descriptor/DigestInvalid", testImage, "layers.0.digest", `"SHA256:` + strings.Repeat("a", 64) + `"`, `layers[0].digest: the digest algorithm "SHA256" is not supported`},
		{"Descriptor/DigestEmpty", testImage, "layers.0.digest", `""`, "layers[0].digest: the digest is empty"},
		{"Descriptor/SizeMissing", testImage, "layers.0.size", "", "layers[0].size is missing; it must be a non-negative integer"},
		{"Descriptor/SizeNull", testImage, "config.size", `null`, "config.size must be a non-negative integer, not null"},
		{"Descriptor/SizeString", testImage, "config.size", `"2"`, "config.size must be a non-negative integer, not a string"},
		{"Descriptor/SizeNegative", testImage, "layers.0.size", `-1`, "layers[0].size must be a non-negative integer, not -1"},
		{"Descriptor/SizeFraction", testImage, "layers.0.size", `1.5`, "layers[0].size must be a non-negative integer, not 1.5"},
		{"Descriptor/SizeExponent", testImage, "layers.0.size", `1e3`, "layers[0].size must be a non-negative integer, not 1e3"},
		{"Descriptor/SizeOverflow", testImage, "layers.0.size", `9223372036854775808`, "layers[0].size must be a non-negative integer, not 9223372036854775808"},
		{"Descriptor/URLsNull", testImage, "layers.0.urls", `null`, "layers[0].urls must be an array of strings, not null"},
		{"Descriptor/URLsString", testImage, "layers.0.urls", `"https://x"`, "layers[0].urls must be an array of strings, not a string"},
		{"Descriptor/URLsNumberElement", testImage, "layers.0.urls", `["https://x",5]`, "layers[0].urls[1] must be a string, not a number"},
		{"Descriptor/AnnotationsNull", testImage, "layers.0.annotations", `null`, "layers[0].annotations must be an object of strings, not null"},
		{"Descriptor/AnnotationsBoolValue", testImage, "layers.0.annotations", `{"k":true}`, `layers[0].annotations["k"] must be a string, not a boolean`},
		{"Descriptor/ArtifactTypeNumber", testImage, "layers.0.artifactType", `1`, "layers[0].artifactType must be a string, not a number"},
		{"Descriptor/ForeignLayerChecked", testImage, "layers.0", `{"mediaType":"` + testForeign + `","digest":"` + string(testLayer) + `","urls":["https://x"],"size":null}`, "layers[0].size must be a non-negative integer, not null"},

		{"Index/ManifestsMissing", testIndex, "manifests", "", "manifests is missing; it must be an array"},
		{"Index/ManifestsNull", testIndex, "manifests", `null`, "manifests must be an array, not null"},
		{"Index/ManifestsObject", testIndex, "manifests", `{}`, "manifests must be an array, not an object"},
		{"Index/NullElement", testIndex, "manifests.0", `null`, "manifests[0] must be a descriptor object, not null"},
		{"Index/ElementSizeMissing", testIndex, "manifests.0.size", "", "manifests[0].size is missing; it must be a non-negative integer"},
		{"Index/ElementDigestNull", testIndex, "manifests.0.digest", `null`, "manifests[0].digest must be a string, not null"},
		{"Index/ConfigNull", testIndex, "config", `null`, "a manifest list or index has no config or layers"},
		{"Index/Layers", testIndex, "layers", `[]`, "a manifest list or index has no config or layers"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := editJSON(t, c.doc(), c.path, c.raw)
			p, err := parseManifest(raw, "")
			if err == nil {
				t.Fatalf("parseManifest(%s) accepted it: %+v", raw, p)
			}
			if !IsCode(err, CodeInvalidParameter) {
				t.Fatalf("parseManifest(%s) = %v, not an InvalidParameter error", raw, err)
			}
			if want := "Invalid parameter at 'imageManifest': " + c.want; !strings.Contains(err.(*Error).Message, want) {
				t.Errorf("parseManifest(%s):\n got %q\nwant %q", raw, err.(*Error).Message, want)
			}
		})
	}
}

// TestParseManifestDocument: what is not one JSON object, or disagrees
// about its media type, is refused before any member is looked at.
func TestParseManifestDocument(t *testing.T) {
	valid := string(editJSON(t, testImage(), "", ""))
	cases := []struct {
		name, raw, mediaType, want string
	}{
		{"NotJSON", `{"schemaVersion":2,`, "", "the manifest is not valid JSON"},
		{"Empty", ``, MediaTypeOCIManifest, "the manifest is not valid JSON"},
		{"DataAfter", valid + ` {}`, "", "the manifest is not valid JSON: invalid character '{' after top-level value"},
		{"ByteOrderMark", "\xef\xbb\xbf" + valid, "", "the manifest is not valid JSON"},
		{"Array", `[]`, MediaTypeOCIManifest, "the manifest must be a JSON object, not an array"},
		{"Null", ` null`, MediaTypeOCIManifest, "the manifest must be a JSON object, not null"},
		{"String", `"manifest"`, "", "the manifest must be a JSON object, not a string"},
		{"TypeDisagrees", valid, MediaTypeOCIIndex, "imageManifestMediaType '" + MediaTypeOCIIndex + "' does not match the manifest's mediaType '" + MediaTypeOCIManifest + "'"},
		{"NoTypeAnywhere", string(editJSON(t, testImage(), "mediaType", "")), "", "the image manifest has no mediaType field and no imageManifestMediaType was given"},
		{"Unsupported", string(editJSON(t, testImage(), "mediaType", "")), "application/vnd.docker.distribution.manifest.v1+prettyjws", "unsupported manifest media type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseManifest([]byte(c.raw), c.mediaType)
			if !IsCode(err, CodeInvalidParameter) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("parseManifest(%q, %q) = %v, want InvalidParameter %q", c.raw, c.mediaType, err, c.want)
			}
		})
	}
}

// TestParseManifestAccepts: valid manifests, including the edges the rules
// leave open (no layers, members that are optional left out, foreign
// layers), are read into what PutImage stores.
func TestParseManifestAccepts(t *testing.T) {
	cfgBlob := ImageBlob{Digest: testCfg, MediaType: testConfigType, Size: 2}
	layerBlob := ImageBlob{Digest: testLayer, MediaType: testLayerType, Size: 10}
	foreign := `{"mediaType":"` + testForeign + `","digest":"sha256:` + strings.Repeat("f", 64) + `","size":5,"urls":["https://mcr.microsoft.com/x"]}`
	cases := []struct {
		name      string
		raw       []byte
		mediaType string
		want      parsedManifest
	}{
		{"ImageEveryMember", editJSON(t, testImage(), "", ""), "", parsedManifest{
			mediaType: MediaTypeOCIManifest, artifactMediaType: "application/vnd.example.sbom.v1",
			blobs: []ImageBlob{cfgBlob, layerBlob}, subject: testChild}},
		{"NoLayers", editJSON(t, testImage(), "layers", `[]`), "", parsedManifest{
			mediaType: MediaTypeOCIManifest, artifactMediaType: "application/vnd.example.sbom.v1",
			blobs: []ImageBlob{cfgBlob}, subject: testChild}},
		{"OptionalMembersLeftOut", editJSON(t, testImage(), "layers", `[{"mediaType":"`+testLayerType+`","digest":"`+string(testLayer)+`","size":10}]`), "", parsedManifest{
			mediaType: MediaTypeOCIManifest, artifactMediaType: "application/vnd.example.sbom.v1",
			blobs: []ImageBlob{cfgBlob, layerBlob}, subject: testChild}},
		{"ConfigTypeIsArtifactType", []byte(`{"schemaVersion":2,"config":{"mediaType":"` + testConfigType + `","digest":"` + string(testCfg) + `","size":2},"layers":[]}`), MediaTypeOCIManifest, parsedManifest{
			mediaType: MediaTypeOCIManifest, artifactMediaType: testConfigType, blobs: []ImageBlob{cfgBlob}}},
		{"ForeignLayerNotABlob", editJSON(t, testImage(), "layers", `[`+foreign+`,{"mediaType":"`+testLayerType+`","digest":"`+string(testLayer)+`","size":10}]`), "", parsedManifest{
			mediaType: MediaTypeOCIManifest, artifactMediaType: "application/vnd.example.sbom.v1",
			blobs: []ImageBlob{cfgBlob, layerBlob}, subject: testChild}},
		{"LayerTwice", editJSON(t, testImage(), "layers", `[{"mediaType":"a","digest":"`+string(testLayer)+`","size":10},{"mediaType":"b","digest":"`+string(testLayer)+`","size":10}]`), "", parsedManifest{
			mediaType: MediaTypeOCIManifest, artifactMediaType: "application/vnd.example.sbom.v1",
			blobs: []ImageBlob{cfgBlob, {Digest: testLayer, MediaType: "a", Size: 10}, {Digest: testLayer, MediaType: "b", Size: 10}}, subject: testChild}},
		{"EscapedMediaType", editJSON(t, testImage(), "layers.0.mediaType", `"a\u002fb"`), "", parsedManifest{
			mediaType: MediaTypeOCIManifest, artifactMediaType: "application/vnd.example.sbom.v1",
			blobs: []ImageBlob{cfgBlob, {Digest: testLayer, MediaType: "a/b", Size: 10}}, subject: testChild}},
		{"Index", editJSON(t, testIndex(), "", ""), "", parsedManifest{mediaType: MediaTypeOCIIndex, children: []Digest{testChild}}},
		{"EmptyIndex", editJSON(t, testIndex(), "manifests", `[]`), MediaTypeOCIIndex, parsedManifest{mediaType: MediaTypeOCIIndex, children: []Digest{}}},
		{"DockerManifestList", []byte(`{"schemaVersion":2,"mediaType":"` + MediaTypeDockerManifestList + `","manifests":[{"mediaType":"` + MediaTypeDockerManifest + `","digest":"` + string(testChild) + `","size":528,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}}]}`), "", parsedManifest{
			mediaType: MediaTypeDockerManifestList, children: []Digest{testChild}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseManifest(c.raw, c.mediaType)
			if err != nil {
				t.Fatalf("parseManifest(%s): %v", c.raw, err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("parseManifest(%s):\n got %+v\nwant %+v", c.raw, got, c.want)
			}
		})
	}
}
