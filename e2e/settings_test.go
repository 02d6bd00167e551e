package e2e

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
)

// repoARN is a private repository's ARN for the test account in us-east-1.
func repoARN(account, name string) string {
	return "arn:aws:ecr:us-east-1:" + account + ":repository/" + name
}

func TestRepositoryPolicy(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	c := s.client()
	createRepos(t, c, "pol/repo")
	repo := aws.String("pol/repo")
	const policy = `{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}`

	_, err := c.GetRepositoryPolicy(ctx(t), &ecr.GetRepositoryPolicyInput{RepositoryName: repo})
	wantAPIError[*types.RepositoryPolicyNotFoundException](t, err, "Repository policy does not exist for the repository with name 'pol/repo' in the registry with id '"+testAccount+"'")
	set, err := c.SetRepositoryPolicy(ctx(t), &ecr.SetRepositoryPolicyInput{RepositoryName: repo, PolicyText: aws.String(policy), Force: true})
	if err != nil || aws.ToString(set.RegistryId) != testAccount || aws.ToString(set.RepositoryName) != "pol/repo" || aws.ToString(set.PolicyText) != policy {
		t.Fatalf("SetRepositoryPolicy: %+v, %v", set, err)
	}
	get, err := c.GetRepositoryPolicy(ctx(t), &ecr.GetRepositoryPolicyInput{RegistryId: aws.String(testAccount), RepositoryName: repo})
	if err != nil || aws.ToString(get.PolicyText) != policy || aws.ToString(get.RegistryId) != testAccount || aws.ToString(get.RepositoryName) != "pol/repo" {
		t.Fatalf("GetRepositoryPolicy: %+v, %v", get, err)
	}
	for _, bad := range []string{`not json`, `[]`, `{"Version":"2012-10-17"}`, `{"Statement":[]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Principal":"*","Action":"ecr:*"}]}`,
		`{"Statement":{"Effect":"Allow","Action":"ecr:*","Sid":"` + strings.Repeat("x", 10240) + `"}}`,
		`{"Statement":[{"Effect":"Allow"}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:*"},"Action":"ecr:BatchGetImage"}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImages"}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr-public:BatchCheckLayerAvailability"}]}`} {
		_, err := c.SetRepositoryPolicy(ctx(t), &ecr.SetRepositoryPolicyInput{RepositoryName: repo, PolicyText: aws.String(bad)})
		wantAPIError[*types.InvalidParameterException](t, err, "failed to satisfy constraint")
	}
	_, err = c.SetRepositoryPolicy(ctx(t), &ecr.SetRepositoryPolicyInput{RepositoryName: repo, PolicyText: aws.String(`{"Statement":[{"Effect":"Allow"}]}`)})
	wantAPIError[*types.InvalidParameterException](t, err, "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'")
	if get, err := c.GetRepositoryPolicy(ctx(t), &ecr.GetRepositoryPolicyInput{RepositoryName: repo}); err != nil || aws.ToString(get.PolicyText) != policy {
		t.Fatalf("refused policies changed the stored one: %+v, %v", get, err)
	}
	// The repository of the same name in the account's public registry is
	// another repository, without this policy.
	pc := s.publicClient()
	createPublicRepos(t, pc, "pol/repo")
	_, err = pc.GetRepositoryPolicy(ctx(t), &ecrpublic.GetRepositoryPolicyInput{RepositoryName: repo})
	wantCode(t, err, "RepositoryPolicyNotFoundException", "")

	del, err := c.DeleteRepositoryPolicy(ctx(t), &ecr.DeleteRepositoryPolicyInput{RepositoryName: repo})
	if err != nil || aws.ToString(del.PolicyText) != policy || aws.ToString(del.RegistryId) != testAccount {
		t.Fatalf("DeleteRepositoryPolicy: %+v, %v; want the deleted text", del, err)
	}
	_, err = c.DeleteRepositoryPolicy(ctx(t), &ecr.DeleteRepositoryPolicyInput{RepositoryName: repo})
	wantAPIError[*types.RepositoryPolicyNotFoundException](t, err, "")
	_, err = c.GetRepositoryPolicy(ctx(t), &ecr.GetRepositoryPolicyInput{RepositoryName: repo})
	wantAPIError[*types.RepositoryPolicyNotFoundException](t, err, "")

	for name, call := range map[string]func(*string) error{
		"Get": func(r *string) error {
			_, err := c.GetRepositoryPolicy(ctx(t), &ecr.GetRepositoryPolicyInput{RepositoryName: r})
			return err
		},
		"Set": func(r *string) error {
			_, err := c.SetRepositoryPolicy(ctx(t), &ecr.SetRepositoryPolicyInput{RepositoryName: r, PolicyText: aws.String(policy)})
			return err
		},
		"Delete": func(r *string) error {
			_, err := c.DeleteRepositoryPolicy(ctx(t), &ecr.DeleteRepositoryPolicyInput{RepositoryName: r})
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			wantAPIError[*types.RepositoryNotFoundException](t, call(aws.String("no/such")), "no/such")
			wantAPIError[*types.InvalidParameterException](t, call(aws.String("Bad/Name")), "repositoryName")
		})
	}
}

