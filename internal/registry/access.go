package registry

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ecrd/ecrd/internal/iam"
)

// Principal is who a request acts for: an IAM user or role session of an
// account, with its identity-based policies, and where the request came
// from (the condition keys aws:SourceIp and aws:SecureTransport).
type Principal struct {
	Account RegistryID
	// AccessKeyID identifies the key that authenticated the request.
	AccessKeyID string
	// arn, RoleARN, Type and UserName are as auth.Identity's; ARN
	// returns arn.
	PrincipalARN, RoleARN, Type, UserName string
	// Policies are the identity-based policies. None grants nothing: a
	// principal may then do only what resource policies grant it.
	Policies []iam.Policy
	// PolicyVersion names Policies' content: two principals of one ARN
	// and PolicyVersion have the same policies, and so the same
	// decisions, which are cached by it. "" caches nothing.
	PolicyVersion string
	// SourceIP is the client's address, Secure whether it came over TLS.
	SourceIP string
	Secure   bool
}

// AccountAdmin is the principal of an account's key that names no
// policies (and of --auth=none): the account's administrator.
func AccountAdmin(account RegistryID, accessKeyID string) Principal {
	return Principal{
		Account: account, AccessKeyID: accessKeyID, Type: "User", UserName: accessKeyID,
		Policies: []iam.Policy{iam.AdministratorPolicy()}, PolicyVersion: iam.AdministratorPolicy().ID,
	}
}

// IsAccountAdmin tells whether p is an account's administrator: a key
// (of the account, or of a user) naming no policies, of no role.
func (p Principal) IsAccountAdmin() bool {
	return p.RoleARN == "" && p.PolicyVersion == iam.AdministratorPolicy().ID
}

// Restricted is p with pol added to its policies (a read-only token's
// restriction), under a version of its own.
func (p Principal) Restricted(pol iam.Policy) Principal {
	p.Policies = append(p.Policies[:len(p.Policies):len(p.Policies)], pol)
	if p.PolicyVersion != "" && pol.ID != "" {
		p.PolicyVersion += "+" + pol.ID
	} else {
		p.PolicyVersion = "" // unnamed: not cached
	}
	return p
}

// ARN is the principal's ARN, as policies name it and AWS's AccessDenied
// messages show it.
func (p Principal) ARN() string {
	if p.PrincipalARN != "" {
		return p.PrincipalARN
	}
	return "arn:aws:iam::" + string(p.Account) + ":user/" + p.AccessKeyID
}

// PrincipalDirectory says which IAM principals exist in the accounts it
// serves (the credentials file's users and roles).
type PrincipalDirectory interface {
	// Exists reports whether arn names an existing principal; known is
	// false when the ARN's account is not one the directory serves, of
	// which nothing can be said.
	Exists(arn string) (exists, known bool)
}

// RepositoryAccess is what decides access to a repository besides the
// caller: the repository (when Exists), its policy and its registry's
// ("" for none).
type RepositoryAccess struct {
	Exists         bool
	Repository     Repository
	Policy         string
	RegistryPolicy string
	// RegistryPolicyScope is the registry's REGISTRY_POLICY_SCOPE, "" for
	// the default (V2).
	RegistryPolicyScope string
}

// AccessTx reads what access decisions need.
type AccessTx interface {
	// RepositoryAccess returns the repository's RepositoryAccess; a
	// repository that does not exist is not an error (Exists false).
	RepositoryAccess(key RepoKey) (RepositoryAccess, error)
}

// publicPulls are the actions anyone may take on a public repository,
// with or without credentials: ECR Public's pulls cannot be denied.
var publicPulls = map[string]bool{
	"BatchCheckLayerAvailability": true, "BatchGetImage": true, "GetDownloadUrlForLayer": true,
	"ListImages": true, "GetRepositoryCatalogData": true,
}

// access decides, in tx, whether the caller may take action (ECR's name,
// without the service) on the repository, and returns it: AccessDenied
// when the policies do not allow it, RepositoryNotFound when they do and
// it does not exist. Denials come first, so that a caller who may not act
// on a repository cannot learn whether it exists.
func (r *Registry) access(ctx context.Context, tx Tx, action string, key RepoKey, extra ...condition) (Repository, error) {
	facts, err := tx.RepositoryAccess(key)
	if err != nil {
		return Repository{}, err
	}
	return r.decideAccess(ctx, action, key, facts, extra...)
}

// decideAccess is access on facts already read.
func (r *Registry) decideAccess(ctx context.Context, action string, key RepoKey, facts RepositoryAccess, extra ...condition) (Repository, error) {
	if replicating(ctx) && replicatedActions[action] {
		action = "ReplicateImage"
	}
	if !(key.Registry.IsPublic() && publicPulls[action]) && !isCore(ctx) {
		if err := r.decide(ctx, action, key, facts, extra); err != nil {
			return Repository{}, err
		}
	}
	if !facts.Exists {
		return Repository{}, repositoryNotFound(key)
	}
	return facts.Repository, nil
}

