package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic/types"

	"github.com/ecrd/ecrd/internal/config"
)

// withPublicIdentities serves account A with its administrator's key
// (AKIDA) and a user pub whose identity policy allows ECR Public's login
// and every ecr-public action on A's repositories under web/.
func withPublicIdentities(t *testing.T) func(*config.Config) {
	path := filepath.Join(t.TempDir(), "credentials.json")
	pub := `{"Version":"2012-10-17","Statement":[
		{"Sid":"Login","Effect":"Allow","Action":["ecr-public:GetAuthorizationToken","sts:GetServiceBearerToken"],"Resource":"*"},
		{"Sid":"Web","Effect":"Allow","Action":"ecr-public:*","Resource":"arn:aws:ecr-public::` + accountA + `:repository/web/*"}]}`
	body := `{
	 "credentials": [{"accountId": "` + accountA + `", "accessKeyId": "AKIDA", "secretAccessKey": "secretA"}],
	 "users": [{"accountId": "` + accountA + `", "name": "pub", "policies": [` + pub + `], "accessKeys": [{"accessKeyId": "AKIDPUB", "secretAccessKey": "s"}]}]
	}`
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(c *config.Config) { c.Auth.CredentialsFile = path }
}

// TestPublicPoliciesEvaluated: ECR Public's actions are decided by the
// same evaluator as ECR's, under the service prefix ecr-public and the
// region-less public repository ARN: an identity policy limits a user to
// a prefix, a repository policy's explicit deny on ecr-public:PutImage
// stops a push through the API and /v2/ alike, and anonymous pulls stay
// open whatever the policy says (ECR Public's pulls cannot be denied).
func TestPublicPoliciesEvaluated(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", withPublicIdentities(t))
	admin := s.publicClientAs("AKIDA", "secretA", "us-east-1")
	pub := s.publicClientAs("AKIDPUB", "s", "us-east-1")
	pubARN := userARN(accountA, "pub")
	arn := func(name string) string { return "arn:aws:ecr-public::" + accountA + ":repository/" + name }
	createPublicRepos(t, admin, "web/site", "other/app")

	// The identity policy grants web/ and nothing else.
	cfg := pushPublicConfig(t, pub, "web/site", 1)
	l := pushPublicBlob(t, pub, "web/site", layerBytes(5000, 81))
	m := ociManifest(cfg, "public-policy", l)
	putPublicImage(t, pub, "web/site", m, "v1")
	_, err := pub.InitiateLayerUpload(ctx(t), &ecrpublic.InitiateLayerUploadInput{RepositoryName: aws.String("other/app")})
	wantDenied(t, err, denial(pubARN, "ecr-public:InitiateLayerUpload", arn("other/app"), noIdentityAllows("ecr-public:InitiateLayerUpload")))
	_, err = pub.CreateRepository(ctx(t), &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String("other/new")})
	wantDenied(t, err, denial(pubARN, "ecr-public:CreateRepository", arn("other/new"), noIdentityAllows("ecr-public:CreateRepository")))
	_, err = pub.DescribeRepositories(ctx(t), &ecrpublic.DescribeRepositoriesInput{RepositoryNames: []string{"other/app"}})
	wantDenied(t, err, denial(pubARN, "ecr-public:DescribeRepositories", arn("other/app"), noIdentityAllows("ecr-public:DescribeRepositories")))

	// A repository policy's explicit deny wins over the identity's allow,
	// on the API and on /v2/.
	deny := `{"Version":"2012-10-17","Statement":[{"Sid":"NoPush","Effect":"Deny",
		"Principal":{"AWS":"` + pubARN + `"},"Action":"ecr-public:PutImage"}]}`
	if _, err := admin.SetRepositoryPolicy(ctx(t), &ecrpublic.SetRepositoryPolicyInput{RepositoryName: aws.String("web/site"), PolicyText: aws.String(deny)}); err != nil {
		t.Fatal(err)
	}
	msg := denial(pubARN, "ecr-public:PutImage", arn("web/site"), explicitResourceDeny)
	_, err = pub.PutImage(ctx(t), &ecrpublic.PutImageInput{RepositoryName: aws.String("web/site"), ImageManifest: aws.String(m), ImageTag: aws.String("v2")})
	wantDenied(t, err, msg)
	base, name := publicURL(t, s), "ecrd-"+accountA+"/web/site"
	resp, body := v2Do(t, http.MethodPut, base+"/v2/"+name+"/manifests/v2", publicBasic(t, pub), ociManifestType, []byte(m))
	wantV2Denied(t, "PUT manifest under an explicit deny", resp, body, msg)
	// What the deny does not name is still allowed, and the
	// administrator is not the principal it names.
	if _, err := pub.BatchCheckLayerAvailability(ctx(t), &ecrpublic.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String("web/site"), LayerDigests: []string{l.Digest}}); err != nil {
		t.Fatalf("BatchCheckLayerAvailability beside the deny: %v", err)
	}
	putPublicImage(t, admin, "web/site", m, "v2")

	// No tag moved for the refused pushes: v2 is the administrator's.
	out, err := admin.DescribeImageTags(ctx(t), &ecrpublic.DescribeImageTagsInput{RepositoryName: aws.String("web/site")})
	if err != nil || len(out.ImageTagDetails) != 2 {
		t.Fatalf("DescribeImageTags: %+v, %v; want v1 and v2", out, err)
	}

	// Anonymous pulls are not the policy's to deny. (A deny of everything
	// would lock the owner out too: force says so.)
	if _, err := admin.SetRepositoryPolicy(ctx(t), &ecrpublic.SetRepositoryPolicyInput{RepositoryName: aws.String("web/site"), Force: true,
		PolicyText: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"ecr-public:*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	wantAnonymousPull(t, base, name, "v1", m, ociManifestType, map[string][]byte{l.Digest: layerBytes(5000, 81)})
	_, err = pub.DescribeImages(ctx(t), &ecrpublic.DescribeImagesInput{RepositoryName: aws.String("web/site"), ImageIds: []types.ImageIdentifier{pubByTag("v1")}})
	wantDenied(t, err, denial(pubARN, "ecr-public:DescribeImages", arn("web/site"), explicitResourceDeny))
}