// TestRepositoryPolicyDeletedWithRepository: a repository created again
// under a deleted one's name starts without its policy.
func TestRepositoryPolicyDeletedWithRepository(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	c := s.client()
	createRepos(t, c, "pol/again")
	if _, err := c.SetRepositoryPolicy(ctx(t), &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("pol/again"),
		PolicyText: aws.String(`{"Statement":[{"Effect":"Deny","Principal":"*","Action":"ecr:PutImage"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteRepository(ctx(t), &ecr.DeleteRepositoryInput{RepositoryName: aws.String("pol/again")}); err != nil {
		t.Fatal(err)
	}
	createRepos(t, c, "pol/again")
	_, err := c.GetRepositoryPolicy(ctx(t), &ecr.GetRepositoryPolicyInput{RepositoryName: aws.String("pol/again")})
	wantAPIError[*types.RepositoryPolicyNotFoundException](t, err, "")
}

func TestPutImageScanningConfiguration(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	c := s.client()
	createRepos(t, c, "scan/repo")
	for _, on := range []bool{true, false} {
		out, err := c.PutImageScanningConfiguration(ctx(t), &ecr.PutImageScanningConfigurationInput{RepositoryName: aws.String("scan/repo"),
			ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: on}})
		if err != nil || aws.ToString(out.RegistryId) != testAccount || aws.ToString(out.RepositoryName) != "scan/repo" || out.ImageScanningConfiguration.ScanOnPush != on {
			t.Fatalf("PutImageScanningConfiguration(%v): %+v, %v", on, out, err)
		}
		repos, err := c.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"scan/repo"}})
		if err != nil || repos.Repositories[0].ImageScanningConfiguration.ScanOnPush != on {
			t.Fatalf("DescribeRepositories after scanOnPush=%v: %+v, %v", on, repos, err)
		}
	}
	_, err := c.PutImageScanningConfiguration(ctx(t), &ecr.PutImageScanningConfigurationInput{RepositoryName: aws.String("no/such"),
		ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: true}})
	wantAPIError[*types.RepositoryNotFoundException](t, err, "no/such")
	wantRawError(t, s, "PutImageScanningConfiguration", `{"repositoryName":"scan/repo"}`, "InvalidParameterException", "imageScanningConfiguration")
}

// TestSettingsAcrossAccounts: one account cannot read or change another's
// repository settings without a policy of the other's that allows it, and a read-only key cannot change its own.
func TestSettingsAcrossAccounts(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", withCredentials(t))
	a := s.clientAs("AKIDA", "secretA", "us-east-1")
	b := s.clientAs("AKIDB", "secretB", "us-east-1")
	ro := s.clientAs("AKIDREAD", "secretR", "us-east-1")
	createRepos(t, a, "set/repo")
	const policy = `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}]}`
	arn := aws.String(repoARN(accountA, "set/repo"))
	tags := []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}
	deniedB := func(action string) string {
		return "User: arn:aws:iam::" + accountB + ":user/AKIDB is not authorized to perform: ecr:" + action + " on resource: " +
			aws.ToString(arn) + " because no resource-based policy allows the ecr:" + action + " action"
	}

	_, err := b.SetRepositoryPolicy(ctx(t), &ecr.SetRepositoryPolicyInput{RegistryId: aws.String(accountA), RepositoryName: aws.String("set/repo"), PolicyText: aws.String(policy)})
	wantCode(t, err, "AccessDeniedException", deniedB("SetRepositoryPolicy"))
	_, err = b.GetRepositoryPolicy(ctx(t), &ecr.GetRepositoryPolicyInput{RegistryId: aws.String(accountA), RepositoryName: aws.String("set/repo")})
	wantCode(t, err, "AccessDeniedException", deniedB("GetRepositoryPolicy"))
	_, err = b.DeleteRepositoryPolicy(ctx(t), &ecr.DeleteRepositoryPolicyInput{RegistryId: aws.String(accountA), RepositoryName: aws.String("set/repo")})
	wantCode(t, err, "AccessDeniedException", deniedB("DeleteRepositoryPolicy"))
	_, err = b.UntagResource(ctx(t), &ecr.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"k"}})
	wantCode(t, err, "AccessDeniedException", deniedB("UntagResource"))
	_, err = b.ListImageReferrers(ctx(t), &ecr.ListImageReferrersInput{RegistryId: aws.String(accountA), RepositoryName: aws.String("set/repo"),
		SubjectId: &types.SubjectIdentifier{ImageDigest: aws.String(digestOf(nil))}})
	wantCode(t, err, "AccessDeniedException", deniedB("ListImageReferrers"))
	_, err = b.TagResource(ctx(t), &ecr.TagResourceInput{ResourceArn: arn, Tags: tags})
	wantCode(t, err, "AccessDeniedException", deniedB("TagResource"))
	_, err = b.ListTagsForResource(ctx(t), &ecr.ListTagsForResourceInput{ResourceArn: arn})
	wantCode(t, err, "AccessDeniedException", deniedB("ListTagsForResource"))
	_, err = b.PutImageScanningConfiguration(ctx(t), &ecr.PutImageScanningConfigurationInput{RegistryId: aws.String(accountA), RepositoryName: aws.String("set/repo"),
		ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: true}})
	wantCode(t, err, "AccessDeniedException", deniedB("PutImageScanningConfiguration"))

	_, err = ro.SetRepositoryPolicy(ctx(t), &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("set/repo"), PolicyText: aws.String(policy)})
	wantCode(t, err, "AccessDeniedException", "ecr:SetRepositoryPolicy")
	_, err = ro.DeleteRepositoryPolicy(ctx(t), &ecr.DeleteRepositoryPolicyInput{RepositoryName: aws.String("set/repo")})
	wantCode(t, err, "AccessDeniedException", "ecr:DeleteRepositoryPolicy")
	_, err = ro.TagResource(ctx(t), &ecr.TagResourceInput{ResourceArn: arn, Tags: tags})
	wantCode(t, err, "AccessDeniedException", "ecr:TagResource")
	_, err = ro.UntagResource(ctx(t), &ecr.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"k"}})
	wantCode(t, err, "AccessDeniedException", "ecr:UntagResource")
	_, err = ro.PutImageScanningConfiguration(ctx(t), &ecr.PutImageScanningConfigurationInput{RepositoryName: aws.String("set/repo"),
		ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: true}})
	wantCode(t, err, "AccessDeniedException", "ecr:PutImageScanningConfiguration")
	_, err = ro.GetRepositoryPolicy(ctx(t), &ecr.GetRepositoryPolicyInput{RepositoryName: aws.String("set/repo")})
	wantAPIError[*types.RepositoryPolicyNotFoundException](t, err, "") // reading is allowed
	if out, err := a.ListTagsForResource(ctx(t), &ecr.ListTagsForResourceInput{ResourceArn: arn}); err != nil || len(out.Tags) != 0 {
		t.Fatalf("refused calls tagged the repository: %+v, %v", out, err)
	}
}
