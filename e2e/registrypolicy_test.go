package e2e

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

func TestRegistryPolicy(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", withCredentials(t))
	a := s.clientAs("AKIDA", "secretA", "us-east-1")
	b := s.clientAs("AKIDB", "secretB", "us-east-1")
	ro := s.clientAs("AKIDREAD", "secretR", "us-east-1")
	const policy = `{"Version":"2012-10-17","Statement":[{"Sid":"replicate","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + accountB + `:root"},"Action":["ecr:CreateRepository","ecr:ReplicateImage"],"Resource":"arn:aws:ecr:us-east-1:` + accountA + `:repository/*"}]}`

	_, err := a.GetRegistryPolicy(ctx(t), &ecr.GetRegistryPolicyInput{})
	wantAPIError[*types.RegistryPolicyNotFoundException](t, err, accountA)
	_, err = a.DeleteRegistryPolicy(ctx(t), &ecr.DeleteRegistryPolicyInput{})
	wantAPIError[*types.RegistryPolicyNotFoundException](t, err, accountA)

	put, err := a.PutRegistryPolicy(ctx(t), &ecr.PutRegistryPolicyInput{PolicyText: aws.String(policy)})
	if err != nil || aws.ToString(put.RegistryId) != accountA || aws.ToString(put.PolicyText) != policy {
		t.Fatalf("PutRegistryPolicy: %+v, %v", put, err)
	}
	for _, c := range []*ecr.Client{a, ro} {
		get, err := c.GetRegistryPolicy(ctx(t), &ecr.GetRegistryPolicyInput{})
		if err != nil || aws.ToString(get.RegistryId) != accountA || aws.ToString(get.PolicyText) != policy {
			t.Fatalf("GetRegistryPolicy: %+v, %v", get, err)
		}
	}
	// Each account has its own registry, and so its own policy.
	_, err = b.GetRegistryPolicy(ctx(t), &ecr.GetRegistryPolicyInput{})
	wantAPIError[*types.RegistryPolicyNotFoundException](t, err, accountB)

	for _, bad := range []string{`not json`, `{"Statement":[{"Effect":"Perhaps","Action":"ecr:*"}]}`,
		// The cases: no principal and no action, a wildcard in a
		// principal's ARN, an action ECR does not have.
		`{"Statement":[{"Effect":"Allow"}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:*"},"Action":"ecr:ReplicateImage","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"ecr:ReplicateEverything","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"s3:GetObject","Resource":"*"}]}`} {
		_, err := a.PutRegistryPolicy(ctx(t), &ecr.PutRegistryPolicyInput{PolicyText: aws.String(bad)})
		wantAPIError[*types.InvalidParameterException](t, err, "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid registry policy provided'")
	}
	_, err = ro.PutRegistryPolicy(ctx(t), &ecr.PutRegistryPolicyInput{PolicyText: aws.String(`{"Statement":[]}`)})
	wantCode(t, err, "AccessDeniedException", "is not authorized to perform: ecr:PutRegistryPolicy on resource: *")
	_, err = ro.DeleteRegistryPolicy(ctx(t), &ecr.DeleteRegistryPolicyInput{})
	wantCode(t, err, "AccessDeniedException", "ecr:DeleteRegistryPolicy")
	if get, err := a.GetRegistryPolicy(ctx(t), &ecr.GetRegistryPolicyInput{}); err != nil || aws.ToString(get.PolicyText) != policy {
		t.Fatalf("refused calls changed the policy: %+v, %v", get, err)
	}

	del, err := a.DeleteRegistryPolicy(ctx(t), &ecr.DeleteRegistryPolicyInput{})
	if err != nil || aws.ToString(del.RegistryId) != accountA || aws.ToString(del.PolicyText) != policy {
		t.Fatalf("DeleteRegistryPolicy: %+v, %v; want the deleted text", del, err)
	}
	_, err = a.GetRegistryPolicy(ctx(t), &ecr.GetRegistryPolicyInput{})
	wantAPIError[*types.RegistryPolicyNotFoundException](t, err, "")
	// (The raw request is signed with the default server's test key.)
	wantRawError(t, startServer(t, ""), "PutRegistryPolicy", `{}`, "InvalidParameterException", "policyText")
}

func TestDescribeRegistry(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", withCredentials(t))
	for account, c := range map[string]*ecr.Client{accountA: s.clientAs("AKIDA", "secretA", "us-east-1"), accountB: s.clientAs("AKIDB", "secretB", "us-east-1")} {
		out, err := c.DescribeRegistry(ctx(t), &ecr.DescribeRegistryInput{})
		if err != nil || aws.ToString(out.RegistryId) != account || out.ReplicationConfiguration == nil || out.ReplicationConfiguration.Rules == nil || len(out.ReplicationConfiguration.Rules) != 0 {
			t.Fatalf("DescribeRegistry as %s: %+v, %v; want the account with no replication rules", account, out, err)
		}
	}
}
