// Package iam is the AWS policy language as ECR uses it: documents parsed
// and checked as ECR checks repository and registry policies (Parse), and
// requests decided by AWS's evaluation logic over identity and resource
// policies (Evaluate). It depends on nothing of ecrd's, so that the core
// and the front ends can both use it.
package iam

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Policy is a parsed policy document.
type Policy struct {
	Version    string
	ID         string
	Statements []Statement
}

// Statement is one statement. Absent elements are nil; "*" is kept as it
// is written.
type Statement struct {
	Sid    string
	Effect string // Allow or Deny
	// Principal and NotPrincipal: one is set in a resource-based policy.
	Principal, NotPrincipal *Principals
	Action, NotAction       []string
	Resource, NotResource   []string
	// Condition maps an operator to its keys and their values.
	Condition map[string]map[string][]string
}

// Principals is a Principal element: "*" (Any), or principals by type.
type Principals struct {
	Any bool
	// ByType maps AWS, Service, Federated and CanonicalUser to their
	// values.
	ByType map[string][]string
}

// ErrInvalid is the error of every document Parse refuses; the wrapping
// error says why, for the log (ECR's answer names no reason).
var ErrInvalid = errors.New("invalid policy")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Parse parses and checks a resource-based policy document (a repository's
// or a registry's) for service ("ecr" or "ecr-public"), refusing what ECR
// refuses: anything but a JSON object of
// a Statement (one or a non-empty list) and optional Version and Id; a
// statement without an Effect of Allow or Deny, without exactly one of
// Principal and NotPrincipal, or without exactly one of Action and
// NotAction; both of Resource and NotResource; a malformed principal; an
// action of another service or one the service does not have; and
// members of the wrong type.
func Parse(text, service string) (Policy, error) {
	return parse(text, service, false)
}

// ParseIdentity parses and checks an identity-based policy (a user's or a
// role's), as IAM does: statements name no Principal or NotPrincipal, and
// need one of Resource and NotResource; actions of any service are
// accepted ("s3:GetObject" simply never applies to ecrd), those of ecr and
// ecr-public must name actions they have.
func ParseIdentity(text string) (Policy, error) {
	return parse(text, "", true)
}

func parse(text, service string, identity bool) (Policy, error) {
	top, err := members([]byte(text), "the policy", "Version", "Id", "Statement")
	if err != nil {
		return Policy{}, err
	}
	var p Policy
	if raw, ok := top["Version"]; ok {
		if !str(raw, &p.Version) || p.Version != "2012-10-17" && p.Version != "2008-10-17" {
			return Policy{}, invalid("Version must be 2012-10-17 or 2008-10-17")
		}
	}
	if raw, ok := top["Id"]; ok && !str(raw, &p.ID) {
		return Policy{}, invalid("Id must be a string")
	}
	raw, ok := top["Statement"]
	if !ok {
		return Policy{}, invalid("no Statement")
	}
	var list []json.RawMessage
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
		if err := json.Unmarshal(raw, &list); err != nil || len(list) == 0 {
			return Policy{}, invalid("Statement must be a statement or a non-empty list of them")
		}
	} else {
		list = []json.RawMessage{raw}
	}
	for i, raw := range list {
		s, err := parseStatement(raw, service, identity)
		if err != nil {
			return Policy{}, fmt.Errorf("statement %d: %w", i+1, err)
		}
		p.Statements = append(p.Statements, s)
	}
	return p, nil
}

func parseStatement(raw json.RawMessage, service string, identity bool) (Statement, error) {
	m, err := members(raw, "a statement", "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition")
	if err != nil {
		return Statement{}, err
	}
	var s Statement
	if raw, ok := m["Sid"]; ok && !str(raw, &s.Sid) {
		return s, invalid("Sid must be a string")
	}
	if !str(m["Effect"], &s.Effect) || s.Effect != "Allow" && s.Effect != "Deny" {
		return s, invalid("Effect must be Allow or Deny")
	}
	if identity {
		_, p := m["Principal"]
		_, np := m["NotPrincipal"]
		if p || np {
			return s, invalid("an identity-based policy names no Principal")
		}
	} else if err := one(m, "Principal", "NotPrincipal", true); err != nil {
		return s, err
	}
	for name, dst := range map[string]**Principals{"Principal": &s.Principal, "NotPrincipal": &s.NotPrincipal} {
		if raw, ok := m[name]; ok {
			if *dst, err = parsePrincipals(raw); err != nil {
				return s, err
			}
		}
	}
	if err := one(m, "Action", "NotAction", true); err != nil {
		return s, err
	}
	if err := one(m, "Resource", "NotResource", identity); err != nil {
		return s, err
	}
	for name, dst := range map[string]*[]string{"Action": &s.Action, "NotAction": &s.NotAction, "Resource": &s.Resource, "NotResource": &s.NotResource} {
		raw, ok := m[name]
		if !ok {
			continue
		}
		if *dst, ok = strs(raw); !ok {
			return s, invalid("%s must be a string or a non-empty list of strings", name)
		}
	}
	for _, a := range append(slices.Clone(s.Action), s.NotAction...) {
		svc := service
		if identity {
			svc, _, _ = strings.Cut(a, ":")
			if !slices.Contains([]string{"ecr", "ecr-public"}, strings.ToLower(svc)) {
				if !otherAction.MatchString(a) {
					return s, invalid("action %q is not of the form service:action", a)
				}
				continue
			}
			svc = strings.ToLower(svc)
		}
		if err := checkAction(a, svc); err != nil {
			return s, err
		}
	}
	for _, r := range append(slices.Clone(s.Resource), s.NotResource...) {
		if r != "*" && !strings.HasPrefix(r, "arn:") {
			return s, invalid("resource %q is not an ARN", r)
		}
	}
	if raw, ok := m["Condition"]; ok {
		if s.Condition, err = parseCondition(raw); err != nil {
			return s, err
		}
	}
	return s, nil
}

