package registry

import (
	"strconv"
	"strings"
	"sync"

	"github.com/ecrd/ecrd/internal/iam"
)

// policyCache keeps parsed policies by their text: a request evaluates
// the policies of its repository and registry, which change rarely, and
// parsing is most of an evaluation's cost. Keyed by text, an entry is
// never stale: a changed policy is another text. While an entry lives its
// pointer stands for its text, which is how decisions name the policies
// they were made under.
type policyCache struct {
	mu sync.Mutex
	m  map[policyKey]*iam.Policy
}

type policyKey struct{ service, text string }

// maxCachedPolicies bounds the cache; when full it starts again.
const maxCachedPolicies = 4096

func (c *policyCache) parse(text, service string) (*iam.Policy, error) {
	k := policyKey{service, text}
	c.mu.Lock()
	p, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	parsed, err := iam.Parse(text, service)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.m[k]; ok { // parsed meanwhile: keep one pointer per text
		return p, nil
	}
	if c.m == nil || len(c.m) >= maxCachedPolicies {
		c.m = map[policyKey]*iam.Policy{}
	}
	c.m[k] = &parsed
	return &parsed, nil
}

// decisionKey is everything a decision depends on: the principal and the
// version of its policies, the request's action and resource, the
// resource's policies, and, only where a policy has conditions, the
// request's facts those conditions can read. Decisions whose policies
// read the time are not cached.
type decisionKey struct {
	version, principal, role, account, principalType, user string
	action, resource, owner                                string
	// The parsed policies, which stand for their texts (policyCache).
	policy, registryPolicy *iam.Policy
	secure                 bool
	sourceIP, tags, extra  string
}

// timeKeys are the condition keys whose values change by themselves.
var timeKeys = []string{"aws:CurrentTime", "aws:EpochTime"}

// decisionKeyOf is the key of a decision; false when the principal's
// policies have no version, whose decisions are not cached.
func decisionKeyOf(p Principal, req iam.Request, policies [2]*iam.Policy, conditional bool, tags []ResourceTag, extra []condition) (decisionKey, bool) {
	if p.PolicyVersion == "" {
		return decisionKey{}, false
	}
	k := decisionKey{
		version: p.PolicyVersion, principal: req.Principal.ARN, role: p.RoleARN, account: string(p.Account),
		principalType: p.Type, user: p.UserName,
		action: req.Action, resource: req.Resource, owner: req.ResourceAccount,
		policy: policies[0], registryPolicy: policies[1],
	}
	if conditional {
		k.secure, k.sourceIP = p.Secure, p.SourceIP
		var b strings.Builder
		for _, t := range tags {
			b.WriteString(strconv.Quote(t.Key))
			b.WriteString(strconv.Quote(t.Value))
		}
		k.tags = b.String()
		b.Reset()
		for _, e := range extra {
			b.WriteString(strconv.Quote(e.key))
			for _, v := range e.values {
				b.WriteString(strconv.Quote(v))
			}
			b.WriteByte(';')
		}
		k.extra = b.String()
	}
	return k, true
}

// decisionCache keeps decisions by decisionKey. Every input of a decision
// is in its key, so an entry is never stale: a changed policy, tag or
// principal is another key. That holds across replicas too, which read
// the policies and tags from the store on every request.
type decisionCache struct {
	mu sync.Mutex
	m  map[decisionKey]iam.Result
}

// maxCachedDecisions bounds the cache; when full it starts again.
const maxCachedDecisions = 16384

func (c *decisionCache) get(k decisionKey) (iam.Result, bool) {
	c.mu.Lock()
	res, ok := c.m[k]
	c.mu.Unlock()
	return res, ok
}

func (c *decisionCache) put(k decisionKey, res iam.Result) {
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedDecisions {
		c.m = map[decisionKey]iam.Result{}
	}
	c.m[k] = res
	c.mu.Unlock()
}
