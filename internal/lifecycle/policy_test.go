package lifecycle

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ecrd/ecrd/internal/registry"
)

const envelope = "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: "

func pad(s string) string {
	for len(s) < MinTextLen {
		s += " "
	}
	return s
}

func rule(prio int, selection, action string) string {
	return fmt.Sprintf(`{"rulePriority":%d,"selection":{%s},"action":{%s}}`, prio, selection, action)
}

const (
	expire    = `"type":"expire"`
	transit   = `"type":"transition","targetStorageClass":"archive"`
	untagged  = `"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1`
	anyCount  = `"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1`
	taggedPre = `"tagStatus":"tagged","tagPrefixList":["v"],"countType":"imageCountMoreThan","countNumber":1`
)

func rules(rs ...string) string { return pad(`{"rules":[` + strings.Join(rs, ",") + `]}`) }

// TestParseNormalizes: pretty text comes back minified, rules by
// priority, members in ECR's order, nothing added.
func TestParseNormalizes(t *testing.T) {
	text := `{
	  "rules": [
	    {"action": {"type": "expire"}, "rulePriority": 2,
	     "selection": {"countNumber": 5, "countType": "imageCountMoreThan", "tagStatus": "any"}},
	    {"rulePriority": 1, "description": "old <untagged>",
	     "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14},
	     "action": {"type": "expire"}}
	  ]
	}`
	_, got, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"rules":[{"rulePriority":1,"description":"old <untagged>","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}},` +
		`{"rulePriority":2,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}`
	if got != want {
		t.Errorf("normalized\n%s\nwant\n%s", got, want)
	}
}

// TestParseRefuses: every refusal is InvalidParameter in ECR's envelope,
// with the detail ECR gives where it is known.
func TestParseRefuses(t *testing.T) {
	many := make([]string, MaxRules+1)
	for i := range many {
		many[i] = rule(i+1, taggedPre, expire)
	}
	cases := []struct{ name, text, detail string }{
		{"NotJSON", pad(`{"rules":`), "Could not map policyString into LifecyclePolicy."},
		{"NoRules", pad(`{"rulez":[]}`), `object instance has properties which are not allowed by the schema: (["rulez"])`},
		{"MissingRules", pad(`{}`), `object has missing required properties (["rules"])`},
		{"EmptyRules", rules(), "array is too short"},
		{"TooManyRules", rules(many...), "array is too long"},
		{"DuplicatePriority", rules(rule(1, taggedPre, expire), rule(1, untagged, expire)), "unique rulePriority"},
		{"PriorityZero", rules(rule(0, untagged, expire)), "numeric instance is lower than the required minimum (minimum: 1, found: 0)"},
		{"CountZero", rules(rule(1, `"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":0`, expire)), "minimum: 1, found: 0"},
		{"CountNotInteger", rules(rule(1, `"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1.5`, expire)), "integer"},
		{"UnknownMember", rules(rule(1, untagged+`,"tagList":["x"]`, expire)), `(["tagList"])`},
		{"BadTagStatus", rules(rule(1, `"tagStatus":"TAGGED","countType":"imageCountMoreThan","countNumber":1`, expire)), `instance value ("TAGGED") not found in enum`},
		{"TaggedWithoutList", rules(rule(1, `"tagStatus":"tagged","countType":"imageCountMoreThan","countNumber":1`, expire)), "Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED."},
		{"BothLists", rules(rule(1, `"tagStatus":"tagged","tagPrefixList":["a"],"tagPatternList":["b*"],"countType":"imageCountMoreThan","countNumber":1`, expire)), "cannot be used together"},
		{"UntaggedWithList", rules(rule(1, `"tagStatus":"untagged","tagPrefixList":["a"],"countType":"imageCountMoreThan","countNumber":1`, expire)), "only be used with tagStatus=TAGGED"},
		{"EmptyPrefix", rules(rule(1, `"tagStatus":"tagged","tagPrefixList":[""],"countType":"imageCountMoreThan","countNumber":1`, expire)), "non-empty"},
		{"FiveWildcards", rules(rule(1, `"tagStatus":"tagged","tagPatternList":["test*1*2*3*4*5*6"],"countType":"imageCountMoreThan","countNumber":1`, expire)), "wildcards"},
		{"TwoUntagged", rules(rule(1, untagged, expire), rule(2, untagged, expire)), "Only one rule can select Untagged images per storage class."},
		{"AnyFirst", rules(rule(1, anyCount, expire), rule(2, taggedPre, expire)), "Rule for tagStatus=ANY must have the lowest priority per storage class"},
		{"UnitWithCount", rules(rule(1, untagged+`,"countUnit":"days"`, expire)), "countUnit cannot be used"},
		{"SinceWithoutUnit", rules(rule(1, `"tagStatus":"untagged","countType":"sinceImagePushed","countNumber":1`, expire)), "countUnit is required"},
		{"BadUnit", rules(rule(1, `"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"hours","countNumber":1`, expire)), `instance value ("hours")`},
		{"TransitionWithoutTarget", rules(rule(1, untagged, `"type":"transition"`)), oneOfActions},
		{"ExpireWithNullTarget", rules(rule(1, untagged, `"type":"expire","targetStorageClass":null`)), oneOfActions},
		{"TransitionToStandard", rules(rule(1, untagged, `"type":"transition","targetStorageClass":"standard"`)), oneOfActions},
		{"TransitionedWithoutArchive", rules(rule(1, `"tagStatus":"any","countType":"sinceImageTransitioned","countUnit":"days","countNumber":90`, expire)), "storageClass=archive is required"},
		{"TransitionedTooSoon", rules(rule(1, `"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":30`, expire)), "90 days"},
		{"PulledExpire", rules(rule(1, `"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":30`, expire)), "only be used with action type=transition"},
		{"ArchiveCount", rules(rule(1, `"tagStatus":"any","storageClass":"archive","countType":"imageCountMoreThan","countNumber":3`, expire)), "storageClass=archive can only be used"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Parse(c.text)
			var e *registry.Error
			if !errors.As(err, &e) || e.Code != registry.CodeInvalidParameter {
				t.Fatalf("Parse: %v; want InvalidParameter", err)
			}
			if !strings.HasPrefix(e.Message, envelope) || !strings.Contains(e.Message, c.detail) || !strings.HasSuffix(e.Message, "'") {
				t.Errorf("message %q; want ECR's envelope around %q", e.Message, c.detail)
			}
		})
	}
}

// TestParseAccepts: what ECR accepts, including the edges of the limits.
func TestParseAccepts(t *testing.T) {
	fifty := make([]string, MaxRules)
	for i := range fifty {
		fifty[i] = rule(i+1, taggedPre, expire)
	}
	for name, text := range map[string]string{
		"FourWildcards":    rules(rule(1, `"tagStatus":"tagged","tagPatternList":["*test*1*2*3","test*1*2*3*"],"countType":"imageCountMoreThan","countNumber":1`, expire)),
		"FiftyRules":       rules(fifty...),
		"UntaggedPerClass": rules(rule(1, untagged, expire), rule(2, `"tagStatus":"untagged","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":90`, expire)),
		"AnyLastPerClass":  rules(rule(1, `"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":90`, expire), rule(2, taggedPre, expire), rule(3, anyCount, transit)),
		"PulledTransition": rules(rule(1, `"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":30`, transit)),
		"GapsInPriority":   rules(rule(10, taggedPre, expire), rule(20, untagged, expire)),
	} {
		if _, _, err := Parse(text); err != nil {
			t.Errorf("%s: Parse: %v", name, err)
		}
	}
}

// TestParseLength: 99 and 30,721 characters are refused for their
// length, 100 and 30,720 are not (no valid policy is as short as 100: that
// one fails as JSON).
func TestParseLength(t *testing.T) {
	valid := strings.TrimRight(rules(rule(1, untagged, expire)), " ")
	for n, ok := range map[int]bool{MinTextLen - 1: false, MinTextLen: true, MaxTextLen: true, MaxTextLen + 1: false} {
		text := strings.Repeat(" ", n)
		if n > len(valid) {
			text = valid + strings.Repeat(" ", n-len(valid))
		}
		_, _, err := Parse(text)
		if long := err != nil && strings.Contains(err.Error(), "length between 100 and 30720"); long == ok {
			t.Errorf("Parse of %d characters: %v", n, err)
		}
	}
}
