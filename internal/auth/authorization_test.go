package auth_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ecrd/ecrd/internal/auth"
)

const sig64 = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"

// formatAuthorization writes a in the form the SDKs send.
func formatAuthorization(a auth.Authorization) string {
	return "AWS4-HMAC-SHA256 Credential=" + a.AccessKeyID + "/" + a.Date + "/" + a.Region + "/" + a.Service +
		"/aws4_request, SignedHeaders=" + strings.Join(a.SignedHeaders, ";") + ", Signature=" + a.Signature
}

func TestParseAuthorizationAccepts(t *testing.T) {
	want := auth.Authorization{AccessKeyID: "AKIDEXAMPLE", Date: "20150830", Region: "us-east-1", Service: "ecr",
		SignedHeaders: []string{"content-type", "host", "x-amz-date", "x-amz-target"}, Signature: sig64}
	cred := "Credential=AKIDEXAMPLE/20150830/us-east-1/ecr/aws4_request"
	sh := "SignedHeaders=content-type;host;x-amz-date;x-amz-target"
	for _, tc := range []struct{ name, header string }{
		{"SDKForm", "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", Signature=" + sig64},
		{"NoSpaces", "AWS4-HMAC-SHA256 " + cred + "," + sh + ",Signature=" + sig64},
		{"OtherOrder", "AWS4-HMAC-SHA256 Signature=" + sig64 + ", " + sh + ", " + cred},
		{"ExtraSpacesAndTrailingComma", "  AWS4-HMAC-SHA256 " + cred + " ,   " + sh + " , Signature=" + sig64 + ",  "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := auth.ParseAuthorization(tc.header)
			if err != nil {
				t.Fatal(err)
			}
			if !equalAuthorization(got, want) {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestParseAuthorizationRefuses(t *testing.T) {
	cred := "Credential=AKIDEXAMPLE/20150830/us-east-1/ecr/aws4_request"
	sh := "SignedHeaders=host;x-amz-date"
	sig := "Signature=" + sig64
	for _, tc := range []struct {
		name, header string
		msg          string // exact message, when the case is about it
		wantKey      string // the access key the error names
	}{
		{name: "Empty", header: "", msg: "Unsupported AWS 'algorithm': ''. Only 'AWS4-HMAC-SHA256' is supported."},
		{name: "OtherAlgorithm", header: "AWS4-HMAC-SHA512 " + cred + ", " + sh + ", " + sig,
			msg: "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'. Only 'AWS4-HMAC-SHA256' is supported."},
		{name: "SigV2", header: "AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg="},
		{name: "Bearer", header: "Bearer abc.def.ghi"},
		{name: "AlgorithmOnly", header: "AWS4-HMAC-SHA256",
			msg: "Authorization header requires 'Credential' parameter. Authorization header requires 'SignedHeaders' parameter. " +
				"Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256"},
		{name: "MissingCredentialAndSignature", header: "AWS4-HMAC-SHA256 " + sh,
			msg: "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
				"Authorization=AWS4-HMAC-SHA256 " + sh},
		{name: "MissingSignedHeaders", header: "AWS4-HMAC-SHA256 " + cred + ", " + sig, wantKey: "AKIDEXAMPLE",
			msg: "Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 " + cred + ", " + sig},
		{name: "MissingSignature", header: "AWS4-HMAC-SHA256 " + cred + ", " + sh, wantKey: "AKIDEXAMPLE"},
		{name: "NoEqualSign", header: "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", Signature",
			msg: "'Signature' not a valid key=value pair (missing equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 " + cred + ", " + sh + ", Signature'."},
		{name: "UnknownParameter", header: "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", " + sig + ", Expires=5"},
		{name: "LowerCaseParameterName", header: "AWS4-HMAC-SHA256 credential=AKIDEXAMPLE/20150830/us-east-1/ecr/aws4_request, " + sh + ", " + sig},
		{name: "DuplicateCredential", header: "AWS4-HMAC-SHA256 " + cred + ", " + cred + ", " + sh + ", " + sig},
		{name: "CredentialFourParts", header: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/aws4_request, " + sh + ", " + sig,
			msg: "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE/20150830/us-east-1/aws4_request'."},
		{name: "CredentialSixParts", header: "AWS4-HMAC-SHA256 Credential=AK/ID/20150830/us-east-1/ecr/aws4_request, " + sh + ", " + sig},
		{name: "EmptyAccessKey", header: "AWS4-HMAC-SHA256 Credential=/20150830/us-east-1/ecr/aws4_request, " + sh + ", " + sig},
		{name: "AccessKeyWithControlByte", header: "AWS4-HMAC-SHA256 Credential=AK\x01ID/20150830/us-east-1/ecr/aws4_request, " + sh + ", " + sig},
		{name: "BadScopeDate", header: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2015-08-30/us-east-1/ecr/aws4_request, " + sh + ", " + sig,
			wantKey: "AKIDEXAMPLE", msg: "Invalid credential date '2015-08-30'. Date is not the required format: yyyyMMdd."},
		{name: "ImpossibleScopeDate", header: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150230/us-east-1/ecr/aws4_request, " + sh + ", " + sig, wantKey: "AKIDEXAMPLE"},
		{name: "EmptyRegion", header: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830//ecr/aws4_request, " + sh + ", " + sig, wantKey: "AKIDEXAMPLE"},
		{name: "NotAws4Request", header: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/ecr/aws4_reqest, " + sh + ", " + sig,
			wantKey: "AKIDEXAMPLE", msg: "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_reqest'."},
		{name: "SignedHeadersEmpty", header: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=, " + sig, wantKey: "AKIDEXAMPLE"},
		{name: "SignedHeadersUpperCase", header: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=Host;x-amz-date, " + sig, wantKey: "AKIDEXAMPLE",
			msg: "SignedHeaders must be a ';'-separated list of lower-case header names in sorted order without duplicates, got 'Host;x-amz-date'."},
		{name: "SignedHeadersUnsorted", header: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=x-amz-date;host, " + sig, wantKey: "AKIDEXAMPLE"},
		{name: "SignedHeadersDuplicate", header: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;host, " + sig, wantKey: "AKIDEXAMPLE"},
		{name: "SignedHeadersEmptyName", header: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;;x-amz-date, " + sig, wantKey: "AKIDEXAMPLE"},
		{name: "SignedHeadersColon", header: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=:authority;host, " + sig, wantKey: "AKIDEXAMPLE"},
		{name: "SignedHeadersNewline", header: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;x\nhost, " + sig, wantKey: "AKIDEXAMPLE"},
		{name: "SignatureShort", header: "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", Signature=" + sig64[:63], wantKey: "AKIDEXAMPLE",
			msg: "Signature must be 64 lower-case hexadecimal digits."},
		{name: "SignatureUpperCase", header: "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", Signature=" + strings.ToUpper(sig64), wantKey: "AKIDEXAMPLE"},
		{name: "SignatureNotHex", header: "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", Signature=" + strings.Repeat("g", 64), wantKey: "AKIDEXAMPLE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := auth.ParseAuthorization(tc.header)
			var ae *auth.Error
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want an *auth.Error", err)
			}
			if ae.Type != incomplete || ae.Status != 400 {
				t.Errorf("got %s %d, want %s 400", ae.Type, ae.Status, incomplete)
			}
			if tc.msg != "" && ae.Message != tc.msg {
				t.Errorf("message\n got %q\nwant %q", ae.Message, tc.msg)
			}
			if ae.AccessKeyID != tc.wantKey {
				t.Errorf("AccessKeyID %q, want %q", ae.AccessKeyID, tc.wantKey)
			}
			if ae.Reason == "" || strings.Contains(ae.Reason, sig64) || strings.Contains(ae.Error(), sig64) {
				t.Errorf("reason %q / Error() %q: empty or holding the signature", ae.Reason, ae.Error())
			}
		})
	}
}

func TestParseAuthorizationClipsEcho(t *testing.T) {
	h := "AWS4-HMAC-SHA256 SignedHeaders=host, Junk" + strings.Repeat("x", 1<<16)
	_, err := auth.ParseAuthorization(h)
	var ae *auth.Error
	if !errors.As(err, &ae) || len(ae.Message) > 2048 {
		t.Fatalf("err = %v: want an *auth.Error with a bounded message", err)
	}
}

func equalAuthorization(a, b auth.Authorization) bool {
	return a.AccessKeyID == b.AccessKeyID && a.Date == b.Date && a.Region == b.Region && a.Service == b.Service &&
		slices.Equal(a.SignedHeaders, b.SignedHeaders) && a.Signature == b.Signature
}