type hypotheticalKey struct{}

// asHypothetical marks ctx as asking what a decision would be (the
// lock-out guard), which refuses nothing and so is not logged as a
// refusal.
func asHypothetical(ctx context.Context) context.Context {
	return context.WithValue(ctx, hypotheticalKey{}, true)
}

func hypothetical(ctx context.Context) bool { v, _ := ctx.Value(hypotheticalKey{}).(bool); return v }

type coreKey struct{}

// AsCore marks ctx as the core's own work, done for no caller (a
// lifecycle run, a preview computed in the background once its request
// was authorized): the policies are not asked.
func AsCore(ctx context.Context) context.Context { return context.WithValue(ctx, coreKey{}, true) }

func isCore(ctx context.Context) bool { v, _ := ctx.Value(coreKey{}).(bool); return v }

// registryFacts is what decides an action on no existing repository (a
// creation, a listing): the registry's policy alone.
func registryFacts(tx Tx, reg RegistryID) (RepositoryAccess, error) {
	text, err := tx.RegistryPolicy(reg)
	if errors.Is(err, ErrNotFound) {
		err = nil
	}
	if err != nil || text == "" || reg.IsPublic() {
		return RepositoryAccess{RegistryPolicy: text}, err
	}
	scope, err := accountSetting(tx, reg, SettingRegistryPolicyScope)
	return RepositoryAccess{RegistryPolicy: text, RegistryPolicyScope: scope}, err
}

// authorize is access in a transaction of its own, for an operation that
// must be refused before it reads a request's body or writes bytes.
func (r *Registry) authorize(ctx context.Context, action string, key RepoKey) error {
	return r.meta.View(ctx, func(tx Tx) error {
		_, err := r.access(ctx, tx, action, key)
		return err
	})
}

// Authorize is authorize for the front ends, which refuse a push route
// before reading its body. Errors: AccessDenied, RepositoryNotFound.
func (r *Registry) Authorize(ctx context.Context, action string, key RepoKey) error {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return err
	}
	return r.authorize(ctx, action, key)
}

// condition is a request's condition key beyond those every request
// carries (aws:RequestTag/…, aws:TagKeys).
type condition struct {
	key    string
	values []string
}

// decide evaluates the caller's identity policies and the repository's
// and registry's policies for action on key (AWS's policy evaluation
// logic, iam.Evaluate) and returns nil or the AccessDenied AWS would.
// Registry policies are evaluated as ECR's default REGISTRY_POLICY_SCOPE
// V2 does: on every action, as part of the resource's policy.
func (r *Registry) decide(ctx context.Context, action string, key RepoKey, facts RepositoryAccess, extra []condition) error {
	service, resource := "ecr", r.repositoryARN(key)
	if key.Registry.IsPublic() {
		service = "ecr-public"
	}
	var tags []ResourceTag
	if facts.Exists {
		tags = facts.Repository.Tags
	}
	registryPolicy := facts.RegistryPolicy
	if facts.RegistryPolicyScope == "V1" && !v1Actions[action] {
		registryPolicy = "" // V1: the registry policy is for replication, pull through and creation only
	}
	return r.evaluate(ctx, service, action, resource, key.Registry.Account(), tags, facts.Policy, registryPolicy, extra)
}

// authorizeRegistry decides an action on the caller's registry itself,
// which IAM grants on no particular resource ("*"): by identity
// policies alone.
func (r *Registry) authorizeRegistry(ctx context.Context, action string) error {
	return r.evaluate(ctx, "ecr", action, "*", Caller(ctx).Account, nil, "", "", nil)
}

// AuthorizeService is authorizeRegistry for the front ends' own actions
// (GetAuthorizationToken) of service "ecr" or "ecr-public".
func (r *Registry) AuthorizeService(ctx context.Context, service, action string) error {
	return r.evaluate(ctx, service, action, "*", Caller(ctx).Account, nil, "", "", nil)
}

