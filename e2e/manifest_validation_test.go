package e2e

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// TestManifestValidation: a manifest whose required members are null, or
// of the wrong JSON type, is refused through both front ends (ECR's
// InvalidParameterException, /v2/'s 400 MANIFEST_INVALID), names the
// member that is wrong, and leaves nothing behind; the same manifests
// made valid are stored. The first case is issue 12's finding: an image
// manifest with "layers": null was stored.
func TestManifestValidation(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	c := s.client()
	const repo = "validate/app"
	createRepos(t, c, repo)
	cfg := pushConfig(t, c, repo, 1)
	layer := pushBlob(t, c, repo, layerBytes(4096, 12))
	oci := func(config, layers string) string {
		return fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":%s,"layers":%s}`, ociManifestType, config, layers)
	}
	cfgDesc, layers := cfg.descriptor(ociConfigType), "["+layer.descriptor(ociLayerType)+"]"
	cases := []struct {
		name, mediaType, manifest, want string
	}{
		{"LayersNull", ociManifestType, oci(cfgDesc, `null`), "layers must be an array, not null"},
		{"LayersMissing", ociManifestType, fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":%s}`, ociManifestType, cfgDesc), "layers is missing; it must be an array"},
		{"LayersObject", ociManifestType, oci(cfgDesc, `{}`), "layers must be an array, not an object"},
		{"ConfigNull", ociManifestType, oci(`null`, layers), "config must be a descriptor object, not null"},
		{"LayerNull", ociManifestType, oci(cfgDesc, `[null]`), "layers[0] must be a descriptor object, not null"},
		{"LayerSizeNull", ociManifestType, oci(cfgDesc, fmt.Sprintf(`[{"mediaType":%q,"digest":%q,"size":null}]`, ociLayerType, layer.Digest)), "layers[0].size must be a non-negative integer, not null"},
		{"LayerDigestNumber", ociManifestType, oci(cfgDesc, fmt.Sprintf(`[{"mediaType":%q,"digest":1,"size":%d}]`, ociLayerType, layer.Size)), "layers[0].digest must be a string, not a number"},
		{"SchemaVersionString", dockerManifestType, fmt.Sprintf(`{"schemaVersion":"2","mediaType":%q,"config":%s,"layers":[]}`, dockerManifestType, cfg.descriptor(dockerConfigType)), "schemaVersion must be the number 2, not a string"},
		{"IndexManifestsNull", ociIndexType, fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"manifests":null}`, ociIndexType), "manifests must be an array, not null"},
	}
	basic := privateBasic(t, c)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tag := "bad-" + tc.name
			_, err := c.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(tc.manifest), ImageTag: aws.String(tag)})
			wantAPIError[*types.InvalidParameterException](t, err, tc.want)

			resp, body := v2Do(t, http.MethodPut, s.URL+"/v2/"+repo+"/manifests/"+tag, basic, tc.mediaType, []byte(tc.manifest))
			wantV2Error(t, "PUT manifests/"+tag, resp, body, http.StatusBadRequest, "MANIFEST_INVALID")

			// Nothing was stored under the tag or the digest.
			for _, ref := range []string{tag, digestOf([]byte(tc.manifest))} {
				resp, body := v2Do(t, http.MethodGet, s.URL+"/v2/"+repo+"/manifests/"+ref, basic, "", nil)
				wantV2Error(t, "GET manifests/"+ref, resp, body, http.StatusNotFound, "MANIFEST_UNKNOWN")
			}
		})
	}

	t.Run("ValidStillStored", func(t *testing.T) {
		// An empty layers array is allowed (OCI artifacts, the conformance
		// suite), and the finding's manifest with its layers is stored.
		putImage(t, c, repo, oci(cfgDesc, `[]`), "no-layers")
		putImage(t, c, repo, oci(cfgDesc, layers), "ecr")
		m := oci(cfgDesc, layers) + "\n"
		v2PutManifest(t, s.URL, basic, repo, "v2", ociManifestType, m)
		if d := describe(t, c, repo, byTag("v2")); aws.ToString(d.ImageDigest) != digestOf([]byte(m)) || aws.ToInt64(d.ImageSizeInBytes) != int64(layer.Size) {
			t.Errorf("DescribeImages of the /v2/ push: digest %s, size %d; want %s, %d", aws.ToString(d.ImageDigest), aws.ToInt64(d.ImageSizeInBytes), digestOf([]byte(m)), layer.Size)
		}
	})
}
