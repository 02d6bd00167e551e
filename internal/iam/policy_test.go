package iam

import (
	"errors"
	"strings"
	"testing"
)

// TestParseRefuses: what ECR refuses as "Invalid repository policy
// provided" (ecr-semantics-2.md §9.1, and the issue's cases).
func TestParseRefuses(t *testing.T) {
	for name, text := range map[string]string{
		"NotJSON":              `not json`,
		"Array":                `[{"Effect":"Allow"}]`,
		"NoStatement":          `{"Version":"2012-10-17"}`,
		"EmptyStatements":      `{"Statement":[]}`,
		"OnlyEffect":           `{"Statement":[{"Effect":"Allow"}]}`,
		"NoPrincipal":          `{"Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage"}]}`,
		"NoAction":             `{"Statement":[{"Effect":"Allow","Principal":"*"}]}`,
		"BadEffect":            `{"Statement":[{"Effect":"allow","Principal":"*","Action":"ecr:*"}]}`,
		"BadVersion":           `{"Version":"2020-01-01","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*"}]}`,
		"UnknownTopMember":     `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*"}],"Extra":1}`,
		"UnknownMember":        `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Actions":"x"}]}`,
		"BothPrincipals":       `{"Statement":[{"Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"ecr:*"}]}`,
		"BothActions":          `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","NotAction":"ecr:PutImage"}]}`,
		"BothResources":        `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"*","NotResource":"*"}]}`,
		"WildcardARNPrincipal": `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:*"},"Action":"ecr:*"}]}`,
		"ShortAccount":         `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"12345"},"Action":"ecr:*"}]}`,
		"StringPrincipal":      `{"Statement":[{"Effect":"Allow","Principal":"123456789012","Action":"ecr:*"}]}`,
		"EmptyPrincipal":       `{"Statement":[{"Effect":"Allow","Principal":{},"Action":"ecr:*"}]}`,
		"UnknownPrincipalType": `{"Statement":[{"Effect":"Allow","Principal":{"Users":"x"},"Action":"ecr:*"}]}`,
		"BadService":           `{"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda"},"Action":"ecr:*"}]}`,
		"OtherService":         `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}]}`,
		"UnknownAction":        `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:MakeCoffee"}]}`,
		"WildcardMatchesNone":  `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:Coffee*"}]}`,
		"EmptyActionList":      `{"Statement":[{"Effect":"Allow","Principal":"*","Action":[]}]}`,
		"ActionNotString":      `{"Statement":[{"Effect":"Allow","Principal":"*","Action":7}]}`,
		"ResourceNotARN":       `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"my-repo"}]}`,
		"UnknownOperator":      `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringIs":{"aws:SourceIp":"x"}}}]}`,
		"ConditionNotObject":   `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":["x"]}]}`,
		"ConditionNoValue":     `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{"aws:PrincipalAccount":[]}}}]}`,
	} {
		if _, err := Parse(text, "ecr"); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Parse = %v; want ErrInvalid", name, err)
		}
	}
	if _, err := Parse(`{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}}`, "ecr-public"); !errors.Is(err, ErrInvalid) {
		t.Errorf("an ecr: action in an ECR Public policy: %v; want ErrInvalid", err)
	}
}