// evaluate decides action on resource, owned by owner, with the given
// tags, under the resource's policy and its registry's (texts, "" for
// none), through the decision cache.
func (r *Registry) evaluate(ctx context.Context, service, action, resource string, owner RegistryID, tags []ResourceTag,
	policy, registryPolicy string, extra []condition) error {
	p := Caller(ctx)
	req := iam.Request{
		Principal:       iam.Principal{ARN: p.ARN(), Account: string(p.Account), RoleARN: p.RoleARN},
		Action:          service + ":" + action,
		Resource:        resource,
		ResourceAccount: string(owner),
	}
	// The resource's and its registry's policies, parsed (cached).
	var parsed [2]*iam.Policy
	for i, text := range [2]string{policy, registryPolicy} {
		if text == "" {
			continue
		}
		pol, err := r.policies.parse(text, service)
		if err != nil {
			// Every stored policy was checked when it was set: one that
			// no longer parses allows nothing, and says so.
			return fmt.Errorf("a stored policy of %s does not parse: %w", resource, err)
		}
		parsed[i] = pol
	}
	// Most policies have no conditions: the context is built only for
	// those that read it, and their decisions are a function of the
	// principal, the request's names and the policies alone.
	conditional, timed := false, false
	note := func(pol *iam.Policy) {
		if pol != nil && pol.Conditional() {
			conditional = true
			timed = timed || pol.Reads(timeKeys...)
		}
	}
	note(parsed[0])
	note(parsed[1])
	for i := range p.Policies {
		note(&p.Policies[i])
	}
	// A policy reading the time may decide differently every second: its
	// decisions are not cached, and their key is not worth building.
	var key decisionKey
	cacheable := false
	if !timed {
		key, cacheable = decisionKeyOf(p, req, parsed, conditional, tags, extra)
	}
	res, hit := iam.Result{}, false
	if cacheable {
		res, hit = r.decisions.get(key)
	}
	if !hit {
		if conditional {
			req.Context = r.requestContext(p, owner, tags, extra)
		}
		res = iam.Evaluate(req, p.Policies, iam.Merge(parsed[0], parsed[1]))
		if cacheable {
			r.decisions.put(key, res)
		}
	}
	if res.Decision == iam.Allow {
		return nil
	}
	why := "because no " + res.In + " policy allows the " + req.Action + " action"
	if res.Decision == iam.ExplicitDeny {
		why = "with an explicit deny in " + article(res.In) + " " + res.In + " policy"
	}
	sid := ""
	if res.Statement != nil {
		sid = res.Statement.Sid
	}
	if hypothetical(ctx) {
		return Errorf(CodeAccessDenied, "User: %s is not authorized to perform: %s on resource: %s %s", req.Principal.ARN, req.Action, resource, why)
	}
	r.log.Info("access denied", "principal", req.Principal.ARN, "action", req.Action, "resource", resource,
		"decision", res.Decision.String(), "policy", res.In, "statement", sid)
	return Errorf(CodeAccessDenied, "User: %s is not authorized to perform: %s on resource: %s %s", req.Principal.ARN, req.Action, resource, why)
}

func article(in string) string {
	if in == iam.InIdentity {
		return "an"
	}
	return "a"
}

// requestContext is the condition keys of a request: the global keys
// ECR's requests carry, the resource's tags, and the operation's own.
func (r *Registry) requestContext(p Principal, owner RegistryID, tags []ResourceTag, extra []condition) map[string][]string {
	now := r.now().UTC()
	c := make(map[string][]string, 12+2*len(tags)+len(extra))
	// One array backs the one-value keys.
	vals := []string{string(p.Account), p.ARN(), now.Format(time.RFC3339), strconv.FormatInt(now.Unix(), 10),
		strconv.FormatBool(p.Secure), r.region, string(owner)}
	for i, k := range []string{"aws:PrincipalAccount", "aws:PrincipalArn", "aws:CurrentTime", "aws:EpochTime",
		"aws:SecureTransport", "aws:RequestedRegion", "aws:ResourceAccount"} {
		c[k] = vals[i : i+1 : i+1]
	}
	if p.RoleARN != "" {
		c["aws:PrincipalArn"] = []string{p.RoleARN} // IAM gives a session's role here
	}
	if p.Type != "" {
		c["aws:PrincipalType"] = []string{p.Type}
	}
	if p.UserName != "" {
		c["aws:username"] = []string{p.UserName}
	}
	if p.SourceIP != "" {
		c["aws:SourceIp"] = []string{p.SourceIP}
	}
	for _, t := range tags {
		c["aws:ResourceTag/"+t.Key] = []string{t.Value}
		c["ecr:ResourceTag/"+t.Key] = []string{t.Value}
	}
	for _, e := range extra {
		c[e.key] = e.values
	}
	return c
}

// repositoryARN is the ARN of a private or public repository.
func (r *Registry) repositoryARN(key RepoKey) string {
	if key.Registry.IsPublic() {
		return PublicRepositoryARN(key)
	}
	return "arn:aws:ecr:" + r.region + ":" + string(key.Registry) + ":repository/" + string(key.Name)
}

// checkRepository is access for the core's own work (a lifecycle run),
// which acts for no caller: the repository must exist.
func (r *Registry) checkRepository(tx Tx, key RepoKey) error {
	facts, err := tx.RepositoryAccess(key)
	if err == nil && !facts.Exists {
		err = repositoryNotFound(key)
	}
	return err
}
