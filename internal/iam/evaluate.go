package iam

import (
	"strings"
)

// Principal is who makes a request.
type Principal struct {
	// ARN is the principal's: arn:aws:iam::<account>:root, …:user/<name>,
	// or arn:aws:sts::<account>:assumed-role/<role>/<session>.
	ARN     string
	Account string
	// RoleARN is, for a role session, the role's ARN: a statement naming
	// the role applies to its sessions.
	RoleARN string
}

// Request is one authorization question: may Principal take Action on
// Resource, owned by ResourceAccount, in the request's Context (its
// condition keys and their values, such as aws:SourceIp).
type Request struct {
	Principal       Principal
	Action          string
	Resource        string
	ResourceAccount string
	Context         map[string][]string
}

// Decision is an evaluation's outcome.
type Decision int

const (
	// Denied by default: nothing allows it.
	DefaultDeny Decision = iota
	// Allowed.
	Allow
	// ExplicitDeny: a Deny statement applies, whatever allows it.
	ExplicitDeny
)

// String names the decision, for logs.
func (d Decision) String() string {
	switch d {
	case Allow:
		return "allow"
	case ExplicitDeny:
		return "explicit deny"
	}
	return "default deny"
}

// Conditional reports whether any statement has a condition: a policy
// without one decides without the request's context.
func (p *Policy) Conditional() bool {
	for i := range p.Statements {
		if len(p.Statements[i].Condition) > 0 {
			return true
		}
	}
	return false
}

// Reads reports whether a condition of p reads one of keys (condition
// keys are case-insensitive).
func (p *Policy) Reads(keys ...string) bool {
	for i := range p.Statements {
		for _, byKey := range p.Statements[i].Condition {
			for k := range byKey {
				for _, want := range keys {
					if strings.EqualFold(k, want) {
						return true
					}
				}
			}
		}
	}
	return false
}

// Merge returns a policy of the statements of a and b (either may be
// nil), for resources that two resource-based policies govern together
// (an ECR repository's and its registry's): evaluation looks at each
// statement on its own, so two documents decide as their union does.
func Merge(a, b *Policy) *Policy {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return &Policy{Version: a.Version, Statements: append(append([]Statement{}, a.Statements...), b.Statements...)}
}

// Where a deciding statement is.
const (
	InIdentity = "identity-based"
	InResource = "resource-based"
)

// Result is a decision and why: the deciding statement and the kind of
// policy it is in, or for a default deny the kind of policy that did not
// allow (InIdentity or InResource).
type Result struct {
	Decision  Decision
	In        string
	Statement *Statement
}

// Evaluate decides a request by AWS's evaluation logic for these two
// kinds of policy: an explicit Deny in any of them wins; within the
// resource's account an Allow in either the caller's identity policies or
// the resource's policy grants (a resource statement that names the
// caller's account, rather than the caller, delegates to the identity
// policies and grants nothing alone); across accounts both must allow.
// resource may be nil (the resource has no policy).
func Evaluate(r Request, identity []Policy, resource *Policy) Result {
	var idAllow, resAllow, resDelegates *Statement
	for i := range identity {
		for j := range identity[i].Statements {
			s := &identity[i].Statements[j]
			if !s.applies(r, false) {
				continue
			}
			if s.Effect == "Deny" {
				return Result{Decision: ExplicitDeny, In: InIdentity, Statement: s}
			}
			if idAllow == nil {
				idAllow = s
			}
		}
	}
	if resource != nil {
		for j := range resource.Statements {
			s := &resource.Statements[j]
			if !s.applies(r, true) {
				continue
			}
			direct := s.namesDirectly(r.Principal)
			if s.Effect == "Deny" {
				return Result{Decision: ExplicitDeny, In: InResource, Statement: s}
			}
			switch {
			case direct && resAllow == nil:
				resAllow = s
			case !direct && resDelegates == nil:
				resDelegates = s
			}
		}
	}
	if r.Principal.Account == r.ResourceAccount {
		switch {
		case idAllow != nil:
			return Result{Decision: Allow, In: InIdentity, Statement: idAllow}
		case resAllow != nil:
			return Result{Decision: Allow, In: InResource, Statement: resAllow}
		}
		return Result{Decision: DefaultDeny, In: InIdentity}
	}
	res := resAllow
	if res == nil {
		res = resDelegates
	}
	switch {
	case res == nil:
		return Result{Decision: DefaultDeny, In: InResource}
	case idAllow == nil:
		return Result{Decision: DefaultDeny, In: InIdentity}
	}
	return Result{Decision: Allow, In: InResource, Statement: res}
}

// applies reports whether the statement applies to the request: its
// principal (for a resource policy), action, resource and conditions.
func (s *Statement) applies(r Request, resourcePolicy bool) bool {
	if resourcePolicy {
		switch {
		case s.Principal != nil && !s.Principal.matches(r.Principal):
			return false
		case s.NotPrincipal != nil && s.NotPrincipal.matches(r.Principal):
			return false
		}
	}
	switch {
	case s.Action != nil && !anyMatch(s.Action, r.Action, MatchFold):
		return false
	case s.NotAction != nil && anyMatch(s.NotAction, r.Action, MatchFold):
		return false
	case s.Resource != nil && !anyMatch(s.Resource, r.Resource, Match):
		return false
	case s.NotResource != nil && anyMatch(s.NotResource, r.Resource, Match):
		return false
	}
	return conditionsHold(s.Condition, r.Context)
}

func anyMatch(patterns []string, s string, match func(p, s string) bool) bool {
	for _, p := range patterns {
		if match(p, s) {
			return true
		}
	}
	return false
}

// matches reports whether the element names the principal: by "*", by
// its account (ID or root ARN), by its ARN, or by its role's ARN.
func (p *Principals) matches(who Principal) bool {
	if p.Any {
		return true
	}
	for _, v := range p.ByType["AWS"] {
		switch {
		case v == "*", v == who.Account, v == who.ARN, who.RoleARN != "" && v == who.RoleARN:
			return true
		case strings.HasPrefix(v, "arn:") && strings.HasSuffix(v, ":root") && accountOf(v) == who.Account:
			return true
		}
	}
	return false
}

// namesDirectly reports whether the statement applies to the principal by
// more than its account: a grant of its own, not a delegation to the
// account's identity policies.
func (s *Statement) namesDirectly(who Principal) bool {
	if s.Principal == nil {
		return true // NotPrincipal: everyone it does not exclude
	}
	if s.Principal.Any {
		return true
	}
	for _, v := range s.Principal.ByType["AWS"] {
		if v == "*" || v == who.ARN || who.RoleARN != "" && v == who.RoleARN {
			return true
		}
	}
	return false
}

// accountOf returns the account field of an ARN.
func accountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}
