package e2e

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/ecrd/ecrd/internal/config"
)

const (
	releaseProfile = "arn:aws:signer:us-east-1:" + testAccount + ":/signing-profiles/release"
	auditProfile   = "arn:aws:signer:us-east-1:" + testAccount + ":/signing-profiles/audit"
	keylessProfile = "arn:aws:signer:us-east-1:" + testAccount + ":/signing-profiles/nokey"
)

// writeSigningKey writes a key and a self-signed code-signing certificate
// (what notation's test certificates are) and returns their files.
func writeSigningKey(t *testing.T, dir, name string, key crypto.Signer) (string, string) {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name, Organization: []string{"ecrd tests"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile, certFile := filepath.Join(dir, name+".key"), filepath.Join(dir, name+".crt")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return keyFile, certFile
}

// signingKeys writes --signing-keys for the release profile (ECDSA P-256)
// and the audit profile (RSA 3072), and returns the file.
func signingKeys(t *testing.T) string {
	dir := t.TempDir()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rk, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		t.Fatal(err)
	}
	relKey, relCert := writeSigningKey(t, dir, "release", ec)
	audKey, audCert := writeSigningKey(t, dir, "audit", rk)
	body, _ := json.Marshal(map[string]map[string]string{
		releaseProfile: {"key": filepath.Base(relKey), "certificates": filepath.Base(relCert)},
		auditProfile:   {"key": audKey, "certificates": audCert},
	})
	path := filepath.Join(dir, "keys.json")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func signingRule(profile string, filters ...string) types.SigningRule {
	r := types.SigningRule{SigningProfileArn: aws.String(profile)}
	for _, f := range filters {
		r.RepositoryFilters = append(r.RepositoryFilters, types.SigningRepositoryFilter{Filter: aws.String(f), FilterType: types.SigningRepositoryFilterTypeWildcardMatch})
	}
	return r
}

func signingStatuses(t *testing.T, c *ecr.Client, repo, tag string) []string {
	t.Helper()
	out, err := c.DescribeImageSigningStatus(ctx(t), &ecr.DescribeImageSigningStatusInput{RepositoryName: aws.String(repo), ImageId: ptr(byTag(tag))})
	if err != nil {
		t.Fatalf("describe-image-signing-status %s:%s: %v", repo, tag, err)
	}
	var got []string
	for _, s := range out.SigningStatuses {
		name := aws.ToString(s.SigningProfileArn)
		got = append(got, name[strings.LastIndex(name, "/")+1:]+" "+string(s.Status)+" "+aws.ToString(s.FailureCode))
	}
	return got
}

// verifyNotarySignature checks a signature manifest as a Notary Project
// verifier does, by hand: its shape, the JWS envelope's protected header,
// the signature over it with the certificate's key, and the payload's
// target.
func verifyNotarySignature(t *testing.T, c *ecr.Client, repo string, sig types.ImageReferrer, subject string) {
	t.Helper()
	out, err := c.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RepositoryName: aws.String(repo), ImageIds: []types.ImageIdentifier{byDigest(aws.ToString(sig.Digest))},
		AcceptedMediaTypes: []string{ociManifestType}})
	if err != nil || len(out.Images) != 1 {
		t.Fatalf("the signature manifest: %v %v", out, err)
	}
	var m struct {
		Config      struct{ MediaType, Digest string }
		Layers      []struct{ MediaType, Digest string }
		Subject     struct{ Digest string }
		Annotations map[string]string
	}
	if err := json.Unmarshal([]byte(aws.ToString(out.Images[0].ImageManifest)), &m); err != nil {
		t.Fatal(err)
	}
	if m.Config.MediaType != "application/vnd.cncf.notary.signature" || len(m.Layers) != 1 || m.Layers[0].MediaType != "application/jose+json" ||
		m.Subject.Digest != subject || m.Annotations["io.cncf.notary.x509chain.thumbprint#S256"] == "" {
		t.Fatalf("the signature manifest: %+v", m)
	}
	dl, err := c.GetDownloadUrlForLayer(ctx(t), &ecr.GetDownloadUrlForLayerInput{RepositoryName: aws.String(repo), LayerDigest: aws.String(m.Layers[0].Digest)})
	if err != nil {
		t.Fatal(err)
	}
	env := fetchURL(t, aws.ToString(dl.DownloadUrl))
	var e struct {
		Payload, Protected, Signature string
		Header                        struct {
			X5c [][]byte `json:"x5c"`
		}
	}
	if err := json.Unmarshal(env, &e); err != nil {
		t.Fatal(err)
	}
	var ph struct {
		Alg, Cty      string
		Crit          []string
		SigningScheme string `json:"io.cncf.notary.signingScheme"`
		SigningTime   string `json:"io.cncf.notary.signingTime"`
	}
	raw, _ := base64.RawURLEncoding.DecodeString(e.Protected)
	if err := json.Unmarshal(raw, &ph); err != nil || ph.Cty != "application/vnd.cncf.notary.payload.v1+json" || ph.SigningScheme != "notary.x509" ||
		len(ph.Crit) != 1 || ph.Crit[0] != "io.cncf.notary.signingScheme" || ph.SigningTime == "" {
		t.Fatalf("protected header %s: %v", raw, err)
	}
	cert, err := x509.ParseCertificate(e.Header.X5c[0])
	if err != nil {
		t.Fatal(err)
	}
	sigBytes, _ := base64.RawURLEncoding.DecodeString(e.Signature)
	input := []byte(e.Protected + "." + e.Payload)
	switch ph.Alg {
	case "ES256":
		sum := sha256.Sum256(input)
		r, s := new(big.Int).SetBytes(sigBytes[:32]), new(big.Int).SetBytes(sigBytes[32:])
		if !ecdsa.Verify(cert.PublicKey.(*ecdsa.PublicKey), sum[:], r, s) {
			t.Fatal("the ES256 signature does not verify")
		}
	case "PS384":
		sum := sha512.Sum384(input)
		if err := rsa.VerifyPSS(cert.PublicKey.(*rsa.PublicKey), crypto.SHA384, sum[:], sigBytes, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}); err != nil {
			t.Fatalf("the PS384 signature does not verify: %v", err)
		}
	default:
		t.Fatalf("alg %s", ph.Alg)
	}
	var payload struct {
		TargetArtifact struct{ MediaType, Digest string }
	}
	raw, _ = base64.RawURLEncoding.DecodeString(e.Payload)
	if err := json.Unmarshal(raw, &payload); err != nil || payload.TargetArtifact.Digest != subject || payload.TargetArtifact.MediaType != ociManifestType {
		t.Fatalf("payload %s: %v", raw, err)
	}
}

