package signing

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// Key is a signing profile's key: the private key and the certificate
// chain a verifier checks it by (the signing certificate first, then its
// issuers; a self-signed signing certificate alone is a chain too).
type Key struct {
	Signer crypto.Signer
	Chain  []*x509.Certificate
	// Alg is the JWS algorithm the Notary Project pairs with the key.
	Alg string
}

// Keys are the keys by signing profile ARN.
type Keys map[string]*Key

var profileARN = regexp.MustCompile(`^arn:aws(-[a-z]+)*:signer:[a-z0-9-]+:[0-9]{12}:/signing-profiles/[a-zA-Z0-9_]{2,}$`)

// LoadKeys reads --signing-keys: a JSON object from signing profile ARN
// to {"key": PEM private key file, "certificates": PEM chain file}, the
// files relative to it. Every key must be one the Notary Project signs
// with (RSA of 2048, 3072 or 4096 bits; ECDSA on P-256, P-384 or P-521)
// and match its certificate.
func LoadKeys(path string) (Keys, error) {
	keys := Keys{}
	if path == "" {
		return keys, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var files map[string]struct {
		Key          string `json:"key"`
		Certificates string `json:"certificates"`
	}
	if err := json.Unmarshal(raw, &files); err != nil {
		return nil, fmt.Errorf("%s: want {\"<signing profile ARN>\": {\"key\": FILE, \"certificates\": FILE}}: %w", path, err)
	}
	dir := filepath.Dir(path)
	rel := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	for arn, f := range files {
		if !profileARN.MatchString(arn) {
			return nil, fmt.Errorf("%s: %q is not a signing profile ARN (arn:aws:signer:<region>:<account>:/signing-profiles/<name>)", path, arn)
		}
		k, err := loadKey(rel(f.Key), rel(f.Certificates))
		if err != nil {
			return nil, fmt.Errorf("%s: the key of %s: %w", path, arn, err)
		}
		keys[arn] = k
	}
	return keys, nil
}

func loadKey(keyFile, certFile string) (*Key, error) {
	kb, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(kb)
	if block == nil {
		return nil, fmt.Errorf("%s holds no PEM block", keyFile)
	}
	var priv any
	switch block.Type {
	case "RSA PRIVATE KEY":
		priv, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		priv, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		priv, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyFile, err)
	}
	cb, err := os.ReadFile(certFile)
	if err != nil {
		return nil, err
	}
	k := &Key{}
	for {
		var b *pem.Block
		b, cb = pem.Decode(cb)
		if b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", certFile, err)
		}
		k.Chain = append(k.Chain, c)
	}
	if len(k.Chain) == 0 {
		return nil, fmt.Errorf("%s holds no certificate", certFile)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: a %T cannot sign", keyFile, priv)
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if pub, ok := signer.Public().(equaler); !ok || !pub.Equal(k.Chain[0].PublicKey) {
		return nil, errors.New("the private key is not the signing certificate's (the first in the chain)")
	}
	k.Signer = signer
	switch p := signer.(type) {
	case *rsa.PrivateKey:
		k.Alg = map[int]string{2048: "PS256", 3072: "PS384", 4096: "PS512"}[p.N.BitLen()]
	case *ecdsa.PrivateKey:
		k.Alg = map[elliptic.Curve]string{elliptic.P256(): "ES256", elliptic.P384(): "ES384", elliptic.P521(): "ES512"}[p.Curve]
	}
	if k.Alg == "" {
		return nil, errors.New("the key is not one the Notary Project signs with (RSA 2048/3072/4096, ECDSA P-256/P-384/P-521)")
	}
	return k, nil
}