// TestParseAccepts: what ECR accepts, and what Parse makes of it.
func TestParseAccepts(t *testing.T) {
	for name, text := range map[string]string{
		"OneStatement":   `{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}}`,
		"OldVersionSids": `{"Version":"2008-10-17","Statement":[{"Sid":"a","Effect":"Allow","Principal":"*","Action":"ecr:*"},{"Sid":"a","Effect":"Deny","Principal":"*","Action":"ecr:PutImage"}]}`,
		"Principals": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["123456789012","arn:aws:iam::210987654321:root",` +
			`"arn:aws:iam::210987654321:user/ci/builder","arn:aws:iam::210987654321:role/deploy","arn:aws:sts::210987654321:assumed-role/deploy/session-1","*"],` +
			`"Service":"codebuild.amazonaws.com"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}`,
		"NotPrincipal": `{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"ecr:*"}]}`,
		"Wildcards":    `{"Statement":[{"Effect":"Allow","Principal":"*","Action":["ecr:Batch*","ecr:get*","ECR:PutImage","ecr:?etAuthorizationToken","*"]}]}`,
		"NotAction":    `{"Statement":[{"Effect":"Allow","Principal":"*","NotAction":"ecr:DeleteRepository"}]}`,
		"Resources":    `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":["*","arn:aws:ecr:us-east-1:123456789012:repository/app/*"]}]}`,
		"Conditions":   `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.0.2.1"]},"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"aws:MultiFactorAuthAge":3600},"ForAnyValue:StringLike":{"aws:TagKeys":"team*"},"StringEqualsIfExists":{"ecr:ResourceTag/team":"core"},"Null":{"aws:PrincipalOrgID":"false"}}}]}`,
	} {
		if _, err := Parse(text, "ecr"); err != nil {
			t.Errorf("%s: Parse = %v", name, err)
		}
	}
	p, err := Parse(`{"Version":"2012-10-17","Id":"x","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"210987654321"},"Action":"ecr:BatchGetImage","Condition":{"Bool":{"aws:SecureTransport":true}}}]}`, "ecr")
	if err != nil {
		t.Fatal(err)
	}
	s := p.Statements[0]
	if p.Version != "2012-10-17" || p.ID != "x" || s.Sid != "pull" || s.Effect != "Allow" || s.Principal.ByType["AWS"][0] != "210987654321" ||
		s.Action[0] != "ecr:BatchGetImage" || s.Condition["Bool"]["aws:SecureTransport"][0] != "true" || s.Resource != nil {
		t.Errorf("parsed %+v", p)
	}
	if _, err := Parse(`{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr-public:BatchCheckLayerAvailability"}}`, "ecr-public"); err != nil {
		t.Errorf("an ECR Public policy: %v", err)
	}
}

// TestMatch: IAM's wildcards.
func TestMatch(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"*", "anything", true}, {"Batch*", "BatchGetImage", true}, {"batch*", "BatchGetImage", true},
		{"?etImage", "GetImage", true}, {"?etImage", "etImage", false}, {"*Image", "BatchGetImage", true},
		{"*Get*Image*", "BatchGetImage", true}, {"a*b*c", "aXbYc", true}, {"a*b*c", "aXcYb", false}, {"abc", "abcd", false},
		// A '*' in the pattern is a wildcard even where the text has one.
		{"*a", "*ba", true}, {"a*", "a*", true},
		// Non-ASCII text: '?' is one character, not one byte.
		{"r?po", "répo", true}, {"R*", "répo", true}, {"é?", "É1", true},
	} {
		if got := MatchFold(c.p, c.s); got != c.want {
			t.Errorf("MatchFold(%q, %q) = %v; want %v", c.p, c.s, got, c.want)
		}
	}
	if Match("batch*", "BatchGetImage") {
		t.Error("Match is case-sensitive")
	}
}

// FuzzMatch: on ASCII, the byte matcher that requests take agrees with
// the character matcher.
func FuzzMatch(f *testing.F) {
	f.Add("a*b?c", "aXXbYc")
	f.Add("*a", "*ba")
	f.Fuzz(func(t *testing.T, p, s string) {
		if !ascii(p) || !ascii(s) {
			return
		}
		for _, fold := range []bool{false, true} {
			want := match([]rune(p), []rune(s))
			if fold {
				want = match([]rune(strings.ToLower(p)), []rune(strings.ToLower(s)))
			}
			if got := matchASCII(p, s, fold); got != want {
				t.Fatalf("matchASCII(%q, %q, %v) = %v; match says %v", p, s, fold, got, want)
			}
		}
	})
}

// FuzzParse: any text is parsed or refused with ErrInvalid, never a panic.
func FuzzParse(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":[{"Sid":"a","Effect":"Allow","Principal":{"AWS":["123456789012"]},"Action":"ecr:Batch*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`)
	f.Add(`{"Statement":{"Effect":"Deny","NotPrincipal":"*","NotAction":["ecr:?ut*"],"NotResource":"arn:x"}}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, text string) {
		if _, err := Parse(text, "ecr"); err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("Parse: %v is not ErrInvalid", err)
		}
	})
}
