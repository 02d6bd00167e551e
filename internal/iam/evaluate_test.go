package iam

import (
	"fmt"
	"strings"
	"testing"
)

// The accounts, principals and resources of the cases.
const (
	acctA = "111111111111"
	acctB = "222222222222"
	repo  = "arn:aws:ecr:us-east-1:111111111111:repository/app/web"
)

var (
	alice   = Principal{ARN: "arn:aws:iam::111111111111:user/alice", Account: acctA}
	bob     = Principal{ARN: "arn:aws:iam::222222222222:user/bob", Account: acctB}
	session = Principal{ARN: "arn:aws:sts::222222222222:assumed-role/deploy/ci-7", Account: acctB, RoleARN: "arn:aws:iam::222222222222:role/deploy"}
)

func mustParse(t *testing.T, text string) Policy {
	t.Helper()
	p, err := Parse(text, "ecr")
	if err != nil {
		t.Fatalf("Parse(%s): %v", text, err)
	}
	return p
}

// stmt is a policy of one statement; principal "" leaves it out (an
// identity policy).
func stmt(effect, principal, action, resource, condition string) string {
	s := `{"Effect":"` + effect + `"`
	if principal != "" {
		s += `,"Principal":` + principal
	}
	s += `,"Action":` + action
	if resource != "" {
		s += `,"Resource":` + resource
	}
	if condition != "" {
		s += `,"Condition":` + condition
	}
	return s + `}`
}

