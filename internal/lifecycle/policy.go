// Package lifecycle is ECR's lifecycle policies: the rule language
// (Parse), the evaluation of a policy over a repository's images
// (Evaluate, a pure function), and the previews and runs that apply it
// through the core.
package lifecycle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/ecrd/ecrd/internal/registry"
)

// Limits of the policy text (ECR's quotas; the text's length is also in
// the model).
const (
	MaxRules   = 50
	MinTextLen = 100
	MaxTextLen = 30720
	// maxWildcards is how many '*' one tagPatternList entry may hold.
	maxWildcards = 4
	// minArchiveDays is how long an image stays archived before a rule may
	// expire it (ECR's archive minimum).
	minArchiveDays = 90
)

// Values of the policy's fields, lower-case as the policy text spells them.
const (
	TagTagged   = "tagged"
	TagUntagged = "untagged"
	TagAny      = "any"

	CountMoreThan          = "imageCountMoreThan"
	CountSincePushed       = "sinceImagePushed"
	CountSincePulled       = "sinceImagePulled"
	CountSinceTransitioned = "sinceImageTransitioned"

	ClassStandard = "standard"
	ClassArchive  = "archive"

	ActionExpire     = "expire"
	ActionTransition = "transition"
)

// Policy is a parsed lifecycle policy, its rules by ascending priority.
type Policy struct {
	Rules []Rule `json:"rules"`
}

// Rule is one rule of a policy. Field order is the order ECR answers the
// normalized text in.
type Rule struct {
	Priority    int       `json:"rulePriority"`
	Description *string   `json:"description,omitempty"`
	Selection   Selection `json:"selection"`
	Action      Action    `json:"action"`
}

// Selection says which images a rule considers and when it acts on them.
type Selection struct {
	TagStatus      string   `json:"tagStatus"`
	TagPatternList []string `json:"tagPatternList,omitempty"`
	TagPrefixList  []string `json:"tagPrefixList,omitempty"`
	// StorageClass is "" when the text leaves it out: standard.
	StorageClass string `json:"storageClass,omitempty"`
	CountType    string `json:"countType"`
	CountUnit    string `json:"countUnit,omitempty"`
	CountNumber  int    `json:"countNumber"`
}

// Action is what a rule does to the images it selects.
type Action struct {
	Type               string `json:"type"`
	TargetStorageClass string `json:"targetStorageClass,omitempty"`
}

// class is the storage class the rule selects from.
func (r Rule) class() string {
	if r.Selection.StorageClass == "" {
		return ClassStandard
	}
	return r.Selection.StorageClass
}

// invalid is ECR's refusal of a policy text, detail saying what is wrong.
func invalid(format string, args ...any) error {
	return registry.Errorf(registry.CodeInvalidParameter,
		"Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: %s'", fmt.Sprintf(format, args...))
}

// Parse validates a lifecycle policy text as ECR does and returns the
// policy with its normalized text: minified, rules by ascending priority,
// as PutLifecyclePolicy answers and GetLifecyclePolicy returns it. Every
// refusal is an InvalidParameter error with ECR's envelope.
func Parse(text string) (Policy, string, error) {
	if n := len(text); n < MinTextLen || n > MaxTextLen {
		return Policy{}, "", registry.Errorf(registry.CodeInvalidParameter,
			"Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Member must have length between %d and %d'", MinTextLen, MaxTextLen)
	}
	top, err := object([]byte(text), "", []string{"rules"}, []string{"rules"})
	if err != nil {
		return Policy{}, "", err
	}
	var raws []json.RawMessage
	if !decode(top["rules"], &raws) {
		return Policy{}, "", invalid("instance type does not match any allowed primitive type (allowed: [\"array\"]) at /rules")
	}
	if len(raws) == 0 {
		return Policy{}, "", invalid("array is too short: must have at least 1 elements but instance has 0 elements")
	}
	if len(raws) > MaxRules {
		return Policy{}, "", invalid("array is too long: must have at most %d elements but instance has %d elements", MaxRules, len(raws))
	}
	var p Policy
	for i, raw := range raws {
		r, err := parseRule(raw, fmt.Sprintf("/rules/%d", i))
		if err != nil {
			return Policy{}, "", err
		}
		p.Rules = append(p.Rules, r)
	}
	slices.SortStableFunc(p.Rules, func(a, b Rule) int { return a.Priority - b.Priority })
	if err := checkRules(p.Rules); err != nil {
		return Policy{}, "", err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return Policy{}, "", fmt.Errorf("encoding a lifecycle policy: %w", err)
	}
	return p, strings.TrimSuffix(buf.String(), "\n"), nil
}

// object decodes raw as a JSON object with only the allowed members and
// every required one.
func object(raw []byte, at string, allowed, required []string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if !decode(raw, &m) || m == nil {
		if at == "" {
			return nil, invalid("Could not map policyString into LifecyclePolicy.")
		}
		return nil, invalid("instance type does not match any allowed primitive type (allowed: [\"object\"]) at %s", at)
	}
	var extra, missing []string
	for k := range m {
		if !slices.Contains(allowed, k) {
			extra = append(extra, `"`+k+`"`)
		}
	}
	for _, k := range required {
		if _, ok := m[k]; !ok {
			missing = append(missing, `"`+k+`"`)
		}
	}
	slices.Sort(extra)
	switch {
	case len(extra) > 0:
		return nil, invalid("object instance has properties which are not allowed by the schema: ([%s])", strings.Join(extra, ","))
	case len(missing) > 0:
		return nil, invalid("object has missing required properties ([%s])", strings.Join(missing, ","))
	}
	return m, nil
}

// decode unmarshals raw into v strictly: null is not a value.
func decode(raw json.RawMessage, v any) bool {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return false
	}
	return json.Unmarshal(raw, v) == nil
}

func str(m map[string]json.RawMessage, key, at string, enum ...string) (string, bool, error) {
	raw, ok := m[key]
	if !ok {
		return "", false, nil
	}
	var s string
	if !decode(raw, &s) {
		return "", true, invalid("instance type does not match any allowed primitive type (allowed: [\"string\"]) at %s/%s", at, key)
	}
	if len(enum) > 0 && !slices.Contains(enum, s) {
		return "", true, invalid("instance value (%q) not found in enum (possible values: [%s])", s, quoted(enum))
	}
	return s, true, nil
}

func integer(m map[string]json.RawMessage, key, at string) (int, error) {
	var f float64
	if !decode(m[key], &f) || f != float64(int(f)) {
		return 0, invalid("instance type does not match any allowed primitive type (allowed: [\"integer\"]) at %s/%s", at, key)
	}
	if f < 1 {
		return 0, invalid("numeric instance is lower than the required minimum (minimum: 1, found: %d) at %s/%s", int(f), at, key)
	}
	if f > 1<<31-1 {
		return 0, invalid("numeric instance is greater than the required maximum (maximum: %d, found: %.0f) at %s/%s", 1<<31-1, f, at, key)
	}
	return int(f), nil
}

func stringList(m map[string]json.RawMessage, key, at string) ([]string, bool, error) {
	raw, ok := m[key]
	if !ok {
		return nil, false, nil
	}
	var l []string
	if !decode(raw, &l) || slices.Contains(l, "") {
		return nil, true, invalid("%s/%s must be a list of non-empty strings", at, key)
	}
	if len(l) == 0 {
		return nil, true, invalid("array is too short: must have at least 1 elements but instance has 0 elements at %s/%s", at, key)
	}
	return l, true, nil
}

func quoted(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = `"` + s + `"`
	}
	return strings.Join(q, ",")
}