// TestManagedSigning: the signing configuration's operations and errors,
// and its effect: a push a rule covers is signed with each profile, as a
// Notary Project signature stored as a referrer; a profile without a key,
// or a pusher without signer:SignPayload, is FAILED with why; deleting
// the configuration keeps the signatures made (ecr-semantics-2.md §7).
func TestManagedSigning(t *testing.T) {
	t.Parallel()
	creds := filepath.Join(t.TempDir(), "credentials.json")
	nosign := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}`
	sign := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:*","signer:SignPayload"],"Resource":"*"}]}`
	if err := os.WriteFile(creds, []byte(`{"credentials": [{"accountId": "`+testAccount+`", "accessKeyId": "test", "secretAccessKey": "test"}],
	 "users": [
		{"accountId": "`+testAccount+`", "name": "dev", "policies": [`+nosign+`], "accessKeys": [{"accessKeyId": "AKIDDEV", "secretAccessKey": "s"}]},
		{"accountId": "`+testAccount+`", "name": "ci", "policies": [`+sign+`], "accessKeys": [{"accessKeyId": "AKIDCI", "secretAccessKey": "s"}]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "", func(c *config.Config) {
		c.Auth.CredentialsFile, c.Signing.KeysFile, c.Signing.Interval = creds, signingKeys(t), 0
	})
	c, dev, ci := s.client(), s.clientAs("AKIDDEV", "s", "us-east-1"), s.clientAs("AKIDCI", "s", "us-east-1")

	_, err := c.GetSigningConfiguration(ctx(t), &ecr.GetSigningConfigurationInput{})
	wantCode(t, err, "SigningConfigurationNotFoundException", testAccount)
	_, err = c.DeleteSigningConfiguration(ctx(t), &ecr.DeleteSigningConfigurationInput{})
	wantCode(t, err, "SigningConfigurationNotFoundException", testAccount)
	eleven := make([]types.SigningRule, 11)
	for i := range eleven {
		eleven[i] = signingRule(releaseProfile)
	}
	for name, rules := range map[string][]types.SigningRule{
		"11 rules":           eleven,
		"not a profile ARN":  {signingRule("arn:aws:signer:us-east-1:" + testAccount + ":release")},
		"another region":     {signingRule("arn:aws:signer:eu-west-1:" + testAccount + ":/signing-profiles/release")},
		"an upper-case name": {signingRule(releaseProfile, "Test*")},
		"WILDCARD":           {{SigningProfileArn: aws.String(releaseProfile), RepositoryFilters: []types.SigningRepositoryFilter{{Filter: aws.String("x"), FilterType: "WILDCARD"}}}},
	} {
		if _, err := c.PutSigningConfiguration(ctx(t), &ecr.PutSigningConfigurationInput{SigningConfiguration: &types.SigningConfiguration{Rules: rules}}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	_, err = c.GetSigningConfiguration(ctx(t), &ecr.GetSigningConfigurationInput{})
	wantCode(t, err, "SigningConfigurationNotFoundException", "")

	rules := []types.SigningRule{signingRule(releaseProfile, "test*"), signingRule(auditProfile, "test-*", "*/audited"), signingRule(keylessProfile, "keyless")}
	put, err := c.PutSigningConfiguration(ctx(t), &ecr.PutSigningConfigurationInput{SigningConfiguration: &types.SigningConfiguration{Rules: rules}})
	if err != nil || len(put.SigningConfiguration.Rules) != 3 {
		t.Fatalf("put: %+v, %v", put, err)
	}
	got, err := c.GetSigningConfiguration(ctx(t), &ecr.GetSigningConfigurationInput{})
	if err != nil || aws.ToString(got.RegistryId) != testAccount || len(got.SigningConfiguration.Rules) != 3 ||
		aws.ToString(got.SigningConfiguration.Rules[1].RepositoryFilters[1].Filter) != "*/audited" {
		t.Fatalf("get: %+v, %v", got, err)
	}

	createRepos(t, c, "test-repo", "testing", "prod-repo", "keyless", "team/audited")
	push := func(cl *ecr.Client, repo string, seed int) string {
		return aws.ToString(putImage(t, cl, repo, ociManifest(pushConfig(t, cl, repo, seed), repo, pushBlob(t, cl, repo, layerBytes(100, uint64(seed)))), "1").ImageId.ImageDigest)
	}
	two := push(c, "test-repo", 1)
	push(c, "testing", 2)
	push(c, "prod-repo", 3)
	push(c, "keyless", 4)
	audited := push(c, "team/audited", 5)
	if st := signingStatuses(t, c, "test-repo", "1"); strings.Join(st, ",") != "audit IN_PROGRESS ,release IN_PROGRESS " {
		t.Errorf("test-repo before signing: %v", st)
	}
	if n := s.app.SignImages(ctx(t)); n != 5 {
		t.Errorf("signed %d, want 5", n)
	}
	for repo, want := range map[string]string{
		"test-repo": "audit COMPLETE ,release COMPLETE ", "testing": "release COMPLETE ", "prod-repo": "",
		"keyless": "nokey FAILED SIGNING_PROFILE_NOT_CONFIGURED", "team/audited": "audit COMPLETE ",
	} {
		if st := strings.Join(signingStatuses(t, c, repo, "1"), ","); st != want {
			t.Errorf("%s: %q, want %q", repo, st, want)
		}
	}
	referrers := func(repo, digest string) []types.ImageReferrer {
		out, err := c.ListImageReferrers(ctx(t), &ecr.ListImageReferrersInput{RepositoryName: aws.String(repo),
			SubjectId: &types.SubjectIdentifier{ImageDigest: aws.String(digest)}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Referrers
	}
	sigs := referrers("test-repo", two)
	if len(sigs) != 2 {
		t.Fatalf("test-repo's referrers: %+v", sigs)
	}
	for _, sig := range sigs {
		if aws.ToString(sig.ArtifactType) != "application/vnd.cncf.notary.signature" {
			t.Errorf("a referrer of artifact type %q", aws.ToString(sig.ArtifactType))
		}
		verifyNotarySignature(t, c, "test-repo", sig, two)
	}
	if n := s.app.SignImages(ctx(t)); n != 0 {
		t.Errorf("signed %d more: a signature was signed", n)
	}
	// The pusher signs: without signer:SignPayload, FAILED at once.
	push(dev, "test-repo", 6)
	if st := strings.Join(signingStatuses(t, c, "test-repo", "1"), ","); st != "audit FAILED SIGNING_ACCESS_DENIED,release FAILED SIGNING_ACCESS_DENIED" {
		t.Errorf("dev's push: %q", st)
	}
	out, _ := c.DescribeImageSigningStatus(ctx(t), &ecr.DescribeImageSigningStatusInput{RepositoryName: aws.String("test-repo"), ImageId: ptr(byTag("1"))})
	if r := aws.ToString(out.SigningStatuses[0].FailureReason); !strings.Contains(r, "signer:SignPayload") {
		t.Errorf("failure reason %q", r)
	}
	push(ci, "test-repo", 7)
	s.app.SignImages(ctx(t))
	if st := strings.Join(signingStatuses(t, c, "test-repo", "1"), ","); st != "audit COMPLETE ,release COMPLETE " {
		t.Errorf("ci's push: %q", st)
	}

	del, err := c.DeleteSigningConfiguration(ctx(t), &ecr.DeleteSigningConfigurationInput{})
	if err != nil || len(del.SigningConfiguration.Rules) != 3 || aws.ToString(del.RegistryId) != testAccount {
		t.Fatalf("delete: %+v, %v", del, err)
	}
	_, err = c.GetSigningConfiguration(ctx(t), &ecr.GetSigningConfigurationInput{})
	wantCode(t, err, "SigningConfigurationNotFoundException", "")
	if len(referrers("team/audited", audited)) != 1 {
		t.Error("the delete took a signature with it")
	}
	push(c, "testing", 8)
	if st := signingStatuses(t, c, "testing", "1"); len(st) != 0 {
		t.Errorf("a push after the delete: %v", st)
	}
	_, err = c.DescribeImageSigningStatus(ctx(t), &ecr.DescribeImageSigningStatusInput{RepositoryName: aws.String("testing"), ImageId: ptr(byTag("nope"))})
	wantCode(t, err, "ImageNotFoundException", "nope")
}

// fetchURL GETs a URL (a layer's download URL) and returns the body.
func fetchURL(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return b
}
