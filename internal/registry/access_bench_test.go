package registry

import (
	"context"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/iam"
)

// BenchmarkDecide measures what authorizing a request costs on top of its
// store reads: the condition keys, the repository's and registry's
// policies (parsed once, then cached by text) and iam.Evaluate, or the
// decision cache that answers for them, for a typical request of each
// kind. Compare with BenchmarkCheckLayers (a
// BatchCheckLayerAvailability of 100 digests, about a millisecond): the
// issue's target is well under 5% of it.
func BenchmarkDecide(b *testing.B) {
	r := New(Options{Region: "us-east-1", Now: func() time.Time { return time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC) }})
	ci, err := iam.ParseIdentity(`{"Version":"2012-10-17","Statement":[
		{"Sid":"TeamA","Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111111111111:repository/team-a/*"},
		{"Sid":"Login","Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"},
		{"Sid":"Tagged","Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*","Condition":{"StringEquals":{"ecr:ResourceTag/team":"a"}}}]}`)
	if err != nil {
		b.Fatal(err)
	}
	repoPolicy := `{"Version":"2012-10-17","Statement":[
		{"Sid":"PullFromB","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"]},
		{"Sid":"NoPush","Effect":"Deny","Principal":"*","Action":"ecr:PutImage","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`
	key := RepoKey{Registry: "111111111111", Name: "team-a/app"}
	tags := Repository{Tags: []ResourceTag{{"team", "a"}, {"env", "prod"}}}
	for _, c := range []struct {
		name   string
		caller Principal
		facts  RepositoryAccess
	}{
		{"admin-no-policy", AccountAdmin("111111111111", "AKIDA"), RepositoryAccess{Exists: true, Repository: tags}},
		{"admin-repository-policy", AccountAdmin("111111111111", "AKIDA"), RepositoryAccess{Exists: true, Repository: tags, Policy: repoPolicy}},
		{"user-identity-policy", Principal{Account: "111111111111", PrincipalARN: "arn:aws:iam::111111111111:user/ci", Type: "User", UserName: "ci",
			Policies: []iam.Policy{ci}, PolicyVersion: "v1", SourceIP: "10.1.2.3"}, RepositoryAccess{Exists: true, Repository: tags, Policy: repoPolicy}},
		// Without a policy version nothing is cached: every request evaluates.
		{"user-identity-policy-uncached", Principal{Account: "111111111111", PrincipalARN: "arn:aws:iam::111111111111:user/ci", Type: "User", UserName: "ci",
			Policies: []iam.Policy{ci}, SourceIP: "10.1.2.3"}, RepositoryAccess{Exists: true, Repository: tags, Policy: repoPolicy}},
		{"cross-account", AccountAdmin("222222222222", "AKIDB"), RepositoryAccess{Exists: true, Repository: tags, Policy: repoPolicy}},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := WithCaller(context.Background(), c.caller)
			b.ReportAllocs()
			for b.Loop() {
				if err := r.decide(ctx, "BatchCheckLayerAvailability", key, c.facts, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
