// Command notaryverify verifies an image's Notary Project signatures in a
// registry with the Notary Project's own Go library (notation-go, what the
// notation CLI is built on): ecrd's tests use it as the independent
// verifier of the signatures managed signing makes. It trusts the given
// certificates for any identity, at the strict level.
//
//	notaryverify -ref HOST/REPO@sha256:... -cert signer.crt [-user AWS -password ...] [-plain-http]
//	notaryverify -make-key DIR    (writes DIR/signer.key and DIR/signer.crt to sign with)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/dir"
	notaryregistry "github.com/notaryproject/notation-go/registry"
	"github.com/notaryproject/notation-go/verifier"
	"github.com/notaryproject/notation-go/verifier/trustpolicy"
	"github.com/notaryproject/notation-go/verifier/truststore"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
)

func main() {
	ref := flag.String("ref", "", "the image: HOST/REPOSITORY@DIGEST")
	certs := flag.String("cert", "", "comma-separated PEM files of the trusted certificates (roots or self-signed signing certificates)")
	user := flag.String("user", "", "registry user name")
	password := flag.String("password", os.Getenv("NOTARYVERIFY_PASSWORD"), "registry password (default $NOTARYVERIFY_PASSWORD)")
	plain := flag.Bool("plain-http", false, "reach the registry over plain HTTP")
	keyDir := flag.String("make-key", "", "write a signing key and its self-signed certificate to DIR, and do nothing else")
	flag.Parse()
	var err error
	if *keyDir != "" {
		err = makeKey(*keyDir)
	} else {
		err = run(*ref, *certs, *user, *password, *plain)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "notaryverify:", err)
		os.Exit(1)
	}
}

func run(ref, certs, user, password string, plain bool) error {
	if ref == "" || certs == "" {
		return fmt.Errorf("-ref and -cert are required")
	}
	// The trust store: <root>/truststore/x509/ca/ecrd/<n>.pem.
	root, err := os.MkdirTemp("", "notaryverify")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	store := filepath.Join(root, dir.X509TrustStoreDir("ca", "ecrd"))
	if err := os.MkdirAll(store, 0o700); err != nil {
		return err
	}
	for i, c := range strings.Split(certs, ",") {
		b, err := os.ReadFile(c)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(store, fmt.Sprintf("%d.pem", i)), b, 0o600); err != nil {
			return err
		}
	}
	policy := &trustpolicy.Document{Version: "1.0", TrustPolicies: []trustpolicy.TrustPolicy{{
		Name: "ecrd", RegistryScopes: []string{"*"},
		SignatureVerification: trustpolicy.SignatureVerification{VerificationLevel: "strict"},
		TrustStores:           []string{"ca:ecrd"}, TrustedIdentities: []string{"*"},
	}}}
	v, err := verifier.New(policy, truststore.NewX509TrustStore(dir.NewSysFS(root)), nil)
	if err != nil {
		return err
	}
	name, _, _ := strings.Cut(ref, "@")
	repo, err := remote.NewRepository(name)
	if err != nil {
		return err
	}
	repo.PlainHTTP = plain
	if user != "" {
		repo.Client = &auth.Client{Credential: auth.StaticCredential(repo.Reference.Registry, auth.Credential{Username: user, Password: password})}
	}
	desc, outcomes, err := notation.Verify(context.Background(), v, notaryregistry.NewRepository(repo),
		notation.VerifyOptions{ArtifactReference: ref, MaxSignatureAttempts: 50})
	if err != nil {
		return err
	}
	for _, o := range outcomes {
		if o.Error != nil {
			return o.Error
		}
	}
	fmt.Printf("verified %s: %d signature(s) trusted\n", desc.Digest, len(outcomes))
	return nil
}