// one checks that at most one of a and b is present, and one when
// required.
func one(m map[string]json.RawMessage, a, b string, required bool) error {
	_, hasA := m[a]
	_, hasB := m[b]
	switch {
	case hasA && hasB:
		return invalid("%s and %s together", a, b)
	case required && !hasA && !hasB:
		return invalid("neither %s nor %s", a, b)
	}
	return nil
}

var (
	accountID = regexp.MustCompile(`^[0-9]{12}$`)
	// otherAction is an action of a service other than ECR's, in an
	// identity-based policy: "*" or service:pattern.
	otherAction = regexp.MustCompile(`^(\*|[a-z0-9-]+:[A-Za-z0-9*?]+)$`)
	// principalARN is an IAM or STS principal: an account's root, a user,
	// a role (with a path), an assumed-role session. IAM allows no
	// wildcard in a principal's ARN.
	principalARN     = regexp.MustCompile(`^arn:aws[a-z-]*:(iam::[0-9]{12}:(root|user/[\w+=,.@/-]+|role/[\w+=,.@/-]+)|sts::[0-9]{12}:(assumed-role/[\w+=,.@-]+/[\w+=,.@-]+|federated-user/[\w+=,.@-]+))$`)
	servicePrincipal = regexp.MustCompile(`^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$`)
)

func parsePrincipals(raw json.RawMessage) (*Principals, error) {
	var all string
	if str(raw, &all) {
		if all != "*" {
			return nil, invalid("Principal %q: a string Principal must be \"*\"", all)
		}
		return &Principals{Any: true}, nil
	}
	m, err := members(raw, "Principal", "AWS", "Service", "Federated", "CanonicalUser")
	if err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, invalid("an empty Principal")
	}
	p := &Principals{ByType: map[string][]string{}}
	for typ, raw := range m {
		vals, ok := strs(raw)
		if !ok {
			return nil, invalid("Principal %s must be a string or a non-empty list of strings", typ)
		}
		for _, v := range vals {
			var good bool
			switch typ {
			case "AWS":
				good = v == "*" || accountID.MatchString(v) || principalARN.MatchString(v)
			case "Service":
				good = servicePrincipal.MatchString(v)
			default:
				good = v != ""
			}
			if !good {
				return nil, invalid("Principal %s %q is not a valid principal", typ, v)
			}
		}
		p.ByType[typ] = vals
	}
	return p, nil
}

func parseCondition(raw json.RawMessage) (map[string]map[string][]string, error) {
	var ops map[string]json.RawMessage
	if err := json.Unmarshal(raw, &ops); err != nil || ops == nil {
		return nil, invalid("Condition must be an object of operators")
	}
	out := map[string]map[string][]string{}
	for op, raw := range ops {
		if !knownOperator(op) {
			return nil, invalid("unknown condition operator %q", op)
		}
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(raw, &keys); err != nil || len(keys) == 0 {
			return nil, invalid("condition %s must map keys to values", op)
		}
		out[op] = map[string][]string{}
		for k, raw := range keys {
			vals, ok := scalars(raw)
			if !ok || k == "" {
				return nil, invalid("condition %s %q must have a value or a list of them", op, k)
			}
			out[op][k] = vals
		}
	}
	return out, nil
}

// knownOperator reports whether op is an IAM condition operator, with
// its IfExists and ForAnyValue/ForAllValues forms.
func knownOperator(op string) bool {
	op = strings.TrimPrefix(strings.TrimPrefix(op, "ForAnyValue:"), "ForAllValues:")
	if op != "Null" {
		op = strings.TrimSuffix(op, "IfExists")
	}
	return slices.Contains([]string{
		"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike",
		"NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals",
		"DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals",
		"Bool", "BinaryEquals", "IpAddress", "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null",
	}, op)
}

// members decodes raw as a JSON object whose member names are among
// allowed.
func members(raw []byte, what string, allowed ...string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, invalid("%s is not a JSON object", what)
	}
	for k := range m {
		if !slices.Contains(allowed, k) {
			return nil, invalid("%s has an unknown member %q", what, k)
		}
	}
	return m, nil
}

func str(raw json.RawMessage, s *string) bool {
	return raw != nil && !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) && json.Unmarshal(raw, s) == nil
}

// strs decodes a string or a non-empty list of strings.
func strs(raw json.RawMessage) ([]string, bool) {
	var s string
	if str(raw, &s) {
		return []string{s}, s != ""
	}
	var l []string
	if json.Unmarshal(raw, &l) != nil || len(l) == 0 || slices.Contains(l, "") {
		return nil, false
	}
	return l, true
}

// scalars decodes a condition's value: a string, number or boolean, or a
// non-empty list of them, each as its text.
func scalars(raw json.RawMessage) ([]string, bool) {
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		list = []json.RawMessage{raw}
	}
	if len(list) == 0 {
		return nil, false
	}
	out := make([]string, 0, len(list))
	for _, r := range list {
		var v any
		if json.Unmarshal(r, &v) != nil {
			return nil, false
		}
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case float64, bool:
			out = append(out, strings.TrimSpace(string(r)))
		default:
			return nil, false
		}
	}
	return out, true
}
