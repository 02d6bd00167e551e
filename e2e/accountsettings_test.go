package e2e

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

func setting(t *testing.T, c *ecr.Client, name string) string {
	t.Helper()
	out, err := c.GetAccountSetting(ctx(t), &ecr.GetAccountSettingInput{Name: aws.String(name)})
	if err != nil || aws.ToString(out.Name) != name {
		t.Fatalf("GetAccountSetting %s: %+v, %v", name, out, err)
	}
	return aws.ToString(out.Value)
}

func putSetting(t *testing.T, c *ecr.Client, name, value string) {
	t.Helper()
	out, err := c.PutAccountSetting(ctx(t), &ecr.PutAccountSettingInput{Name: aws.String(name), Value: aws.String(value)})
	if err != nil || aws.ToString(out.Name) != name || aws.ToString(out.Value) != value {
		t.Fatalf("PutAccountSetting %s=%s: %+v, %v", name, value, out, err)
	}
}

// TestAccountSettings: every setting's default and values, and the
// effects of those ecrd has the feature for (ecr-semantics-2.md §6):
// BLOB_MOUNTING turns /v2/ mounts on (between repositories encrypted
// alike), REGISTRY_POLICY_SCOPE V1 keeps the registry policy out of
// everything but replication, pull through and creation.
func TestAccountSettings(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", withPublicCredentials(t))
	a, b := s.clientAs("AKIAONE", "s1", "us-east-1"), s.clientAs("AKIATWO", "s2", "us-east-1")
	for name, want := range map[string]string{"BASIC_SCAN_TYPE_VERSION": "AWS_NATIVE", "REGISTRY_POLICY_SCOPE": "V2", "BLOB_MOUNTING": "DISABLED"} {
		if got := setting(t, a, name); got != want {
			t.Errorf("%s fresh: %s, want %s", name, got, want)
		}
	}
	_, err := a.GetAccountSetting(ctx(t), &ecr.GetAccountSettingInput{Name: aws.String("FOO")})
	wantCode(t, err, "InvalidParameterException", "name")
	_, err = a.PutAccountSetting(ctx(t), &ecr.PutAccountSettingInput{Name: aws.String("REGISTRY_POLICY_SCOPE"), Value: aws.String("V3")})
	wantCode(t, err, "InvalidParameterException", "value")
	putSetting(t, a, "BASIC_SCAN_TYPE_VERSION", "CLAIR")
	if got := setting(t, a, "BASIC_SCAN_TYPE_VERSION"); got != "CLAIR" {
		t.Errorf("BASIC_SCAN_TYPE_VERSION after put: %s", got)
	}
	if got := setting(t, b, "BASIC_SCAN_TYPE_VERSION"); got != "AWS_NATIVE" {
		t.Errorf("B's setting moved with A's: %s", got)
	}

	t.Run("BlobMounting", func(t *testing.T) {
		createRepos(t, a, "mnt/src", "mnt/dst")
		if _, err := a.CreateRepository(ctx(t), &ecr.CreateRepositoryInput{RepositoryName: aws.String("mnt/kms"),
			EncryptionConfiguration: &types.EncryptionConfiguration{EncryptionType: types.EncryptionTypeKms}}); err != nil {
			t.Fatal(err)
		}
		l := pushBlob(t, a, "mnt/src", layerBytes(3000, 33))
		auth := privateBasic(t, a)
		mount := func(to string) int {
			resp, _ := v2Do(t, http.MethodPost, s.URL+"/v2/"+to+"/blobs/uploads/?mount="+l.Digest+"&from=mnt/src", auth, "", nil)
			return resp.StatusCode
		}
		if got := mount("mnt/dst"); got != http.StatusAccepted {
			t.Errorf("mount with BLOB_MOUNTING DISABLED: %d, want 202", got)
		}
		putSetting(t, a, "BLOB_MOUNTING", "ENABLED")
		if got := setting(t, a, "BLOB_MOUNTING"); got != "ENABLED" {
			t.Errorf("BLOB_MOUNTING after put: %s", got)
		}
		if got := mount("mnt/dst"); got != http.StatusCreated {
			t.Errorf("mount with BLOB_MOUNTING ENABLED: %d, want 201", got)
		}
		if got := mount("mnt/kms"); got != http.StatusAccepted {
			t.Errorf("mount from AES256 into KMS: %d, want 202", got)
		}
		putSetting(t, a, "BLOB_MOUNTING", "DISABLED")
		out, err := a.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String("mnt/dst"), LayerDigests: []string{l.Digest}})
		if err != nil || out.Layers[0].LayerAvailability != types.LayerAvailabilityAvailable {
			t.Errorf("disabling mounts dropped a mounted layer: %+v, %v", out, err)
		}
	})

	t.Run("RegistryPolicyScope", func(t *testing.T) {
		createRepos(t, a, "scope/app")
		cfg := pushConfig(t, a, "scope/app", 2)
		putImage(t, a, "scope/app", ociManifest(cfg, "scope"), "v1")
		if _, err := a.PutRegistryPolicy(ctx(t), &ecr.PutRegistryPolicyInput{PolicyText: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
			"Principal":{"AWS":"arn:aws:iam::` + accountB + `:root"},"Action":["ecr:BatchGetImage"],"Resource":"arn:aws:ecr:us-east-1:` + accountA + `:repository/*"}]}`)}); err != nil {
			t.Fatal(err)
		}
		get := &ecr.BatchGetImageInput{RegistryId: aws.String(accountA), RepositoryName: aws.String("scope/app"), ImageIds: []types.ImageIdentifier{byTag("v1")}}
		if out, err := b.BatchGetImage(ctx(t), get); err != nil || len(out.Images) != 1 {
			t.Fatalf("V2: B pulls through A's registry policy: %+v, %v", out, err)
		}
		putSetting(t, a, "REGISTRY_POLICY_SCOPE", "V1")
		_, err := b.BatchGetImage(ctx(t), get)
		wantCode(t, err, "AccessDeniedException", "ecr:BatchGetImage")
		putSetting(t, a, "REGISTRY_POLICY_SCOPE", "V2")
		if _, err := b.BatchGetImage(ctx(t), get); err != nil {
			t.Errorf("back to V2: %v", err)
		}
	})
}
