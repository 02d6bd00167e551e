package signing

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// The Notary Project's signature format (notaryproject/specifications:
// signature-specification.md, signature-envelope-jws.md): a JWS JSON
// envelope, signed with the notary.x509 scheme, over a payload naming the
// signed manifest, stored as an OCI image manifest whose subject is that
// manifest, so that notation (and anything reading referrers) finds it.
const (
	ArtifactType      = "application/vnd.cncf.notary.signature"
	envelopeMediaType = "application/jose+json"
	payloadMediaType  = "application/vnd.cncf.notary.payload.v1+json"
	thumbprintKey     = "io.cncf.notary.x509chain.thumbprint#S256"
)

// emptyConfig is the signature manifest's config: "{}", typed as the
// signature's artifact type, as notation pushes it.
var emptyConfig = []byte("{}")

// Descriptor is an OCI content descriptor.
type Descriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
}

func describe(mediaType string, b []byte) Descriptor {
	return Descriptor{MediaType: mediaType, Digest: fmt.Sprintf("sha256:%x", sha256.Sum256(b)), Size: int64(len(b))}
}

type protectedHeader struct {
	Alg           string   `json:"alg"`
	Cty           string   `json:"cty"`
	Crit          []string `json:"crit"`
	SigningScheme string   `json:"io.cncf.notary.signingScheme"`
	SigningTime   string   `json:"io.cncf.notary.signingTime"`
}

type envelope struct {
	Payload   string `json:"payload"`
	Protected string `json:"protected"`
	Header    struct {
		X5c          [][]byte `json:"x5c"`
		SigningAgent string   `json:"io.cncf.notary.signingAgent"`
	} `json:"header"`
	Signature string `json:"signature"`
}

// Signature is a signature of one manifest: the envelope blob, the
// config blob and the manifest to push, in that order.
type Signature struct {
	Envelope, Config, Manifest []byte
}

// Sign signs target (the manifest's descriptor) with k at signingTime,
// naming agent as the signing agent.
func Sign(k *Key, target Descriptor, signingTime time.Time, agent string) (Signature, error) {
	payload, err := json.Marshal(map[string]any{"targetArtifact": target})
	if err != nil {
		return Signature{}, err
	}
	ph, err := json.Marshal(protectedHeader{Alg: k.Alg, Cty: payloadMediaType, Crit: []string{"io.cncf.notary.signingScheme"},
		SigningScheme: "notary.x509", SigningTime: signingTime.UTC().Truncate(time.Second).Format(time.RFC3339)})
	if err != nil {
		return Signature{}, err
	}
	var env envelope
	env.Payload, env.Protected = base64.RawURLEncoding.EncodeToString(payload), base64.RawURLEncoding.EncodeToString(ph)
	sig, err := jwsSign(k, []byte(env.Protected+"."+env.Payload))
	if err != nil {
		return Signature{}, err
	}
	env.Signature = base64.RawURLEncoding.EncodeToString(sig)
	var thumbprints []string
	for _, c := range k.Chain {
		env.Header.X5c = append(env.Header.X5c, c.Raw)
		sum := sha256.Sum256(c.Raw)
		thumbprints = append(thumbprints, hex.EncodeToString(sum[:]))
	}
	env.Header.SigningAgent = agent
	out := Signature{Config: emptyConfig}
	if out.Envelope, err = json.Marshal(env); err != nil {
		return Signature{}, err
	}
	tp, _ := json.Marshal(thumbprints)
	manifest := map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        describe(ArtifactType, emptyConfig),
		"layers":        []Descriptor{describe(envelopeMediaType, out.Envelope)},
		"subject":       target,
		"annotations": map[string]string{thumbprintKey: string(tp),
			"org.opencontainers.image.created": signingTime.UTC().Truncate(time.Second).Format(time.RFC3339)},
	}
	out.Manifest, err = json.Marshal(manifest)
	return out, err
}

// jwsSign signs the JWS signing input as the key's algorithm asks:
// RSASSA-PSS, or ECDSA with the fixed-size r||s encoding of RFC 7518.
func jwsSign(k *Key, input []byte) ([]byte, error) {
	hash := map[string]crypto.Hash{"PS256": crypto.SHA256, "PS384": crypto.SHA384, "PS512": crypto.SHA512,
		"ES256": crypto.SHA256, "ES384": crypto.SHA384, "ES512": crypto.SHA512}[k.Alg]
	h := hash.New()
	h.Write(input)
	digest := h.Sum(nil)
	switch key := k.Signer.(type) {
	case *rsa.PrivateKey:
		return rsa.SignPSS(rand.Reader, key, hash, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, key, digest)
		if err != nil {
			return nil, err
		}
		n := (key.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*n)
		r.FillBytes(out[:n])
		s.FillBytes(out[n:])
		return out, nil
	}
	return nil, fmt.Errorf("a %T key", k.Signer)
}
