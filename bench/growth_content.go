package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
)

// The grown repository's images are built as real ones are: a pool of
// base images whose layers many images share, and per image a config and
// one small application layer of its own. Everything is a pure function of
// an image's number, so the operations can name any image again without
// the benchmark keeping a million digests.
const (
	baseImages    = 20       // images share the 2 layers of base[id%20]
	baseLayerSize = 16 << 10 // bytes of a shared base layer
	appLayerSize  = 300      // bytes of an image's own layer

	indexType    = "application/vnd.oci.image.index.v1+json"
	configType   = "application/vnd.oci.image.config.v1+json"
	layerType    = "application/vnd.oci.image.layer.v1.tar+gzip"
	emptyType    = "application/vnd.oci.empty.v1+json"
	signatureArt = "application/vnd.example.sig"
	sbomArt      = "application/spdx+json"
)

// content is a blob or manifest held in memory with its digest: the grown
// repository's blobs are small, so seeding sends them in one request.
type content struct {
	data   []byte
	digest string
}

func newContent(data []byte) content {
	sum := sha256.Sum256(data)
	return content{data: data, digest: "sha256:" + hex.EncodeToString(sum[:])}
}

func randomContent(seed uint64, size int64) content {
	data, _ := io.ReadAll(blobReader(seed, size)) // a generated stream cannot fail
	return newContent(data)
}

// ociDesc is an OCI content descriptor as manifests write it.
type ociDesc struct {
	MediaType    string    `json:"mediaType"`
	Digest       string    `json:"digest"`
	Size         int64     `json:"size"`
	ArtifactType string    `json:"artifactType,omitempty"`
	Platform     *platform `json:"platform,omitempty"`
}

type platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
}

func (c content) desc(mediaType string) ociDesc {
	return ociDesc{MediaType: mediaType, Digest: c.digest, Size: int64(len(c.data))}
}

// ociManifest is an OCI image manifest; artifactType and subject make it
// a referrer.
type ociManifest struct {
	SchemaVersion int       `json:"schemaVersion"`
	MediaType     string    `json:"mediaType"`
	ArtifactType  string    `json:"artifactType,omitempty"`
	Config        ociDesc   `json:"config"`
	Layers        []ociDesc `json:"layers"`
	Subject       *ociDesc  `json:"subject,omitempty"`
}

func marshal(v any) content {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // the manifests are fixed structs of strings and numbers
	}
	return newContent(b)
}

// growthImage is one image of the grown repository: its own config and
// application layer, and the number of the base image it is built on.
type growthImage struct {
	config, app content
	base        int
	manifest    content
}

// blobs are the image's own blobs (the base layers are seeded once).
func (g growthImage) blobs() []content { return []content{g.config, g.app} }

// contentSet builds the repository's content; it holds only the base
// layers, computed once.
type contentSet struct {
	base  [baseImages][2]content
	empty content // the empty config of the referrers
}

func newContentSet() *contentSet {
	cs := &contentSet{empty: newContent([]byte("{}"))}
	for b := range baseImages {
		for l := range 2 {
			cs.base[b][l] = randomContent(0xba5e0000+uint64(b*2+l), baseLayerSize)
		}
	}
	return cs
}

// baseLayers are the 40 shared layers.
func (cs *contentSet) baseLayers() []content {
	var out []content
	for _, b := range cs.base {
		out = append(out, b[:]...)
	}
	return out
}

// image is image number id. Seeded images are numbered from 0; images the
// operations push take numbers from extraImages up, so that no two share a
// config or an application layer.
func (cs *contentSet) image(id uint64) growthImage {
	g := growthImage{base: int(id % baseImages)}
	g.config = newContent(fmt.Appendf(nil,
		`{"architecture":"amd64","os":"linux","config":{"Labels":{"growth.image":"%d"}},"rootfs":{"type":"layers","diff_ids":[]}}`, id))
	g.app = randomContent(1<<62|id, appLayerSize)
	base := cs.base[g.base]
	g.manifest = marshal(ociManifest{SchemaVersion: 2, MediaType: manifestType, Config: g.config.desc(configType),
		Layers: []ociDesc{base[0].desc(layerType), base[1].desc(layerType), g.app.desc(layerType)}})
	return g
}

// extraImages is where the numbers of images pushed by the operations
// start, far beyond any seeded image.
const extraImages = 1 << 40

// index is the image index of images i and i+1 (two platforms).
func (cs *contentSet) index(i int) content {
	a, b := cs.image(uint64(i)).manifest.desc(manifestType), cs.image(uint64(i+1)).manifest.desc(manifestType)
	a.Platform, b.Platform = &platform{"amd64", "linux"}, &platform{"arm64", "linux"}
	return marshal(struct {
		SchemaVersion int       `json:"schemaVersion"`
		MediaType     string    `json:"mediaType"`
		Manifests     []ociDesc `json:"manifests"`
	}{2, indexType, []ociDesc{a, b}})
}

// referrer is the j-th (0..2) artifact attached to image i: two
// signatures and an SBOM, each with the empty config and one tiny layer.
func (cs *contentSet) referrer(i, j int) (layer, manifest content) {
	art := signatureArt
	if j == 2 {
		art = sbomArt
	}
	layer = newContent(fmt.Appendf(nil, "%s of image %d (%d)", art, i, j))
	subject := cs.image(uint64(i)).manifest.desc(manifestType)
	manifest = marshal(ociManifest{SchemaVersion: 2, MediaType: manifestType, ArtifactType: art,
		Config: cs.empty.desc(emptyType), Layers: []ociDesc{layer.desc(art)}, Subject: &subject})
	return layer, manifest
}

// Which images carry what: 90% are tagged, and every 100th has an index
// (with the next image) and 3 referrers.
func tagged(i int) bool     { return i%10 != 9 }
func imageTag(i int) string { return fmt.Sprintf("v%07d", i) }
func indexTag(i int) string { return fmt.Sprintf("idx%07d", i) }

const referrersPerImage = 3

// composition counts what a repository of n images holds (n a multiple of
// 100): the figures the operations' answers are checked against.
type composition struct {
	Images         int `json:"images"`
	Tags           int `json:"tags"` // image tags and index tags
	UntaggedImages int `json:"untagged_images"`
	Indexes        int `json:"indexes"`
	Referrers      int `json:"referrers"`
	Manifests      int `json:"manifests"`          // images, indexes and referrers
	Untagged       int `json:"untagged_manifests"` // untagged images and the referrers
	Layers         int `json:"layers"`             // distinct layer blobs
	Blobs          int `json:"blobs"`              // distinct blobs, configs included
}

func compositionOf(n int) composition {
	c := composition{Images: n, UntaggedImages: n / 10, Indexes: n / 100, Referrers: referrersPerImage * n / 100}
	c.Tags = n - c.UntaggedImages + c.Indexes
	c.Manifests = n + c.Indexes + c.Referrers
	c.Untagged = c.UntaggedImages + c.Referrers
	c.Layers = 2*baseImages + n + c.Referrers
	c.Blobs = c.Layers + n + 1 // the configs and the empty config
	return c
}

// tagsAfter is how many tags of a repository of n images sort after
// image m's tag (index tags sort first).
func tagsAfter(n, m int) int { return (n - m - 1) - (n/10 - (m+1)/10) }
