package awsjson_test

import (
	"testing"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/api/awsjson/botocore"
)

func TestPatterns_CommittedModelPatternsCompile(t *testing.T) {
	m := loadECRModel(t) // LoadModel compiles every pattern
	if len(m.Patterns()) < 10 {
		t.Fatalf("only %d patterns in the ECR model", len(m.Patterns()))
	}
}

func TestPatterns_BotocoreModelPatternsCompile(t *testing.T) {
	dir := botocoreDir(t)
	for _, sv := range []string{"ecr/2015-09-21", "ecr-public/2020-10-30"} {
		t.Run(sv, func(t *testing.T) {
			raw, err := botocore.ReadModel(dir, sv)
			if err != nil {
				t.Fatal(err)
			}
			trimmed, err := awsjson.TrimModel(raw)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := awsjson.LoadModel(trimmed); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// patternShape loads a model with one string shape holding pattern, so
// that translation is tested through the exported API.
func patternShape(t *testing.T, pattern string) *awsjson.Shape {
	t.Helper()
	m, err := awsjson.LoadModel([]byte(`{"metadata":{"targetPrefix":"T"},"operations":{},
		"shapes":{"S":{"type":"string","pattern":"` + escape(pattern) + `"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := m.Shape("S")
	return s
}

func TestPatterns_MatchWholeValueWithJavaMeaning(t *testing.T) {
	const (
		ecrRepo    = `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`
		publicRepo = `(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*`
		layer      = `[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+`
		kms        = `^$|arn:aws[a-z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key\/[a-z0-9-]+`
	)
	tests := []struct {
		name, pattern, value string
		match                bool
	}{
		{"ECRRepo/Simple", ecrRepo, "team/app", true},
		{"ECRRepo/DoubleUnderscore", ecrRepo, "a__b", true},
		{"ECRRepo/HyphenRun", ecrRepo, "a--b", true},
		{"ECRRepo/Dot", ecrRepo, "a.b/c-d", true},
		{"ECRRepo/UpperCase", ecrRepo, "Team/App", false},
		{"ECRRepo/EmptySegment", ecrRepo, "a//b", false},
		{"ECRRepo/TripleUnderscore", ecrRepo, "a___b", false},
		{"ECRRepo/LeadingHyphen", ecrRepo, "-x", false},
		{"ECRRepo/TrailingSlash", ecrRepo, "a/", false},
		{"ECRRepo/TrailingNewline", ecrRepo, "ab\n", false},
		{"PublicRepo/Simple", publicRepo, "ns/app", true},
		{"PublicRepo/DoubleUnderscore", publicRepo, "a__b", false},
		{"LayerDigest/Upper", layer, "sha256:ABCdef01", true},
		{"LayerDigest/HyphenIsLiteral", layer, "a-b_c+d.e:0f", true},
		{"LayerDigest/NoRangeFromNineToUnderscore", layer, "a;b:0f", false},
		{"LayerDigest/Colon", layer, "sha256:xyz", false},
		{"LayerDigest/NoAlgorithm", layer, ":0f", false},
		{"KMS/EmptyAlternative", kms, "", true},
		{"KMS/ARN", kms, "arn:aws:kms:us-east-1:123456789012:key/abc-1", true},
		{"KMS/Junk", kms, "x", false},
		{"RegistryID/Twelve", `[0-9]{12}`, "123456789012", true},
		{"RegistryID/Thirteen", `[0-9]{12}`, "1234567890123", false},
		{"JavaSpace/VerticalTab", `^\S+$`, "a\vb", false},
		{"JavaSpace/Plain", `^\S+$`, "a-b", true},
		{"JavaDot/CarriageReturn", `a.b`, "a\rb", false},
		{"JavaDot/Any", `a.b`, "a.b", true},
		{"Class/EscapedHyphen", `[._\-/a-z0-9*]+`, "a-b/c", true},
		{"Class/TrailingHyphen", `[\w+=,.@-]+`, "a@b-c", true},
		{"Class/LeadingBracket", `[]a]+`, "]a", true},
		{"Class/Negated", `[^a-c]+`, "xyz", true},
		{"Class/NegatedMiss", `[^a-c]+`, "xbz", false},
		{"Class/SpaceInClass", `[\s,]+`, " ,\v", true},
		{"Unicode/Escape", `\u00e9+`, "éé", true},
		{"Quote", `\Q*+\E`, "*+", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := patternShape(t, tt.pattern).MatchPattern(tt.value); got != tt.match {
				t.Errorf("%q ~ %q = %v, want %v", tt.pattern, tt.value, got, tt.match)
			}
		})
	}
}

func TestPatterns_RefusesWhatRE2CannotMean(t *testing.T) {
	for name, p := range map[string]string{
		"NestedClass":  `[a[b]]`,
		"Intersection": `[a-z&&[^b]]`,
		"Lookahead":    `a(?=b)`,
		"Backref":      `(a)\1`,
		"Possessive":   `a++`,
		"BadRange":     `[z-a]`,
		"Unclosed":     `[abc`,
		"VerticalWS":   `\v`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := awsjson.LoadModel([]byte(`{"metadata":{"targetPrefix":"T"},"operations":{},
				"shapes":{"S":{"type":"string","pattern":"` + escape(p) + `"}}}`))
			if err == nil {
				t.Fatalf("pattern %q was accepted", p)
			}
		})
	}
}

// escape quotes s for a JSON string.
func escape(s string) string {
	var b []byte
	for _, c := range []byte(s) {
		if c == '\\' || c == '"' {
			b = append(b, '\\')
		}
		b = append(b, c)
	}
	return string(b)
}
