package iam

import "testing"

// TestEvaluateMatrix crosses principals (same account, another account, a
// role session of another account), identity policies and resource
// policies, for two actions, and checks each decision against AWS's
// documented evaluation flow ("Policy evaluation logic", IAM User Guide;
// "Cross-account policy evaluation logic"), stated independently of the
// evaluator below as four rules:
//
//	R1 an explicit Deny that applies, in any policy, denies;
//	R2 in the resource's account, an Allow in the identity policies or a
//	   resource statement naming the principal itself grants;
//	R3 a resource statement naming only the account (ID or root ARN)
//	   delegates to the account's identity policies, granting nothing alone;
//	R4 across accounts, the resource policy must allow (R2 or R3) and the
//	   identity policies must allow;
//	R0 otherwise the request is denied by default.
//
// Which statements apply is given by hand with each variant, from the
// element's documented meaning (Action/NotAction, Resource/NotResource,
// Principal/NotPrincipal, wildcards, a role's sessions).
func TestEvaluateMatrix(t *testing.T) {
	type who struct {
		name string
		p    Principal
	}
	principals := []who{{"alice", alice}, {"bob", bob}, {"session", session}}
	type identityVariant struct {
		name      string
		stmt      string // "" for no identity policy
		deny      bool
		appliesTo func(action string) bool
	}
	always := func(string) bool { return true }
	never := func(string) bool { return false }
	put := func(a string) bool { return a == "ecr:PutImage" }
	identities := []identityVariant{
		{"none", "", false, never},
		{"allow-exact-put", stmt("Allow", "", `"ecr:PutImage"`, `"`+repo+`"`, ""), false, put},
		{"allow-ecr-star", stmt("Allow", "", `"ecr:*"`, `"*"`, ""), false, always},
		{"allow-case-folded-action", stmt("Allow", "", `"ECR:putimage"`, `"*"`, ""), false, put},
		{"allow-question-mark", stmt("Allow", "", `"ecr:?utImage"`, `"*"`, ""), false, put},
		{"allow-resource-prefix", stmt("Allow", "", `"ecr:*"`, `"arn:aws:ecr:us-east-1:111111111111:repository/app/*"`, ""), false, always},
		{"allow-other-resource", stmt("Allow", "", `"ecr:*"`, `"arn:aws:ecr:us-east-1:111111111111:repository/other/*"`, ""), false, never},
		{"allow-resource-case-differs", stmt("Allow", "", `"ecr:*"`, `"arn:aws:ecr:us-east-1:111111111111:repository/APP/web"`, ""), false, never},
		{"allow-not-resource-other", stmt("Allow", "", `"ecr:*"`, ``, ""), false, always},
		{"allow-not-action-put", stmt("Allow", "", ``, `"*"`, ""), false, func(a string) bool { return a != "ecr:PutImage" }},
		{"deny-exact-put", stmt("Deny", "", `"ecr:PutImage"`, `"*"`, ""), true, put},
		{"deny-not-action-get", stmt("Deny", "", ``, `"*"`, ""), true, func(a string) bool { return a != "ecr:BatchGetImage" }},
	}
	// The variants built without an element take it from here.
	identities[8].stmt = `{"Effect":"Allow","Action":"ecr:*","NotResource":"arn:aws:ecr:us-east-1:111111111111:repository/other/*"}`
	identities[9].stmt = `{"Effect":"Allow","NotAction":"ecr:PutImage","Resource":"*"}`
	identities[11].stmt = `{"Effect":"Deny","NotAction":"ecr:BatchGetImage","Resource":"*"}`

	type resourceVariant struct {
		name string
		stmt string
		deny bool
		// names: the statement applies to the principal by naming it (or
		// everyone); delegates: it applies by naming its account only.
		names, delegates func(w who, action string) bool
	}
	none := func(who, string) bool { return false }
	resources := []resourceVariant{
		{"none", "", false, none, none},
		{"allow-alice", stmt("Allow", `{"AWS":"`+alice.ARN+`"}`, `"ecr:*"`, "", ""), false,
			func(w who, _ string) bool { return w.name == "alice" }, none},
		{"allow-account-b-id", stmt("Allow", `{"AWS":"`+acctB+`"}`, `"ecr:*"`, "", ""), false,
			none, func(w who, _ string) bool { return w.p.Account == acctB }},
		{"allow-account-b-root", stmt("Allow", `{"AWS":"arn:aws:iam::`+acctB+`:root"}`, `"ecr:PutImage"`, "", ""), false,
			none, func(w who, a string) bool { return w.p.Account == acctB && a == "ecr:PutImage" }},
		{"allow-account-a-root", stmt("Allow", `{"AWS":"arn:aws:iam::`+acctA+`:root"}`, `"ecr:*"`, "", ""), false,
			none, func(w who, _ string) bool { return w.p.Account == acctA }},
		{"allow-star", stmt("Allow", `"*"`, `"ecr:BatchGetImage"`, "", ""), false,
			func(_ who, a string) bool { return a == "ecr:BatchGetImage" }, none},
		{"allow-aws-star", stmt("Allow", `{"AWS":"*"}`, `"ecr:*"`, "", ""), false,
			func(who, string) bool { return true }, none},
		{"allow-role", stmt("Allow", `{"AWS":"`+session.RoleARN+`"}`, `"ecr:*"`, "", ""), false,
			func(w who, _ string) bool { return w.name == "session" }, none},
		{"allow-session-arn", stmt("Allow", `{"AWS":"`+session.ARN+`"}`, `"ecr:*"`, "", ""), false,
			func(w who, _ string) bool { return w.name == "session" }, none},
		{"allow-bob-other-resource", stmt("Allow", `{"AWS":"`+bob.ARN+`"}`, `"ecr:*"`, `"arn:aws:ecr:us-east-1:111111111111:repository/other"`, ""), false, none, none},
		{"deny-star-put", stmt("Deny", `"*"`, `"ecr:PutImage"`, "", ""), true,
			func(_ who, a string) bool { return a == "ecr:PutImage" }, none},
		{"deny-account-b", stmt("Deny", `{"AWS":"`+acctB+`"}`, `"ecr:*"`, "", ""), true,
			none, func(w who, _ string) bool { return w.p.Account == acctB }},
		{"deny-not-principal-alice", `{"Effect":"Deny","NotPrincipal":{"AWS":"` + alice.ARN + `"},"Action":"ecr:*"}`, true,
			func(w who, _ string) bool { return w.name != "alice" }, none},
	}

	n := 0
	for _, w := range principals {
		for _, id := range identities {
			for _, res := range resources {
				for _, action := range []string{"ecr:PutImage", "ecr:BatchGetImage"} {
					n++
					// The oracle.
					idApplies := id.stmt != "" && id.appliesTo(action)
					resNames, resDelegates := res.names(w, action), res.delegates(w, action)
					resApplies := res.stmt != "" && (resNames || resDelegates)
					var want Decision
					rule := "R0"
					sameAccount := w.p.Account == acctA
					switch {
					case id.deny && idApplies || res.deny && resApplies:
						want, rule = ExplicitDeny, "R1"
					case sameAccount && (idApplies && !id.deny || resApplies && resNames):
						want, rule = Allow, "R2"
					case sameAccount && resApplies && resDelegates:
						want, rule = DefaultDeny, "R3"
					case !sameAccount && resApplies && !res.deny && idApplies && !id.deny:
						want, rule = Allow, "R4"
					case !sameAccount:
						rule = "R4"
					}
					var identity []Policy
					if id.stmt != "" {
						identity = []Policy{identityPolicy(t, id.stmt)}
					}
					var resource *Policy
					if res.stmt != "" {
						p := mustParse(t, policyOf(res.stmt))
						resource = &p
					}
					got := Evaluate(Request{Principal: w.p, Action: action, Resource: repo, ResourceAccount: acctA}, identity, resource)
					if got.Decision != want {
						t.Errorf("%s: %s, identity %s, resource %s, %s: got %v, want %v", rule, w.name, id.name, res.name, action, got.Decision, want)
					}
				}
			}
		}
	}
	if n < 500 {
		t.Fatalf("the matrix has %d cases", n)
	}
	t.Logf("%d cases", n)
}