func policyOf(stmts ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

// identityPolicy parses an identity policy (no principals), which Parse
// refuses as a resource policy would: it is checked here by hand.
func identityPolicy(t *testing.T, stmts ...string) Policy {
	t.Helper()
	withPrincipal := make([]string, len(stmts))
	for i, s := range stmts {
		withPrincipal[i] = strings.Replace(s, `{"Effect"`, `{"Principal":"*","Effect"`, 1)
	}
	p := mustParse(t, policyOf(withPrincipal...))
	for i := range p.Statements {
		p.Statements[i].Principal = nil
	}
	return p
}

// TestEvaluate: AWS's policy evaluation logic, case by case; each case
// names the rule of the IAM User Guide's "Policy evaluation logic" (and,
// for cross-account requests, "Cross-account policy evaluation logic") it
// checks.
func TestEvaluate(t *testing.T) {
	type tc struct {
		rule     string
		who      Principal
		action   string
		identity []string // statements of one identity policy
		resource []string // statements of the repository policy; nil: none
		ctx      map[string][]string
		want     Decision
		in       string
	}
	allowAll := stmt("Allow", "", `"ecr:*"`, `"*"`, "")
	cases := []tc{
		{"default deny: nothing allows", alice, "ecr:BatchGetImage", nil, nil, nil, DefaultDeny, InIdentity},
		{"same account: an identity Allow grants", alice, "ecr:BatchGetImage", []string{allowAll}, nil, nil, Allow, InIdentity},
		{"same account: a resource Allow naming the user grants", alice, "ecr:BatchGetImage", nil,
			[]string{stmt("Allow", `{"AWS":"arn:aws:iam::111111111111:user/alice"}`, `"ecr:BatchGetImage"`, "", "")}, nil, Allow, InResource},
		{"same account: a resource Allow of \"*\" grants", alice, "ecr:BatchGetImage", nil,
			[]string{stmt("Allow", `"*"`, `"ecr:BatchGetImage"`, "", "")}, nil, Allow, InResource},
		{"same account: a resource Allow naming the account delegates to IAM", alice, "ecr:BatchGetImage", nil,
			[]string{stmt("Allow", `{"AWS":"111111111111"}`, `"ecr:BatchGetImage"`, "", "")}, nil, DefaultDeny, InIdentity},
		{"same account: the account's root ARN delegates too", alice, "ecr:BatchGetImage", nil,
			[]string{stmt("Allow", `{"AWS":"arn:aws:iam::111111111111:root"}`, `"ecr:BatchGetImage"`, "", "")}, nil, DefaultDeny, InIdentity},
		{"explicit deny in the resource policy beats an identity Allow", alice, "ecr:PutImage", []string{allowAll},
			[]string{stmt("Deny", `"*"`, `"ecr:PutImage"`, "", "")}, nil, ExplicitDeny, InResource},
		{"explicit deny in an identity policy beats a resource Allow", alice, "ecr:PutImage",
			[]string{stmt("Deny", "", `"ecr:PutImage"`, `"*"`, "")}, []string{stmt("Allow", `"*"`, `"ecr:*"`, "", "")}, nil, ExplicitDeny, InIdentity},
		{"a Deny for another action does not apply", alice, "ecr:BatchGetImage", []string{allowAll},
			[]string{stmt("Deny", `"*"`, `"ecr:PutImage"`, "", "")}, nil, Allow, InIdentity},
		{"a Deny for another principal does not apply", alice, "ecr:PutImage", []string{allowAll},
			[]string{stmt("Deny", `{"AWS":"arn:aws:iam::111111111111:user/mallory"}`, `"ecr:PutImage"`, "", "")}, nil, Allow, InIdentity},
		{"cross account: the resource policy alone does not grant", bob, "ecr:BatchGetImage", nil,
			[]string{stmt("Allow", `{"AWS":"222222222222"}`, `"ecr:BatchGetImage"`, "", "")}, nil, DefaultDeny, InIdentity},
		{"cross account: the identity policy alone does not grant", bob, "ecr:BatchGetImage", []string{allowAll}, nil, nil, DefaultDeny, InResource},
		{"cross account: both allow", bob, "ecr:BatchGetImage", []string{allowAll},
			[]string{stmt("Allow", `{"AWS":"222222222222"}`, `"ecr:BatchGetImage"`, "", "")}, nil, Allow, InResource},
		{"cross account: naming the user directly still needs its identity policy", bob, "ecr:BatchGetImage", nil,
			[]string{stmt("Allow", `{"AWS":"arn:aws:iam::222222222222:user/bob"}`, `"ecr:BatchGetImage"`, "", "")}, nil, DefaultDeny, InIdentity},
		{"cross account: a policy for another account does not apply", bob, "ecr:BatchGetImage", []string{allowAll},
			[]string{stmt("Allow", `{"AWS":"333333333333"}`, `"ecr:BatchGetImage"`, "", "")}, nil, DefaultDeny, InResource},
		{"cross account: an explicit deny wins", bob, "ecr:BatchGetImage", []string{allowAll},
			[]string{stmt("Allow", `"*"`, `"ecr:*"`, "", ""), stmt("Deny", `{"AWS":"222222222222"}`, `"ecr:BatchGetImage"`, "", "")}, nil, ExplicitDeny, InResource},
		{"a role's statement applies to its sessions", session, "ecr:BatchGetImage", []string{allowAll},
			[]string{stmt("Allow", `{"AWS":"arn:aws:iam::222222222222:role/deploy"}`, `"ecr:BatchGetImage"`, "", "")}, nil, Allow, InResource},
		{"a session ARN names the session", session, "ecr:BatchGetImage", []string{allowAll},
			[]string{stmt("Allow", `{"AWS":"arn:aws:sts::222222222222:assumed-role/deploy/ci-7"}`, `"ecr:BatchGetImage"`, "", "")}, nil, Allow, InResource},
		{"another role's statement does not apply", session, "ecr:BatchGetImage", []string{allowAll},
			[]string{stmt("Allow", `{"AWS":"arn:aws:iam::222222222222:role/other"}`, `"ecr:BatchGetImage"`, "", "")}, nil, DefaultDeny, InResource},
		{"NotPrincipal: everyone but the listed", bob, "ecr:DeleteRepository", []string{allowAll},
			[]string{stmt("Allow", `"*"`, `"ecr:*"`, "", ""), `{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":"ecr:DeleteRepository"}`}, nil, ExplicitDeny, InResource},
		{"NotPrincipal: the listed are not denied", alice, "ecr:DeleteRepository", []string{allowAll},
			[]string{`{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":"ecr:DeleteRepository"}`}, nil, Allow, InIdentity},
		{"action wildcards match", alice, "ecr:BatchGetImage", []string{stmt("Allow", "", `"ecr:Batch*"`, `"*"`, "")}, nil, nil, Allow, InIdentity},
		{"actions match case-insensitively", alice, "ecr:BatchGetImage", []string{stmt("Allow", "", `"ECR:batchgetimage"`, `"*"`, "")}, nil, nil, Allow, InIdentity},
		{"an action list: any entry", alice, "ecr:PutImage", []string{stmt("Allow", "", `["ecr:BatchGetImage","ecr:PutImage"]`, `"*"`, "")}, nil, nil, Allow, InIdentity},
		{"another action is not allowed", alice, "ecr:PutImage", []string{stmt("Allow", "", `"ecr:Batch*"`, `"*"`, "")}, nil, nil, DefaultDeny, InIdentity},
		{"NotAction allows the others", alice, "ecr:PutImage", []string{`{"Effect":"Allow","NotAction":"ecr:DeleteRepository","Resource":"*"}`}, nil, nil, Allow, InIdentity},
		{"NotAction does not allow the listed", alice, "ecr:DeleteRepository", []string{`{"Effect":"Allow","NotAction":"ecr:DeleteRepository","Resource":"*"}`}, nil, nil, DefaultDeny, InIdentity},
		{"a resource prefix", alice, "ecr:PutImage", []string{stmt("Allow", "", `"ecr:*"`, `"arn:aws:ecr:us-east-1:111111111111:repository/app/*"`, "")}, nil, nil, Allow, InIdentity},
		{"another prefix", alice, "ecr:PutImage", []string{stmt("Allow", "", `"ecr:*"`, `"arn:aws:ecr:us-east-1:111111111111:repository/team/*"`, "")}, nil, nil, DefaultDeny, InIdentity},
		{"resources match case-sensitively", alice, "ecr:PutImage", []string{stmt("Allow", "", `"ecr:*"`, `"arn:aws:ecr:us-east-1:111111111111:repository/APP/*"`, "")}, nil, nil, DefaultDeny, InIdentity},
		{"NotResource", alice, "ecr:PutImage", []string{`{"Effect":"Allow","Action":"ecr:*","NotResource":"arn:aws:ecr:us-east-1:111111111111:repository/prod/*"}`}, nil, nil, Allow, InIdentity},
		{"NotResource excludes", alice, "ecr:PutImage", []string{`{"Effect":"Allow","Action":"ecr:*","NotResource":"arn:aws:ecr:us-east-1:111111111111:repository/app/*"}`}, nil, nil, DefaultDeny, InIdentity},
	}
	cond := func(rule, c string, ctx map[string][]string, want Decision) tc {
		return tc{rule, alice, "ecr:BatchGetImage", []string{stmt("Allow", "", `"ecr:*"`, `"*"`, c)}, nil, ctx, want, InIdentity}
	}
	ip := map[string][]string{"aws:SourceIp": {"10.1.2.3"}}
	tls := map[string][]string{"aws:SecureTransport": {"true"}}
	tagged := map[string][]string{"ecr:ResourceTag/team": {"core"}, "aws:ResourceTag/team": {"core"}}
	keys := map[string][]string{"aws:TagKeys": {"team", "env"}}
	when := map[string][]string{"aws:CurrentTime": {"2027-03-01T12:00:00Z"}, "aws:EpochTime": {"1803902400"}}
	arn := map[string][]string{"aws:PrincipalArn": {alice.ARN}, "aws:PrincipalAccount": {acctA}}
	denyIf := func(rule, c string, ctx map[string][]string, want Decision) tc {
		return tc{rule, alice, "ecr:PutImage", []string{allowAll, stmt("Deny", "", `"ecr:PutImage"`, `"*"`, c)}, nil, ctx, want, ""}
	}
	cases = append(cases,
		cond("IpAddress: in the block", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ip, Allow),
		cond("IpAddress: outside the block", `{"IpAddress":{"aws:SourceIp":"192.168.0.0/16"}}`, ip, DefaultDeny),
		cond("IpAddress: one of several blocks (values OR)", `{"IpAddress":{"aws:SourceIp":["192.168.0.0/16","10.1.2.3/32"]}}`, ip, Allow),
		cond("IpAddress: a single address", `{"IpAddress":{"aws:SourceIp":"10.1.2.3"}}`, ip, Allow),
		cond("IpAddress: a missing key fails", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, nil, DefaultDeny),
		cond("NotIpAddress", `{"NotIpAddress":{"aws:SourceIp":"192.168.0.0/16"}}`, ip, Allow),
		cond("NotIpAddress: inside fails", `{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ip, DefaultDeny),
		cond("IPv6", `{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, map[string][]string{"aws:SourceIp": {"2001:db8::1"}}, Allow),
		cond("Bool true", `{"Bool":{"aws:SecureTransport":"true"}}`, tls, Allow),
		cond("Bool as a JSON boolean", `{"Bool":{"aws:SecureTransport":true}}`, tls, Allow),
		cond("Bool false fails", `{"Bool":{"aws:SecureTransport":"false"}}`, tls, DefaultDeny),
		cond("BoolIfExists: missing holds", `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"true"}}`, tls, Allow),
		cond("StringEquals on a resource tag", `{"StringEquals":{"ecr:ResourceTag/team":"core"}}`, tagged, Allow),
		cond("StringEquals: another value", `{"StringEquals":{"aws:ResourceTag/team":"web"}}`, tagged, DefaultDeny),
		cond("StringEquals is case-sensitive", `{"StringEquals":{"aws:ResourceTag/team":"Core"}}`, tagged, DefaultDeny),
		cond("StringEqualsIgnoreCase", `{"StringEqualsIgnoreCase":{"aws:ResourceTag/team":"CORE"}}`, tagged, Allow),
		cond("StringNotEquals", `{"StringNotEquals":{"aws:ResourceTag/team":"web"}}`, tagged, Allow),
		cond("StringNotEquals: a missing key holds", `{"StringNotEquals":{"aws:ResourceTag/owner":"web"}}`, tagged, Allow),
		cond("StringLike", `{"StringLike":{"aws:ResourceTag/team":"c*"}}`, tagged, Allow),
		cond("StringLike with ?", `{"StringLike":{"aws:ResourceTag/team":"c?re"}}`, tagged, Allow),
		cond("StringNotLike", `{"StringNotLike":{"aws:ResourceTag/team":"c*"}}`, tagged, DefaultDeny),
		cond("StringEqualsIfExists: a missing key holds", `{"StringEqualsIfExists":{"aws:ResourceTag/owner":"x"}}`, tagged, Allow),
		cond("StringEqualsIfExists: a present key must match", `{"StringEqualsIfExists":{"aws:ResourceTag/team":"x"}}`, tagged, DefaultDeny),
		cond("condition keys are case-insensitive", `{"StringEquals":{"AWS:resourcetag/team":"core"}}`, tagged, Allow),
		cond("keys AND", `{"StringEquals":{"aws:ResourceTag/team":"core","ecr:ResourceTag/team":"web"}}`, tagged, DefaultDeny),
		cond("operators AND", `{"StringEquals":{"aws:ResourceTag/team":"core"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, tagged, DefaultDeny),
		cond("ForAnyValue: one tag key matches", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["team"]}}`, keys, Allow),
		cond("ForAnyValue: none matches", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["owner"]}}`, keys, DefaultDeny),
		cond("ForAllValues: every key allowed", `{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env","owner"]}}`, keys, Allow),
		cond("ForAllValues: a key not allowed", `{"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}`, keys, DefaultDeny),
		cond("ForAllValues: a missing key is vacuously true", `{"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}`, nil, Allow),
		cond("ForAnyValue: a missing key fails", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["team"]}}`, nil, DefaultDeny),
		cond("Null true: absent", `{"Null":{"aws:ResourceTag/owner":"true"}}`, tagged, Allow),
		cond("Null true: present fails", `{"Null":{"aws:ResourceTag/team":"true"}}`, tagged, DefaultDeny),
		cond("Null false: present", `{"Null":{"aws:ResourceTag/team":"false"}}`, tagged, Allow),
		cond("DateLessThan", `{"DateLessThan":{"aws:CurrentTime":"2027-06-01T00:00:00Z"}}`, when, Allow),
		cond("DateGreaterThan fails", `{"DateGreaterThan":{"aws:CurrentTime":"2027-06-01T00:00:00Z"}}`, when, DefaultDeny),
		cond("DateEquals epoch seconds", `{"DateGreaterThanEquals":{"aws:CurrentTime":"1803902400"}}`, when, Allow),
		cond("NumericLessThan", `{"NumericLessThan":{"aws:EpochTime":1900000000}}`, when, Allow),
		cond("NumericGreaterThan fails", `{"NumericGreaterThan":{"aws:EpochTime":"1900000000"}}`, when, DefaultDeny),
		cond("NumericEquals", `{"NumericEquals":{"aws:EpochTime":"1803902400"}}`, when, Allow),
		cond("NumericNotEquals", `{"NumericNotEquals":{"aws:EpochTime":"1"}}`, when, Allow),
		cond("Numeric against a non-number fails", `{"NumericEquals":{"aws:EpochTime":"x"}}`, when, DefaultDeny),
		cond("ArnEquals", `{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111111111111:user/alice"}}`, arn, Allow),
		cond("ArnLike per field", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/*"}}`, arn, Allow),
		cond("ArnLike: another service", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:sts::*:*"}}`, arn, DefaultDeny),
		cond("ArnNotLike", `{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/*"}}`, arn, Allow),
		cond("PrincipalAccount", `{"StringEquals":{"aws:PrincipalAccount":"111111111111"}}`, arn, Allow),
		denyIf("a Deny whose condition holds applies", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ip, ExplicitDeny),
		denyIf("a Deny whose condition fails does not", `{"IpAddress":{"aws:SourceIp":"192.168.0.0/16"}}`, ip, Allow),
		denyIf("a Deny unless TLS (BoolIfExists false)", `{"Bool":{"aws:SecureTransport":"false"}}`, map[string][]string{"aws:SecureTransport": {"false"}}, ExplicitDeny),
	)
	for i, c := range cases {
		t.Run(fmt.Sprintf("%02d %s", i, c.rule), func(t *testing.T) {
			var identity []Policy
			if c.identity != nil {
				identity = []Policy{identityPolicy(t, c.identity...)}
			}
			var resource *Policy
			if c.resource != nil {
				p := mustParse(t, policyOf(c.resource...))
				resource = &p
			}
			r := Request{Principal: c.who, Action: c.action, Resource: repo, ResourceAccount: acctA, Context: c.ctx}
			got := Evaluate(r, identity, resource)
			if got.Decision != c.want || c.in != "" && got.In != c.in {
				t.Errorf("%s: got %v in %q; want %v in %q", c.rule, got.Decision, got.In, c.want, c.in)
			}
			if got.Decision != DefaultDeny && got.Statement == nil {
				t.Errorf("%s: no deciding statement", c.rule)
			}
		})
	}
}

// FuzzEvaluate: any policy Parse accepts evaluates without a panic.
func FuzzEvaluate(f *testing.F) {
	f.Add(`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"ecr:*","Condition":{"ForAnyValue:StringLike":{"aws:TagKeys":"t*"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`, "10.1.1.1")
	f.Add(`{"Statement":{"Effect":"Deny","NotPrincipal":"*","NotAction":"ecr:?ut*","NotResource":"arn:*","Condition":{"DateLessThan":{"aws:CurrentTime":"2020"}}}}`, "x")
	f.Fuzz(func(t *testing.T, text, value string) {
		p, err := Parse(text, "ecr")
		if err != nil {
			return
		}
		ctx := map[string][]string{"aws:SourceIp": {value}, "aws:TagKeys": {value, "team"}, "aws:CurrentTime": {value}}
		for _, who := range []Principal{alice, bob, session} {
			Evaluate(Request{Principal: who, Action: "ecr:PutImage", Resource: repo, ResourceAccount: acctA, Context: ctx}, []Policy{p}, &p)
		}
	})
}
