package registry

import (
	"crypto/sha256"
	"fmt"
	"testing"
)

// BenchmarkParseManifestLarge measures parseManifest alone on the 3.7 MiB,
// 25,000-layer manifest of issue 12.
func BenchmarkParseManifestLarge(b *testing.B) {
	const layers = 25000
	d := func(i int) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(fmt.Append(nil, i))) }
	m := fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":1000},"layers":[`,
		MediaTypeOCIManifest, d(-1))
	for i := range layers {
		if i > 0 {
			m = append(m, ',')
		}
		m = fmt.Appendf(m, `{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":%q,"size":%d}`, d(i), 1000+i)
	}
	m = append(m, "]}"...)
	b.SetBytes(int64(len(m)))
	b.ReportAllocs()
	for range b.N {
		p, err := parseManifest(m, "")
		if err != nil || len(p.blobs) != layers+1 {
			b.Fatalf("parseManifest: %d blobs, %v", len(p.blobs), err)
		}
	}
}
