package registry

import (
	"errors"
	"fmt"
	"strings"
)

// Digest is a canonical content digest, "algorithm:hex", with lower-case hex
// of the algorithm's exact length. Only sha256 and sha512 are accepted, as
// in the OCI image spec; ECR itself computes sha256.
type Digest string

// digestHexLen maps each supported algorithm to its hex length.
var digestHexLen = map[string]int{"sha256": 64, "sha512": 128}

// ParseDigest validates s as a canonical digest. Upper-case hex is refused
// rather than folded, so that "sha256:ABC…" and "sha256:abc…" can never name
// two different blobs.
func ParseDigest(s string) (Digest, error) {
	alg, hex, ok := strings.Cut(s, ":")
	if !ok {
		if s == "" {
			return "", errors.New("the digest is empty")
		}
		return "", fmt.Errorf("the digest %q is not of the form algorithm:hex", s)
	}
	want, known := digestHexLen[alg]
	if !known {
		return "", fmt.Errorf("the digest algorithm %q is not supported; use sha256", alg)
	}
	if len(hex) != want {
		return "", fmt.Errorf("a %s digest has %d hex characters, not %d", alg, want, len(hex))
	}
	for i := 0; i < len(hex); i++ {
		c := hex[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", fmt.Errorf("the digest has a character %q that is not lower-case hex", c)
		}
	}
	return Digest(s), nil
}

// Algorithm returns the part before the colon.
func (d Digest) Algorithm() string { a, _, _ := strings.Cut(string(d), ":"); return a }

// Hex returns the part after the colon.
func (d Digest) Hex() string { _, h, _ := strings.Cut(string(d), ":"); return h }
