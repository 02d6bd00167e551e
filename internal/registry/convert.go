package registry

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
)

// Docker schema 2 and OCI media types that correspond one to one. ECR
// converts between them when a client pulls by tag and does not accept the
// stored type; the bytes of configs and layers are the same either way.
var dockerToOCI = map[string]string{
	MediaTypeDockerManifest:                                     MediaTypeOCIManifest,
	MediaTypeDockerManifestList:                                 MediaTypeOCIIndex,
	"application/vnd.docker.container.image.v1+json":            "application/vnd.oci.image.config.v1+json",
	"application/vnd.docker.image.rootfs.diff.tar.gzip":         "application/vnd.oci.image.layer.v1.tar+gzip",
	"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip": "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
}

// convertManifest rewrites an image's manifest into the other family
// (Docker schema 2 <-> OCI) if the client accepts the result. The result
// has its own bytes and digest; the stored image is unchanged.
func convertManifest(img Image, accepted []string) (Image, bool) {
	table := dockerToOCI
	target, ok := table[img.MediaType]
	if !ok {
		table = make(map[string]string, len(dockerToOCI))
		for d, o := range dockerToOCI {
			table[o] = d
		}
		if target, ok = table[img.MediaType]; !ok {
			return img, false
		}
	}
	if !slices.Contains(accepted, target) {
		return img, false
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(img.Manifest, &doc); err != nil {
		return img, false
	}
	doc["mediaType"], _ = json.Marshal(target)
	for _, field := range []string{"config", "layers", "manifests"} {
		raw, present := doc[field]
		if !present {
			continue
		}
		converted, err := convertDescriptors(raw, table)
		if err != nil {
			return img, false
		}
		doc[field] = converted
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return img, false
	}
	img.Manifest = out
	img.MediaType = target
	img.Digest = Digest(fmt.Sprintf("sha256:%x", sha256.Sum256(out)))
	return img, true
}

// convertDescriptors maps the mediaType of one descriptor or a list of
// them through table, leaving unknown types and every other field as they
// are.
func convertDescriptors(raw json.RawMessage, table map[string]string) (json.RawMessage, error) {
	var list []map[string]json.RawMessage
	single := false
	if err := json.Unmarshal(raw, &list); err != nil {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, err
		}
		list, single = []map[string]json.RawMessage{one}, true
	}
	for _, d := range list {
		var mt string
		if json.Unmarshal(d["mediaType"], &mt) == nil {
			if to, ok := table[mt]; ok {
				d["mediaType"], _ = json.Marshal(to)
			}
		}
	}
	if single {
		return json.Marshal(list[0])
	}
	return json.Marshal(list)
}
