package pullthrough

import (
	"context"
	"sync"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// rulesTTL is how old the rules a cache hit reads may be.
const rulesTTL = 5 * time.Second

// rulesCache keeps each registry's rules for rulesTTL, for the hits that
// only ask whether a tag is due a check; a miss, which may create and
// import, reads them from the store.
type rulesCache struct {
	mu sync.Mutex
	m  map[registry.RegistryID]cachedRules
}

type cachedRules struct {
	rules []registry.PullThroughRule
	at    time.Time
}

func (c *rulesCache) get(ctx context.Context, reg *registry.Registry, id registry.RegistryID) ([]registry.PullThroughRule, error) {
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	if ok && time.Since(e.at) < rulesTTL {
		return e.rules, nil
	}
	var rules []registry.PullThroughRule
	err := reg.View(ctx, func(tx registry.Tx) (err error) {
		rules, err = tx.PullThroughRules(id)
		return err
	})
	if err == nil {
		c.put(id, rules)
	}
	return rules, err
}

func (c *rulesCache) put(id registry.RegistryID, rules []registry.PullThroughRule) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[registry.RegistryID]cachedRules{}
	}
	c.m[id] = cachedRules{rules: rules, at: time.Now()}
}
