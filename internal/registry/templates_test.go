package registry_test

import (
	"testing"

	"github.com/ecrd/ecrd/internal/registry"
)

// TestMatchTemplate: the longest prefix a name is under wins, a prefix
// has an implied '/', ROOT covers what nothing else does, and only
// templates for the scenario count (ecr-semantics-2.md §3.2).
func TestMatchTemplate(t *testing.T) {
	push, cache := registry.AppliedForCreateOnPush, registry.AppliedForPullThroughCache
	tmpl := func(prefix string, scenarios ...string) registry.CreationTemplate {
		return registry.CreationTemplate{Prefix: prefix, AppliedFor: scenarios}
	}
	ts := []registry.CreationTemplate{
		tmpl("ROOT", push), tmpl("prod", push, cache), tmpl("prod/team", push), tmpl("prod/team/a", cache),
		tmpl("slash/", push), tmpl("cache", cache),
	}
	for _, c := range []struct {
		name, scenario, want string // want "": no template
	}{
		{"prod/app", push, "prod"},
		{"prod/team/app", push, "prod/team"},
		{"prod/team/a/app", push, "prod/team"}, // prod/team/a is for the cache only
		{"prod/team/a/app", cache, "prod/team/a"},
		{"prod/teamwork/app", push, "prod"}, // "prod/team" covers prod/team/…, not prod/teamwork
		{"production/app", push, "ROOT"},
		{"prod", push, "ROOT"}, // a name equal to a prefix is not under it
		{"slash/app", push, "slash/"},
		{"other", push, "ROOT"},
		{"other", cache, ""}, // no ROOT for the cache
		{"cache/x", push, "ROOT"},
		{"cache/x", cache, "cache"},
		{"x", registry.AppliedForReplication, ""},
	} {
		got, ok := registry.MatchTemplate(ts, registry.RepositoryName(c.name), c.scenario)
		if c.want == "" && ok || c.want != "" && (!ok || got.Prefix != c.want) {
			t.Errorf("MatchTemplate(%s, %s) = %q, %v; want %q", c.name, c.scenario, got.Prefix, ok, c.want)
		}
	}
	if _, ok := registry.MatchTemplate(nil, "a/b", push); ok {
		t.Error("a template matched among none")
	}
}
