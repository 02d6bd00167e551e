package registry

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/iam"
)

// TestDecisionCacheAgrees decides every combination of principal,
// policies, tags, source address, time and action, in a random order and
// each several times, with the decision cache and without it (a
// principal without a policy version is never cached): the answers must
// be the same, so that no input of a decision is missing from its key.
func TestDecisionCacheAgrees(t *testing.T) {
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	r := New(Options{Region: "us-east-1", Now: func() time.Time { return now }})
	identity := func(text string) iam.Policy {
		p, err := iam.ParseIdentity(text)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	teamA := identity(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111111111111:repository/team-a/*"}]}`)
	tagged := identity(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringEquals":{"ecr:ResourceTag/team":"a"}}}]}`)
	ci := Principal{Account: "111111111111", PrincipalARN: "arn:aws:iam::111111111111:user/ci", Type: "User", UserName: "ci"}
	withPolicy := func(p Principal, pol iam.Policy, version string) Principal {
		p.Policies, p.PolicyVersion = []iam.Policy{pol}, version
		return p
	}
	principals := []Principal{
		AccountAdmin("111111111111", "AKIDA"),
		AccountAdmin("111111111111", "AKIDA").Restricted(iam.ReadOnlyRestriction()),
		AccountAdmin("222222222222", "AKIDB"),
		AccountAdmin("222222222222", "AKIDB").Restricted(iam.ReadOnlyRestriction()),
		// One ARN under two versions of its policies.
		withPolicy(ci, teamA, "v1"),
		withPolicy(ci, tagged, "v2"),
		{Account: "111111111111", PrincipalARN: "arn:aws:sts::111111111111:assumed-role/deploy/s1",
			RoleARN: "arn:aws:iam::111111111111:role/deploy", Type: "AssumedRole", PolicyVersion: "none"},
	}
	policies := []string{"",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"ecr:BatchGetImage"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/deploy"},"Action":"ecr:*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"ecr:PutImage","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{"aws:ResourceTag/public":"yes"}}}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2026-12-02T00:00:30Z"}}}]}`,
	}
	registryPolicies := []string{"",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"222222222222"},"Action":"ecr:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`,
	}
	tagSets := [][]ResourceTag{nil, {{"team", "a"}}, {{"team", "b"}, {"public", "yes"}}}
	type input struct {
		p              Principal
		policy, regPol string
		tags           []ResourceTag
		ip             string
		secure         bool
		at             time.Duration
		action         string
		repo           RepositoryName
	}
	var inputs []input
	for _, p := range principals {
		for _, pol := range policies {
			for _, reg := range registryPolicies {
				for _, tags := range tagSets {
					for _, ip := range []string{"10.1.2.3", "192.0.2.1"} {
						for _, at := range []time.Duration{0, time.Minute} {
							for _, action := range []string{"BatchGetImage", "PutImage"} {
								for _, repo := range []RepositoryName{"team-a/app", "team-b/app"} {
									for _, secure := range []bool{false, true} {
										inputs = append(inputs, input{p, pol, reg, tags, ip, secure, at, action, repo})
									}
								}
							}
						}
					}
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	allowed, denied := 0, 0
	for round := range 3 {
		rng.Shuffle(len(inputs), func(i, j int) { inputs[i], inputs[j] = inputs[j], inputs[i] })
		for _, in := range inputs {
			now = time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC).Add(in.at)
			key := RepoKey{Registry: "111111111111", Name: in.repo}
			facts := RepositoryAccess{Exists: true, Repository: Repository{Tags: in.tags}, Policy: in.policy, RegistryPolicy: in.regPol}
			p := in.p
			p.SourceIP, p.Secure = in.ip, in.secure
			cached := r.decide(WithCaller(context.Background(), p), in.action, key, facts, nil)
			p.PolicyVersion = ""
			fresh := r.decide(WithCaller(context.Background(), p), in.action, key, facts, nil)
			if (cached == nil) != (fresh == nil) || (cached != nil && cached.Error() != fresh.Error()) {
				t.Fatalf("round %d, %+v: with the cache %v; without %v", round, in, cached, fresh)
			}
			if fresh == nil {
				allowed++
			} else {
				denied++
			}
		}
	}
	if allowed == 0 || denied == 0 {
		t.Fatalf("%d allowed, %d denied: the cases do not exercise both outcomes", allowed, denied)
	}
	if n := len(r.decisions.m); n == 0 {
		t.Fatal("nothing was cached")
	}
}
